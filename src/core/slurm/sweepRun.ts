import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { lintOnnxFile } from '../analysis/lintFile';
import { completeCheck, HOST_STAGES, runHostCheck, type HostStage } from '../fidelity/check';
import type { OnnxWorkerSpec } from '../fidelity/onnxStage';
import { FIDELITY_FILE, readFidelityRecord, type FidelityRecord } from '../fidelity/record';
import type { StageRecord } from '../fidelity/record';
import type { RemoteStage } from '../fidelity/remotePlan';
import { remoteStages, runStillGoing } from '../fidelity/remoteRun';
import { CHECK_FILE, groupRunsDir, readCheckPlan } from '../fidelity/store';
import type { Interpreter } from '../export/interpreter';
import { HailoError, errorMessage, isCancelled } from '../errors';
import { specFromModel, type ExportSpec } from '../export/spec';
import { parseDfcLog, type DfcLogSummary } from '../hailo/dfcLog';
import { nullLogger, type Logger } from '../logger';
import { modelPaths } from '../project/load';
import { FIDELITY_STAGES, type Device, type FidelityStage, type Model, type Sweep, type Target } from '../project/schema';
import { runLedger } from '../analysis/ledgerRun';
import { netNameOf, planStep } from '../remote/dfc';
import { startDeploy } from '../remote/device';
import type { RemoteHost } from '../remote/host';
import { resumeRun, startRun } from '../remote/pipeline';
import { rjoin } from '../remote/quote';
import { deviceResultOf, latencyOf } from '../remote/results';
import { DFC_STEPS, RUN_FILE, newRunId, readRun, runDir, type RunRecord } from '../remote/run';
import type { RunEvents } from '../remote/runner';
import { uploadInputs, type UploadItem } from '../remote/upload';
import { SlurmClient } from './client';
import type { SlurmJobState } from './state';
import {
  compilerEstimate,
  expandSweep,
  fidelityFigure,
  resultFromDfcLog,
  sweepFidelityStages,
  sweepArraySpec,
  variantLogPath,
  variantModel,
  type StepOutcome,
  type SweepVariant,
  type VariantResult,
} from './sweep';
import { explainVerdict } from './verdict';

/**
 * Hailo: Run Sweep. Every variant of a sweep is exported and linted here (a failed export or lint
 * ends that variant only), then parsed / optimized / compiled on the sweep's target: on a `slurm`
 * target as one element of one job array (`--array=...%K`, K the concurrency limit), on a plain
 * SSH target one variant after the other through the run engine. The record
 * (`.hailo/sweeps/<id>/sweep.json`) is written after every change; the results panel reads it.
 */

const StepOutcomeZ = z.enum(['succeeded', 'failed', 'not-run', 'running', 'cancelled']);
export const SweepRecord = z.object({
  version: z.literal(1),
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  name: z.string(),
  model: z.string(),
  target: z.object({ name: z.string(), host: z.string(), kind: z.enum(['ssh', 'slurm']) }),
  remoteDir: z.string().optional(),
  jobId: z.string().optional(),
  createdAt: z.string(),
  endedAt: z.string().optional(),
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  latencyBudgetMs: z.number().optional(),
  concurrency: z.number().int().positive(),
  /** The device each compiled variant is benchmarked on. */
  device: z.string().optional(),
  /** The fidelity stages checked for each variant (none: the sweep runs no fidelity check). */
  fidelityStages: z.array(z.enum(FIDELITY_STAGES)).optional(),
  results: z.array(
    z.object({
      variant: z.object({
        id: z.string(),
        index: z.number().int().nonnegative(),
        label: z.string(),
        kwargs: z.record(z.string(), z.unknown()),
        inputShapes: z.record(z.string(), z.array(z.number())),
        modelScript: z.string().nullable().optional(),
        hwArch: z.string().optional(),
      }),
      exported: z.enum(['succeeded', 'failed', 'not-run']).optional(),
      lintErrors: z.number().int().nonnegative().optional(),
      rewrites: z.record(z.string(), z.number()).optional(),
      steps: z.object({ parse: StepOutcomeZ.optional(), optimize: StepOutcomeZ.optional(), compile: StepOutcomeZ.optional() }),
      firstError: z.string().optional(),
      contexts: z.number().optional(),
      estimate: z.object({ fps: z.number().optional(), latencyMs: z.number().optional() }).optional(),
      latencyMs: z.number().optional(),
      fidelity: z.number().optional(),
      slurm: z.object({ jobId: z.string(), state: z.string(), verdict: z.string().optional() }).optional(),
      runId: z.string().optional(),
      /** The deploy-and-benchmark run of this variant on the sweep's device. */
      deviceRunId: z.string().optional(),
      /** The fidelity check of this variant: `.hailo/runs/<id>/` (check.json, fidelity.json). */
      fidelityRunId: z.string().optional(),
      notes: z
        .object({ rewrites: z.string().optional(), estimate: z.string().optional(), latencyMs: z.string().optional(), fidelity: z.string().optional() })
        .optional(),
    }),
  ),
});
export type SweepRecord = z.infer<typeof SweepRecord>;
export type SweepRecordResult = SweepRecord['results'][number];
export const SWEEP_FILE = 'sweep.json';

export function sweepDir(sweepsDir: string, id: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(id) || id === '.' || id === '..') throw new HailoError('RUN_INVALID', `"${id}" is not a sweep id`);
  return path.join(sweepsDir, id);
}

