// Mocha glue for e2e tests (test/e2e/*.e2e.test.ts, plain Node + playwright-core):
//
//   const wb = useWorkbench({ workspace: 'example' });   // in a describe()
//   it('...', async () => { await runCommand(wb.page, 'Hailo: Refresh Models'); });
//
// Starts code-server with the extension installed like a user would (the repository folder, or a
// .vsix), opens the workbench in Chromium before the suite and closes both after it. A failing
// test leaves a screenshot in test-results/<suite>-<test>.png; SCREENSHOTS=1 also keeps one after
// every test and at each `step()`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { REPO_ROOT, copyWorkspace, startCodeServer, type CodeServer, type StartOptions } from './codeServer';
import { openWorkbench, screenshot, screenshotsRequested, type Workbench } from './workbench';

export const EXAMPLE_DIR = path.join(REPO_ROOT, 'examples', 'whisper-tiny');

export interface WorkbenchFixture {
  /** Valid inside tests (after the suite's before hook). */
  readonly page: Page;
  readonly server: CodeServer;
  readonly workbench: Workbench;
  /** The opened folder (a temp copy; tests may write to it). */
  readonly workspace: string;
}

export function useWorkbench(
  o: {
    /** 'example' (a copy of examples/whisper-tiny), 'empty' (a new empty folder) or a folder to copy. */
    workspace?: 'example' | 'empty' | string;
    /** What to install: the repository folder (default) or a .vsix path. */
    extension?: string;
    settings?: StartOptions['settings'];
    viewport?: { width: number; height: number };
  } = {},
): WorkbenchFixture {
  let server: CodeServer | undefined;
  let wb: Workbench | undefined;
  let workspace = '';
  const fixture: WorkbenchFixture = {
    get page() {
      if (!wb) throw new Error('the workbench is not open (use the fixture inside a test)');
      return wb.page;
    },
    get server() {
      if (!server) throw new Error('code-server is not running');
      return server;
    },
    get workbench() {
      if (!wb) throw new Error('the workbench is not open');
      return wb;
    },
    get workspace() {
      return workspace;
    },
  };

  before(async function () {
    this.timeout(180_000);
    if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run `npm run build` first');
    const ws = o.workspace ?? 'example';
    if (ws === 'empty') workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'hailo-empty-'));
    else workspace = copyWorkspace(ws === 'example' ? EXAMPLE_DIR : ws);
    server = await startCodeServer({ extensions: [o.extension ?? REPO_ROOT], workspace, ...(o.settings ? { settings: o.settings } : {}) });
    wb = await openWorkbench(server, { ...(o.viewport ? { viewport: o.viewport } : {}) });
  });

  afterEach(async function () {
    const t = this.currentTest;
    if (!wb || !t) return;
    const name = `${t.parent?.title ?? ''}-${t.title}`;
    if (t.state === 'failed') {
      const file = await screenshot(wb.page, `FAILED-${name}`).catch(() => undefined);
      if (file) console.log(`      screenshot of the failure: ${path.relative(REPO_ROOT, file)}`);
    } else if (screenshotsRequested()) {
      await screenshot(wb.page, name).catch(() => undefined);
    }
  });

  after(async function () {
    this.timeout(30_000);
    await wb?.close().catch(() => {});
    await server?.stop();
    if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
  });

  return fixture;
}
