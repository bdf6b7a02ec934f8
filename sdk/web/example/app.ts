// A web page on @nara/sdk without a framework: BankID login with the
// animated QR code, the citizen's appointments (and booking one), and the
// FAQ search, which works before login. `npm run example` bundles it with
// esbuild and serves it; ?api=<url> names the server (default
// http://127.0.0.1:8080, which must allow this page's origin in
// NARA_CORS_ORIGINS).
import { renderSVG } from "uqr";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  Code,
  ConnectError,
  appointmentv1,
  authv1,
  createClient,
  createNaraTransport,
  fieldViolations,
  helpv1,
} from "@nara/sdk";

const baseUrl = new URLSearchParams(location.search).get("api") ?? "http://127.0.0.1:8080";

// The session lives in memory only: a reload means logging in again.
let session: authv1.Session | undefined;

// Calls without a session: login, refresh, and the public FAQ.
const publicTransport = createNaraTransport({ baseUrl });
const citizenAuth = createClient(authv1.CitizenAuthService, publicTransport);
const sessions = createClient(authv1.SessionService, publicTransport);
const help = createClient(helpv1.HelpService, publicTransport);

// Calls as the logged-in citizen; an expired access token is renewed once.
const transport = createNaraTransport({
  baseUrl,
  tokenProvider: () => session?.accessToken,
  refresh: async () => {
    if (!session) return null;
    try {
      const res = await sessions.refreshSession({ refreshToken: session.refreshToken, deviceId: deviceId() });
      session = res.session;
      return session?.accessToken;
    } catch {
      loggedOut("Your session has ended; log in again.");
      return null;
    }
  },
});
const appointments = createClient(appointmentv1.AppointmentService, transport);
const mySessions = createClient(authv1.SessionService, transport);

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** deviceId is this browser's installation id, made once. */
function deviceId(): string {
  let id = localStorage.getItem("nara.deviceId");
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    id = "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem("nara.deviceId", id);
  }
  return id;
}

function message(e: unknown): string {
  const err = ConnectError.from(e);
  return err.code === Code.Unavailable ? "The service cannot be reached; try again." : err.rawMessage;
}

// ---- Login ----------------------------------------------------------------

let login: AbortController | undefined;
let loginId = "";
// The secret StartLogin gave this page: only it may follow the login. Kept
// in memory only.
let loginSecret = "";

async function startLogin(): Promise<void> {
  login?.abort();
  const controller = new AbortController();
  login = controller;
  $("login-error").textContent = "";
  $("login-start").hidden = true;
  $("login-flow").hidden = false;
  try {
    const start = await citizenAuth.startLogin({
      provider: authv1.Provider.BANKID,
      mode: authv1.StartMode.OTHER_DEVICE,
      device: { id: deviceId(), name: "Web browser", platform: authv1.Platform.WEB },
      language: authv1.Language.EN,
    });
    loginId = start.loginId;
    loginSecret = start.loginSecret;
    if (start.progress) showProgress(start.progress);
    const done = await follow(start.loginId, start.loginSecret, start.pollIntervalSeconds, controller.signal);
    if (done?.state === authv1.LoginState.COMPLETE && done.session) {
      session = done.session;
      loggedIn();
    } else if (done) {
      loginFailed(done.message);
    }
  } catch (e) {
    if (!controller.signal.aborted) loginFailed(message(e));
  }
}

/**
 * follow watches the login until it ends: WatchLogin streams each new QR code
 * (every second) and state; if the stream breaks (a proxy that buffers, say),
 * PollLogin takes over at the interval the server asked for. A completed
 * answer lost with a broken stream is answered once more by the next poll.
 */
