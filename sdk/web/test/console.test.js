// The staff app's support console (staff/) in headless Chromium against the
// live server, with two agents and one citizen: Anna (BankID, through the
// SDK in Node) opens a case; Lena Ek (first line) logs in through the OIDC
// provider's page, claims it and replies with a standard answer, which
// Anna's WatchCase stream receives; Anna writes back and Lena's page shows it
// without a reload; Lena escalates; Per Strand (second line, another browser
// context) finds it in his queue, replies and closes it with a reason.
// Screenshots land in test-output/ (git-ignored); staff/screenshot.png is a
// copy of console.png for the README.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { chromium } from "playwright-core";
import { authv1, createClient, createNaraTransport, supportv1 } from "../dist/index.js";
import { serve } from "../staff/serve.mjs";
import { baseUrl } from "./server.js";

// The server's stand-ins; sdk/sdk.mk starts test servers with them on free
// ports, sends staff logins back to the staff app's address and allows it
// in CORS.
const simUrl = `http://${process.env.NARA_BANKID_SIM_ADDR || "127.0.0.1:8081"}`;
const anna = "198507099805";
const per = "SE2321000016-S002";
const out = new URL("../test-output/", import.meta.url);
const timeout = 30_000;
// Names this run gives the deviation and notice, so that a rerun against the
// same server (NARA_URL=… npm test) finds its own.
const deviationTitle = `BankID efter byte av telefon (${Date.now().toString(36)})`;

let browser, site;
const pageErrors = [];

// Anna's side, in Node.
let citizen;
let caseId;
const citizenEvents = [];
let citizenWatch;
let citizenWaiters = [];

// The two agents' pages.
let lena, perPage;

before(async () => {
  await mkdir(out, { recursive: true });
  site = await serve(process.env.NARA_STAFF_ADDR || "127.0.0.1:0");
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
  });
});

after(async () => {
  citizenWatch?.abort();
  await browser?.close();
  site?.server.closeAllConnections();
  await new Promise((r) => (site ? site.server.close(r) : r()));
});

/** sim performs a user action at the BankID simulator's control API. */
async function sim(path, body) {
  const res = await fetch(`${simUrl}/sim/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  assert.equal(res.status, 200, `simulator ${path}: ${JSON.stringify(json)}`);
  return json;
}

/** citizenLogin logs Anna in with BankID on another device: her phone scans the first QR code and she approves. */
async function citizenLogin() {
  const auth = createClient(authv1.CitizenAuthService, createNaraTransport({ baseUrl }));
  const device = { id: "console-test-anna", name: "Node", platform: authv1.Platform.WEB };
  const start = await auth.startLogin({ provider: authv1.Provider.BANKID, mode: authv1.StartMode.OTHER_DEVICE, device });
  const follow = { loginId: start.loginId, loginSecret: start.loginSecret };
  let scanned = false;
  for await (const { progress } of auth.watchLogin(follow, { signal: AbortSignal.timeout(timeout) })) {
    if (progress?.session) return progress.session;
    assert.notEqual(progress?.state, authv1.LoginState.FAILED, progress?.message);
    if (!scanned && progress?.qrData) {
      scanned = true;
      const { orderRef } = await sim("qr", { qrCode: progress.qrData, personalNumber: anna });
      await sim(`orders/${orderRef}/approve`, { personalNumber: anna });
    }
  }
  throw new Error("the BankID login ended without a session");
}

/**
 * staffSession logs a member of staff in without a browser, as the OIDC
 * provider's page would with a click (login_hint picks the user), to set
 * the stage: the standard answer Lena will use.
 */
async function staffSession(hsaId) {
  const auth = createClient(authv1.ClinicianAuthService, createNaraTransport({ baseUrl }));
  const device = { id: `console-test-${hsaId}`, name: "Node", platform: authv1.Platform.WEB };
  const start = await auth.startStaffLogin({ device });
  const res = await fetch(`${start.authorizationUrl}&login_hint=${encodeURIComponent(hsaId)}`, { redirect: "manual" });
  const back = new URL(res.headers.get("location") ?? "", baseUrl);
  assert.ok(back.searchParams.get("code"), `the OIDC provider answered ${res.status} ${back}`);
  const { session } = await auth.completeStaffLogin({ state: back.searchParams.get("state"), code: back.searchParams.get("code"), device });
  return createNaraTransport({ baseUrl, tokenProvider: () => session.accessToken });
}

/** citizenSees resolves to the first event of Anna's stream that ok accepts. */
function citizenSees(ok, what) {
  const found = citizenEvents.find(ok);
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Anna's WatchCase stream did not get ${what} within ${timeout} ms`)), timeout);
    citizenWaiters.push({ ok, resolve: (e) => (clearTimeout(timer), resolve(e)) });
  });
}

