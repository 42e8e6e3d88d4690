// Keygate API explorer: renders /openapi.json and sends "Try it" requests as the signed-in user.
// Written for the portal alone (no framework, nothing from a CDN). Everything from the document or a
// response is put into the page as text, never as HTML.

const root = document.getElementById("explorer");
const METHODS = ["get", "post", "put", "patch", "delete"];
let token = null; // { value, expiresAt } kept in memory only

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

async function accessToken() {
  if (token && token.expiresAt - Date.now() > 30_000) return token.value;
  const res = await fetch(root.dataset.token, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrf: root.dataset.csrf }),
    credentials: "same-origin",
  });
  if (res.redirected || !res.ok) throw new Error("Your portal session has ended: sign in again to use the explorer.");
  const body = await res.json();
  token = { value: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
  return token.value;
}

function resolveRef(spec, schema) {
  let s = schema;
  for (let i = 0; s && s.$ref && i < 10; i++) {
    s = s.$ref.replace(/^#\//, "").split("/").reduce((o, k) => (o ? o[k] : undefined), spec);
  }
  return s || {};
}

// An example body for a request: the document's example if it has one, else one built from the schema.
function exampleOf(spec, schema, depth = 0) {
  const s = resolveRef(spec, schema);
  if (s.example !== undefined) return s.example;
  if (s.examples && s.examples.length) return s.examples[0];
  if (depth > 4) return null;
  const variants = s.oneOf || s.anyOf || s.allOf;
  if (variants && variants.length) return exampleOf(spec, variants.find((v) => v.type !== "null") || variants[0], depth + 1);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  if (type === "object" || s.properties) {
    const out = {};
    for (const [name, prop] of Object.entries(s.properties || {})) {
      if ((s.required || []).includes(name) || depth === 0) out[name] = exampleOf(spec, prop, depth + 1);
    }
    return out;
  }
  if (type === "array") return [exampleOf(spec, s.items || {}, depth + 1)];
  if (s.enum) return s.enum[0];
  return { string: "", integer: 0, number: 0, boolean: false }[type] ?? null;
}

function parametersOf(spec, pathItem, op) {
  return [...(pathItem.parameters || []), ...(op.parameters || [])].map((p) => resolveRef(spec, p));
}

function formatHeaders(headers) {
  return [...headers].map(([k, v]) => `${k}: ${v}`).join("\n");
}

function prettyBody(text, contentType) {
  if (contentType && contentType.includes("json")) {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch { /* shown as sent */ }
  }
  return text;
}

function operation(spec, path, method, pathItem, op) {
  const params = parametersOf(spec, pathItem, op).filter((p) => p.in === "path" || p.in === "query" || p.in === "header");
  const jsonBody = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
  const callable = !path.startsWith("/admin/") && !(op.requestBody && !jsonBody);
  const id = `op-${method}-${path.replace(/[^a-zA-Z0-9]+/g, "-")}`;
  const fields = params.map((p) => {
    const fid = `${id}-${p.in}-${p.name}`;
    return el("div", { class: "field" },
      el("label", { for: fid, text: `${p.name} (${p.in}${p.required ? ", required" : ""})` }),
      el("input", { type: "text", id: fid, name: p.name, "data-in": p.in, required: !!p.required,
        placeholder: p.schema && p.schema.example !== undefined ? String(p.schema.example) : "" }),
      p.description ? el("p", { class: "hint", text: p.description }) : null);
  });
  let bodyField = null;
  if (jsonBody) {
    const example = jsonBody.example !== undefined ? jsonBody.example : exampleOf(spec, jsonBody.schema || {});
    bodyField = el("textarea", { id: `${id}-body`, rows: 8, spellcheck: "false" });
    bodyField.value = JSON.stringify(example, null, 2);
  }
  const requestOut = el("pre", { "aria-label": "Request sent" });
  const responseOut = el("pre", { "aria-label": "Response received" });
  const statusOut = el("p", { role: "status", "aria-live": "polite" });
  const exchange = el("div", { class: "exchange", hidden: true },
    el("div", {}, el("h4", { text: "Request" }), requestOut),
    el("div", {}, el("h4", { text: "Response" }), statusOut, responseOut));
  const form = el("form", { class: "stack", novalidate: true },
    fields,
    bodyField ? el("div", { class: "field" }, el("label", { for: bodyField.id, text: "Request body (JSON)" }), bodyField) : null,
    callable
      ? el("button", { type: "submit", class: "primary", text: "Try it" })
      : el("p", { class: "hint", text: path.startsWith("/admin/") ? "The admin API takes an admin token: use keygate admin or its HTTP API." : "This endpoint takes a form, not JSON: try it with its client." }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    let url = path;
    const query = new URLSearchParams();
    const headers = { Accept: "application/json" };
    for (const input of form.querySelectorAll("input[data-in]")) {
      const value = input.value.trim();
      if (!value) {
        if (input.required) { input.setAttribute("aria-invalid", "true"); input.focus(); statusOut.textContent = `${input.name} is required.`; exchange.hidden = false; return; }
        continue;
      }
      input.removeAttribute("aria-invalid");
      if (input.dataset.in === "path") url = url.replace(`{${input.name}}`, encodeURIComponent(value));
      else if (input.dataset.in === "query") query.append(input.name, value);
      else headers[input.name] = value;
    }
    if ([...query].length) url += `?${query}`;
    let body;
    if (bodyField) {
      try { JSON.parse(bodyField.value); } catch (e) {
        bodyField.setAttribute("aria-invalid", "true");
        statusOut.textContent = `The body is not valid JSON: ${e.message}`;
        exchange.hidden = false;
        bodyField.focus();
        return;
      }
      bodyField.removeAttribute("aria-invalid");
      body = bodyField.value;
      headers["Content-Type"] = "application/json";
    }
    button.disabled = true;
    exchange.hidden = false;
    statusOut.textContent = "Sending…";
    responseOut.textContent = "";
    try {
      const bearer = await accessToken();
      requestOut.textContent = `${method.toUpperCase()} ${url}\n${formatHeaders(Object.entries(headers))}\nAuthorization: Bearer ${bearer.slice(0, 12)}…${body ? `\n\n${body}` : ""}`;
      const res = await fetch(url, { method: method.toUpperCase(), headers: { ...headers, Authorization: `Bearer ${bearer}` }, body, credentials: "omit" });
      const text = await res.text();
      statusOut.textContent = `${res.status} ${res.statusText}`;
      statusOut.className = res.ok ? "status-ok" : "status-bad";
      responseOut.textContent = `${formatHeaders(res.headers)}\n\n${prettyBody(text, res.headers.get("content-type"))}`;
    } catch (e) {
      statusOut.textContent = e.message;
      statusOut.className = "status-bad";
    } finally {
      button.disabled = false;
    }
  });
  const summary = el("summary", {},
    el("span", { class: `method method-${method}`, text: method.toUpperCase() }),
    el("code", { text: path }),
    el("span", { class: "hint", text: op.summary || "" }));
  return el("details", { class: "op", id, "data-path": path, "data-method": method },
    summary,
    el("div", { class: "op-body" }, op.description ? el("p", { text: op.description }) : null, form, exchange));
}

function render(spec) {
  const byTag = new Map();
  for (const [path, item] of Object.entries(spec.paths || {})) {
    if (path.startsWith("/crm/rest/v1/")) continue; // the same operations as /v1, for Infusionsoft clients
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags && op.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operation(spec, path, method, item, op));
    }
  }
  const filter = el("input", { type: "search", id: "explorer-filter", placeholder: "contacts, /v1/hooks, POST…" });
  const count = el("p", { class: "hint", "aria-live": "polite" });
  const sections = [...byTag.entries()].map(([tag, ops]) =>
    el("section", { class: "ex-tag", "aria-labelledby": `tag-${tag}` }, el("h2", { id: `tag-${tag}`, text: tag }), ops));
  const update = () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const op of root.querySelectorAll("details.op")) {
      const hay = `${op.dataset.method} ${op.dataset.path} ${op.querySelector("summary").textContent}`.toLowerCase();
      op.hidden = !words.every((w) => hay.includes(w));
      if (!op.hidden) shown++;
    }
    for (const s of root.querySelectorAll("section.ex-tag")) s.hidden = !s.querySelector("details.op:not([hidden])");
    count.textContent = `${shown} endpoint${shown === 1 ? "" : "s"}`;
  };
  filter.addEventListener("input", update);
  root.replaceChildren(
    el("div", { class: "ex-toolbar" },
      el("div", { class: "field" }, el("label", { for: "explorer-filter", text: "Filter endpoints" }), filter),
      el("p", { class: "hint", text: `${spec.info.title} ${spec.info.version}` })),
    count, ...sections);
  update();
}

fetch(root.dataset.spec, { credentials: "omit" })
  .then((r) => { if (!r.ok) throw new Error(`the API description answered ${r.status}`); return r.json(); })
  .then(render)
  .catch((e) => root.replaceChildren(el("p", { class: "error", role: "alert", text: `Could not load the API description: ${e.message}` })));