async function follow(loginId: string, loginSecret: string, pollSeconds: number, signal: AbortSignal): Promise<authv1.LoginProgress | undefined> {
  try {
    for await (const { progress } of citizenAuth.watchLogin({ loginId, loginSecret, language: authv1.Language.EN }, { signal })) {
      if (!progress) continue;
      showProgress(progress);
      if (progress.state !== authv1.LoginState.PENDING) return progress;
    }
  } catch (e) {
    if (signal.aborted) return undefined;
    if (ConnectError.from(e).code === Code.NotFound) throw e;
  }
  while (!signal.aborted) {
    await new Promise((r) => setTimeout(r, Math.max(1, pollSeconds) * 1000));
    const { progress } = await citizenAuth.pollLogin({ loginId, loginSecret, language: authv1.Language.EN }, { signal });
    if (!progress) continue;
    showProgress(progress);
    if (progress.state !== authv1.LoginState.PENDING) return progress;
  }
  return undefined;
}

function showProgress(p: authv1.LoginProgress): void {
  $("login-status").textContent = p.message;
  const qr = $("qr");
  if (p.qrData && qr.dataset.qr !== p.qrData) {
    qr.dataset.qr = p.qrData;
    qr.innerHTML = renderSVG(p.qrData, { border: 2 });
    $("qr-text").textContent = p.qrData;
  }
}

async function cancelLogin(): Promise<void> {
  login?.abort();
  login = undefined;
  resetLogin();
  if (loginId) {
    // Tell BankID too, so the app on the phone stops asking.
    await citizenAuth.cancelLogin({ loginId, loginSecret, language: authv1.Language.EN }).catch(() => undefined);
    loginId = "";
    loginSecret = "";
  }
}

function loginFailed(text: string): void {
  resetLogin();
  $("login-error").textContent = text;
}

function resetLogin(): void {
  $("login-start").hidden = false;
  $("login-flow").hidden = true;
  const qr = $("qr");
  qr.innerHTML = "";
  delete qr.dataset.qr;
  $("qr-text").textContent = "";
}

function loggedIn(): void {
  resetLogin();
  $("logged-out").hidden = true;
  $("logged-in").hidden = false;
  $("me-name").textContent = session?.me?.displayName ?? "";
  $("appointments-panel").hidden = false;
  void loadAppointments();
}

function loggedOut(text = ""): void {
  session = undefined;
  $("logged-out").hidden = false;
  $("logged-in").hidden = true;
  $("appointments-panel").hidden = true;
  $("appointment-list").replaceChildren();
  $("slot-list").replaceChildren();
  $("login-error").textContent = text;
}

async function logout(): Promise<void> {
  try {
    await mySessions.signOut({});
  } finally {
    loggedOut();
  }
}

// ---- Appointments -----------------------------------------------------------

const when = new Intl.DateTimeFormat("en-GB", {
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "Europe/Stockholm",
});

function time(t: Timestamp | undefined): string {
  return t ? when.format(timestampDate(t)) : "";
}

const serviceNames: Record<appointmentv1.Service, string> = {
  [appointmentv1.Service.UNSPECIFIED]: "Visit",
  [appointmentv1.Service.VACCINATION]: "Vaccination",
  [appointmentv1.Service.COVID_TEST]: "Covid-19 test",
  [appointmentv1.Service.VIDEO_VISIT]: "Video visit",
  [appointmentv1.Service.PHYSICAL_VISIT]: "Visit",
  [appointmentv1.Service.PHONE]: "Phone call",
};

function statusName(s: appointmentv1.Status): string {
  const name = appointmentv1.Status[s] ?? "UNSPECIFIED";
  return name.charAt(0) + name.slice(1).toLowerCase();
}

function item(whenText: string, rest: string): HTMLLIElement {
  const li = document.createElement("li");
  const w = document.createElement("span");
  w.className = "when";
  w.textContent = whenText;
  li.append(w, " — " + rest);
  return li;
}