export function writeSweep(sweepsDir: string, rec: SweepRecord): string {
  const dir = sweepDir(sweepsDir, rec.id);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, SWEEP_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(SweepRecord.parse(rec), null, 2) + '\n');
  fs.renameSync(tmp, file);
  return file;
}

export function readSweep(file: string): SweepRecord {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HailoError('RUN_INVALID', `${file}: cannot read the sweep record (${errorMessage(e)})`, { file });
  }
  const r = SweepRecord.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new HailoError('RUN_INVALID', `${file}: not a valid sweep record (${i ? `${i.path.join('.')}: ${i.message}` : 'invalid'})`, { file });
  }
  return r.data;
}

/** Sweep records under `sweepsDir`, newest first (unreadable ones left out). */
export function listSweeps(sweepsDir: string): SweepRecord[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(sweepsDir).sort().reverse();
  } catch {
    return [];
  }
  const out: SweepRecord[] = [];
  for (const n of names) {
    try {
      out.push(readSweep(path.join(sweepsDir, n, SWEEP_FILE)));
    } catch {}
  }
  return out;
}

/** The results as the core's table functions take them. */
export function variantResults(rec: SweepRecord): VariantResult[] {
  return rec.results.map((r) => ({ ...r, variant: r.variant as SweepVariant }));
}

export interface SweepContext {
  host: RemoteHost;
  /** Local `.hailo/sweeps`. */
  sweepsDir: string;
  /** Local `.hailo/runs` (SSH targets run each variant as a recorded run; device runs are recorded there too). */
  runsDir: string;
  log?: Logger;
  /** Cancel: `scancel` of the array, or the running variant's steps stopped. */
  signal?: AbortSignal;
  /**
   * Detach: stop following and leave everything running (the window is closing). The record stays
   * `running` and `resumeSweep` picks it up again; throws CANCELLED.
   */
  detach?: AbortSignal;
  pollIntervalMs?: number;
  now?: () => Date;
  onProgress?(message: string): void;
  /** The record after every change (the panel redraws from it). */
  onUpdate?(rec: SweepRecord): void;
  /** The host of the sweep's device (deploy and benchmark of each compiled variant). */
  deviceHost?: RemoteHost;
  /** Events of the recorded runs the sweep starts (variants on an SSH target, device runs). */
  runEvents?: RunEvents;
  /**
   * Follow a recorded run (a variant's run or a device run) left running by an earlier window to
   * its end. Default: reattach with the run engine (`resumeRun`).
   */
  followRun?(id: string): Promise<RunRecord>;
}

export interface SweepOptions {
  projectRoot: string;
  projectFile: string;
  sweep: Sweep;
  model: Model;
  target: Target;
  /** The sweep's device (`sweep.device` from `devices`), see `sweepDevice`. */
  device?: Device;
  /** Export one variant (the interpreter and driver are the caller's): writes `spec.out` or throws. */
  exportVariant(spec: ExportSpec, variant: SweepVariant): Promise<void>;
  /** What the fidelity check of each variant needs (`fidelity` on the sweep); without it the column says why it is empty. */
  fidelity?: SweepFidelityTools;
}

/** The host side of Check Fidelity, as the caller resolves it (the editor or the command line). */
export interface SweepFidelityTools {
  interpreter: Interpreter;
  chooseHint: string;
  /** hailo_fidelity.py */
  driverPath: string;
  /** onnxruntime-web's .wasm folder. */
  wasmDir: string;
  onnxWorker?: OnnxWorkerSpec;
  env?: Record<string, string | undefined>;
  /** The remote Python (default python3). */
  python?: readonly string[];
  commit?: string;
}

/** The device a sweep benchmarks its variants on, or undefined when it names none. */
export function sweepDevice(sweep: Sweep, devices: readonly Device[] | undefined): Device | undefined {
  if (!sweep.device) return undefined;
  const d = devices?.find((x) => x.name === sweep.device);
  if (!d)
    throw new HailoError(
      'INVALID_ARGUMENT',
      `sweep "${sweep.name}": no device named "${sweep.device}" in "devices"${devices?.length ? ` (there are: ${devices.map((x) => x.name).join(', ')})` : ''}`,
    );
  return d;
}

function emptySteps(): Partial<Record<(typeof DFC_STEPS)[number], StepOutcome>> {
  return { parse: 'not-run', optimize: 'not-run', compile: 'not-run' };
}

type Ready = { v: SweepVariant; vm: Model; onnx: string };

const detached = (ctx: SweepContext) => ctx.detach?.aborted === true;
function checkStop(ctx: SweepContext): void {
  if (detached(ctx)) throw new HailoError('CANCELLED', 'Sweep detached: it keeps running and is picked up again by the next window');
  if (ctx.signal?.aborted) throw new HailoError('CANCELLED', 'Sweep cancelled');
}

export async function runSweep(ctx: SweepContext, opts: SweepOptions): Promise<SweepRecord> {
  const now = ctx.now ?? (() => new Date());
  const { sweep, model, target } = opts;
  const variants = expandSweep(sweep, model);
  const slurm = target.kind === 'slurm';
  const concurrency = sweep.concurrency ?? (slurm ? (target.slurm?.arrayLimit ?? 4) : 1);
  const fidelityStages = sweepFidelityStages(sweep, model);
  const rec: SweepRecord = {
    version: 1,
    id: newRunId(`${sweep.name}`, now()),
    name: sweep.name,
    model: model.name,
    target: { name: target.name, host: target.host, kind: slurm ? 'slurm' : 'ssh' },
    createdAt: now().toISOString(),
    status: 'running',
    ...(sweep.latencyBudgetMs !== undefined ? { latencyBudgetMs: sweep.latencyBudgetMs } : {}),
    concurrency,
    ...(opts.device ? { device: opts.device.name } : {}),
    ...(fidelityStages ? { fidelityStages } : {}),
    results: variants.map((v) => ({ variant: { ...v }, exported: 'not-run' as const, steps: emptySteps() })),
  };
  (ctx.log ?? nullLogger).info(
    `Sweep ${sweep.name} (${rec.id}): ${variants.length} variants of ${model.name} on ${target.name}${slurm ? ` as a Slurm job array, ${concurrency} at once` : ', one after the other'}${opts.device ? `, each benchmarked on ${opts.device.name}` : ''}${fidelityStages ? `, fidelity ${fidelityStages.join(', ')}` : ''}`,
  );
  return continueSweep(ctx, opts, rec);
}

