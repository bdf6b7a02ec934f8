// The example page (example/) in headless Chromium against the live server:
// the FAQ before login (a validation error shown next to the input, then
// hits), BankID login through the animated QR code, approved in the
// simulator as the citizen's phone would, then booking a time and the
// appointment list. Screenshots land in test-output/ (git-ignored).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { chromium } from "playwright-core";
import { serve } from "../example/serve.mjs";
import { baseUrl } from "./server.js";

// The server's BankID simulator; sdk/sdk.mk starts test servers with it on a
// free port and says where.
const simUrl = `http://${process.env.NARA_BANKID_SIM_ADDR || "127.0.0.1:8081"}`;
const anna = "198507099805";
const out = new URL("../test-output/", import.meta.url);
const timeout = 30_000;

let browser, site, page;
const pageErrors = [];

before(async () => {
  await mkdir(out, { recursive: true });
  // The page's origin must be in the server's NARA_CORS_ORIGINS; sdk/sdk.mk
  // picks the address and sets both.
  site = await serve(process.env.NARA_EXAMPLE_ADDR || "127.0.0.1:0");
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
  });
  page = await browser.newPage({ viewport: { width: 900, height: 1000 }, locale: "en-GB", timezoneId: "Europe/Stockholm" });
  page.setDefaultTimeout(timeout);
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  // The browser logs every non-2xx answer, the intended 400 too; errors of
  // the page's own code are what count.
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && pageErrors.push(m.text()));
  await page.goto(`${site.origin}/?api=${encodeURIComponent(baseUrl)}`);
  await page.waitForSelector("body[data-ready=true]");
});

after(async () => {
  await browser?.close();
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

test("an empty FAQ search shows the server's field violation next to the input", async () => {
  await page.fill("#faq-query", "");
  await page.click("#faq-form button[type=submit]");
  await page.waitForFunction(() => document.getElementById("faq-query-error").textContent !== "");
  assert.equal(await page.textContent("#faq-query-error"), "Type a word to search for.");
  assert.equal(await page.getAttribute("#faq-query", "aria-invalid"), "true");
});

test("the FAQ search works before login", async () => {
  await page.fill("#faq-query", "vaccination");
  await page.click("#faq-form button[type=submit]");
  await page.waitForSelector("#faq-results li.hit");
  const hits = await page.$$eval("#faq-results li.hit", (lis) =>
    lis.map((li) => ({ slug: li.dataset.slug, title: li.querySelector("strong").textContent })),
  );
  assert.ok(
    hits.some((h) => h.slug === "boka-vaccination" && h.title === "How do I book a vaccination?"),
    `hits = ${JSON.stringify(hits)}`,
  );
  assert.equal(await page.textContent("#faq-query-error"), "");
  assert.ok((await page.$$("#faq-results mark")).length > 0, "no highlighted match in the snippets");
});

test("BankID login: the QR code changes every second; the phone scans it and approves", async () => {
  await page.click("#login-start");
  const first = await page.waitForSelector("#qr[data-qr] svg").then(() => page.getAttribute("#qr", "data-qr"));
  assert.match(first, /^bankid\.[0-9a-f-]+\.\d+\.[0-9a-f]{64}$/);
  await page.waitForFunction((q) => document.getElementById("qr").dataset.qr !== q, first);
  const current = await page.getAttribute("#qr", "data-qr");
  assert.notEqual(current, first);
  assert.equal(await page.textContent("#qr-text"), current);
  await page.screenshot({ path: new URL("example-login.png", out).pathname });

  // The citizen's phone reads the code on the screen and the user approves.
  const { orderRef } = await sim("qr", { qrCode: current, personalNumber: anna });
  await sim(`orders/${orderRef}/approve`, { personalNumber: anna });

  await page.waitForSelector("#logged-in:not([hidden])");
  assert.match(await page.textContent("#me-name"), /Anna/);
  assert.equal(await page.isHidden("#login-flow"), true);
});

test("the appointment list shows a time booked on the page", async () => {
  await page.waitForSelector("#appointments-panel:not([hidden])");
  await page.waitForFunction(
    () => document.querySelector("#appointment-list li") || !document.getElementById("appointments-empty").hidden,
  );
  const before = (await page.$$("#appointment-list li.appointment")).length;

  await page.click("#find-slots");
  await page.waitForSelector("#slot-list li.slot button");
  const slot = await page.textContent("#slot-list li.slot .when");
  await page.click("#slot-list li.slot button");
  await page.waitForFunction((n) => document.querySelectorAll("#appointment-list li.appointment").length > n, before);

  const items = await page.$$eval("#appointment-list li.appointment", (lis) => lis.map((li) => li.textContent));
  assert.ok(
    items.some((t) => t.startsWith(slot) && t.includes("Vaccination") && t.includes("(Booked)")),
    `appointments = ${JSON.stringify(items)}, want one at ${slot}, a booked vaccination`,
  );
  assert.equal(await page.isHidden("#appointments-empty"), true);
  assert.equal(await page.textContent("#appointments-error"), "");
  await page.screenshot({ path: new URL("example.png", out).pathname, fullPage: true });
  assert.deepEqual(pageErrors, []);
});
