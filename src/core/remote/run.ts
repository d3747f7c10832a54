import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { HailoError } from '../errors';
import { DfcActivation, SlurmOptions } from '../project/schema';

/**
 * A pipeline run as recorded in `.hailo/runs/<id>/run.json`: what ran where, on which inputs, with
 * which tool versions, how long each step took, how it ended and its peak memory. It is written
 * after every state change, so it is also how a run is reattached after a window reload.
 */

/** Steps of the Dataflow Compiler, run on a compile target. */
export const DFC_STEPS = ['parse', 'optimize', 'compile'] as const;
export type DfcStepName = (typeof DFC_STEPS)[number];
/** Steps of HailoRT (`hailortcli`), run on a device. */
export const DEVICE_STEPS = ['parse-hef', 'benchmark', 'run', 'run2'] as const;
export type DeviceStepName = (typeof DEVICE_STEPS)[number];
/** Fidelity stages run remotely (the DFC emulator on a compile target, HailoRT's Python API on a device). */
export const FIDELITY_STEPS = ['fp-optimized', 'quantized', 'device'] as const;
export type FidelityStepName = (typeof FIDELITY_STEPS)[number];
export const STEPS = [...DFC_STEPS, ...DEVICE_STEPS, ...FIDELITY_STEPS] as const;
export const StepName = z.enum(STEPS);
export type StepName = z.infer<typeof StepName>;
export const isDfcStep = (s: string): s is DfcStepName => (DFC_STEPS as readonly string[]).includes(s);

/** What a run does: the DFC on a compile target, HailoRT on a device, or fidelity stages on either. */
export const RunKind = z.enum(['compile', 'device', 'fidelity']);
export type RunKind = z.infer<typeof RunKind>;

export const StepStatus = z.enum(['pending', 'running', 'succeeded', 'failed', 'cancelled', 'memory-limit', 'skipped']);
export type StepStatus = z.infer<typeof StepStatus>;

export const RunStatus = z.enum(['running', 'succeeded', 'failed', 'cancelled', 'memory-limit', 'detached']);
export type RunStatus = z.infer<typeof RunStatus>;

export const RunInput = z.object({
  role: z.string(),
  local: z.string(),
  dest: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  sent: z.boolean(),
});
export type RunInput = z.infer<typeof RunInput>;

/**
 * A file directly inside the run folder. run.json is a file in the workspace (a cloned repository
 * may bring one), so names read from it must not lead out of the folder.
 */
export function isRunFileName(name: string): boolean {
  return name !== '.' && name !== '..' && /^[^/\\\0]+$/.test(name);
}
const RunFileName = z.string().refine(isRunFileName, 'must be a file name inside the run folder');

export const RunArtifact = z.object({
  kind: z.enum(['har', 'quantized-har', 'compiled-har', 'hef', 'log', 'profile', 'other']),
  /** Remote path. */
  remote: z.string(),
  /** Path relative to the run folder, once downloaded. */
  local: RunFileName.optional(),
  size: z.number().int().nonnegative().optional(),
});
export type RunArtifact = z.infer<typeof RunArtifact>;

export const RunStep = z.object({
  step: StepName,
  status: StepStatus,
  /** The remote argv, as run inside the DFC environment. */
  command: z.array(z.string()),
  /** The argv as started by the job wrapper (with the environment prefix). */
  launch: z.array(z.string()).optional(),
  jobDir: z.string().optional(),
  pid: z.number().int().optional(),
  pgid: z.number().int().optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  durationMs: z.number().nonnegative().optional(),
  exitCode: z.number().int().optional(),
  peakRssKB: z.number().nonnegative().optional(),
  /** Log bytes already copied to `<step>.log` (complete lines only): where a reattach resumes. */
  logOffset: z.number().int().nonnegative().default(0),
  log: RunFileName.optional(),
  artifacts: z.array(RunArtifact).default([]),
  /** What the step's driver understood from its log (DFC log summary, or HailoRT figures). */
  summary: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** Slurm targets: the batch job of this step (reattach by job id) and what Slurm last said about it. */
  slurm: z
    .object({
      jobId: z.string().regex(/^\d+(_\d+)?$/),
      scriptPath: z.string(),
      output: z.string(),
      taskDirs: z.array(z.string()),
      submittedAt: z.string(),
      state: z.string().optional(),
      phase: z.enum(['queued', 'running', 'completing', 'suspended', 'finished']).optional(),
      reason: z.string().optional(),
      nodes: z.string().optional(),
      elapsedSeconds: z.number().nonnegative().optional(),
      /** Slurm's verdict in words, with what to change (finished jobs). */
      verdict: z.object({ kind: z.string(), ok: z.boolean(), title: z.string(), detail: z.string(), change: z.string().optional() }).optional(),
    })
    .optional(),
});
export type RunStep = z.infer<typeof RunStep>;