/**
 * Pick up a sweep left `running` by an earlier window (or process): variants not exported yet are
 * exported, a submitted job array is followed again by its id (nothing is submitted twice), a
 * variant run on an SSH target is reattached by its run id, then the rewrites, estimate and device
 * measurements still missing are made. A finished record is returned as it is.
 */
export async function resumeSweep(ctx: SweepContext, opts: SweepOptions, rec: SweepRecord): Promise<SweepRecord> {
  if (rec.status !== 'running') return rec;
  if (rec.name !== opts.sweep.name || rec.model !== opts.model.name || rec.target.name !== opts.target.name)
    throw new HailoError(
      'INVALID_ARGUMENT',
      `sweep record ${rec.id} is "${rec.name}" of ${rec.model} on ${rec.target.name}, not "${opts.sweep.name}" of ${opts.model.name} on ${opts.target.name}`,
    );
  (ctx.log ?? nullLogger).info(`Sweep ${rec.name} (${rec.id}): picked up again${rec.jobId ? `, following job array ${rec.jobId}` : ''}`);
  return continueSweep(ctx, opts, rec);
}

async function continueSweep(ctx: SweepContext, opts: SweepOptions, rec: SweepRecord): Promise<SweepRecord> {
  const log = ctx.log ?? nullLogger;
  const now = ctx.now ?? (() => new Date());
  const { sweep, model, target } = opts;
  const slurm = target.kind === 'slurm';
  const localDir = sweepDir(ctx.sweepsDir, rec.id);
  const save = () => {
    writeSweep(ctx.sweepsDir, rec);
    ctx.onUpdate?.(rec);
  };
  save();
  try {
    // 1. export and lint each variant here; a failure ends that variant only
    const ready: Ready[] = [];
    for (const [i, r] of rec.results.entries()) {
      const v = r.variant as SweepVariant;
      const vm = variantModel(model, v);
      const onnx = path.join(localDir, v.id, `${netNameOf(model)}.onnx`);
      if (r.exported === 'succeeded') {
        ready.push({ v, vm, onnx });
        continue;
      }
      if (r.exported === 'failed') continue;
      checkStop(ctx);
      fs.mkdirSync(path.dirname(onnx), { recursive: true });
      ctx.onProgress?.(`Exporting ${v.label || v.id} (${i + 1}/${rec.results.length})`);
      try {
        const spec = { ...specFromModel(vm, opts.projectRoot), out: onnx, ...(Object.keys(v.kwargs).length ? { kwargs: v.kwargs } : {}) };
        await opts.exportVariant(spec, v);
        r.exported = 'succeeded';
      } catch (e) {
        if (isCancelled(e)) throw e;
        r.exported = 'failed';
        r.firstError = `export: ${errorMessage(e)}`.slice(0, 500);
        if (rec.fidelityStages) (r.notes ??= {}).fidelity = 'not measured: the variant did not export';
        log.warn(`Sweep ${sweep.name}: variant ${v.id} (${v.label}) did not export: ${errorMessage(e)}`);
        save();
        continue;
      }
      try {
        const lint = await lintOnnxFile(onnx, { hwArch: vm.hwArch ?? target.hwArch ?? 'hailo8l', signal: ctx.signal });
        r.lintErrors = lint.findings.filter((f) => f.severity === 'error').length;
      } catch (e) {
        if (isCancelled(e)) throw e;
        log.warn(`Sweep ${sweep.name}: variant ${v.id}: lint failed: ${errorMessage(e)}`);
      }
      save();
      ready.push({ v, vm, onnx });
    }
    if (!ready.length) {
      rec.status = 'failed';
      return rec;
    }
    // 2. the DFC on the target
    if (slurm) await runOnSlurm(ctx, opts, rec, ready, save);
    else await runOneByOne(ctx, opts, rec, ready, save);
    // 3. what the compiler rewrote, its estimate, the device
    await measureVariants(ctx, opts, rec, ready, save);
    rec.status = rec.results.some((r) => r.steps.compile === 'succeeded') ? 'succeeded' : 'failed';
  } catch (e) {
    if (isCancelled(e) && detached(ctx)) {
      log.info(`Sweep ${sweep.name} (${rec.id}): detached; its jobs keep running`);
      throw e;
    }
    rec.status = isCancelled(e) ? 'cancelled' : 'failed';
    if (!isCancelled(e)) log.error(`Sweep ${sweep.name}: ${errorMessage(e)}`);
    throw e;
  } finally {
    if (rec.status !== 'running') {
      for (const r of rec.results) for (const s of DFC_STEPS) if (r.steps[s] === 'running') r.steps[s] = rec.status === 'cancelled' ? 'cancelled' : 'failed';
      rec.endedAt = now().toISOString();
    }
    save();
  }
  return rec;
}

