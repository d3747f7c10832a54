import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { HailoError } from '../errors';
import { LineSplitter } from '../export/protocol';
import { INTERPRETER_SOURCE_TEXT, type Interpreter } from '../export/interpreter';
import type { Logger } from '../logger';
import { nullLogger } from '../logger';

/**
 * The fidelity driver (`src/python/hailo_fidelity.py`): its manifest, its JSON-lines protocol and
 * a local runner. The torch stage runs it on the host; the emulator and device stages run the same
 * script on a compile box or device (uploaded by the remote runner) with the same manifest.
 */

export const DRIVER_FILE = 'hailo_fidelity.py';

export const ManifestSample = z.union([
  z.object({ id: z.string(), inputs: z.record(z.string(), z.string()) }).strict(),
  z.object({ id: z.string(), wav: z.string() }).strict(),
]);
export type ManifestSample = z.infer<typeof ManifestSample>;

export const Manifest = z.object({
  samples: z.array(ManifestSample).min(1),
  inputs: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().positive()), dtype: z.string().optional() })).min(1),
  outputs: z.array(z.string()).min(1),
  /** Where the stage writes `<sample>/<output>.npy`. */
  outDir: z.string(),
  /** Where the torch stage writes inputs made from WAV files: `<sample>/<input>.npy`. */
  inputsDir: z.string().optional(),
});
export type Manifest = z.infer<typeof Manifest>;

const OutputFile = z.object({ file: z.string(), shape: z.array(z.number()), dtype: z.string() });

export const FidelityDriverResult = z.object({
  event: z.literal('result'),
  protocol: z.number().int().optional(),
  stage: z.enum(['torch', 'fp-optimized', 'quantized', 'device']),
  samples: z.record(z.string(), z.record(z.string(), OutputFile)),
  versions: z.record(z.string(), z.string().nullable()).optional(),
  seconds: z.number().optional(),
  python: z.string().optional(),
  numpy: z.string().optional(),
});
export type FidelityDriverResult = z.infer<typeof FidelityDriverResult>;

export const FIDELITY_DRIVER_ERROR_KINDS = [
  'bad-argument',
  'missing-package',
  'import',
  'entry-not-found',
  'factory',
  'input',
  'inference',
  'output',
  'cancelled',
  'internal',
] as const;

export const FidelityDriverError = z.object({
  event: z.literal('error'),
  kind: z.enum(FIDELITY_DRIVER_ERROR_KINDS),
  errorClass: z.string(),
  message: z.string(),
  traceback: z.string().optional(),
  package: z.string().optional(),
  file: z.string().optional(),
});
export type FidelityDriverError = z.infer<typeof FidelityDriverError>;

const Progress = z.object({ event: z.literal('progress'), step: z.string(), message: z.string(), fraction: z.number() });
export type FidelityDriverProgress = z.infer<typeof Progress>;

const Event = z.discriminatedUnion('event', [FidelityDriverResult, FidelityDriverError, Progress]);

/** A protocol line, or undefined for anything else (the model's own prints). */
export function parseFidelityDriverLine(line: string): z.infer<typeof Event> | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const r = Event.safeParse(JSON.parse(t));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** A driver failure with its classified kind; code is FIDELITY_STAGE_FAILED unless a package is missing. */
export class FidelityDriverFailedError extends HailoError {
  constructor(
    message: string,
    readonly detail: FidelityDriverError | undefined,
    readonly stderrTail: string,
    file?: string,
  ) {
    super(detail?.kind === 'missing-package' ? 'PYTHON_MISSING_PACKAGE' : 'FIDELITY_STAGE_FAILED', message, file ? { file } : {});
  }
}

/** Locate hailo_fidelity.py next to the bundle (dist/python) or in the sources (src/python). */
export function findFidelityDriver(candidatesFrom: string[]): string {
  for (const dir of candidatesFrom) {
    for (const rel of ['python', '../python', '../../python', '../../src/python']) {
      const p = path.resolve(dir, rel, DRIVER_FILE);
      if (fs.existsSync(p)) return p;
    }
  }
  throw new HailoError(
    'FIDELITY_STAGE_FAILED',
    `the fidelity driver ${DRIVER_FILE} is missing (looked near ${candidatesFrom.join(', ')}); rebuild with npm run build`,
  );
}

export type DriverStageArgs =
  { stage: 'torch'; entry: string; root: string; audioFn?: string } | { stage: 'fp-optimized' | 'quantized'; har: string } | { stage: 'device'; hef: string };

