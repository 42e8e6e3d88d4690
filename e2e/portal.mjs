// The developer portal in Chromium: sign in (with inline validation), register an app and see its
// secret exactly once, create an API key and a domain key, call the API from the explorer, sign out.
// A screenshot of each main page goes to the artifacts directory.
//
// Input (environment): KEYGATE_URL, KEYGATE_ACCOUNT, KEYGATE_EMAIL, KEYGATE_PASSWORD (an account
// admin), KEYGATE_E2E_ARTIFACTS.

import { check, launch, recordConsole, requireEnv, screenshot } from "./lib.mjs";

const base = requireEnv("KEYGATE_URL");
const account = requireEnv("KEYGATE_ACCOUNT");
const email = requireEnv("KEYGATE_EMAIL");
const password = requireEnv("KEYGATE_PASSWORD");

const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
const page = await context.newPage();
const logs = recordConsole(page);
page.setDefaultTimeout(15_000);

async function step(name, body) {
  try {
    await body();
    console.log(`ok: ${name}`);
  } catch (e) {
    await screenshot(page, `failed-${name}`).catch(() => {});
    throw new Error(`${name}: ${e.message}\n--- browser console ---\n${logs.join("\n")}`);
  }
}

/** The main heading of the current page. */
const heading = () => page.locator("main h1").first().innerText();