function applyLog(r: SweepRecordResult, v: SweepVariant, summary: DfcLogSummary): void {
  const fromLog = resultFromDfcLog(v, summary);
  for (const s of DFC_STEPS) if (fromLog.steps[s]) r.steps[s] = fromLog.steps[s];
  if (fromLog.firstError && !r.firstError) r.firstError = fromLog.firstError;
  if (fromLog.contexts !== undefined) r.contexts = fromLog.contexts;
}

async function runOnSlurm(ctx: SweepContext, opts: SweepOptions, rec: SweepRecord, allReady: Ready[], save: () => void): Promise<void> {
  const { host } = ctx;
  const target = opts.target;
  const o = target.slurm;
  if (!o) throw new HailoError('INVALID_ARGUMENT', `target "${target.name}" has no "slurm" settings`);
  const client = new SlurmClient(host);
  let jobId = rec.jobId;
  let remoteDir = rec.remoteDir;
  // a resumed sweep follows the array it submitted; only a sweep never submitted submits one
  const ready = jobId ? allReady.filter(({ v }) => rec.results[v.index]!.slurm) : allReady;
  if (!jobId || !remoteDir) {
    const workDir = await host.absolute(target.workDir ?? '~/hailo-workbench', ctx.signal);
    remoteDir = rjoin(workDir, 'sweeps', rec.id);
    rec.remoteDir = remoteDir;
    const all = rec.results.map((r) => r.variant as SweepVariant);
    const base = modelPaths(opts.model, opts.projectRoot);
    // inputs: each variant's ONNX and model script in its folder, the calibration set once
    const items: UploadItem[] = [];
    const plans = new Map<string, string[][]>();
    for (const { v, vm, onnx } of ready) {
      items.push({ role: 'onnx', local: onnx, dest: `${v.id}/inputs/${path.basename(onnx)}` });
      const p = modelPaths(vm, opts.projectRoot);
      if (p.modelScript) items.push({ role: 'modelScript', local: p.modelScript, dest: `${v.id}/inputs/${path.basename(p.modelScript)}` });
    }
    if (base.calibSet) items.push({ role: 'calibSet', local: base.calibSet, dest: `inputs/calib/${path.basename(base.calibSet)}` });
    for (const it of items) if (!fs.existsSync(it.local)) throw new HailoError('INVALID_ARGUMENT', `${it.local}: ${it.role} not found`, { file: it.local });
    ctx.onProgress?.('Uploading the variants');
    await uploadInputs(host, { workDir, runDir: remoteDir, items, signal: ctx.signal, onProgress: ctx.onProgress });
    for (const v of all) {
      const vm = variantModel(opts.model, v);
      const p = modelPaths(vm, opts.projectRoot);
      const dir = rjoin(remoteDir, v.id);
      const inputs = {
        onnx: rjoin(dir, 'inputs', `${netNameOf(opts.model)}.onnx`),
        ...(base.calibSet ? { calibSet: rjoin(remoteDir, 'inputs', 'calib', path.basename(base.calibSet)) } : {}),
        ...(p.modelScript ? { modelScript: rjoin(dir, 'inputs', path.basename(p.modelScript)) } : {}),
      };
      plans.set(
        v.id,
        DFC_STEPS.map((s) => planStep(s, vm, { runDir: dir, hwArch: vm.hwArch ?? target.hwArch ?? 'hailo8l', inputs }).argv),
      );
    }
    const spec = sweepArraySpec({
      sweepName: rec.name.replace(/[^A-Za-z0-9_.-]/g, '_'),
      runDir: remoteDir,
      variants: all,
      commands: (v) => plans.get(v.id)!,
      limit: rec.concurrency,
      only: ready.map((x) => x.v.id),
    });
    checkStop(ctx);
    ctx.onProgress?.('Submitting the job array');
    const sub = await client.submit(o, spec, { signal: ctx.signal });
    jobId = sub.jobId;
    rec.jobId = jobId;
    for (const { v } of ready) {
      const r = rec.results[v.index]!;
      r.slurm = { jobId: `${jobId}_${v.index}`, state: 'PENDING' };
    }
    save();
    (ctx.log ?? nullLogger).info(`Sweep ${rec.name}: job array ${jobId} (${ready.length} elements, ${rec.concurrency} at once)`);
  }
  // elements already finished (a sweep picked up after its array ended) are not read again
  const open = ready.filter(({ v }) => {
    const st = rec.results[v.index]!.steps;
    return !DFC_STEPS.some((s) => st[s] === 'succeeded' || st[s] === 'failed' || st[s] === 'cancelled') || st.parse === 'running';
  });
  if (!open.length) return;

  const interval = ctx.pollIntervalMs ?? 2000;
  let cancelled = false;
  let finishedPolls = 0;
  let emptyPolls = 0;
  for (;;) {
    if (detached(ctx)) checkStop(ctx);
    if (ctx.signal?.aborted && !cancelled) {
      cancelled = true;
      ctx.onProgress?.(`Cancelling job array ${jobId}`);
      await client.cancel(jobId);
    }
    const states = await client.state(jobId, cancelled ? undefined : ctx.signal).catch((e: unknown) => {
      if (ctx.signal?.aborted) return [] as SlurmJobState[];
      throw e;
    });
    let changed = false;
    for (const s of states) {
      if (s.arrayTaskId === undefined) continue;
      const r = rec.results[s.arrayTaskId];
      if (!r?.slurm) continue;
      if (r.slurm.state !== s.state) {
        r.slurm.state = s.state;
        changed = true;
        if (s.phase === 'running' && r.steps.parse === 'not-run') r.steps.parse = 'running';
      }
    }
    if (changed) save();
    const pendingLeft = states.some((s) => s.phase !== 'finished');
    const known = new Set(states.filter((s) => s.phase === 'finished' && s.arrayTaskId !== undefined).map((s) => s.arrayTaskId));
    const allKnown = open.every(({ v }) => known.has(v.index));
    // an element Slurm has forgotten (or a pending array cancelled as one record) must not keep the loop going
    finishedPolls = states.length && !pendingLeft ? finishedPolls + 1 : 0;
    // a sweep picked up long after its array ended: Slurm may keep no record at all; the logs say how it went
    emptyPolls = states.length ? 0 : emptyPolls + 1;
    if ((states.length && !pendingLeft && (allKnown || cancelled || finishedPolls > 5)) || emptyPolls > 5) {
      for (const { v } of open) {
        const r = rec.results[v.index]!;
        const s = states.find((x) => x.arrayTaskId === v.index) ?? (states.length === 1 && states[0]!.arrayTaskId === undefined ? states[0] : undefined);
        const text = (await client.readLog(variantLogPath(remoteDir, v), 0)).data.toString('utf8');
        if (text) fs.writeFileSync(path.join(sweepDir(ctx.sweepsDir, rec.id), v.id, 'dfc.log'), text);
        for (const st of DFC_STEPS) if (r.steps[st] === 'running') r.steps[st] = 'not-run';
        applyLog(r, v, parseDfcLog(text));
        if (!s) {
          r.firstError ??= 'Slurm keeps no record of this array element and its log does not say how it ended';
          continue;
        }
        const verdict = explainVerdict(s, { request: o, logTail: text.slice(-8192) });
        if (!verdict.ok) {
          if (verdict.kind === 'cancelled') for (const st of DFC_STEPS) if (r.steps[st] === 'not-run') r.steps[st] = 'cancelled';
          if (!r.firstError || verdict.kind !== 'failed')
            r.firstError = `${verdict.title}. ${verdict.detail}${verdict.change ? ` ${verdict.change}` : ''}`.slice(0, 500);
        }
        r.slurm = {
          jobId: s.arrayTaskId !== undefined ? s.jobId : `${jobId}_${v.index}`,
          state: s.state,
          ...(verdict.ok ? {} : { verdict: verdict.title }),
        };
      }
      save();
      if (cancelled) throw new HailoError('CANCELLED', 'Sweep cancelled');
      return;
    }
    await new Promise((res) => setTimeout(res, interval));
  }
}

