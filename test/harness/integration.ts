// Runs the integration suite inside the extension host of a real VS Code (code-server + headless
// Chromium), offline:
//   node --import tsx test/harness/integration.ts [--grep TEXT] [--keep] [--verbose] [--workspace DIR]
// 1. bundles test/integration/index.ts and every test/integration/*.integration.test.ts with
//    esbuild into out/integration/ (`vscode` and `mocha` stay external: the host provides
//    `vscode`, mocha loads from node_modules);
// 2. copies the example workspace (examples/whisper-tiny) to a temp folder, so tests may write;
// 3. starts code-server with the repository as extensionDevelopmentPath and out/integration/index.js
//    as extensionTestsPath, prints the tests' output and exits with their result.
// Prints `integration: N passed, N failed, N skipped` last. Exit 0 ok, 1 failures, 2 cannot run.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { REPO_ROOT, copyWorkspace, startCodeServer } from './codeServer';
import { openWorkbench } from './workbench';

export const OUT_DIR = path.join(REPO_ROOT, 'out', 'integration');
export const EXAMPLE_DIR = path.join(REPO_ROOT, 'examples', 'whisper-tiny');

/** Bundle the suite; returns the extensionTestsPath (out/integration/index.js). */
export async function bundleIntegrationSuite(): Promise<string> {
  const dir = path.join(REPO_ROOT, 'test', 'integration');
  const entries: Record<string, string> = { index: path.join(dir, 'index.ts') };
  for (const f of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.integration.test.ts'))
    .sort()) {
    entries[f.replace(/\.ts$/, '')] = path.join(dir, f);
  }
  fs.rmSync(OUT_DIR, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: entries,
    outdir: OUT_DIR,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    mainFields: ['module', 'main'],
    absWorkingDir: REPO_ROOT,
    logLevel: 'warning',
  });
  return path.join(OUT_DIR, 'index.js');
}

// Workbench chatter that is expected offline (gallery, telemetry...); --verbose shows it.
const NOISE =
  /^(\[AgentHost|\[ChatModelSelection\]|\[AccountPolicyGate\]|\[Service Worker\]|\[reconnection-grace-time\]|Resolving connection token|Resolved connection token|Creating a socket|Updating additional builtin|Started local extension host|Loading development extension|getaddrinfo ENOTFOUND|Canceled: Canceled|Failed: getaddrinfo|Creation of workbench contribution|\[Extension Host\] (?:Hailo Workbench )?\d{4}-|Unable to resolve resource|Timed out waiting for authentication provider)/;

export interface IntegrationResult {
  exitCode: number;
  passed: number;
  failed: number;
  skipped: number;
}

export async function runIntegration(
  o: { grep?: string; keep?: boolean; verbose?: boolean; workspace?: string; timeoutS?: number } = {},
): Promise<IntegrationResult> {
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run `npm run build` first');
  const testsPath = await bundleIntegrationSuite();
  const workspace = copyWorkspace(o.workspace ?? EXAMPLE_DIR);
  const resultsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hailo-itest-')), 'results.json');
  const env: Record<string, string> = { HAILO_TEST_RESULTS: resultsFile, HAILO_TEST_WORKSPACE: workspace };
  if (o.grep) env.HAILO_TEST_GREP = o.grep;
  if (!process.env.HAILO_REFERENCE_DIR) env.HAILO_REFERENCE_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'reference');
  const server = await startCodeServer({ devPath: REPO_ROOT, workspace, env, keep: !!o.keep });
  let finish!: (c: number | 'timeout') => void;
  const finished = new Promise<number | 'timeout'>((r) => (finish = r));
  const timeoutS = o.timeoutS ?? 900;
  const timer = setTimeout(() => finish('timeout'), timeoutS * 1000);
  let code: number | 'timeout' = 1;
  try {
    const wb = await openWorkbench(server, {
      testsPath,
      wait: false,
      beforeGoto: async (page) => {
        // The web workbench reports extension test output and the exit code through these hooks.
        await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => {
          const text = util.format(...(Array.isArray(args) ? args : [args]));
          if (!o.verbose && NOISE.test(text)) return;
          (type === 'error' ? process.stderr : process.stdout).write(text + '\n');
        });
        await page.exposeFunction('codeAutomationExit', (c: number) => finish(c));
      },
    });
    try {
      code = await finished;
      if (code === 'timeout') console.error(`integration: no result after ${timeoutS} s (server log: ${server.logFile}; use --keep)`);
    } finally {
      await wb.close().catch(() => {});
    }
  } finally {
    clearTimeout(timer);
    await server.stop();
    if (o.keep) console.error(`integration: kept ${server.root} and ${workspace}`);
    else fs.rmSync(workspace, { recursive: true, force: true });
  }
  let counts = { passed: 0, failed: 0, skipped: 0 };
  if (fs.existsSync(resultsFile)) {
    const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as typeof counts;
    counts = { passed: r.passed, failed: r.failed, skipped: r.skipped };
  } else {
    // the suite never reported: count it as one failure so the total cannot look green
    counts.failed = 1;
    console.error('integration: the suite reported no results (it did not load or the extension host crashed)');
  }
  fs.rmSync(path.dirname(resultsFile), { recursive: true, force: true });
  const exitCode = code === 0 && counts.failed === 0 ? 0 : 1;
  return { exitCode, ...counts };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const val = (k: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : undefined);
  let r: IntegrationResult;
  try {
    r = await runIntegration({ grep: val('--grep'), workspace: val('--workspace'), keep: argv.includes('--keep'), verbose: argv.includes('--verbose') });
  } catch (e) {
    console.error(`integration: cannot run: ${(e as Error).message}`);
    console.log('integration: 0 passed, 1 failed, 0 skipped');
    process.exit(2);
  }
  console.log(`integration: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  process.exit(r.exitCode);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(__filename)) void main();
