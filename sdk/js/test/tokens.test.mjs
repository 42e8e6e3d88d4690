// The token's life cycle, with an injected fetch and clock: when the client authenticates, refreshes,
// starts over, shares one flight, and retries after a 401 (once).

import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";

import { createClient, KeygateError, NetworkError, Unauthorized } from "../dist/index.js";
import {
  API_KEY,
  BASE,
  DOMAIN_KEY,
  clock,
  deferred,
  fakeKeygate,
  json,
  problem,
  standardRoutes,
  tick,
  tokenAnswer,
} from "./helpers.mjs";

function setup(routes = standardRoutes(), options = {}) {
  const kg = fakeKeygate(routes);
  const c = clock();
  const client = createClient({ baseUrl: BASE, apiKey: API_KEY, domainKey: DOMAIN_KEY, fetch: kg.fetch, now: c.now, ...options });
  return { kg, c, client };
}

const paths = (kg) => kg.requests.map((r) => `${r.method} ${r.path}`);

test("the first call authenticates with the domain key, then sends the token", async () => {
  const { kg, client } = setup();
  const me = await client.me();
  assert.deepEqual(paths(kg), ["POST /auth", "GET /v1/me"]);
  const [auth, call] = kg.requests;
  assert.equal(auth.url, `${BASE}/auth`);
  assert.equal(auth.headers["x-api-key"], API_KEY);
  assert.equal(auth.headers["content-type"], "application/json");
  assert.deepEqual(auth.body, { domain_key: DOMAIN_KEY });
  assert.equal(auth.headers.authorization, undefined, "no token to /auth");
  assert.equal(auth.headers.origin, undefined, "the browser sets Origin, never the script");
  assert.equal(call.headers.authorization, "Bearer tok-1");
  assert.equal(me.token, "Bearer tok-1");
});

test("a fresh token is reused", async () => {
  const { kg, c, client } = setup();
  await client.me();
  c.advance(600);
  await client.me();
  await client.me();
  assert.equal(kg.count("POST", "/auth"), 1);
  assert.equal(kg.count("POST", "/auth/refresh"), 0);
  assert.ok(kg.requests.filter((r) => r.path === "/v1/me").every((r) => r.headers.authorization === "Bearer tok-1"));
});

test("the token is refreshed in the last minute of its life, with the key and the current token", async () => {
  const { kg, c, client } = setup();
  await client.me();
  c.advance(839); // 61 s left: not yet
  await client.me();
  assert.equal(kg.count("POST", "/auth/refresh"), 0);
  c.advance(2); // 59 s left
  const me = await client.me();
  assert.deepEqual(paths(kg), ["POST /auth", "GET /v1/me", "GET /v1/me", "POST /auth/refresh", "GET /v1/me"]);
  const refresh = kg.requests[3];
  assert.equal(refresh.headers["x-api-key"], API_KEY);
  assert.equal(refresh.headers.authorization, "Bearer tok-1");
  assert.equal(refresh.body, undefined, "refresh has no body");
  assert.equal(refresh.headers["content-type"], undefined);
  assert.equal(me.token, "Bearer tok-2");
  // The refreshed token counts its own life from now.
  c.advance(800);
  await client.me();
  assert.equal(kg.count("POST", "/auth/refresh"), 1);
  assert.equal(kg.count("POST", "/auth"), 1);
});

test("refreshMarginSeconds moves the refresh, but never before half the token's life", async () => {
  const custom = setup(standardRoutes(), { refreshMarginSeconds: 300 });
  await custom.client.me();
  custom.c.advance(601); // 299 s left
  await custom.client.me();
  assert.equal(custom.kg.count("POST", "/auth/refresh"), 1);

  const short = setup(standardRoutes({}, 10)); // a 10 s token: refresh after 5 s, not at once
  await short.client.me();
  short.c.advance(4);
  await short.client.me();
  assert.equal(short.kg.count("POST", "/auth/refresh"), 0);
  short.c.advance(2);
  await short.client.me();
  assert.equal(short.kg.count("POST", "/auth/refresh"), 1);
});

test("after the token expired (the laptop slept), the client starts over with /auth, not a refresh", async () => {
  const { kg, c, client } = setup();
  await client.me();
  c.advance(3 * 3600);
  const me = await client.me();
  assert.deepEqual(paths(kg), ["POST /auth", "GET /v1/me", "POST /auth", "GET /v1/me"]);
  assert.equal(me.token, "Bearer tok-2");
});

