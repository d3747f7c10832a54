// A real VS Code for the tests: code-server (VS Code 1.139 server + web workbench, from npm) on
// 127.0.0.1 with a fresh profile, installed by test/setup/install.sh into the test cache.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanNpmEnv } from './cleanEnv';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** What test/setup/install.sh installed (its paths.json). */
export interface TestPaths {
  cache: string;
  node: string;
  codeServerEntry: string;
  codeServerVersion: string;
  playwrightCore: string;
  chromium: string;
}

export function testCacheDir(): string {
  return process.env.HAILO_TEST_CACHE || path.join(os.homedir(), '.cache', 'hailo-workbench-test');
}

export function testPaths(): TestPaths {
  const file = path.join(testCacheDir(), 'paths.json');
  if (!fs.existsSync(file)) throw new Error(`${file} not found: run \`bash test/setup/install.sh\` first`);
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as TestPaths;
  if (process.env.HAILO_TEST_CHROMIUM) p.chromium = process.env.HAILO_TEST_CHROMIUM;
  for (const [k, f] of [
    ['node', p.node],
    ['codeServerEntry', p.codeServerEntry],
  ] as const) {
    if (!fs.existsSync(f)) throw new Error(`${file}: ${k} ${f} does not exist: run \`bash test/setup/install.sh\` again`);
  }
  return p;
}

/** Quiet, deterministic, offline defaults for a fresh profile. */
export const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'npm.autoDetect': 'off',
  'typescript.tsc.autoDetect': 'off',
  'window.commandCenter': false,
};

export interface StartOptions {
  /** Extension folders or .vsix files, installed like a user would (folders are symlinked). */
  extensions?: string[];
  /** Extension folders loaded as "under development" (what extensionDevelopmentPath does). */
  devPath?: string | string[];
  /** Folder to open (default: an empty temp folder). */
  workspace?: string;
  /** User settings over DEFAULT_SETTINGS. */
  settings?: Record<string, unknown>;
  /** Extra environment; the extension host inherits it. */
  env?: Record<string, string>;
  args?: string[];
  /** Keep the temp folder (profile, logs) after stop(). */
  keep?: boolean;
  /** Port on 127.0.0.1 (default: a free one). */
  port?: number;
  /** Seconds to wait for the server to listen. */
  listenTimeoutS?: number;
}

export interface CodeServer {
  url: string;
  authority: string;
  root: string;
  userDataDir: string;
  extensionsDir: string;
  workspace: string;
  logFile: string;
  pid: number;
  workbenchUrl(o?: { folder?: string; devPath?: string | string[]; testsPath?: string }): string;
  stop(): Promise<void>;
}

const live = new Set<() => void>();
let exitHooked = false;
/** Never leave a server behind: kill every live process group when this process ends. */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  const killAll = () => {
    for (const k of live) k();
  };
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // a caller with its own handler (npm start) stops its servers itself
    if (process.listenerCount(sig) > 0) continue;
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

export async function startCodeServer(o: StartOptions = {}): Promise<CodeServer> {
  const p = testPaths();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hailo-vscode-'));
  const userDataDir = path.join(root, 'user-data');
  const extensionsDir = path.join(root, 'extensions');
  const config = path.join(root, 'config.yaml');
  const workspace = o.workspace ? path.resolve(o.workspace) : path.join(root, 'workspace');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  fs.writeFileSync(config, ''); // keeps code-server away from ~/.config/code-server/config.yaml
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...(o.settings ?? {}) }, null, 2));
  // machine-scoped settings (hailo.ssh.*) are read from the remote machine's settings in a
  // code-server window, not from the user settings
  fs.mkdirSync(path.join(userDataDir, 'Machine'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'Machine', 'settings.json'), JSON.stringify(o.settings ?? {}, null, 2));
  const base = [p.codeServerEntry, '--config', config, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  for (const ext of o.extensions ?? []) {
    const abs = path.resolve(ext);
    if (abs.endsWith('.vsix')) {
      execFileSync(p.node, [...base, '--install-extension', abs, '--force'], { stdio: 'pipe', timeout: 120_000, env: cleanNpmEnv(process.env) });
    } else {
      const m = JSON.parse(fs.readFileSync(path.join(abs, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
      fs.symlinkSync(abs, path.join(extensionsDir, `${m.publisher}.${m.name}-${m.version}`.toLowerCase()));
    }
  }

  const devPaths = [o.devPath ?? []].flat();
  const args = [
    ...base,
    '--bind-addr',
    `127.0.0.1:${o.port ?? 0}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    // extensionDevelopmentPath needs VS Code's smoke-test mode (it also hides notification toasts)
    ...(devPaths.length ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ...(o.args ?? []),
  ];
  const logFile = path.join(root, 'server.log');
  const log = fs.createWriteStream(logFile);
  // its own process group, so stop() ends the server and everything it spawned (extension host, pty host, watchers)
  const child = spawn(p.node, args, { env: { ...cleanNpmEnv(process.env), ...(o.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {}
  };
  const onExit = () => killGroup('SIGKILL');
  live.add(onExit);
  hookExit();

  const timeoutS = o.listenTimeoutS ?? 60;
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`code-server did not listen within ${timeoutS} s, see ${logFile}`)), timeoutS * 1000);
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /HTTP server listening on (http:\/\/[^\s]+?)\/?\s/.exec(buf);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`code-server exited before listening, see ${logFile}`));
      });
    });
  } catch (e) {
    killGroup('SIGKILL');
    live.delete(onExit);
    throw e;
  }
  const authority = new URL(url).host;
  const remote = (f: string) => `vscode-remote://${authority}${encodeURI(path.resolve(f))}`;

  return {
    url,
    authority,
    root,
    userDataDir,
    extensionsDir,
    workspace,
    logFile,
    pid: child.pid!,
    workbenchUrl({ folder = workspace, devPath = o.devPath, testsPath } = {}) {
      const q = new URLSearchParams({ folder: path.resolve(folder) });
      const payload: [string, string][] = [];
      for (const d of [devPath ?? []].flat()) payload.push(['extensionDevelopmentPath', remote(d)]);
      if (testsPath) payload.push(['extensionTestsPath', remote(testsPath)]);
      if (payload.length) q.set('payload', JSON.stringify(payload));
      return `${url}/?${q}`;
    },
    async stop() {
      killGroup('SIGTERM');
      const t = setTimeout(() => killGroup('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      killGroup('SIGKILL'); // leftovers in the group
      live.delete(onExit);
      log.end();
      if (!o.keep) fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A writable copy of a folder (the example workspace), so tests never touch the repository. */
export function copyWorkspace(from: string): string {
  const to = fs.mkdtempSync(path.join(os.tmpdir(), 'hailo-ws-'));
  fs.cpSync(from, to, { recursive: true, preserveTimestamps: true, filter: (src) => !/(^|[\\/])__pycache__$/.test(src) });
  return to;
}

/** The extension host's log files under a server's profile (for the extension's own log channel). */
export function findLogFiles(userDataDir: string, name: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (name.test(e.name)) out.push(f);
    }
  };
  walk(path.join(userDataDir, 'logs'));
  return out;
}
