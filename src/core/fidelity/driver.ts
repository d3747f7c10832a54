import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { HailoError } from '../errors';
import { INTERPRETER_SOURCE_TEXT, type Interpreter } from '../export/interpreter';
import type { Logger } from '../logger';
import { nullLogger } from '../logger';
import { runDriverProcess, type SpawnFn } from '../python/driverProcess';

/**
 * The fidelity driver (`src/python/hailo_fidelity.py`): its manifest, its JSON-lines protocol and
 * a local runner. The torch stage runs it on the host; the emulator and device stages run the same
 * script on a compile box or device (uploaded by the remote runner) with the same manifest.
 */

export const DRIVER_FILE = 'hailo_fidelity.py';
/** The module hailo_fidelity.py and hailo_export.py share; it lies beside them (and is uploaded with the fidelity driver). */
export const DRIVER_COMMON_FILE = 'hailo_driver_common.py';

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
  | {
      stage: 'torch';
      entry: string;
      root: string;
      audioFn?: string;
      /** Keyword arguments of the factory (a sweep variant); default: called without arguments. */
      kwargs?: Record<string, unknown>;
    }
  | { stage: 'fp-optimized' | 'quantized'; har: string }
  | { stage: 'device'; hef: string };

/** The driver's command line after the script path (shared by the local and remote runners). */
export function driverArgv(manifestPath: string, a: DriverStageArgs): string[] {
  const argv = ['--stage', a.stage, `--manifest=${manifestPath}`];
  if (a.stage === 'torch') {
    argv.push(`--entry=${a.entry}`, `--root=${a.root}`);
    if (a.audioFn) argv.push(`--audio-fn=${a.audioFn}`);
    if (a.kwargs && Object.keys(a.kwargs).length) argv.push(`--kwargs=${JSON.stringify(a.kwargs)}`);
  } else if (a.stage === 'device') argv.push(`--hef=${a.hef}`);
  else argv.push(`--har=${a.har}`);
  return argv;
}

export type { SpawnFn } from '../python/driverProcess';

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

/** Run the driver locally in its own process group; resolves with its result line. */
export async function runFidelityDriver(opts: RunDriverOptions): Promise<FidelityDriverResult> {
  const log = opts.log ?? nullLogger;
  const interp = opts.interpreter;
  const argv = [opts.driverPath, ...driverArgv(opts.manifestPath, opts.args)];
  log.debug(`${interp.path} ${argv.map((a) => JSON.stringify(a)).join(' ')}`);
  let result: FidelityDriverResult | undefined;
  let error: FidelityDriverError | undefined;
  const exit = await runDriverProcess({
    interpreter: interp,
    argv,
    cwd: opts.cwd,
    env: opts.env,
    extraEnv: { PYTHONDONTWRITEBYTECODE: '1' },
    spawn: opts.spawn,
    signal: opts.signal,
    killGraceMs: opts.killGraceMs,
    chooseHint: opts.chooseHint,
    onProtocolLine: (line) => {
      const ev = parseFidelityDriverLine(line);
      if (!ev) return false;
      if (ev.event === 'progress') opts.onProgress?.(ev);
      else if (ev.event === 'result') result = ev;
      else error = ev;
      return true;
    },
    onOutput: opts.onOutput,
  });
  if (exit.cancelled) throw new HailoError('CANCELLED', `Fidelity stage ${opts.args.stage} cancelled`);
  const stderr = exit.stderr;
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