test("expiry is counted with expires_in on the local clock, so a browser clock far off does not matter", async () => {
  // The server's expires_at is an hour behind this browser's clock: trusting it would mean an expired
  // token on every call.
  const c = clock(1_800_000_000_000 + 3600_000);
  let n = 0;
  const kg = fakeKeygate(standardRoutes({ "POST /auth": () => tokenAnswer(++n, 900, 1_800_000_000) }));
  const client = createClient({ baseUrl: BASE, apiKey: API_KEY, domainKey: DOMAIN_KEY, fetch: kg.fetch, now: c.now });
  await client.me();
  c.advance(60);
  await client.me();
  assert.equal(kg.count("POST", "/auth"), 1);
});

for (const [code, detail] of [
  ["token_expired", "the access token has expired; call POST /auth again"],
  ["session_expired", "the session reached its maximum length; call POST /auth again"],
  ["invalid_token", "the access token is not valid for this API key: it has been revoked"],
]) {
  test(`a refresh refused with ${code} makes the client authenticate again`, async () => {
    const { kg, c, client } = setup(
      standardRoutes({
        "POST /auth/refresh": () =>
          problem(401, code.replace("_", "-"), "Refused", detail, { error: code }),
      }),
    );
    await client.me();
    c.advance(870);
    const me = await client.me();
    assert.deepEqual(paths(kg), ["POST /auth", "GET /v1/me", "POST /auth/refresh", "POST /auth", "GET /v1/me"]);
    assert.equal(me.token, "Bearer tok-2");
  });
}

test("when a refresh fails for a passing reason, the still-valid token is used and the refresh retried later", async () => {
  let refreshes = 0;
  const { kg, c, client } = setup(
    standardRoutes({
      "POST /auth/refresh": () => {
        refreshes += 1;
        if (refreshes === 1) return problem(503, "internal", "Internal error", "the server could not complete the request");
        if (refreshes === 2) throw new TypeError("Failed to fetch");
        return tokenAnswer(99);
      },
    }),
  );
  await client.me();
  c.advance(870);
  assert.equal((await client.me()).token, "Bearer tok-1", "503: keep the current token");
  assert.equal((await client.me()).token, "Bearer tok-1", "network failure: keep the current token");
  assert.equal((await client.me()).token, "Bearer tok-99");
  assert.equal(kg.count("POST", "/auth"), 1, "no new session for a passing failure");
});

test("concurrent calls share one authentication (single flight)", async () => {
  const gate = deferred();
  let n = 0;
  const { kg, client } = setup(
    standardRoutes({
      "POST /auth": async () => {
        await gate.promise;
        return tokenAnswer(++n);
      },
    }),
  );
  const calls = Array.from({ length: 5 }, () => client.me());
  await tick();
  assert.equal(kg.count("POST", "/auth"), 1, "one /auth in flight for five calls");
  gate.resolve();
  const answers = await Promise.all(calls);
  assert.ok(answers.every((me) => me.token === "Bearer tok-1"));
  assert.equal(kg.count("POST", "/auth"), 1);
  assert.equal(kg.count("GET", "/v1/me"), 5);
});

test("concurrent calls in the refresh window share one refresh", async () => {
  const gate = deferred();
  let n = 0;
  const { kg, c, client } = setup(
    standardRoutes({
      "POST /auth": () => tokenAnswer(++n),
      "POST /auth/refresh": async () => {
        await gate.promise;
        return tokenAnswer(++n);
      },
    }),
  );
  await client.me();
  c.advance(880);
  const calls = Array.from({ length: 4 }, () => client.me());
  await tick();
  gate.resolve();
  const answers = await Promise.all(calls);
  assert.equal(kg.count("POST", "/auth/refresh"), 1);
  assert.ok(answers.every((me) => me.token === "Bearer tok-2"));
});

test("a failed authentication is not remembered: the next call tries again", async () => {
  let attempts = 0;
  const { kg, client } = setup(
    standardRoutes({
      "POST /auth": () => {
        attempts += 1;
        return attempts === 1 ? problem(500, "internal", "Internal error", "the server could not complete the request") : tokenAnswer(1);
      },
    }),
  );
  await assert.rejects(client.me(), (e) => e instanceof KeygateError && e.status === 500);
  assert.equal((await client.me()).token, "Bearer tok-1");
  assert.equal(kg.count("POST", "/auth"), 2);
});

test("a 401 on a call re-authenticates and retries that call once", async () => {
  let calls = 0;
  const { kg, client } = setup(
    standardRoutes({
      "GET /v1/contacts/7": (req) => {
        calls += 1;
        return req.headers.authorization === "Bearer tok-1"
          ? problem(401, "unauthorized", "Unauthorized", "the token has been revoked")
          : json(200, { id: 7 }, { etag: '"1"' });
      },
    }),
  );
  const contact = await client.contacts.get(7);
  assert.equal(contact.id, 7);
  assert.deepEqual(paths(kg), ["POST /auth", "GET /v1/contacts/7", "POST /auth", "GET /v1/contacts/7"]);
  assert.equal(kg.requests[3].headers.authorization, "Bearer tok-2");
  assert.equal(calls, 2);
});

