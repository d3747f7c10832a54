import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { lintOnnxFile } from '../analysis/lintFile';
import { HailoError, errorMessage, isCancelled } from '../errors';
import { specFromModel, type ExportSpec } from '../export/spec';
import { parseDfcLog, type DfcLogSummary } from '../hailo/dfcLog';
import { nullLogger, type Logger } from '../logger';
import { modelPaths } from '../project/load';
import type { Model, Sweep, Target } from '../project/schema';
import { netNameOf, planStep } from '../remote/dfc';
import type { RemoteHost } from '../remote/host';
import { startRun } from '../remote/pipeline';
import { rjoin } from '../remote/quote';
import { DFC_STEPS, newRunId } from '../remote/run';
import { uploadInputs, type UploadItem } from '../remote/upload';
import { SlurmClient } from './client';
import type { SlurmJobState } from './state';
import { expandSweep, resultFromDfcLog, sweepArraySpec, variantLogPath, variantModel, type StepOutcome, type SweepVariant, type VariantResult } from './sweep';
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
  /** Local `.hailo/runs` (SSH targets run each variant as a recorded run). */
  runsDir: string;
  log?: Logger;
  signal?: AbortSignal;
  pollIntervalMs?: number;
  now?: () => Date;
  onProgress?(message: string): void;
  /** The record after every change (the panel redraws from it). */
  onUpdate?(rec: SweepRecord): void;
}

export interface SweepOptions {
  projectRoot: string;
  projectFile: string;
  sweep: Sweep;
  model: Model;
  target: Target;
  /** Export one variant (the interpreter and driver are the caller's): writes `spec.out` or throws. */
  exportVariant(spec: ExportSpec, variant: SweepVariant): Promise<void>;
}

function emptySteps(): Partial<Record<(typeof DFC_STEPS)[number], StepOutcome>> {
  return { parse: 'not-run', optimize: 'not-run', compile: 'not-run' };
}