async function loadAppointments(): Promise<void> {
  $("appointments-error").textContent = "";
  try {
    const res = await appointments.listAppointments({});
    const items = res.appointments.map((a) => {
      const li = item(time(a.startTime), `${serviceNames[a.service] ?? "Visit"} at ${a.unit?.name ?? "?"} (${statusName(a.status)})`);
      li.dataset.id = a.id;
      li.className = "appointment";
      return li;
    });
    $("appointment-list").replaceChildren(...items);
    $("appointments-empty").hidden = items.length > 0;
  } catch (e) {
    $("appointments-error").textContent = message(e);
  }
}

async function findSlots(): Promise<void> {
  $("appointments-error").textContent = "";
  const now = Date.now();
  try {
    const { slots } = await appointments.searchSlots({
      service: appointmentv1.Service.VACCINATION,
      startTime: timestampFromDate(new Date(now)),
      endTime: timestampFromDate(new Date(now + 7 * 24 * 3600 * 1000)),
      pageSize: 5,
    });
    const items = slots.map((s) => {
      const li = item(time(s.startTime), `${s.unit?.name ?? "?"}, ${s.freePlaces} free `);
      li.className = "slot";
      const book = document.createElement("button");
      book.type = "button";
      book.textContent = "Book";
      book.addEventListener("click", () => void bookSlot(s.id));
      li.append(book);
      return li;
    });
    $("slot-list").replaceChildren(...items);
    if (items.length === 0) $("appointments-error").textContent = "No free times in the coming week.";
  } catch (e) {
    $("appointments-error").textContent = message(e);
  }
}

async function bookSlot(slotId: string): Promise<void> {
  try {
    // One key per booking attempt: a retried request books once.
    await appointments.bookSlot({ slotId, idempotencyKey: crypto.randomUUID() });
    $("slot-list").replaceChildren();
    await loadAppointments();
  } catch (e) {
    $("appointments-error").textContent = message(e);
  }
}

// ---- FAQ --------------------------------------------------------------------

/** snippet renders the server's excerpt, whose matches are wrapped in « », safely. */
function snippet(text: string): DocumentFragment {
  const out = document.createDocumentFragment();
  text.split(/(«[^»]*»)/).forEach((part) => {
    if (part.startsWith("«") && part.endsWith("»")) {
      const m = document.createElement("mark");
      m.textContent = part.slice(1, -1);
      out.append(m);
    } else if (part) {
      out.append(part);
    }
  });
  return out;
}

async function searchFaq(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const input = $<HTMLInputElement>("faq-query");
  const error = $("faq-query-error");
  error.textContent = "";
  input.removeAttribute("aria-invalid");
  try {
    const { hits } = await help.searchArticles({ query: input.value.trim(), language: helpv1.Language.EN });
    const items = hits.map((h) => {
      const li = document.createElement("li");
      li.className = "hit";
      li.dataset.slug = h.slug;
      const title = document.createElement("strong");
      title.textContent = h.title;
      const p = document.createElement("div");
      p.append(snippet(h.snippet || h.summary));
      li.append(title, p);
      return li;
    });
    if (items.length === 0) {
      const li = document.createElement("li");
      li.textContent = "Nothing found.";
      items.push(li);
    }
    $("faq-results").replaceChildren(...items);
  } catch (e) {
    // A validation error names the field: show it next to the input.
    const onQuery = fieldViolations(e).filter((v) => v.field === "query");
    if (onQuery.length > 0) {
      input.setAttribute("aria-invalid", "true");
      error.textContent = onQuery.map((v) => (v.ruleId === "string.min_len" ? "Type a word to search for." : v.message)).join(" ");
    } else {
      error.textContent = message(e);
    }
    $("faq-results").replaceChildren();
  }
}

// ---- Wiring -------------------------------------------------------------------

$("api-url").textContent = baseUrl;
$("login-start").addEventListener("click", () => void startLogin());
$("login-cancel").addEventListener("click", () => void cancelLogin());
$("logout").addEventListener("click", () => void logout());
$("find-slots").addEventListener("click", () => void findSlots());
$<HTMLFormElement>("faq-form").addEventListener("submit", (e) => void searchFaq(e));
document.body.dataset.ready = "true";
