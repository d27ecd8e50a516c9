/**
 * Headless Chromium for the dashboard tests: Debian's `chromium` package driven by
 * playwright-core. Never a downloaded browser: playwright-core has none, and a test that fetched
 * one would depend on the network. A missing chromium fails the test (it is not skipped): CI
 * installs it, and a skipped browser test would let a broken dashboard pass.
 */
import { type Browser, chromium, type Page } from 'playwright-core';
import { toolPath } from './tools.ts';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launches Debian's chromium; throws with the install command when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: toolPath('chromium'), args: ARGS, timeout: 30_000 });
}

export interface OpenedPage {
  readonly page: Page;
  /**
   * Uncaught exceptions and console errors of the page: a test asserts this stays empty.
   * Chromium's "Failed to load resource" lines are left out: they report an HTTP status that a
   * test chose to serve, and the test checks what the page shows for it instead.
   */
  readonly errors: string[];
  close(): Promise<void>;
}

/**
 * A fresh context (no shared cookies or cache) and page that records the page's errors.
 * `ignoreHTTPSErrors`: accept the proxy's generated certificate (wss:// tests).
 */
export async function openPage(
  browser: Browser,
  url: string,
  opts: { readonly ignoreHTTPSErrors?: boolean } = {},
): Promise<OpenedPage> {
  const context = await browser.newContext({ ignoreHTTPSErrors: opts.ignoreHTTPSErrors ?? false });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  return { page, errors, close: () => context.close() };
}
