// Request shapes of the contacts calls and /v1/me: methods, paths, query strings, headers and JSON bodies
// as docs/contacts.md and crates/server/src/routes/contacts describe them.

import { test } from "node:test";
import assert from "node:assert/strict";

import { createClient } from "../dist/index.js";
import { API_KEY, BASE, DOMAIN_KEY, clock, fakeKeygate, json, standardRoutes } from "./helpers.mjs";

const ANN = {
  id: 7,
  given_name: "Ann",
  middle_name: null,
  family_name: "Lee",
  company_name: "Acme",
  job_title: null,
  email_addresses: [{ email: "ann+news@acme.test", field: "EMAIL1" }],
  phone_numbers: [],
  addresses: [],
  tag_ids: [3],
  source_type: "API",
  date_created: "2026-11-25T10:20:30Z",
  last_updated: "2026-11-25T10:20:30Z",
  email_status: null,
  email_opted_in: false,
};

function setup(routes, baseUrl = BASE) {
  const kg = fakeKeygate(standardRoutes(routes));
  const client = createClient({ baseUrl, apiKey: API_KEY, domainKey: DOMAIN_KEY, fetch: kg.fetch, now: clock().now });
  /** The resource requests (not /auth). */
  const calls = () => kg.requests.filter((r) => !r.path.startsWith("/auth"));
  return { kg, client, calls };
}

test("every call asks for JSON, sends the bearer token, omits cookies and never follows redirects", async () => {
  const { client, calls } = setup({ "GET /v1/me": () => json(200, { account: "ab123" }) });
  await client.me();
  const [me] = calls();
  assert.equal(me.url, `${BASE}/v1/me`);
  assert.equal(me.headers.accept, "application/json");
  assert.equal(me.headers.authorization, "Bearer tok-1");
  assert.equal(me.init.credentials, "omit");
  assert.equal(me.init.redirect, "manual");
  assert.equal(me.body, undefined);
});

test("list: GET /v1/contacts with the parameters as the server spells them", async () => {
  const page = { contacts: [ANN], count: 3, next: `${BASE}/v1/contacts?limit=1&email=ann%2Bnews%40acme.test&offset=1`, previous: null };
  const { client, calls } = setup({ "GET /v1/contacts": () => json(200, page) });
  const got = await client.contacts.list({
    limit: 1,
    email: "ann+news@acme.test",
    given_name: "an%",
    since: new Date("2026-11-25T10:20:30.999Z"),
    until: "2026-12-01T00:00:00Z",
    order: "last_updated",
    order_direction: "DESCENDING",
    offset: undefined,
  });
  assert.deepEqual(got, page);
  const q = new URLSearchParams(calls()[0].search);
  assert.deepEqual([...q], [
    ["limit", "1"],
    ["email", "ann+news@acme.test"],
    ["given_name", "an%"],
    ["since", "1795602030"], // a Date as Unix seconds
    ["until", "2026-12-01T00:00:00Z"],
    ["order", "last_updated"],
    ["order_direction", "DESCENDING"],
  ]);
  assert.ok(calls()[0].search.includes("email=ann%2Bnews%40acme.test"), "a + is encoded, not read as a space");
});

test("list without parameters sends no query string", async () => {
  const { client, calls } = setup({ "GET /v1/contacts": () => json(200, { contacts: [], count: 0, next: null, previous: null }) });
  await client.contacts.list();
  assert.equal(calls()[0].url, `${BASE}/v1/contacts`);
});

test("page follows a next link on the same Keygate, and refuses a link elsewhere", async () => {
  const { client, calls } = setup({ "GET /v1/contacts": () => json(200, { contacts: [], count: 3, next: null, previous: null }) });
  const next = `${BASE}/v1/contacts?limit=1&offset=1`;
  await client.contacts.page(next);
  assert.equal(calls()[0].url, next);
  assert.equal(calls()[0].headers.authorization, "Bearer tok-1");
  await assert.rejects(client.contacts.page("https://evil.example/v1/contacts?offset=1"), TypeError);
  assert.equal(calls().length, 1, "no request for a foreign link");
});