export async function runSweep(ctx: SweepContext, opts: SweepOptions): Promise<SweepRecord> {
  const log = ctx.log ?? nullLogger;
  const now = ctx.now ?? (() => new Date());
  const { sweep, model, target } = opts;
  const variants = expandSweep(sweep, model);
  const slurm = target.kind === 'slurm';
  const concurrency = sweep.concurrency ?? (slurm ? (target.slurm?.arrayLimit ?? 4) : 1);
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
    results: variants.map((v) => ({ variant: { ...v }, exported: 'not-run' as const, steps: emptySteps() })),
  };
  const localDir = sweepDir(ctx.sweepsDir, rec.id);
  const save = () => {
    writeSweep(ctx.sweepsDir, rec);
    ctx.onUpdate?.(rec);
  };
  save();
  log.info(
    `Sweep ${sweep.name} (${rec.id}): ${variants.length} variants of ${model.name} on ${target.name}${slurm ? ` as a Slurm job array, ${concurrency} at once` : ', one after the other'}`,
  );

  try {
    // 1. export and lint each variant here; a failure ends that variant only
    const ready: { v: SweepVariant; vm: Model; onnx: string }[] = [];
    for (const [i, v] of variants.entries()) {
      const r = rec.results[i]!;
      if (ctx.signal?.aborted) throw new HailoError('CANCELLED', 'Sweep cancelled');
      const vm = variantModel(model, v);
      const onnx = path.join(localDir, v.id, `${netNameOf(model)}.onnx`);
      fs.mkdirSync(path.dirname(onnx), { recursive: true });
      ctx.onProgress?.(`Exporting ${v.label || v.id} (${i + 1}/${variants.length})`);
      try {
        const spec = { ...specFromModel(vm, opts.projectRoot), out: onnx, ...(Object.keys(v.kwargs).length ? { kwargs: v.kwargs } : {}) };
        await opts.exportVariant(spec, v);
        r.exported = 'succeeded';
      } catch (e) {
        if (isCancelled(e)) throw e;
        r.exported = 'failed';
        r.firstError = `export: ${errorMessage(e)}`.slice(0, 500);
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
    rec.status = rec.results.some((r) => r.steps.compile === 'succeeded') ? 'succeeded' : 'failed';
  } catch (e) {
    rec.status = isCancelled(e) ? 'cancelled' : 'failed';
    if (!isCancelled(e)) log.error(`Sweep ${sweep.name}: ${errorMessage(e)}`);
    throw e;
  } finally {
    for (const r of rec.results) for (const s of DFC_STEPS) if (r.steps[s] === 'running') r.steps[s] = rec.status === 'cancelled' ? 'cancelled' : 'failed';
    rec.endedAt = now().toISOString();
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

async function runOnSlurm(
  ctx: SweepContext,
  opts: SweepOptions,
  rec: SweepRecord,
  ready: { v: SweepVariant; vm: Model; onnx: string }[],
  save: () => void,
): Promise<void> {
  const { host } = ctx;
  const target = opts.target;
  const o = target.slurm;
  if (!o) throw new HailoError('INVALID_ARGUMENT', `target "${target.name}" has no "slurm" settings`);
  const workDir = await host.absolute(target.workDir ?? '~/hailo-workbench', ctx.signal);
  const remoteDir = rjoin(workDir, 'sweeps', rec.id);
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
  const client = new SlurmClient(host);
  ctx.onProgress?.('Submitting the job array');
  const sub = await client.submit(o, spec, { signal: ctx.signal });
  rec.jobId = sub.jobId;
  for (const { v } of ready) {
    const r = rec.results[v.index]!;
    r.slurm = { jobId: `${sub.jobId}_${v.index}`, state: 'PENDING' };
  }
  save();
  (ctx.log ?? nullLogger).info(`Sweep ${rec.name}: job array ${sub.jobId} (${ready.length} elements, ${rec.concurrency} at once)`);

  const interval = ctx.pollIntervalMs ?? 2000;
  let cancelled = false;
  let finishedPolls = 0;
  for (;;) {
    if (ctx.signal?.aborted && !cancelled) {
      cancelled = true;
      ctx.onProgress?.(`Cancelling job array ${sub.jobId}`);
      await client.cancel(sub.jobId);
    }
    const states = await client.state(sub.jobId, cancelled ? undefined : ctx.signal).catch((e: unknown) => {
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
    const allKnown = ready.every(({ v }) => known.has(v.index));
    // an element Slurm has forgotten (or a pending array cancelled as one record) must not keep the loop going
    finishedPolls = states.length && !pendingLeft ? finishedPolls + 1 : 0;
    if (states.length && !pendingLeft && (allKnown || cancelled || finishedPolls > 5)) {
      for (const { v } of ready) {
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
          jobId: s.arrayTaskId !== undefined ? s.jobId : `${sub.jobId}_${v.index}`,
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

async function runOneByOne(
  ctx: SweepContext,
  opts: SweepOptions,
  rec: SweepRecord,
  ready: { v: SweepVariant; vm: Model; onnx: string }[],
  save: () => void,
): Promise<void> {
  for (const { v, vm, onnx } of ready) {
    const r = rec.results[v.index]!;
    if (ctx.signal?.aborted) throw new HailoError('CANCELLED', 'Sweep cancelled');
    ctx.onProgress?.(`Variant ${v.label || v.id} on ${opts.target.name}`);
    const dir = path.dirname(onnx);
    const m: Model = {
      ...vm,
      onnx: path.relative(opts.projectRoot, onnx),
      har: path.relative(opts.projectRoot, path.join(dir, `${netNameOf(vm)}.har`)),
      hef: path.relative(opts.projectRoot, path.join(dir, `${netNameOf(vm)}.hef`)),
    };
    r.steps.parse = 'running';
    save();
    try {
      const run = await startRun(
        { host: ctx.host, runsDir: ctx.runsDir, log: ctx.log, signal: ctx.signal, pollIntervalMs: ctx.pollIntervalMs },
        { projectRoot: opts.projectRoot, model: m, target: opts.target, steps: [...DFC_STEPS], updateModelFiles: false },
      );
      r.runId = run.id;
      for (const s of run.steps) {
        const st = s.step as (typeof DFC_STEPS)[number];
        r.steps[st] =
          s.status === 'succeeded'
            ? 'succeeded'
            : s.status === 'cancelled'
              ? 'cancelled'
              : s.status === 'skipped' || s.status === 'pending'
                ? 'not-run'
                : 'failed';
        if (s.error && !r.firstError) r.firstError = s.error.message.slice(0, 500);
        const sum = s.summary as DfcLogSummary | undefined;
        if (st === 'compile' && sum?.compile?.contexts !== undefined) r.contexts = sum.compile.contexts;
      }
    } catch (e) {
      if (isCancelled(e)) throw e;
      r.steps.parse = r.steps.parse === 'running' ? 'failed' : r.steps.parse;
      r.firstError ??= errorMessage(e).slice(0, 500);
      (ctx.log ?? nullLogger).warn(`Sweep ${rec.name}: variant ${v.id}: ${errorMessage(e)}`);
    }
    save();
  }
}
