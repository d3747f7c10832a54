import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { HailoError } from '../errors';
import { FidelityStage, FidelityThresholds } from '../project/schema';
import { isRunFileName } from '../remote/run';
import { StageRecord } from './record';

/**
 * How a fidelity check is kept with its run: `.hailo/runs/<id>/` holds the check's plan
 * (`check.json`, written before the first stage runs and after every stage), the inputs and the
 * outputs of every stage (`<stage>/<sample>/<output>.npy`), and, once compared, `fidelity.json`.
 * The first remote run of the check uses the same folder (its `run.json`); a run on another host
 * (the device) has its own folder and is named in the plan. After a reload or a dropped
 * connection, the run engine reattaches to the remote runs; when one ends, the plan says what to
 * compare, so the comparison is made again exactly as in an uninterrupted check.
 */

export const CHECK_FILE = 'check.json';
export const CHECK_PLAN_VERSION = 1;

export const RemoteGroup = z.object({
  /** The remote stages one run makes, on one target or device. */
  stages: z.array(FidelityStage).min(1),
  /** The target's or device's name. */
  where: z.string(),
  /** The run's id, once the run engine recorded it. */
  run: z.string().optional(),
  /** The runs folder of that run, relative to the check's folder. */
  runsDir: z.string().optional(),
});
export type RemoteGroup = z.infer<typeof RemoteGroup>;

export const CheckPlan = z.object({
  version: z.literal(CHECK_PLAN_VERSION),
  model: z.string(),
  createdAt: z.string(),
  commit: z.string().optional(),
  runId: z.string().optional(),
  samples: z.array(z.object({ id: z.string(), source: z.string() })),
  outputs: z.array(z.string()),
  timeAxis: z.number().int().optional(),
  thresholds: FidelityThresholds.optional(),
  stageThresholds: z.partialRecord(FidelityStage, FidelityThresholds).optional(),
  /** Stages whose outcome is known here: the host stages, and remote stages skipped or refused before a run began. */
  stages: z.array(StageRecord),
  remote: z.array(RemoteGroup),
});
export type CheckPlan = z.infer<typeof CheckPlan>;

/** Write atomically (temp file + rename). */
export function writeCheckPlan(dir: string, plan: CheckPlan): string {
  const checked = CheckPlan.parse(plan);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, CHECK_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(checked, null, 1) + '\n');
  fs.renameSync(tmp, file);
  return file;
}

export function readCheckPlan(dir: string): CheckPlan {
  const file = path.join(dir, CHECK_FILE);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HailoError('FIDELITY_RECORD_INVALID', `${file}: cannot read the fidelity check (${(e as Error).message})`, { file, cause: e });
  }
  const r = CheckPlan.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new HailoError('FIDELITY_RECORD_INVALID', `${file}: not a fidelity check: ${i.path.join('.') || '(root)'}: ${i.message}`, { file });
  }
  return r.data;
}

/** The runs folder of a remote group (absolute). */
export function groupRunsDir(checkDir: string, g: RemoteGroup, fallback: string): string {
  return g.runsDir !== undefined ? path.resolve(checkDir, g.runsDir) : fallback;
}

/**
 * The folder of the fidelity check a run belongs to: the run's own folder when it holds the plan,
 * else the check (in the same runs folder) whose plan names the run. Undefined for a run of no check.
 */
export function findCheckOfRun(runsDir: string, runId: string): string | undefined {
  if (!isRunFileName(runId)) return undefined;
  const own = path.join(runsDir, runId);
  if (fs.existsSync(path.join(own, CHECK_FILE))) return own;
  let names: string[];
  try {
    names = fs
      .readdirSync(runsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && isRunFileName(d.name))
      .map((d) => d.name)
      .sort()
      .reverse();
  } catch {
    return undefined;
  }
  for (const n of names) {
    const dir = path.join(runsDir, n);
    if (!fs.existsSync(path.join(dir, CHECK_FILE))) continue;
    try {
      const plan = readCheckPlan(dir);
      if (plan.remote.some((g) => g.run === runId && path.resolve(groupRunsDir(dir, g, runsDir)) === path.resolve(runsDir))) return dir;
    } catch {
      // a broken plan is not this run's check
    }
  }
  return undefined;
}

/** Whether a folder of the runs folder is a fidelity check made only on this machine (a plan, no run.json). */
export function isHostOnlyCheck(dir: string): boolean {
  return fs.existsSync(path.join(dir, CHECK_FILE)) && !fs.existsSync(path.join(dir, 'run.json'));
}