/** The driver's command line after the script path (shared by the local and remote runners). */
export function driverArgv(manifestPath: string, a: DriverStageArgs): string[] {
  const argv = ['--stage', a.stage, `--manifest=${manifestPath}`];
  if (a.stage === 'torch') {
    argv.push(`--entry=${a.entry}`, `--root=${a.root}`);
    if (a.audioFn) argv.push(`--audio-fn=${a.audioFn}`);
  } else if (a.stage === 'device') argv.push(`--hef=${a.hef}`);
  else argv.push(`--har=${a.har}`);
  return argv;
}

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface RunDriverOptions {
  interpreter: Interpreter;
  driverPath: string;
  manifestPath: string;
  args: DriverStageArgs;
  chooseHint: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  log?: Logger;
  spawn?: SpawnFn;
  onProgress?: (p: FidelityDriverProgress) => void;
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  killGraceMs?: number;
}

const STDERR_KEEP = 64 * 1024;

function killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform === 'win32') child.kill(sig);
    else process.kill(-child.pid, sig);
  } catch {
    // already gone
  }
}

/** Run the driver locally in its own process group; resolves with its result line. */
export async function runFidelityDriver(opts: RunDriverOptions): Promise<FidelityDriverResult> {
  const log = opts.log ?? nullLogger;
  const spawn = opts.spawn ?? (nodeSpawn as SpawnFn);
  if (opts.signal?.aborted) throw new HailoError('CANCELLED', 'Cancelled');
  const interp = opts.interpreter;
  const argv = [opts.driverPath, ...driverArgv(opts.manifestPath, opts.args)];
  log.debug(`${interp.path} ${argv.map((a) => JSON.stringify(a)).join(' ')}`);
  const env = { ...(opts.env ?? process.env), PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8', PYTHONDONTWRITEBYTECODE: '1' };
  const child = spawn(interp.path, argv, {
    cwd: opts.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: process.platform !== 'win32',
    windowsHide: true,
  });
  let result: FidelityDriverResult | undefined;
  let error: FidelityDriverError | undefined;
  let stderr = '';
  let cancelled = false;
  let killTimer: NodeJS.Timeout | undefined;
  const out = new LineSplitter((line) => {
    const ev = parseFidelityDriverLine(line);
    if (!ev) opts.onOutput?.(line, 'stdout');
    else if (ev.event === 'progress') opts.onProgress?.(ev);
    else if (ev.event === 'result') result = ev;
    else error = ev;
  });
  const err = new LineSplitter((line) => opts.onOutput?.(line, 'stderr'));
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => out.push(d));
  child.stderr?.on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_KEEP);
    err.push(d);
  });
  const onAbort = () => {
    cancelled = true;
    killGroup(child, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child, 'SIGKILL'), opts.killGraceMs ?? 2000);
    killTimer.unref?.();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let exit: { code: number | null; signal: NodeJS.Signals | null };
  try {
    exit = await new Promise((resolve, reject) => {
      child.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'EACCES') {
          reject(
            new HailoError(
              'PYTHON_NOT_FOUND',
              `Python interpreter "${interp.path}" (${INTERPRETER_SOURCE_TEXT[interp.source]}) ${e.code === 'ENOENT' ? 'was not found' : 'cannot be run'}. ${opts.chooseHint}`,
            ),
          );
        } else reject(new HailoError('PROCESS_FAILED', `cannot start ${interp.path}: ${e.message}`, { cause: e }));
      });
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    out.end();
    err.end();
  }
  if (cancelled) {
    killGroup(child, 'SIGKILL');
    if (killTimer) clearTimeout(killTimer);
    throw new HailoError('CANCELLED', `Fidelity stage ${opts.args.stage} cancelled`);
  }
  if (result && exit.code === 0) return result;
  const tail = stderr.split(/\r?\n/).slice(-40).join('\n');
  const e = error as FidelityDriverError | undefined;
  if (e?.kind === 'missing-package') {
    throw new FidelityDriverFailedError(
      `${interp.path} (${INTERPRETER_SOURCE_TEXT[interp.source]}) cannot import ${e.package ?? 'a package'} for the ${opts.args.stage} stage: ${e.message}. ${opts.chooseHint}`,
      e,
      tail,
    );
  }
  if (e) throw new FidelityDriverFailedError(`Fidelity stage ${opts.args.stage} failed (${e.kind}): ${e.message}`, e, tail, e.file);
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  throw new FidelityDriverFailedError(
    `Fidelity stage ${opts.args.stage}: ${interp.path} ${how} (${tail.trim().split('\n').slice(-3).join(' ').slice(0, 500) || 'no output'})`,
    undefined,
    tail,
  );
}
