// Shared helpers of Keygate's browser tests: Chromium through playwright-core (the system's browser, never
// a downloaded one), screenshots into the artifacts directory, and a few checks that fail with a clear
// message.

import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.KEYGATE_CHROMIUM ?? "/usr/bin/chromium";

/** The repository's root (this file is in `e2e/`). */
export const REPO_ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

/**
 * Headless Chromium. The flags keep it quiet and deterministic on CI: no sandbox (containers run as
 * root), no GPU, no QUIC, and none of the background traffic (updates, sync) a profile would start.
 */
export function launch(options = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    ...options,
  });
}

/** Where screenshots go: `KEYGATE_E2E_ARTIFACTS`, else `target/e2e-artifacts` in the repository. */
export function artifactsDir() {
  const dir = process.env.KEYGATE_E2E_ARTIFACTS || join(REPO_ROOT, "target", "e2e-artifacts");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A full-page PNG named `<name>.png` in the artifacts directory; returns its path. */
export async function screenshot(page, name) {
  const path = join(artifactsDir(), `${name.replace(/[^A-Za-z0-9._-]+/g, "-")}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** What the page printed to its console and threw, for failure messages. */
export function recordConsole(page) {
  const lines = [];
  page.on("console", (m) => lines.push(`[console.${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => lines.push(`[pageerror] ${e.message}`));
  return lines;
}

/** An environment variable the script cannot run without. */
export function requireEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

/** Throws with `message` (and the values compared) unless `ok`. */
export function check(ok, message, details) {
  if (!ok) {
    const extra = details === undefined ? "" : `\n${JSON.stringify(details, null, 2)}`;
    throw new Error(`${message}${extra}`);
  }
}
