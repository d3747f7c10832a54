// Drives the VS Code workbench served by code-server in Debian's Chromium with playwright-core.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, BrowserContext, Frame, Locator, Page } from 'playwright-core';
import { REPO_ROOT, testPaths, type CodeServer } from './codeServer';

/** Chromium flags: headless in a container, no network chatter of its own. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--font-render-hinting=none',
];

type Playwright = typeof import('playwright-core');

export async function loadPlaywright(): Promise<Playwright> {
  const p = testPaths();
  const entry = path.join(p.playwrightCore, 'index.mjs');
  const mod = fs.existsSync(entry) ? await import(pathToFileURL(entry).href) : await import('playwright-core');
  return (mod.default ?? mod) as Playwright;
}

export interface Workbench {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Wait until the workbench is up and extension contributions (commands, views) are registered. */
export async function waitForWorkbench(page: Page, timeout = 90_000): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ timeout });
  // Without this mark a palette opened early finds no extension commands.
  await page.waitForFunction(() => performance.getEntriesByName('code/didLoadExtensions').length > 0, null, { timeout });
}

export async function openWorkbench(
  server: CodeServer,
  o: { folder?: string; testsPath?: string; viewport?: { width: number; height: number }; wait?: boolean; beforeGoto?: (page: Page) => Promise<void> } = {},
): Promise<Workbench> {
  const { chromium } = await loadPlaywright();
  const executablePath = testPaths().chromium;
  if (!executablePath || !fs.existsSync(executablePath))
    throw new Error(`Chromium not found (${executablePath || 'none'}): run \`bash test/setup/install.sh\` as root`);
  // every launch gets a fresh temporary browser profile, removed on close
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: o.viewport ?? { width: 1280, height: 800 } });
  const page = await context.newPage();
  if (o.beforeGoto) await o.beforeGoto(page);
  await page.goto(server.workbenchUrl({ ...(o.folder ? { folder: o.folder } : {}), ...(o.testsPath ? { testsPath: o.testsPath } : {}) }));
  if (o.wait ?? true) await waitForWorkbench(page);
  return { browser, context, page, close: () => browser.close() };
}

const escapeRegExp = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Run a command from the command palette: F1, type the title, click its exact row (Enter would
 * take whatever row is on top, e.g. a recently used one). `id` makes the pick exact by command id.
 * Opening is retried (a palette opened during start-up can be closed by a late focus change); the
 * click itself is never repeated, because the command may open its own quick pick.
 */
export async function runCommand(page: Page, title: string, o: { id?: string; attempts?: number; timeout?: number } = {}): Promise<void> {
  const { attempts = 3, timeout = 10_000 } = o;
  const exact = new RegExp('^\\s*' + escapeRegExp(title) + '\\s*$');
  const row = (
    o.id
      ? page.locator(`.quick-input-list .monaco-list-row:has([data-quick-input-id="${o.id}"])`)
      : page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: exact }) })
  ).first();
  const input = page.locator('.quick-input-widget .quick-input-box input').first();
  for (let i = 1; ; i++) {
    try {
      if (i > 1) await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      await input.waitFor({ timeout });
      await input.fill(`>${title}`);
      await row.waitFor({ timeout });
      break;
    } catch (e) {
      if (i >= attempts) throw new Error(`runCommand(${JSON.stringify(title)}) failed after ${i} attempts: ${(e as Error).message}`);
    }
  }
  await row.click();
}

/** A notification whose text contains `text`: a toast, or the notification centre (`center`). */
export async function waitForNotification(page: Page, text: string | RegExp, o: { timeout?: number; center?: boolean } = {}): Promise<Locator> {
  if (o.center) await runCommand(page, 'Notifications: Show Notifications', { id: 'notifications.showList' });
  const item = page.locator('.notification-list-item', { hasText: text }).first();
  await item.waitFor({ timeout: o.timeout ?? 15_000 });
  return item;
}