export const RunRecord = z.object({
  version: z.literal(1),
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  /** Absent in runs recorded before devices existed: a compile run. */
  kind: RunKind.optional(),
  model: z.string(),
  netName: z.string(),
  hwArch: z.string(),
  /** Where it ran: the compile target, or (kind "device") the device from hailo.json. */
  target: z.object({
    name: z.string(),
    host: z.string(),
    workDir: z.string(),
    dfc: DfcActivation.optional(),
    memoryLimitGB: z.number().positive().optional(),
    /** `slurm`: each step ran as a batch job with these settings. */
    kind: z.enum(['ssh', 'slurm']).optional(),
    slurm: SlurmOptions.optional(),
  }),
  /** The git commit of the workspace when the run started (for the results history). */
  commit: z.string().optional(),
  /** Device runs: the device as Check Device found it when the run started. */
  device: z
    .object({
      name: z.string(),
      id: z.string().optional(),
      architecture: z.string().optional(),
      hwArch: z.string().optional(),
      board: z.string().optional(),
      firmware: z.string().optional(),
      hailort: z.string().optional(),
      pcie: z.string().optional(),
    })
    .optional(),
  /** Remote run directory (absolute). */
  remoteDir: z.string(),
  createdAt: z.string(),
  endedAt: z.string().optional(),
  status: RunStatus,
  steps: z.array(RunStep),
  inputs: z.array(RunInput).default([]),
  bytesSent: z.number().int().nonnegative().default(0),
  toolVersions: z.object({ dfc: z.string().optional(), hailort: z.string().optional(), firmware: z.string().optional() }).default({}),
});
export type RunRecord = z.infer<typeof RunRecord>;

export const RUN_FILE = 'run.json';

/** A sortable, filesystem-safe run id: `20250101-120000-<model>-<rand>`. */
export function newRunId(model: string, now: Date = new Date(), rand = Math.random()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  const safe = model.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
  return `${stamp}-${safe}-${Math.floor(rand * 0xffffff)
    .toString(16)
    .padStart(6, '0')}`;
}

export function runDir(runsDir: string, id: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(id) || id === '.' || id === '..') throw new HailoError('RUN_INVALID', `"${id}" is not a run id`);
  return path.join(runsDir, id);
}

/** Write run.json atomically (temp file + rename), so a crash never leaves half a file. */
export function writeRun(runsDir: string, run: RunRecord): string {
  const dir = runDir(runsDir, run.id);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, RUN_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(RunRecord.parse(run), null, 2) + '\n');
  fs.renameSync(tmp, file);
  return file;
}

export function readRun(file: string): RunRecord {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new HailoError('RUN_INVALID', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`, { file, cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HailoError('RUN_INVALID', `${file}: not valid JSON (${(e as Error).message})`, { file, cause: e });
  }
  const r = RunRecord.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new HailoError('RUN_INVALID', `${file}: not a valid run record (${first ? `${first.path.join('.')}: ${first.message}` : 'invalid'})`, { file });
  }
  return r.data;
}

export interface ListedRun {
  dir: string;
  run?: RunRecord;
  /** Why run.json could not be read. */
  error?: string;
}

/** Runs under `runsDir`, newest first; unreadable ones are listed with their error. */
export function listRuns(runsDir: string): ListedRun[] {
  let names: string[];
  try {
    names = fs
      .readdirSync(runsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
  return names
    .sort()
    .reverse()
    .flatMap((name): ListedRun[] => {
      const dir = path.join(runsDir, name);
      // a fidelity check made on this machine only is kept here too (check.json, no run.json): not a run
      if (!fs.existsSync(path.join(dir, RUN_FILE)) && fs.existsSync(path.join(dir, 'check.json'))) return [];
      try {
        return [{ dir, run: readRun(path.join(dir, RUN_FILE)) }];
      } catch (e) {
        return [{ dir, error: (e as Error).message }];
      }
    });
}

/** Remove the oldest finished runs beyond `keep` (running and detached runs are never removed). */
export function pruneRuns(runsDir: string, keep: number): string[] {
  const runs = listRuns(runsDir);
  const removed: string[] = [];
  let kept = 0;
  for (const r of runs) {
    const active = r.run && (r.run.status === 'running' || r.run.status === 'detached');
    if (active || kept < keep) {
      if (!active) kept++;
      continue;
    }
    // only folders that are runs of ours (have run.json) are removed
    if (!r.run) continue;
    fs.rmSync(r.dir, { recursive: true, force: true });
    removed.push(r.dir);
  }
  return removed;
}

/** The run.json fields that differ between two runs (inputs by hash, commands): what was run differently. What the runs produced is compared in runCompare.ts. */
export function runComparison(a: RunRecord, b: RunRecord): Record<string, [unknown, unknown]> {
  const flat = (r: RunRecord): Record<string, unknown> => {
    const o: Record<string, unknown> = {
      model: r.model,
      hwArch: r.hwArch,
      target: r.target.host,
      status: r.status,
      'versions.dfc': r.toolVersions.dfc,
      'versions.hailort': r.toolVersions.hailort,
    };
    for (const i of r.inputs) o[`input.${i.dest}`] = i.sha256.slice(0, 12);
    for (const s of r.steps) {
      o[`${s.step}.status`] = s.status;
      o[`${s.step}.exitCode`] = s.exitCode;
      o[`${s.step}.durationMs`] = s.durationMs;
      o[`${s.step}.peakRssKB`] = s.peakRssKB;
      o[`${s.step}.command`] = s.command.join(' ');
    }
    return o;
  };
  const fa = flat(a);
  const fb = flat(b);
  const out: Record<string, [unknown, unknown]> = {};
  for (const k of new Set([...Object.keys(fa), ...Object.keys(fb)])) if (fa[k] !== fb[k]) out[k] = [fa[k], fb[k]];
  return out;
}