function applyRun(r: SweepRecordResult, run: RunRecord): void {
  for (const s of run.steps) {
    if (!(DFC_STEPS as readonly string[]).includes(s.step)) continue;
    const st = s.step as (typeof DFC_STEPS)[number];
    r.steps[st] =
      s.status === 'succeeded'
        ? 'succeeded'
        : s.status === 'cancelled'
          ? 'cancelled'
          : s.status === 'skipped' || s.status === 'pending'
            ? 'not-run'
            : s.status === 'running'
              ? 'running'
              : 'failed';
    if (s.error && !r.firstError) r.firstError = s.error.message.slice(0, 500);
    const sum = s.summary as DfcLogSummary | undefined;
    if (st === 'compile' && sum?.compile?.contexts !== undefined) r.contexts = sum.compile.contexts;
  }
}

/** Reattach to a recorded run (default of `SweepContext.followRun`). */
function follow(ctx: SweepContext, host: RemoteHost, id: string, extra: { projectRoot?: string; model?: Model; target?: Target } = {}): Promise<RunRecord> {
  if (ctx.followRun) return ctx.followRun(id);
  return resumeRun(
    { host, runsDir: ctx.runsDir, log: ctx.log, signal: ctx.signal, detach: ctx.detach, pollIntervalMs: ctx.pollIntervalMs, events: ctx.runEvents },
    id,
    extra,
  );
}

/** Run events that also report the run's id as soon as its first step starts. */
function withRunId(events: RunEvents | undefined, onId: (id: string) => void): RunEvents {
  let seen = false;
  return {
    ...events,
    onStepStarted: (run, step) => {
      if (!seen) {
        seen = true;
        onId(run.id);
      }
      events?.onStepStarted?.(run, step);
    },
  };
}

async function runOneByOne(ctx: SweepContext, opts: SweepOptions, rec: SweepRecord, ready: Ready[], save: () => void): Promise<void> {
  for (const { v, vm, onnx } of ready) {
    const r = rec.results[v.index]!;
    const done = DFC_STEPS.every((s) => r.steps[s] !== 'running' && r.steps[s] !== 'not-run') || DFC_STEPS.some((s) => r.steps[s] === 'failed');
    if (done && !(r.runId && r.steps.parse === 'running')) continue;
    checkStop(ctx);
    ctx.onProgress?.(`Variant ${v.label || v.id} on ${opts.target.name}`);
    const dir = path.dirname(onnx);
    const m: Model = {
      ...vm,
      onnx: path.relative(opts.projectRoot, onnx),
      har: path.relative(opts.projectRoot, path.join(dir, `${netNameOf(vm)}.har`)),
      hef: path.relative(opts.projectRoot, path.join(dir, `${netNameOf(vm)}.hef`)),
    };
    if (r.steps.parse === 'not-run') r.steps.parse = 'running';
    save();
    try {
      const run = r.runId
        ? await follow(ctx, ctx.host, r.runId, { projectRoot: opts.projectRoot, target: opts.target })
        : await startRun(
            {
              host: ctx.host,
              runsDir: ctx.runsDir,
              log: ctx.log,
              signal: ctx.signal,
              detach: ctx.detach,
              pollIntervalMs: ctx.pollIntervalMs,
              events: withRunId(ctx.runEvents, (id) => {
                r.runId = id;
                save();
              }),
            },
            { projectRoot: opts.projectRoot, model: m, target: opts.target, steps: [...DFC_STEPS], updateModelFiles: false },
          );
      r.runId = run.id;
      if (run.status === 'detached') checkStop(ctx);
      applyRun(r, run);
    } catch (e) {
      if (isCancelled(e)) throw e;
      r.steps.parse = r.steps.parse === 'running' ? 'failed' : r.steps.parse;
      r.firstError ??= errorMessage(e).slice(0, 500);
      (ctx.log ?? nullLogger).warn(`Sweep ${rec.name}: variant ${v.id}: ${errorMessage(e)}`);
    }
    save();
  }
}

