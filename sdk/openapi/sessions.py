"""Sessions for the contract test, made the way the apps make them.

A citizen logs in through the server's BankID simulator and a clinician
through its OIDC provider; both stand-ins listen where NARA_BANKID_SIM_ADDR
and NARA_OIDC_DEV_ADDR say (sdk/sdk.mk sets them for test servers). Only the
standard library: the hooks run inside schemathesis, before any case.
"""

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

# Test users of the stand-ins (identity/bankid/bankidsim/users.go,
# identity/oidcdev/users.go).
ANNA = "198507099805"  # Anna Provsson: the citizen whose calls are fuzzed
SAM = "198507699828"  # Sam Samordnare: signed out by SignOut and SignOutEverywhere
ERIK = "SE2321000016-D001"  # Erik Lindqvist, doctor at Vårdcentral Södermalm
SUPPORT = "SE2321000016-S002"  # second-line support: edits help articles

_DEVICE = {"name": "Schemathesis", "platform": "PLATFORM_WEB"}


def _url() -> str:
    url = os.environ.get("NARA_URL")
    if not url:
        raise RuntimeError("NARA_URL is not set: run through sdk/scripts/with-server.sh")
    return url.rstrip("/")


def _post(url: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.loads(res.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{url}: {e.code} {e.read()[:300]!r}") from None


def rpc(procedure: str, body: dict, token: str | None = None) -> dict:
    """Calls a unary Connect procedure, e.g. "nara.auth.v1.SessionService/GetMe"."""
    return _post(f"{_url()}/{procedure}", body, token)


def _sim(path: str, body: dict) -> dict:
    addr = os.environ.get("NARA_BANKID_SIM_ADDR", "127.0.0.1:8081")
    return _post(f"http://{addr}/sim/{path}", body)


def _device(tag: str) -> dict:
    return {"id": f"schemathesis-{tag}", **_DEVICE}


def start_login(tag: str) -> dict:
    """Starts a BankID login on another device and returns StartLoginResponse."""
    return rpc(
        "nara.auth.v1.CitizenAuthService/StartLogin",
        {"provider": "PROVIDER_BANKID", "mode": "START_MODE_OTHER_DEVICE", "device": _device(tag)},
    )


def citizen(personal_number: str, tag: str) -> str:
    """Logs a citizen in: the phone scans the QR code and the user approves in
    the simulator, then PollLogin returns the session. Returns the access token."""
    start = start_login(tag)
    order = _sim("qr", {"qrCode": start["qrData"], "personalNumber": personal_number})
    _sim(f"orders/{order['orderRef']}/approve", {"personalNumber": personal_number})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        progress = rpc(
            "nara.auth.v1.CitizenAuthService/PollLogin",
            {"loginId": start["loginId"], "loginSecret": start["loginSecret"]},
        ).get("progress", {})
        if progress.get("state") == "LOGIN_STATE_COMPLETE":
            return progress["session"]["accessToken"]
        if progress.get("state") == "LOGIN_STATE_FAILED":
            raise RuntimeError(f"BankID login failed: {progress.get('hintCode')}")
        time.sleep(0.2)
    raise RuntimeError("BankID login did not complete within 30 s")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def staff(hsa_id: str, tag: str) -> tuple[str, str | None]:
    """Logs a member of staff in through the OIDC provider (login_hint picks the
    test user, as a click on its login page would) and selects their first care
    assignment, if they have one. Returns the access token and the HSA-id of
    the assignment's care unit (None without one)."""
    device = _device(tag)
    start = rpc("nara.auth.v1.ClinicianAuthService/StartStaffLogin", {"device": device})
    url = start["authorizationUrl"] + "&" + urllib.parse.urlencode({"login_hint": hsa_id})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(url, timeout=10)
        raise RuntimeError("the OIDC provider did not redirect")
    except urllib.error.HTTPError as e:
        if e.code not in (302, 303):
            raise RuntimeError(f"OIDC authorize: {e.code} {e.read()[:300]!r}") from None
        location = e.headers["Location"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    if "code" not in query:
        raise RuntimeError(f"OIDC authorize refused: {query.get('error')} {query.get('error_description')}")
    session = rpc(
        "nara.auth.v1.ClinicianAuthService/CompleteStaffLogin",
        {"state": query["state"][0], "code": query["code"][0], "device": device},
    )["session"]
    assignments = session.get("me", {}).get("assignments", [])
    if not assignments:
        return session["accessToken"], None
    token = rpc(
        "nara.auth.v1.ClinicianAuthService/SelectAssignment",
        {"assignmentId": assignments[0]["id"]},
        session["accessToken"],
    )["session"]["accessToken"]
    return token, assignments[0]["careUnitHsaId"]
