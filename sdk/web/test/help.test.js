import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Code,
  ConnectError,
  appv1,
  createClient,
  createNaraTransport,
  fieldViolations,
  helpv1,
} from "../dist/index.js";
import { baseUrl } from "./server.js";

const transport = createNaraTransport({ baseUrl });
const help = createClient(helpv1.HelpService, transport);

test("ListCategories returns the demo FAQ's categories in order", async () => {
  const { categories } = await help.listCategories({ language: helpv1.Language.SV });
  assert.ok(categories.length > 0, "no categories");
  for (const c of categories) {
    assert.match(c.slug, /^[a-z0-9-]+$/);
    assert.ok(c.title, `category ${c.slug} has no title`);
  }
});

test("SearchArticles finds boka-vaccination for an inflected word", async () => {
  const { hits } = await help.searchArticles({ query: "vaccinationer", language: helpv1.Language.SV });
  assert.ok(
    hits.some((h) => h.slug === "boka-vaccination"),
    `SearchArticles("vaccinationer") got ${JSON.stringify(hits.map((h) => h.slug))}, want boka-vaccination among them`,
  );
});

test("GetArticle returns an article with its sources", async () => {
  const { article } = await help.getArticle({ slug: "boka-vaccination", language: helpv1.Language.SV });
  assert.equal(article?.slug, "boka-vaccination");
  assert.equal(article?.state, helpv1.ArticleState.PUBLISHED);
  assert.ok(article?.bodyMarkdown.length > 0);
});

test("GetArticle of an unknown slug fails with NotFound", async () => {
  await assert.rejects(
    help.getArticle({ slug: "finns-inte", language: helpv1.Language.SV }),
    (e) => e instanceof ConnectError && e.code === Code.NotFound,
  );
});

test("an empty query fails with InvalidArgument and names the field", async () => {
  const err = await help.searchArticles({ query: "", language: helpv1.Language.SV }).then(
    () => assert.fail("SearchArticles(\"\") succeeded"),
    (e) => e,
  );
  assert.ok(err instanceof ConnectError);
  assert.equal(err.code, Code.InvalidArgument);
  assert.deepEqual(
    fieldViolations(err).map((v) => [v.field, v.ruleId]),
    [["query", "string.min_len"]],
  );
});

test("GetSupportStatus answers with a week of opening hours", async () => {
  const status = await help.getSupportStatus({ language: helpv1.Language.EN });
  assert.equal(status.timeZone, "Europe/Stockholm");
  assert.equal(status.week.length, 7);
});

test("AppService.GetConfig says whether an app build is supported", async () => {
  const app = createClient(appv1.AppService, transport);
  const config = await app.getConfig({ platform: appv1.Platform.WEB, appVersion: "1.0.0" });
  assert.equal(typeof config.updateRequired, "boolean");
});

test("the binary format works too", async () => {
  const binary = createClient(helpv1.HelpService, createNaraTransport({ baseUrl, useBinaryFormat: true }));
  const { categories } = await binary.listCategories({ language: helpv1.Language.EN });
  assert.ok(categories.length > 0);
});