// ------------------------------------------------------------------ after the DFC

/** A variant's files on this machine: the parsed HAR, the HEF, the parse and compile logs (as far as they exist). */
async function variantFiles(
  ctx: SweepContext,
  rec: SweepRecord,
  r: SweepRecordResult,
  x: Ready,
): Promise<{ har?: string; quantizedHar?: string; hef?: string; parseLog?: string; compileLog?: string }> {
  const exists = (f: string | undefined) => (f && fs.existsSync(f) ? f : undefined);
  if (r.runId) {
    const rd = runDir(ctx.runsDir, r.runId);
    const run = readRun(path.join(rd, RUN_FILE));
    const local = (kind: string) => {
      for (const s of run.steps) for (const a of s.artifacts) if (a.kind === kind && a.local) return exists(path.join(rd, a.local));
      return undefined;
    };
    const logOf = (step: string) => {
      const s = run.steps.find((y) => y.step === step);
      return s?.log ? exists(path.join(rd, s.log)) : undefined;
    };
    const har = local('har');
    const quantizedHar = local('quantized-har');
    const hef = local('hef');
    const parseLog = logOf('parse');
    const compileLog = logOf('compile');
    return {
      ...(har ? { har } : {}),
      ...(quantizedHar ? { quantizedHar } : {}),
      ...(hef ? { hef } : {}),
      ...(parseLog ? { parseLog } : {}),
      ...(compileLog ? { compileLog } : {}),
    };
  }
  // a Slurm array element: its folder on shared storage, its log (all three steps) brought back already
  const dir = path.join(sweepDir(ctx.sweepsDir, rec.id), x.v.id);
  const log = exists(path.join(dir, 'dfc.log'));
  const out: { har?: string; hef?: string; parseLog?: string; compileLog?: string } = log ? { parseLog: log, compileLog: log } : {};
  if (!rec.remoteDir) return out;
  const net = netNameOf(x.vm);
  for (const [key, name] of [
    ['har', `${net}.har`],
    ['hef', `${net}.hef`],
  ] as const) {
    const local = path.join(dir, name);
    if (!exists(local)) {
      if (key === 'hef' && r.steps.compile !== 'succeeded') continue;
      try {
        await ctx.host.download(rjoin(rec.remoteDir, x.v.id, name), local, ctx.signal);
      } catch (e) {
        if (isCancelled(e)) throw e;
        (ctx.log ?? nullLogger).warn(`Sweep ${rec.name}: variant ${x.v.id}: ${name} not brought back: ${errorMessage(e)}`);
        continue;
      }
    }
    out[key] = local;
  }
  return out;
}

const note = (e: unknown) => `not available: ${errorMessage(e)}`.slice(0, 500);

/**
 * After the DFC, per variant: the rewrite ledger (its ONNX against its parsed HAR, as after a
 * pipeline's parse step), the compiler's estimate, and, with a device, deploy and benchmark of its
 * HEF through the same run as Hailo: Deploy and Benchmark. What cannot be made is noted with why.
 */