try {
  await step("sign-in page and inline validation", async () => {
    await page.goto(`${base}/portal`);
    check(page.url().endsWith("/portal/sign-in"), "an anonymous visit goes to the sign-in page", page.url());
    check(await page.evaluate(() => document.activeElement.id) === "account", "the account field has the focus");
    await page.getByLabel("Account").fill("AB-12");
    await page.getByRole("button", { name: "Sign in" }).click();
    const error = page.locator("#account-error");
    await error.waitFor();
    check((await error.innerText()).includes("ab123"), "the account field explains its format", await error.innerText());
    check(await page.getByLabel("Account").getAttribute("aria-invalid") === "true", "the field is marked invalid");
    check(page.url().endsWith("/portal/sign-in"), "nothing was submitted");
    await screenshot(page, "01-sign-in");
  });

  await step("wrong password", async () => {
    await page.getByLabel("Account").fill(account);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("not-the-password");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Sign in" }).click()]);
    const alert = await page.getByRole("alert").innerText();
    check(/password|credentials|incorrect/i.test(alert), "a wrong password is reported", alert);
  });

  await step("sign in", async () => {
    await page.getByLabel("Password").fill(password);
    await Promise.all([page.waitForURL(`${base}/portal/apps`), page.getByRole("button", { name: "Sign in" }).click()]);
    check(await heading() === "Developer apps", "signed in, on the apps page");
    const cookies = await context.cookies(`${base}/portal/apps`);
    const session = cookies.find((c) => c.name === "kg_portal");
    check(session && session.httpOnly && session.sameSite === "Strict", "the session cookie is HttpOnly and SameSite=Strict", cookies);
    check(await page.locator(".empty").isVisible(), "a new account shows the empty state");
    await screenshot(page, "02-apps-empty");
    // Keyboard users reach the skip link first, and it takes them past the navigation.
    await page.keyboard.press("Tab");
    check(await page.evaluate(() => document.activeElement.className) === "skip", "the first Tab stop is the skip link");
    await page.keyboard.press("Enter");
    check(await page.evaluate(() => document.activeElement.id) === "main", "the skip link moves the focus to the content");
  });

  let clientId;
  let secret;
  await step("register an app and see its secret once", async () => {
    await page.getByRole("link", { name: "Register an app" }).first().click();
    await page.getByRole("button", { name: "Register app" }).click();
    await page.locator("#name-error").waitFor();
    check(page.url().endsWith("/portal/apps/new"), "an empty name is caught in the page");
    await page.getByLabel("Name").fill("Shop integration");
    await page.getByLabel("Redirect URIs").fill("https://shop.example.com/callback");
    await page.getByLabel("Allowed web origins").fill("https://shop.example.com");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Register app" }).click()]);
    check(await heading() === "Shop integration", "the new app's page");
    secret = (await page.locator("#secret-value").innerText()).trim();
    clientId = (await page.locator("#client-id").innerText()).trim();
    check(secret.startsWith("kgcs_"), "the client secret is shown", secret);
    await page.getByRole("button", { name: "Copy Client secret" }).click();
    await page.locator(".secret .copied", { hasText: "Copied" }).waitFor();
    check(await page.evaluate(() => navigator.clipboard.readText()) === secret, "Copy puts the secret on the clipboard");
    await screenshot(page, "03-app-secret-once");
    // The secret really works, from a server.
    const res = await fetch(`${base}/oauth/token`, {
      method: "POST",
      headers: { Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials&scope=contacts.read",
    });
    check(res.status === 200, "the shown secret gets a token", await res.text());
    // Shown once: reloading the page shows only its last four characters.
    await page.goto(`${base}/portal/apps/${clientId}`);
    check(await page.locator("#secret-value").count() === 0, "the secret is not shown again");
    check((await page.locator("main").innerText()).includes(`…${secret.slice(-4)}`), "its last four characters are");
    await page.goto(`${base}/portal/apps`);
    check((await page.locator("table").innerText()).includes("Shop integration"), "the list shows the app");
    await screenshot(page, "04-apps");
  });

  let apiKeyId;
  await step("create an API key and see its secret once", async () => {
    await page.getByRole("navigation").getByRole("link", { name: "API keys" }).click();
    check(await heading() === "API keys", "the API keys page");
    await page.getByLabel("Name").fill("Shop backend");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Create API key" }).click()]);
    const keySecret = (await page.locator("#secret-value").innerText()).trim();
    check(keySecret.startsWith("kgsk_"), "the API key secret is shown", keySecret);
    apiKeyId = (await page.locator(".notice").innerText()).match(/kgk_[A-Za-z0-9]+/)?.[0];
    check(apiKeyId, "the notice names the key's id");
    await screenshot(page, "05-api-key-secret");
    const res = await fetch(`${base}/auth`, {
      method: "POST",
      headers: { "X-Api-Key": apiKeyId, "Content-Type": "application/json" },
      body: JSON.stringify({ secret: keySecret }),
    });
    check(res.status === 200, "the shown API key secret gets a token", await res.text());
    await page.goto(`${base}/portal/api-keys`);
    check(!(await page.locator("main").innerText()).includes(keySecret), "the secret is not shown again");
  });

  await step("create a domain key", async () => {
    await page.getByRole("navigation").getByRole("link", { name: "Domain keys" }).click();
    await page.getByLabel("Name").fill("Shop widget");
    await page.getByLabel("API key", { exact: true }).selectOption(apiKeyId);
    await page.getByLabel("Origins").fill("https://shop.example.com");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Create domain key" }).click()]);
    const id = (await page.locator("#new-domain-key").innerText()).trim();
    check(id.startsWith("kgd_"), "the new domain key's id is shown", id);
    check((await page.locator("table").innerText()).includes("https://shop.example.com"), "the list shows its origin");
    await screenshot(page, "06-domain-keys");
    // From its origin it gets a token; from elsewhere CORS refuses.
    const ok = await fetch(`${base}/auth`, {
      method: "POST",
      headers: { "X-Api-Key": apiKeyId, "Content-Type": "application/json", Origin: "https://shop.example.com" },
      body: JSON.stringify({ domain_key: id }),
    });
    check(ok.status === 200, "the domain key works from its origin", await ok.text());
    const denied = await fetch(`${base}/auth`, {
      method: "POST",
      headers: { "X-Api-Key": apiKeyId, "Content-Type": "application/json", Origin: "https://evil.example" },
      body: JSON.stringify({ domain_key: id }),
    });
    check(denied.status === 403 && (await denied.text()).includes("CORS origin denied"), "and only from there");
  });

  await step("api explorer", async () => {
    await page.getByRole("navigation").getByRole("link", { name: "API explorer" }).click();
    await page.locator("details.op").first().waitFor();
    await page.getByLabel("Filter endpoints").fill("get /v1/me");
    const op = page.locator('details.op[data-path="/v1/me"][data-method="get"]');
    await op.locator("summary").click();
    await op.getByRole("button", { name: "Try it" }).click();
    const status = op.locator("p[role=status]");
    await page.waitForFunction((el) => /^\d{3}/.test(el.textContent), await status.elementHandle());
    check((await status.innerText()).startsWith("200"), "GET /v1/me answers 200 as the signed-in user", await status.innerText());
    const body = await op.locator("pre[aria-label='Response received']").innerText();
    check(body.includes(`"account": "${account}"`) && body.includes('"credential": "portal"'), "the response is the user's own", body);
    await screenshot(page, "07-explorer");
  });

  await step("the other admin pages", async () => {
    for (const [link, title, shot] of [
      ["Legacy keys", "Legacy keys", "09-legacy-keys"],
      ["Users", "Users", "10-users"],
      ["REST Hooks", "REST Hooks", "11-hooks"],
      ["Audit log", "Audit log", "12-audit"],
    ]) {
      await page.getByRole("navigation").getByRole("link", { name: link }).click();
      check(await heading() === title, `the ${title} page`, await heading());
      check(await page.locator('nav a[aria-current="page"]').innerText() === link, "the navigation marks it");
      await screenshot(page, shot);
    }
    // What was done above is in the audit log, by this user.
    const audit = await page.locator("main").innerText();
    check(audit.includes("app.created") && audit.includes("domain_key.created"), "the audit log shows the changes", audit.slice(0, 500));
  });

  await step("narrow screens", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/portal/apps`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, "no sideways scrolling of the page on a phone", overflow);
    await screenshot(page, "08-apps-phone");
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  await step("sign out", async () => {
    await Promise.all([page.waitForURL(`${base}/portal/sign-in`), page.getByRole("button", { name: "Sign out" }).click()]);
    await page.goto(`${base}/portal/apps`);
    check(page.url().startsWith(`${base}/portal/sign-in`), "after sign-out the portal asks to sign in", page.url());
  });
} finally {
  await browser.close();
}
console.log("portal e2e passed");
