import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { HailoError } from '../errors';
import { INTERPRETER_SOURCE_TEXT, type Interpreter } from '../export/interpreter';
import { LineSplitter } from '../export/protocol';

/**
 * One way to run a Python driver script on this machine (the export driver, the fidelity driver):
 * the interpreter in its own process group (so a cancel also stops what the user's model code
 * started), stdout split into lines and handed to the driver's JSON-lines protocol (anything else
 * is the model's own output), the stderr tail kept for the error message, SIGTERM then SIGKILL of
 * the whole group on cancel.
 */

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

/** How much of stderr is kept for the error message. */
export const STDERR_KEEP = 64 * 1024;

export interface DriverProcessOptions {
  interpreter: Interpreter;
  /** Arguments after the interpreter: the script, then its options. */
  argv: readonly string[];
  cwd?: string;
  /** The environment (default: this process's), plus the unbuffered UTF-8 settings and `extraEnv`. */
  env?: Record<string, string | undefined>;
  extraEnv?: Record<string, string>;
  spawn?: SpawnFn;
  signal?: AbortSignal;
  /** Time between SIGTERM and SIGKILL of the process group on cancel. */
  killGraceMs?: number;
  /** How to pick another interpreter, appended to "not found". */
  chooseHint: string;
  /** A stdout line that is a protocol event: true when taken (not passed to onOutput). */
  onProtocolLine: (line: string) => boolean;
  /** Every other line (the model's prints, warnings). */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Told when a cancel stops the process group. */
  onCancel?: (pid: number | undefined) => void;
  /** The error for an interpreter that is missing or cannot be run (default: HailoError PYTHON_NOT_FOUND). */
  notFound?: (message: string) => Error;
}

export interface DriverProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The signal aborted: the group was stopped. */
  cancelled: boolean;
  /** The last STDERR_KEEP characters of stderr. */
  stderr: string;
}

export function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform === 'win32') child.kill(sig);
    else process.kill(-child.pid, sig);
  } catch {
    // already gone
  }
}

/** Run a driver to its end. Throws only when it cannot be started (or the signal was aborted before). */
export async function runDriverProcess(o: DriverProcessOptions): Promise<DriverProcessExit> {
  if (o.signal?.aborted) throw new HailoError('CANCELLED', 'Cancelled');
  const spawn = o.spawn ?? (nodeSpawn as SpawnFn);
  const interp = o.interpreter;
  const env = { ...(o.env ?? process.env), PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8', ...o.extraEnv };
  const child = spawn(interp.path, [...o.argv], {
    cwd: o.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: process.platform !== 'win32',
    windowsHide: true,
  });
  let stderr = '';
  let cancelled = false;
  let killTimer: NodeJS.Timeout | undefined;
  const out = new LineSplitter((line) => {
    if (!o.onProtocolLine(line)) o.onOutput?.(line, 'stdout');
  });
  const err = new LineSplitter((line) => o.onOutput?.(line, 'stderr'));
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => out.push(d));
  child.stderr?.on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_KEEP);
    err.push(d);
  });
  const onAbort = () => {
    cancelled = true;
    o.onCancel?.(child.pid);
    killGroup(child, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child, 'SIGKILL'), o.killGraceMs ?? 2000);
    killTimer.unref?.();
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let exit: { code: number | null; signal: NodeJS.Signals | null };
  try {
    exit = await new Promise((resolve, reject) => {
      child.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'EACCES') {
          const message = `Python interpreter "${interp.path}" (${INTERPRETER_SOURCE_TEXT[interp.source]}) ${e.code === 'ENOENT' ? 'was not found' : 'cannot be run'}. ${o.chooseHint}`;
          reject(o.notFound ? o.notFound(message) : new HailoError('PYTHON_NOT_FOUND', message));
        } else reject(new HailoError('PROCESS_FAILED', `cannot start ${interp.path}: ${e.message}`, { cause: e }));
      });
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    out.end();
    err.end();
  }
  if (cancelled) {
    // whatever the model code left behind in the group goes too
    killGroup(child, 'SIGKILL');
    if (killTimer) clearTimeout(killTimer);
  }
  return { ...exit, cancelled, stderr };
}