/** watchAsCitizen follows the case on Anna's side from the start, reconnecting from the last cursor. */
function watchAsCitizen(support) {
  const controller = new AbortController();
  let after = 0n;
  void (async () => {
    while (!controller.signal.aborted) {
      try {
        for await (const res of support.watchCase({ caseId, after }, { signal: controller.signal })) {
          after = res.nextAfter > after ? res.nextAfter : after;
          for (const e of res.events) {
            citizenEvents.push(e);
            citizenWaiters = citizenWaiters.filter((w) => !(w.ok(e) && (w.resolve(e), true)));
          }
        }
      } catch (e) {
        if (controller.signal.aborted) return;
        console.warn("Anna's stream broke; reconnecting:", String(e));
      }
    }
  })();
  return controller;
}

const supportMessage = (text) => (e) =>
  e.message !== undefined && e.message.author === supportv1.Party.SUPPORT && e.message.text.includes(text);

/** staffPage opens the staff app in a browser context of its own and logs in on the OIDC provider's page. */
async function staffPage(givenName) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: "sv-SE", timezoneId: "Europe/Stockholm" });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on("pageerror", (e) => pageErrors.push(`${givenName}: ${e}`));
  // The browser logs every non-2xx answer, the intended 400 too; errors of
  // the page's own code are what count.
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && pageErrors.push(`${givenName}: ${m.text()}`));
  await page.goto(`${site.origin}/?api=${encodeURIComponent(baseUrl)}`);
  await page.waitForSelector("body[data-ready=true]");
  await page.click("#login-start");
  // The local OIDC provider's page: one "Log in as" button per test user.
  await page.click(`button:text-is("Log in as ${givenName}")`);
  // Back in the app, which finished the login with CompleteStaffLogin.
  await page.waitForSelector("#me:not([hidden])");
  await page.waitForSelector("#view-support:not([hidden])");
  return page;
}

/** queueRow waits for the case in the page's queue. */
const queueRow = (page) => page.waitForSelector(`#queue-rows tr[data-case-id="${caseId}"]`);

/** threadHas waits for a message of the thread that holds text. */
const threadHas = (page, cls, text) =>
  page.waitForFunction(
    ([cls, text]) => [...document.querySelectorAll(`#thread li.${cls} .text`)].some((t) => t.textContent.includes(text)),
    [cls, text],
  );

let answer;

test("Anna opens a case through the SDK; second line has written a standard answer", async () => {
  const asPer = await staffSession(per);
  ({ answer } = await createClient(supportv1.SupportDeskService, asPer).saveStandardAnswer({
    category: supportv1.Category.TECHNICAL,
    title: "BankID på ny telefon",
    body: "Hej {förnamn}! Installera BankID-appen på nya telefonen och beställ ett nytt BankID hos din bank, logga sedan in igen.",
  }));
  assert.equal(answer.version, 1);

  const session = await citizenLogin();
  citizen = createNaraTransport({ baseUrl, tokenProvider: () => session.accessToken });
  const support = createClient(supportv1.SupportService, citizen);
  const opened = await support.openCase({
    category: supportv1.Category.TECHNICAL,
    text: "Jag kan inte logga in med BankID sedan jag bytte telefon.",
    idempotencyKey: crypto.randomUUID(),
    language: supportv1.Language.SV,
  });
  caseId = opened.case.id;
  assert.equal(opened.case.state, supportv1.CaseState.NEW);
  citizenWatch = watchAsCitizen(support);
});