test("a base URL with a path (behind a proxy) prefixes every call, and a trailing slash is dropped", async () => {
  const base = "https://example.test/keygate";
  const kg = fakeKeygate({
    "POST /keygate/auth": standardRoutes()["POST /auth"],
    "GET /keygate/v1/contacts": () => json(200, { contacts: [], count: 0, next: null, previous: null }),
  });
  const client = createClient({ baseUrl: `${base}/`, apiKey: API_KEY, domainKey: DOMAIN_KEY, fetch: kg.fetch });
  await client.contacts.list();
  await client.contacts.page(`${base}/v1/contacts?offset=50`);
  assert.deepEqual(kg.requests.map((r) => r.url), [
    `${base}/auth`,
    `${base}/v1/contacts`,
    `${base}/v1/contacts?offset=50`,
  ]);
  await assert.rejects(client.contacts.page("https://example.test/other/v1/contacts"), TypeError);
  assert.equal(kg.requests.length, 3);
});

test("get: GET /v1/contacts/{id}; the ETag rides along as a non-enumerable etag", async () => {
  const { client, calls } = setup({ "GET /v1/contacts/7": () => json(200, ANN, { etag: '"4"' }) });
  const c = await client.contacts.get(7);
  assert.equal(calls()[0].url, `${BASE}/v1/contacts/7`);
  assert.equal(c.etag, '"4"');
  assert.deepEqual(Object.keys(c), Object.keys(ANN), "etag is not a field");
  assert.ok(!JSON.stringify(c).includes("etag"));
  assert.deepEqual({ ...c }, ANN);
});

test("create: POST /v1/contacts with the input as JSON", async () => {
  const { client, calls } = setup({ "POST /v1/contacts": () => json(201, ANN, { etag: '"1"', location: "/v1/contacts/7" }) });
  const input = {
    given_name: "Ann",
    family_name: "Lee",
    email_addresses: [{ email: "ann+news@acme.test", field: "EMAIL1" }],
    tag_ids: [3],
  };
  const c = await client.contacts.create(input);
  const [req] = calls();
  assert.equal(req.method, "POST");
  assert.equal(req.url, `${BASE}/v1/contacts`);
  assert.equal(req.headers["content-type"], "application/json");
  assert.deepEqual(req.body, input);
  assert.equal(c.id, 7);
  assert.equal(c.etag, '"1"');
});

test("update: PATCH with the patch as JSON, and If-Match only when asked", async () => {
  const { client, calls } = setup({ "PATCH /v1/contacts/7": () => json(200, { ...ANN, job_title: "CTO" }, { etag: '"5"' }) });
  const patch = { job_title: "CTO", middle_name: null, email_addresses: [{ field: "EMAIL2", email: "ann@home.test" }] };
  const c = await client.contacts.update(7, patch, { ifMatch: '"4"' });
  await client.contacts.update("7", { company_name: null });
  const [conditional, unconditional] = calls();
  assert.equal(conditional.method, "PATCH");
  assert.equal(conditional.url, `${BASE}/v1/contacts/7`);
  assert.equal(conditional.headers["if-match"], '"4"');
  assert.deepEqual(conditional.body, patch, "null is sent: it clears the field");
  assert.equal(unconditional.headers["if-match"], undefined);
  assert.deepEqual(unconditional.body, { company_name: null });
  assert.equal(c.job_title, "CTO");
  assert.equal(c.etag, '"5"');
});

test("delete: DELETE, 204 gives undefined; If-Match when asked", async () => {
  const { client, calls } = setup({ "DELETE /v1/contacts/7": () => new Response(null, { status: 204 }) });
  assert.equal(await client.contacts.delete(7, { ifMatch: '"5"' }), undefined);
  assert.equal(await client.contacts.delete(7), undefined);
  const [a, b] = calls();
  assert.equal(a.method, "DELETE");
  assert.equal(a.headers["if-match"], '"5"');
  assert.equal(a.body, undefined);
  assert.equal(b.headers["if-match"], undefined);
});

test("ids that are not positive integers are refused before any request", async () => {
  const { kg, client } = setup({});
  for (const id of ["../me", "7/email-status", 0, -1, 1.5, "", "07"]) {
    await assert.rejects(client.contacts.get(id), TypeError, `id ${JSON.stringify(id)}`);
  }
  await assert.rejects(client.contacts.delete("1;2"), TypeError);
  assert.equal(kg.requests.length, 0);
});

test("me: GET /v1/me, answered as the server sends it", async () => {
  const me = {
    account: "ab123",
    user_id: null,
    acting_as: "account",
    credential: "domain_key",
    credential_id: DOMAIN_KEY,
    scope: "contacts.read",
    expires_at: 1795564625,
    impersonated_by: null,
  };
  const { client, calls } = setup({ "GET /v1/me": () => json(200, me) });
  assert.deepEqual(await client.me(), me);
  assert.equal(calls()[0].method, "GET");
});