async function measureVariants(ctx: SweepContext, opts: SweepOptions, rec: SweepRecord, ready: Ready[], save: () => void): Promise<void> {
  const log = ctx.log ?? nullLogger;
  for (const x of ready) {
    const r = rec.results[x.v.index]!;
    const parsed = r.steps.parse === 'succeeded';
    const compiledOk = r.steps.compile === 'succeeded';
    const wantLedger = parsed && !r.rewrites && !r.notes?.rewrites;
    const wantEstimate = compiledOk && !r.estimate && !r.notes?.estimate;
    const wantDevice = !!opts.device && compiledOk && r.latencyMs === undefined && !r.notes?.latencyMs;
    // a figure or a note means the check ran (or was refused) already: a picked-up sweep does not run it again
    const wantFidelity = !!rec.fidelityStages?.length && r.fidelity === undefined && !r.notes?.fidelity;
    if (!wantLedger && !wantEstimate && !wantDevice && !wantFidelity) continue;
    checkStop(ctx);
    ctx.onProgress?.(`Rewrites${opts.device ? ' and device' : ''} of ${x.v.label || x.v.id}`);
    const files = await variantFiles(ctx, rec, r, x);
    const notes = (r.notes ??= {});
    if (wantLedger) {
      if (!files.har) notes.rewrites = 'not available: the parsed HAR did not come back';
      else
        try {
          const res = await runLedger({
            onnxFile: x.onnx,
            hailoFile: files.har,
            stage: 'parse',
            ...(files.parseLog ? { parseLogFile: files.parseLog } : {}),
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          });
          r.rewrites = Object.fromEntries(Object.entries(res.ledger.counts).filter(([k]) => k !== 'kept'));
          delete notes.rewrites;
        } catch (e) {
          if (isCancelled(e)) throw e;
          notes.rewrites = note(e);
          log.warn(`Sweep ${rec.name}: variant ${x.v.id}: rewrite ledger: ${errorMessage(e)}`);
        }
    }
    if (wantEstimate) {
      const e = compilerEstimate(files.compileLog ? fs.readFileSync(files.compileLog, 'utf8') : '');
      if (e.estimate) r.estimate = e.estimate;
      else if (e.reason) notes.estimate = e.reason;
    }
    save();
    if (wantDevice) {
      const device = opts.device!;
      try {
        if (!ctx.deviceHost) throw new HailoError('INVALID_ARGUMENT', `no connection to the device ${device.name} was given`);
        let run: RunRecord;
        if (r.deviceRunId) run = await follow(ctx, ctx.deviceHost, r.deviceRunId);
        else {
          if (!files.hef) throw new HailoError('INVALID_ARGUMENT', 'the HEF did not come back from the target');
          ctx.onProgress?.(`Deploy and benchmark ${x.v.label || x.v.id} on ${device.name}`);
          run = await startDeploy(
            {
              host: ctx.deviceHost,
              runsDir: ctx.runsDir,
              log: ctx.log,
              signal: ctx.signal,
              detach: ctx.detach,
              pollIntervalMs: ctx.pollIntervalMs,
              events: withRunId(ctx.runEvents, (id) => {
                r.deviceRunId = id;
                save();
              }),
            },
            {
              model: { ...x.vm, netName: netNameOf(x.vm) },
              device,
              hef: files.hef,
              ...(opts.sweep.benchmarkSeconds ? { seconds: opts.sweep.benchmarkSeconds } : {}),
            },
          );
        }
        r.deviceRunId = run.id;
        if (run.status === 'detached') checkStop(ctx);
        const res = deviceResultOf(run);
        const lat = res ? latencyOf(res) : undefined;
        if (lat) r.latencyMs = lat.value;
        else {
          const failed = run.steps.find((s) => s.status === 'failed');
          notes.latencyMs = `not measured: ${failed?.error?.message ?? `device run ${run.id} ${run.status} without a latency`}`.slice(0, 500);
        }
      } catch (e) {
        if (isCancelled(e)) throw e;
        notes.latencyMs = `not measured: ${errorMessage(e)}`.slice(0, 500);
        log.warn(`Sweep ${rec.name}: variant ${x.v.id} on ${device.name}: ${errorMessage(e)}`);
      }
      save();
    }
    if (wantFidelity) {
      try {
        const res = await variantFidelity(ctx, opts, rec, r, x, files, save);
        const fig = fidelityFigure(res.record);
        if (fig.value !== undefined) r.fidelity = fig.value;
        const notRun = res.notRun ? `; ${res.notRun.join(', ')} not run: the window closed before ${res.notRun.length > 1 ? 'they' : 'it'} started` : '';
        notes.fidelity = `${fig.note}${notRun} (${path.relative(opts.projectRoot, res.file)})`.slice(0, 500);
      } catch (e) {
        if (isCancelled(e)) throw e;
        notes.fidelity = `not measured: the fidelity check failed: ${errorMessage(e)}`.slice(0, 500);
        log.warn(`Sweep ${rec.name}: variant ${x.v.id}: fidelity check: ${errorMessage(e)}`);
      }
      save();
    }
  }
}

/** Aborted when either signal is (AbortSignal.any is not in every Node the editor runs on). */
function eitherSignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (!a || !b) return a ?? b;
  const c = new AbortController();
  const stop = () => c.abort();
  if (a.aborted || b.aborted) c.abort();
  a.addEventListener('abort', stop, { once: true });
  b.addEventListener('abort', stop, { once: true });
  return c.signal;
}

/**
 * Check Fidelity of one variant, kept like any check in `.hailo/runs/<id>/`: the torch stage calls
 * the factory with the variant's keyword arguments, every stage takes the variant's input shapes,
 * the ONNX stage its ONNX, the emulator stages its HAR (SSH target only) and the device stage its
 * HEF on the sweep's device. A check left by an earlier window is read (fidelity.json), or its
 * remote runs are followed to their end and it is compared; only a check that stopped in its host
 * stages (nothing kept) runs again.
 */
