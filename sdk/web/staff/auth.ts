// The staff login every view of the staff app shares: StartStaffLogin, the
// identity provider's page, back to this app with ?code&state, then
// CompleteStaffLogin. The session is kept in memory and in sessionStorage
// (this tab only, gone when it closes), never in cookies or localStorage.
import { Code, ConnectError, authv1, createClient, createNaraTransport } from "@nara/sdk";

const apiKey = "nara.staff.api";
const pendingKey = "nara.staff.pendingLogin";
const sessionKey = "nara.staff.session";

/**
 * baseUrl is the API: ?api=<url>, kept for the tab so that it survives the
 * round trip through the identity provider; default http://127.0.0.1:8080.
 */
export const baseUrl = (() => {
  const fromQuery = new URLSearchParams(location.search).get("api");
  if (fromQuery) sessionStorage.setItem(apiKey, fromQuery);
  return fromQuery ?? sessionStorage.getItem(apiKey) ?? "http://127.0.0.1:8080";
})();

/** Staff is who is logged in, as the app needs it. */
export interface Staff {
  accessToken: string;
  refreshToken: string;
  hsaId: string;
  name: string;
  roles: authv1.Role[];
}

let staff: Staff | undefined = load();
const listeners: Array<(s: Staff | undefined) => void> = [];

function load(): Staff | undefined {
  try {
    const raw = sessionStorage.getItem(sessionKey);
    return raw ? (JSON.parse(raw) as Staff) : undefined;
  } catch {
    return undefined;
  }
}

function save(next: Staff | undefined): void {
  staff = next;
  if (next) sessionStorage.setItem(sessionKey, JSON.stringify(next));
  else sessionStorage.removeItem(sessionKey);
  for (const l of listeners) l(next);
}

function fromSession(s: authv1.Session | undefined, before?: Staff): Staff | undefined {
  if (!s?.accessToken) return undefined;
  return {
    accessToken: s.accessToken,
    // A refresh may not hand out a new refresh token; keep the one we have.
    refreshToken: s.refreshToken || before?.refreshToken || "",
    hsaId: s.me?.subject ?? before?.hsaId ?? "",
    name: s.me?.displayName ?? before?.name ?? "",
    roles: s.me?.roles ?? before?.roles ?? [],
  };
}

export function current(): Staff | undefined {
  return staff;
}

export function onChange(fn: (s: Staff | undefined) => void): void {
  listeners.push(fn);
}

export function hasRole(role: authv1.Role): boolean {
  return staff?.roles.includes(role) ?? false;
}

/** deviceId is this browser's installation id, made once. */
export function deviceId(): string {
  let id = localStorage.getItem("nara.deviceId");
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    id = "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem("nara.deviceId", id);
  }
  return id;
}

function device() {
  return { id: deviceId(), name: "Webbläsare (personal)", platform: authv1.Platform.WEB };
}

// Login and refresh go without a session.
const publicTransport = createNaraTransport({ baseUrl });
const clinicianAuth = createClient(authv1.ClinicianAuthService, publicTransport);
const sessions = createClient(authv1.SessionService, publicTransport);

let refreshing: Promise<string | null> | undefined;

/**
 * refresh exchanges the refresh token for a new session, at most one at a
 * time: a refresh token works once, and a second use signs the session out
 * everywhere. Resolves to the new access token, or null (log in again).
 */
export function refresh(): Promise<string | null> {
  refreshing ??= (async () => {
    const before = staff;
    if (!before) return null;
    try {
      const res = await sessions.refreshSession({ refreshToken: before.refreshToken, deviceId: deviceId() });
      save(fromSession(res.session, before));
      return staff?.accessToken ?? null;
    } catch {
      save(undefined);
      return null;
    }
  })().finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

/** transport calls the API as the logged-in member of staff. */
export const transport = createNaraTransport({
  baseUrl,
  tokenProvider: () => staff?.accessToken,
  refresh,
});
const mySessions = createClient(authv1.SessionService, transport);

/**
 * startLogin sends the browser to the identity provider. The state is kept
 * for the tab, to match the one that comes back.
 */
export async function startLogin(): Promise<void> {
  const start = await clinicianAuth.startStaffLogin({ device: device() });
  sessionStorage.setItem(pendingKey, start.state);
  location.assign(start.authorizationUrl);
}

/**
 * finishRedirect completes a login the identity provider sent back here
 * (?code&state, or ?error), and takes them off the address bar. Resolves to
 * false when the address holds no login.
 */
export async function finishRedirect(): Promise<boolean> {
  const q = new URLSearchParams(location.search);
  const code = q.get("code");
  const state = q.get("state");
  const error = q.get("error");
  if (!code && !error) return false;
  const expected = sessionStorage.getItem(pendingKey);
  sessionStorage.removeItem(pendingKey);
  history.replaceState(null, "", location.pathname + location.hash);
  if (error) throw new Error(`Inloggningen avbröts: ${q.get("error_description") || error}`);
  if (!state || state !== expected) throw new Error("Inloggningen startades inte i den här fliken; logga in igen.");
  await complete(state, code!);
  return true;
}

/**
 * finishPasted completes a login from the request body the server's own
 * callback page shows ({"state", "code", "device"}); the device must be
 * this browser's, as the server checks.
 */
export async function finishPasted(body: string): Promise<void> {
  let parsed: { state?: unknown; code?: unknown };
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error("Klistra in hela JSON-texten från sidan, från { till }.");
  }
  if (typeof parsed.state !== "string" || typeof parsed.code !== "string") {
    throw new Error("Texten saknar state och code.");
  }
  sessionStorage.removeItem(pendingKey);
  await complete(parsed.state, parsed.code);
}

async function complete(state: string, code: string): Promise<void> {
  const res = await clinicianAuth.completeStaffLogin({ state, code, device: device() });
  save(fromSession(res.session));
}

export async function logout(): Promise<void> {
  try {
    await mySessions.signOut({});
  } catch (e) {
    if (ConnectError.from(e).code !== Code.Unauthenticated) console.warn("sign out", e);
  } finally {
    save(undefined);
  }
}