test("a second 401 is the answer: no retry loop", async () => {
  const { kg, client } = setup(
    standardRoutes({
      "GET /v1/me": () =>
        problem(401, "unauthorized", "Unauthorized", "the access token is not valid: bad signature", {}, {
          "www-authenticate": 'Bearer realm="keygate", error="invalid_token"',
        }),
    }),
  );
  await assert.rejects(client.me(), (e) => {
    assert.ok(e instanceof Unauthorized);
    assert.equal(e.message, "the access token is not valid: bad signature");
    return true;
  });
  assert.deepEqual(paths(kg), ["POST /auth", "GET /v1/me", "POST /auth", "GET /v1/me"]);
});

test("a refused /auth is thrown as it is, with no retry", async () => {
  const { kg, client } = setup(
    standardRoutes({
      "POST /auth": () =>
        problem(401, "invalid-credentials", "Invalid credentials", "the API key or its secret is invalid", {
          error: "invalid_credentials",
        }),
    }),
  );
  await assert.rejects(client.me(), (e) => e instanceof Unauthorized && e.code === "invalid_credentials");
  assert.deepEqual(paths(kg), ["POST /auth"]);
});

test("calls refused together with the same token share one re-authentication", async () => {
  const gate = deferred();
  let n = 0;
  const { kg, client } = setup(
    standardRoutes({
      "POST /auth": async () => {
        n += 1;
        if (n === 2) await gate.promise;
        return tokenAnswer(n);
      },
      "GET /v1/me": (req) =>
        req.headers.authorization === "Bearer tok-1"
          ? problem(401, "unauthorized", "Unauthorized", "revoked")
          : json(200, { token: req.headers.authorization }),
    }),
  );
  const calls = [client.me(), client.me(), client.me()];
  for (let i = 0; i < 10; i++) await tick();
  gate.resolve();
  const answers = await Promise.all(calls);
  assert.ok(answers.every((me) => me.token === "Bearer tok-2"));
  assert.equal(kg.count("POST", "/auth"), 2, "one first authentication, one shared re-authentication");
});

test("the token is kept in memory only: nothing reaches web storage or cookies", async () => {
  const writes = [];
  const storage = () => ({
    setItem: (k, v) => writes.push(["setItem", k, v]),
    getItem: () => null,
    removeItem: () => {},
    clear: () => {},
    key: () => null,
    length: 0,
  });
  const saved = { localStorage: globalThis.localStorage, sessionStorage: globalThis.sessionStorage, document: globalThis.document };
  globalThis.localStorage = storage();
  globalThis.sessionStorage = storage();
  globalThis.document = {
    set cookie(v) {
      writes.push(["cookie", v]);
    },
    get cookie() {
      return "";
    },
  };
  try {
    const { c, client } = setup();
    await client.me();
    c.advance(870);
    await client.me();
    assert.deepEqual(writes, []);
    assert.ok(!inspect(client, { depth: 8, showHidden: true }).includes("tok-"), "the client object does not expose the token");
  } finally {
    Object.assign(globalThis, saved);
  }
});

test("signOut forgets the token", async () => {
  const { kg, client } = setup();
  await client.me();
  client.signOut();
  assert.equal((await client.me()).token, "Bearer tok-2");
  assert.equal(kg.count("POST", "/auth"), 2);
});

test("an /auth answer without a token is an error, not a token of 'undefined'", async () => {
  const { client } = setup(standardRoutes({ "POST /auth": () => json(200, { hello: "world" }) }));
  await assert.rejects(client.me(), (e) => e instanceof KeygateError && /without an access token/.test(e.message));
});

test("createClient checks its options and refuses a secret", () => {
  const base = { baseUrl: BASE, apiKey: API_KEY, domainKey: DOMAIN_KEY };
  assert.throws(() => createClient({ ...base, apiKey: "" }), /apiKey is required/);
  assert.throws(() => createClient({ ...base, domainKey: undefined }), /domainKey is required/);
  assert.throws(() => createClient({ ...base, baseUrl: "kg.example.test" }), /http\(s\) URL/);
  assert.throws(() => createClient({ ...base, apiKey: "kgsk_secretsecret" }), /never put an API key's secret/);
  assert.throws(() => createClient({ ...base, secret: "kgsk_x" }), /never put an API key's secret/);
});

test("a network failure outside a browser is a NetworkError carrying its cause", async () => {
  const cause = new TypeError("fetch failed");
  const { client } = setup({
    "POST /auth": () => {
      throw cause;
    },
  });
  await assert.rejects(client.me(), (e) => e instanceof NetworkError && e.cause === cause && e.status === 0);
});