test("Lena logs in through the OIDC provider, claims the case and replies with the standard answer", async () => {
  lena = await staffPage("Lena");
  assert.equal(await lena.textContent("#me-name"), "Lena Ek");
  assert.equal(await lena.textContent("#me-role"), "Support, första linjen");
  assert.equal(await lena.getAttribute("#nav a[href='#/support']", "aria-current"), "page");

  const row = await queueRow(lena);
  assert.match(await row.textContent(), /Jag kan inte logga in med BankID/);
  assert.match(await row.textContent(), /Teknik/);
  assert.match(await row.$eval("td.sla", (td) => td.textContent), /Senast|Försenad/);
  await lena.click(`#queue-rows tr[data-case-id="${caseId}"] button`);
  await threadHas(lena, "citizen", "sedan jag bytte telefon");

  await lena.click("#case-claim");
  await lena.waitForFunction(() => document.querySelector("#case-facts").textContent.includes("Lena"));
  await lena.waitForFunction((id) => document.querySelector(`#queue-rows tr[data-case-id="${id}"] .assignee`)?.textContent === "Lena", caseId);

  await lena.fill("#answer-query", "bankid telefon");
  await lena.click("#answer-search");
  await lena.click(`#answer-list li[data-answer-id="${answer.id}"] button`);
  assert.match(await lena.inputValue("#reply-text"), /^Hej \{förnamn\}! Installera BankID-appen/);
  assert.match(await lena.textContent("#answer-chosen"), /version 1/);
  await lena.click("#reply-form button[type=submit]");
  await threadHas(lena, "support", "Installera BankID-appen");
  assert.match(await lena.textContent("#thread li.support .who"), /standardsvar v1/);
  assert.equal(await lena.inputValue("#reply-text"), "");
});

test("Anna's WatchCase stream receives the reply, placeholders filled in", async () => {
  const reply = await citizenSees(supportMessage("Installera BankID-appen"), "Lena's reply");
  assert.equal(reply.message.authorName, "Lena");
  assert.doesNotMatch(reply.message.text, /\{förnamn\}/);
  assert.match(reply.message.text, /^Hej Anna!/);
});

test("Anna types and writes back; Lena's page shows both live, without a reload", async () => {
  const support = createClient(supportv1.SupportService, citizen);
  const loads = [];
  lena.on("framenavigated", (f) => f === lena.mainFrame() && loads.push(f.url()));
  await support.setTyping({ caseId, typing: true });
  await lena.waitForFunction(() => document.getElementById("typing").textContent.includes("skriver"));
  await support.sendMessage({ caseId, text: "Tack! Jag har beställt ett nytt BankID men det fungerar ändå inte.", idempotencyKey: crypto.randomUUID() });
  await threadHas(lena, "citizen", "det fungerar ändå inte");
  await lena.waitForFunction(() => document.getElementById("typing").textContent === "");
  assert.deepEqual(loads, []);
  assert.equal(await lena.getAttribute("#thread", "aria-live"), "polite");
  await lena.screenshot({ path: new URL("console-first-line.png", out).pathname, fullPage: true });
});

test("Lena flags a deviation and escalates the case to second line", async () => {
  await lena.fill("#flag-title", deviationTitle);
  await lena.click("#flag-form button[type=submit]");
  await lena.waitForFunction((t) => document.getElementById("flag-status").textContent.includes(t), deviationTitle);

  await lena.fill("#escalate-note", "Nytt BankID fungerar inte; kan ni titta på inloggningen?");
  await lena.click("#escalate-form button[type=submit]");
  await lena.waitForSelector("#case[data-state=ESCALATED][data-line=SECOND]");
  assert.equal(await lena.isHidden("#escalate-form"), true);
  await lena.waitForSelector(`#thread li.state:text("Eskalerat till andra linjen")`);
  // It has left first line's queue.
  await lena.waitForFunction((id) => !document.querySelector(`#queue-rows tr[data-case-id="${id}"]`), caseId);
});