async function variantFidelity(
  ctx: SweepContext,
  opts: SweepOptions,
  rec: SweepRecord,
  r: SweepRecordResult,
  x: Ready,
  files: { har?: string; quantizedHar?: string; hef?: string },
  save: () => void,
): Promise<{ record: FidelityRecord; file: string; notRun?: string[] }> {
  const tools = opts.fidelity;
  if (!tools) throw new HailoError('INVALID_ARGUMENT', 'no Python was given to run it with');
  const stages = (rec.fidelityStages ?? []) as FidelityStage[];
  const slurm = opts.target.kind === 'slurm';
  const hostOf = (where: string, isDevice = where !== opts.target.name): RemoteHost => {
    if (opts.device && isDevice) {
      if (!ctx.deviceHost) throw new HailoError('INVALID_ARGUMENT', `no connection to the device ${opts.device.name} was given`);
      return ctx.deviceHost;
    }
    return ctx.host;
  };
  if (r.fidelityRunId) {
    const dir = runDir(ctx.runsDir, r.fidelityRunId);
    const file = path.join(dir, FIDELITY_FILE);
    const plan = fs.existsSync(path.join(dir, CHECK_FILE)) ? readCheckPlan(dir) : undefined;
    const recorded = plan?.remote.filter((g) => g.run) ?? [];
    const going = recorded.filter((g) => {
      try {
        return runStillGoing(readRun(path.join(runDir(groupRunsDir(dir, g, ctx.runsDir), g.run!), RUN_FILE)));
      } catch {
        return false;
      }
    });
    // a finished check is read; one compared while a remote stage still ran is completed once it ends
    if (fs.existsSync(file) && !going.length) return { record: readFidelityRecord(file), file };
    if (recorded.length) {
      for (const g of going) {
        try {
          const run = await follow(ctx, hostOf(g.where), g.run!);
          if (run.status === 'detached') checkStop(ctx);
        } catch (e) {
          if (isCancelled(e)) throw e;
          (ctx.log ?? nullLogger).warn(`Sweep ${rec.name}: variant ${x.v.id}: fidelity run ${g.run}: ${errorMessage(e)}`);
        }
      }
      const done = await completeCheck(dir, { runsDir: ctx.runsDir });
      // stages the closed window never started are not in the record: the note says so
      const notRun = stages.filter((s) => !done.record.stages.some((x) => x.stage === s));
      return { record: done.record, file: done.file, ...(notRun.length ? { notRun } : {}) };
    }
    // stopped in its host stages: nothing of it was kept, it runs again in its folder
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const id = r.fidelityRunId ?? newRunId(`${opts.model.name}-${x.v.id}`, (ctx.now ?? (() => new Date()))());
  r.fidelityRunId = id;
  save();
  const outDir = runDir(ctx.runsDir, id);
  ctx.onProgress?.(`Fidelity of ${x.v.label || x.v.id}: ${stages.join(', ')}`);
  // the variant as the check sees it: its own name (not the model's baseline), input shapes, files, the sweep's target and device
  const model: Model = {
    ...x.vm,
    name: `${opts.model.name}-${x.v.id}`,
    netName: netNameOf(x.vm),
    onnx: path.relative(opts.projectRoot, x.onnx),
    ...(files.har ? { har: path.relative(opts.projectRoot, files.har) } : {}),
    ...(files.hef ? { hef: path.relative(opts.projectRoot, files.hef) } : {}),
    target: opts.target.name,
    ...(opts.device ? { device: opts.device.name } : { device: undefined }),
  };
  const host = stages.filter((s): s is HostStage => (HOST_STAGES as readonly string[]).includes(s));
  const signal = eitherSignal(ctx.signal, ctx.detach);
  const runner = (h: RemoteHost) => ({
    host: h,
    runsDir: ctx.runsDir,
    log: ctx.log,
    signal: ctx.signal,
    detach: ctx.detach,
    pollIntervalMs: ctx.pollIntervalMs,
    events: ctx.runEvents,
  });
  // what the sweep cannot run is skipped with why, in the check's record like any skipped stage
  const refused: StageRecord[] = [];
  const remote: RemoteStage[] = [];
  for (const s of stages) {
    if ((HOST_STAGES as readonly string[]).includes(s)) continue;
    const why =
      s === 'device'
        ? opts.device
          ? undefined
          : `the sweep "${rec.name}" names no device`
        : slurm
          ? `the emulator stages of a sweep run on an SSH target; ${opts.target.name} is a Slurm cluster`
          : undefined;
    if (why) refused.push({ stage: s, status: 'skipped', message: why });
    else remote.push(s as RemoteStage);
  }
  const net = netNameOf(x.vm);
  const vdir = path.dirname(x.onnx);
  const remoteHook = remote.length
    ? remoteStages({
        model,
        root: opts.projectRoot,
        outDir,
        stages: remote,
        targets: [opts.target],
        devices: opts.device ? [opts.device] : [],
        // a file that did not come back is named where it would be: its stage is skipped with that path
        files: {
          har: files.har ?? path.join(vdir, `${net}.har`),
          quantizedHar: files.quantizedHar ?? path.join(vdir, `${net}_optimized.har`),
          hef: files.hef ?? path.join(vdir, `${net}.hef`),
        },
        driverPath: tools.driverPath,
        ...(tools.python ? { python: tools.python } : {}),
        ...(tools.commit ? { commit: tools.commit } : {}),
        contextFor: (where) => runner(hostOf(where.name, where === opts.device)),
      })
    : undefined;
  try {
    const res = await runHostCheck({
      model,
      root: opts.projectRoot,
      outDir,
      stages: host,
      factoryKwargs: x.v.kwargs,
      interpreter: tools.interpreter,
      chooseHint: tools.chooseHint,
      driverPath: tools.driverPath,
      wasmDir: tools.wasmDir,
      ...(tools.onnxWorker ? { onnxWorker: tools.onnxWorker } : {}),
      ...(tools.commit ? { commit: tools.commit } : {}),
      ...(tools.env ? { env: tools.env } : {}),
      ...(signal ? { signal } : {}),
      ...(ctx.log ? { log: ctx.log } : {}),
      ...(ctx.now ? { now: ctx.now } : {}),
      onProgress: (m) => ctx.onProgress?.(`Fidelity of ${x.v.label || x.v.id}: ${m}`),
      ...(remoteHook || refused.length ? { remote: async (a) => [...refused, ...(remoteHook ? await remoteHook(a) : [])] } : {}),
    });
    // the window closed while a remote stage ran: it keeps running, the pick-up completes the check
    checkStop(ctx);
    return { record: res.record, file: res.file };
  } catch (e) {
    if (isCancelled(e)) checkStop(ctx);
    throw e;
  }
}
