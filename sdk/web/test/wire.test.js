// Wire compatibility with the server, both ways, through the golden files in
// sdk/wire (see its README):
//
//  - requests: the calls below record exactly what this SDK sends; the
//    recording must equal sdk/wire/requests/web/<case>.json, which the Go test
//    server/wire_test.go decodes with the server's rules and replays.
//    NARA_WIRE_UPDATE=1 rewrites the files instead.
//  - errors: the server's recorded answers (sdk/wire/errors, written by
//    server/wire_test.go) are played back to this SDK, which must report the
//    same Connect code and the same field violations.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir, writeFile, mkdir } from "node:fs/promises";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import * as sdk from "../dist/index.js";
import { appointmentv1, authv1, Code, ConnectError, createClient, createNaraTransport, fieldViolations, helpv1, pushv1 } from "../dist/index.js";
import { baseUrl } from "./server.js";

const wire = new URL("../../wire/", import.meta.url);
const update = process.env.NARA_WIRE_UPDATE === "1";
// The headers that carry meaning on the wire; the rest (User-Agent, …) vary.
const recordedHeaders = ["authorization", "connect-protocol-version", "connect-timeout-ms", "content-encoding", "content-type"];
const at = (s) => timestampFromDate(new Date(s));

// The same calls, with the same values, as server/wire_test.go expects and
// sdk/android's WireTest.kt makes.
const cases = [
  ["help-search-articles", false, helpv1.HelpService, "searchArticles", { query: "vaccinationer", language: helpv1.Language.SV }],
  ["auth-start-login", false, authv1.CitizenAuthService, "startLogin", {
    provider: authv1.Provider.BANKID,
    mode: authv1.StartMode.OTHER_DEVICE,
    device: { id: "wire-test-device-1", name: "Wire test", platform: authv1.Platform.ANDROID },
    language: authv1.Language.EN,
  }],
  ["appointment-search-slots", true, appointmentv1.AppointmentService, "searchSlots", {
    service: appointmentv1.Service.VACCINATION,
    unitHsaId: "SE2321000016-1A03",
    startTime: at("2026-01-07T08:00:00Z"),
    endTime: at("2026-01-08T16:30:00.250Z"),
    pageSize: 20,
  }],
  ["appointment-list", true, appointmentv1.AppointmentService, "listAppointments", { updatedSince: at("2026-01-01T00:00:00Z") }],
  ["push-update-preferences", true, pushv1.NotificationService, "updatePreferences", {
    preferences: {
      reminders: true,
      messages: false,
      offers: true,
      quietHours: { start: "22:00", end: "07:00" },
      language: pushv1.Language.EN,
      timeZone: "Europe/Stockholm",
    },
  }],
  ["push-mark-read", true, pushv1.NotificationService, "markNotificationsRead", { ids: ["1", "22", "333"] }],
  ["help-admin-create-article", true, helpv1.HelpAdminService, "createArticle", {
    slug: "wire-test",
    language: helpv1.Language.EN,
    content: {
      categorySlug: "bokning",
      title: "Åtkomst för vårdnadshavare",
      summary: 'A "quoted" summary.',
      bodyMarkdown: "Line one\nLine två — ✓",
      sources: [
        { title: "1177", url: "https://www.1177.se/" },
        { title: "Inera", url: "https://www.inera.se/" },
      ],
      lastReviewedOn: "2030-01-02",
    },
  }],
];

/** record returns a fetch that writes down each request and passes it on. */
function record(into) {
  return async (input, init) => {
    const headers = {};
    new Headers(init?.headers).forEach((value, name) => {
      if (recordedHeaders.includes(name)) headers[name] = value;
    });
    into.push({
      method: init?.method ?? "GET",
      path: new URL(String(input)).pathname,
      headers,
      body: typeof init?.body === "string" ? init.body : new TextDecoder().decode(init?.body),
    });
    return globalThis.fetch(input, init);
  };
}

for (const [name, authenticated, service, method, request] of cases) {
  test(`request ${name} is what sdk/wire/requests/web holds`, async () => {
    const sent = [];
    const transport = createNaraTransport({
      baseUrl,
      fetch: record(sent),
      tokenProvider: authenticated ? () => "wire-test-token" : undefined,
    });
    // The answer does not matter here (the token is not a real session).
    await createClient(service, transport)[method](request).catch(() => undefined);
    assert.equal(sent.length, 1, `${name} sent ${sent.length} requests`);
    const text = JSON.stringify({ sdk: "web", case: name, ...sent[0] }, null, 2) + "\n";
    const file = new URL(`requests/web/${name}.json`, wire);
    if (update) {
      await mkdir(new URL(".", file), { recursive: true });
      await writeFile(file, text);
      return;
    }
    const golden = await readFile(file, "utf8").catch(() => "(missing)");
    assert.equal(text, golden, `the web SDK now sends something else than ${file.pathname}; if that is intended, run NARA_WIRE_UPDATE=1 make sdk-test-web and then go test ./server -run TestWire`);
  });
}

/** service finds a service descriptor of the SDK by its full name. */
function service(typeName) {
  for (const ns of Object.values(sdk)) {
    for (const v of Object.values(ns ?? {})) {
      if (v?.kind === "service" && v.typeName === typeName) return v;
    }
  }
  return undefined;
}

const snake = (code) => Code[code].replace(/[A-Z]/g, (c, i) => (i ? "_" : "") + c.toLowerCase());

const errorFiles = (await readdir(new URL("errors/", wire))).filter((f) => f.endsWith(".json")).sort();

test("sdk/wire/errors has the server's answers", () => {
  assert.ok(errorFiles.length >= 5, `errors = ${errorFiles}`);
});

for (const file of errorFiles) {
  test(`error ${file}: the app sees the server's code and field violations`, async () => {
    const golden = JSON.parse(await readFile(new URL(`errors/${file}`, wire), "utf8"));
    const [, typeName, methodName] = golden.procedure.split("/");
    const svc = service(typeName);
    assert.ok(svc, `the SDK has no service ${typeName}`);
    const m = svc.methods.find((x) => x.name === methodName);
    assert.ok(m, `${typeName} has no method ${methodName}`);
    const answer = async () =>
      new Response(golden.body, { status: golden.status, headers: { "Content-Type": golden.contentType } });
    const client = createClient(svc, createNaraTransport({ baseUrl, fetch: answer, retry: false }));
    const err = await client[m.localName]({}).then(
      () => assert.fail("the call succeeded"),
      (e) => e,
    );
    assert.ok(err instanceof ConnectError, `got ${err}`);
    assert.equal(snake(err.code), golden.want.code);
    assert.deepEqual(
      fieldViolations(err).map((v) => ({ field: v.field, ruleId: v.ruleId })),
      golden.want.violations ?? [],
    );
    for (const v of fieldViolations(err)) assert.ok(v.message, `violation of ${v.field} has no message`);
  });
}