/** Click the activity-bar entry whose label is `title` (e.g. "Hailo") and wait for its side bar. */
export async function openActivity(page: Page, title: string): Promise<Locator> {
  const item = page.locator(`.activitybar .action-item a[aria-label^="${title}"]`).first();
  await item.click();
  const pane = page.locator('.part.sidebar .composite.title', { hasText: new RegExp(title, 'i') }).first();
  await pane.waitFor({ timeout: 15_000 });
  return page.locator('.part.sidebar');
}

/** A view's pane in the side bar, by its title ("Models"); when alone in its container the header is hidden. */
export function viewPane(page: Page, viewTitle: string): Locator {
  const title = page.locator('.title', { hasText: new RegExp(`^\\s*${escapeRegExp(viewTitle)}\\s*$`, 'i') });
  const header = page.locator('.pane-header', { has: title });
  return page.locator('.part.sidebar .pane', { has: header }).first();
}

/** The rows of a tree view in the side bar, as their visible text (label + description). */
export async function treeRows(page: Page, viewTitle: string): Promise<string[]> {
  const rows = viewPane(page, viewTitle).locator('.monaco-list-row');
  const n = await rows.count();
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const row = rows.nth(i);
    const label = await row
      .locator('.label-name')
      .first()
      .innerText()
      .catch(() => '');
    const description = await row
      .locator('.label-description')
      .first()
      .innerText()
      .catch(() => '');
    out.push(`${label} ${description}`.replace(/\s+/g, ' ').trim());
  }
  return out;
}

/** Poll a predicate (e.g. a file the extension writes). */
export async function waitFor<T>(fn: () => T | Promise<T>, o: { timeout?: number; interval?: number; what?: string } = {}): Promise<NonNullable<T>> {
  const end = Date.now() + (o.timeout ?? 15_000);
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${o.what ?? 'condition'}`);
    await new Promise((r) => setTimeout(r, o.interval ?? 100));
  }
}

export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results');

/** Save a screenshot under test-results/ and return its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '')}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Screenshots on request: SCREENSHOTS=1 keeps one per step. */
export const screenshotsRequested = (): boolean => /^(1|true|yes)$/i.test(process.env.SCREENSHOTS ?? '');

/** Where the README's pictures live; the e2e suite writes them (see readmePicture). */
export const README_PICTURES_DIR = path.join(REPO_ROOT, 'media', 'readme');

/** UPDATE_README_PICTURES=1 makes the e2e run rewrite the README's pictures from what it sees. */
export const readmePicturesRequested = (): boolean => /^(1|true|yes)$/i.test(process.env.UPDATE_README_PICTURES ?? '');

/**
 * A screenshot the README shows (media/readme/<name>.png), taken at the point of a test that
 * checks what it shows; rewritten on request (UPDATE_README_PICTURES=1) so it never goes stale.
 */
export async function readmePicture(page: Page, name: string): Promise<void> {
  await step(page, `readme-${name}`);
  if (!readmePicturesRequested()) return;
  fs.mkdirSync(README_PICTURES_DIR, { recursive: true });
  const file = path.join(README_PICTURES_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`      README picture ${path.relative(REPO_ROOT, file)}`);
}

export async function step(page: Page, name: string): Promise<void> {
  if (screenshotsRequested()) console.log(`      screenshot ${path.relative(REPO_ROOT, await screenshot(page, name))}`);
}

/** Open a workspace file through Quick Open (Ctrl+P), retried when the picker drops the input. */
export async function quickOpen(page: Page, name: string): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input').first();
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
  for (let i = 1; ; i++) {
    try {
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+P');
      await input.waitFor({ timeout: 10_000 });
      await input.fill(name);
      await row.waitFor({ timeout: 10_000 });
      break;
    } catch (e) {
      if (i >= 3) throw e;
    }
  }
  await row.click();
}

/** The model editor webview frame whose summary title is `title`. */
export async function editorFrame(page: Page, title: string): Promise<Frame> {
  return waitFor(
    async () => {
      for (const f of page.frames()) {
        if (
          await f
            .locator('h1', { hasText: title })
            .count()
            .catch(() => 0)
        )
          return f;
      }
      return undefined;
    },
    { what: `the model editor of ${title}`, timeout: 30_000, interval: 250 },
  );
}