test("Per finds it in the second-line queue, replies and closes it with a reason", async () => {
  perPage = await staffPage("Per");
  assert.equal(await perPage.textContent("#me-role"), "Support, andra linjen");
  assert.equal(await perPage.inputValue("#queue-line"), String(supportv1.Line.SECOND));
  const row = await queueRow(perPage);
  assert.match(await row.textContent(), /Eskalerad/);
  await perPage.click(`#queue-rows tr[data-case-id="${caseId}"] button`);
  await threadHas(perPage, "citizen", "det fungerar ändå inte");
  await threadHas(perPage, "support", "Installera BankID-appen");

  // Second line sees the deviation Lena flagged and sets it to investigating.
  const deviation = perPage.locator("#deviation-list li", { hasText: deviationTitle });
  assert.match(await deviation.textContent(), /1 ärende\b/);
  await deviation.locator("select").selectOption(String(supportv1.DeviationStatus.INVESTIGATING));
  await deviation.locator("button").click();
  await perPage.waitForFunction(
    (t) => [...document.querySelectorAll("#deviation-list li")].some((li) => li.textContent.includes(t) && li.querySelector("select").value === "2"),
    deviationTitle,
  );

  // …and tells every app about it.
  await perPage.fill("#notice-title", deviationTitle);
  await perPage.fill("#notice-body", "Vi felsöker inloggning med nytt BankID. Ring 1177 vid brådskande ärenden.");
  await perPage.selectOption("#notice-deviation", { label: deviationTitle });
  await perPage.click("#notice-form button[type=submit]");
  await perPage.locator("#notice-list li", { hasText: deviationTitle }).waitFor();

  await perPage.fill("#reply-text", "Hej Anna! Vi har hittat felet och rättat det. Prova att logga in igen.");
  await perPage.click("#reply-form button[type=submit]");
  await threadHas(perPage, "support", "Vi har hittat felet");
  const reply = await citizenSees(supportMessage("Vi har hittat felet"), "Per's reply");
  assert.equal(reply.message.authorName, "Per");
  await perPage.waitForFunction(() => document.querySelector("#case-facts").textContent.includes("Per"));
  await perPage.screenshot({ path: new URL("console.png", out).pathname, fullPage: true });

  // Without a reason the server refuses, and the page says so by the form.
  await perPage.click("#close-form button[type=submit]");
  await perPage.waitForFunction(() => document.getElementById("close-error").textContent.includes("reason"));
  assert.equal(await perPage.getAttribute("#close-reason", "aria-invalid"), "true");
  await perPage.selectOption("#close-reason", String(supportv1.CloseReason.RESOLVED));
  await perPage.fill("#close-note", "Rättat i inloggningen.");
  await perPage.click("#close-form button[type=submit]");
  await perPage.waitForSelector("#case[data-state=CLOSED]");
  assert.equal(await perPage.textContent("#close-error"), "");
  assert.equal(await perPage.isHidden("#reply-form"), true);
  await perPage.waitForFunction((id) => !document.querySelector(`#queue-rows tr[data-case-id="${id}"]`), caseId);
  const closed = await citizenSees(
    (e) => e.stateChange !== undefined && e.stateChange.state === supportv1.CaseState.CLOSED,
    "the closing",
  );
  assert.equal(closed.stateChange.closeReason, supportv1.CloseReason.RESOLVED);

  // The notice is withdrawn again, so that other suites' apps do not show it.
  await perPage.locator("#notice-list li", { hasText: deviationTitle }).locator("button").click();
  await perPage.locator("#notice-list li", { hasText: deviationTitle }).waitFor({ state: "detached" });
  assert.deepEqual(pageErrors, []);
});
