// The test page of sdk-cors.mjs, served from a plain static server on a loopback origin. It imports the
// built SDK as an ES module, runs a small integration (who am I, create a contact, find it, read it) and
// reports the outcome into the DOM (for people and screenshots) and `window.kgResult` (for the test).
// `window.kgTest` lets the test drive further steps.

import * as sdk from "/sdk/index.js";

const params = new URLSearchParams(location.search);

// The client's clock, which the test moves (or stops) to play the passing of time.
const clock = { offset: 0, frozen: null };
const now = () => clock.frozen ?? Date.now() + clock.offset;

// Every request the page makes, as the page sees it (with the client's clock at the time): a thin wrapper
// around the browser's own fetch, installed before the client is created so that the SDK still picks up
// `globalThis.fetch` itself.
const traffic = [];
const realFetch = window.fetch;
window.fetch = async function (input, init = {}) {
  const url = new URL(typeof input === "string" ? input : input.url);
  const entry = { method: init.method ?? "GET", path: url.pathname, mode: init.mode ?? "cors", at: now() };
  traffic.push(entry);
  try {
    const res = await realFetch.call(window, input, init);
    entry.status = res.status;
    if (url.pathname.startsWith("/auth") && res.ok) entry.expiresIn = (await res.clone().json()).expires_in;
    return res;
  } catch (e) {
    entry.error = `${e.name}: ${e.message}`;
    throw e;
  }
};

const kg = sdk.createClient({ baseUrl: params.get("kg"), apiKey: params.get("key"), domainKey: params.get("dk"), now });

/** An error as plain data: its class chain proves which SDK class it is. */
function describe(e) {
  const classes = [];
  for (let p = Object.getPrototypeOf(e); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    classes.push(p.constructor.name);
  }
  const pick = ["name", "message", "status", "code", "type", "field", "errors", "inferred", "origin", "requiredScope", "retryAfter"];
  return { ...Object.fromEntries(pick.map((k) => [k, e?.[k]])), classes, isKeygateError: e instanceof sdk.KeygateError };
}

/** A contact with its etag (which is deliberately not enumerable). */
const plain = (c) => ({ ...c, etag: c.etag });

function render(result) {
  document.title = result.ok ? "Keygate SDK: OK" : `Keygate SDK: ${result.error?.name}`;
  const status = document.getElementById("status");
  status.className = result.ok ? "ok" : "failed";
  status.textContent = result.ok
    ? `✔ ${location.origin}: signed in with the domain key, created contact ${result.created.id}, listed and read it`
    : `✘ ${location.origin}: ${result.error.name}: ${result.error.message}`;
  document.getElementById("result").textContent = JSON.stringify(result, null, 2);
}

function log(line) {
  const li = document.createElement("li");
  li.textContent = line;
  document.getElementById("steps").append(li);
}

async function main() {
  // Unique per run, so that reruns against the same account find only this run's contacts.
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const email = `ann.${run}@e2e.example.test`;
  const family = `Browser-${run}`;
  const result = { origin: location.origin, email, family };
  try {
    result.me = await kg.me();
    result.created = plain(
      await kg.contacts.create({ given_name: "Ann", family_name: family, email_addresses: [{ email, field: "EMAIL1" }] }),
    );
    result.listed = await kg.contacts.list({ email });
    result.got = plain(await kg.contacts.get(result.created.id));
    result.ok = true;
  } catch (e) {
    result.ok = false;
    result.error = describe(e);
  }
  result.storage = { local: localStorage.length, session: sessionStorage.length, cookie: document.cookie };
  window.kgResult = result;
  render(result);
}

window.kgTest = { sdk, kg, clock, traffic, describe, plain, log };
main();
