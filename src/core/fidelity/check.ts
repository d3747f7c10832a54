import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage, HailoError, isCancelled, isHailoError } from '../errors';
import type { Interpreter } from '../export/interpreter';
import type { Logger } from '../logger';
import { nullLogger } from '../logger';
import { openOnnx } from '../onnx';
import { modelPaths } from '../project/load';
import { FIDELITY_STAGES, type FidelityStage, type Model } from '../project/schema';
import { damagedRanges, OutputComparison } from './compare';
import { runFidelityDriver, type FidelityDriverProgress, type Manifest } from './driver';
import { fidelityFindings, type FidelityFinding } from './findings';
import { readNpy } from './npy';
import { annotateFidelityRuns, collectRemoteStages, remoteStageProblem, runStillGoing, type RemoteHookArgs } from './remoteRun';
import type { RemoteStage } from './remotePlan';
import { CHECK_PLAN_VERSION, groupRunsDir, readCheckPlan, writeCheckPlan, type CheckPlan, type RemoteGroup } from './store';
import { readRun, runDir, RUN_FILE, type RunRecord } from '../remote/run';
import { runOnnxStage, runOnnxStageInWorker, type OnnxWorkerSpec } from './onnxStage';
import { FIDELITY_RECORD_VERSION, writeFidelityRecord, type ComparisonRecord, type FidelityRecord, type StageRecord } from './record';
import { manifestSamples, resolveSamples, type Sample } from './samples';

/**
 * The fidelity check: runs the samples through each stage into `<outDir>/<stage>/<sample>/<output>.npy`
 * and compares. The host stages (torch, onnx) run here; the emulator and device stages write the
 * same folders through the remote runner, and compareStageOutputs() then compares all of them.
 */

export const HOST_STAGES = ['torch', 'onnx'] as const;
export type HostStage = (typeof HOST_STAGES)[number];

export function stageOrder(s: FidelityStage): number {
  return FIDELITY_STAGES.indexOf(s);
}

/** Output names: hailo.json's, else the ONNX graph's, else "output". */
export async function outputNames(model: Model, root: string): Promise<string[]> {
  if (model.outputs?.length) return model.outputs.map((o) => o.name);
  const onnx = modelPaths(model, root).onnx;
  if (fs.existsSync(onnx)) {
    try {
      const m = await openOnnx(onnx, { inferShapes: false });
      const names = m.graph.outputs.map((o) => o.name);
      if (names.length) return names;
    } catch {
      // an unreadable ONNX fails in its own stage with its own message
    }
  }
  return ['output'];
}

export interface CompareStagesOptions {
  /** Folder holding `<stage>/<sample>/<output>.npy`. */
  dir: string;
  stages: StageRecord[];
  samples: { id: string }[];
  outputs: string[];
  timeAxis?: number;
}

/**
 * Compare every stage that ran with the reference (the first stage that ran, normally torch) and
 * with the stage before it. A stage whose outputs cannot be compared (missing, NaN, wrong shape or
 * dtype) is marked failed with the reason; the others are still compared.
 */
export async function compareStageOutputs(opts: CompareStagesOptions): Promise<{ stages: StageRecord[]; comparisons: ComparisonRecord[] }> {
  const stages = opts.stages.map((s) => ({ ...s })).sort((a, b) => stageOrder(a.stage) - stageOrder(b.stage));
  const comparisons: ComparisonRecord[] = [];
  const fileOf = (stage: FidelityStage, sample: string, output: string) => path.join(opts.dir, stage, sample, `${output}.npy`);
  const ok = (): StageRecord[] => stages.filter((s) => s.status === 'ok');
  const reference = ok()[0];
  if (!reference) return { stages, comparisons };
  for (const s of stages) {
    if (s.status !== 'ok' || s === reference) continue;
    const before: StageRecord[] = ok().filter((o) => stageOrder(o.stage) < stageOrder(s.stage));
    const prev: StageRecord | undefined = before[before.length - 1];
    const pairs: { ref: StageRecord; against: 'reference' | 'previous' }[] = [{ ref: reference, against: 'reference' }];
    if (prev && prev !== reference) pairs.push({ ref: prev, against: 'previous' });
    const made: ComparisonRecord[] = [];
    try {
      for (const { ref, against } of pairs) {
        for (const output of opts.outputs) {
          const cmp = new OutputComparison({ timeAxis: opts.timeAxis });
          for (const sample of opts.samples) {
            const rf = fileOf(ref.stage, sample.id, output);
            const tf = fileOf(s.stage, sample.id, output);
            for (const [st, f] of [
              [ref.stage, rf],
              [s.stage, tf],
            ] as const) {
              if (!fs.existsSync(f))
                throw new HailoError('FIDELITY_OUTPUT_MISSING', `stage ${st} wrote no output "${output}" for sample ${sample.id} (${f})`, { file: f });
            }
            cmp.add(
              sample.id,
              { array: await readNpy(rf), label: `${ref.stage} output "${output}" of sample ${sample.id} (${rf})`, file: rf },
              { array: await readNpy(tf), label: `${s.stage} output "${output}" of sample ${sample.id} (${tf})`, file: tf },
            );
          }
          const r = cmp.result();
          made.push({
            reference: ref.stage,
            stage: s.stage,
            against,
            output,
            shape: r.shape,
            timeAxis: r.timeAxis ?? null,
            steps: r.steps,
            channels: r.channels,
            metrics: r.metrics,
            perSample: r.perSample,
            perStep: r.perStep,
            ...(r.perChannel ? { perChannel: r.perChannel } : {}),
            damaged: r.steps > 1 ? damagedRanges(r.perStep.snrDb) : [],
            transposed: r.transposed,
          });
        }
      }
      comparisons.push(...made);
    } catch (e) {
      if (!isHailoError(e)) throw e;
      s.status = 'failed';
      s.code = e.code;
      s.message = e.message;
      if (e.file) s.file = e.file;
    }
  }
  return { stages, comparisons };
}

export interface HostCheckOptions {
  model: Model;
  /** Folder of hailo.json. */
  root: string;
  /** Folder for this check: inputs/, <stage>/ and fidelity.json. */
  outDir: string;
  stages?: HostStage[];
  interpreter: Interpreter;
  chooseHint: string;
  driverPath: string;
  wasmDir: string;
  /**
   * Keyword arguments for the model's factory in the torch stage (a sweep variant, with the
   * variant's input shapes and files in `model`). Default: the factory is called without arguments.
   */
  factoryKwargs?: Record<string, unknown>;
  /** Run the ONNX stage on this worker thread entry (keeps the calling thread free). */
  onnxWorker?: OnnxWorkerSpec;
  commit?: string;
  runId?: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  log?: Logger;
  now?: () => Date;
  onProgress?: (message: string) => void;
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /**
   * The remote stages (emulator, device), run after the host stages on the same samples as runs of
   * the run engine (see remoteRun.ts): each group of stages is told to `track` with its run, whose
   * run.json then says how the stages went; returns the stages that never got a run.
   */
  remote?: (r: RemoteHookArgs) => Promise<StageRecord[]>;
}

export interface HostCheckResult {
  record: FidelityRecord;
  findings: FidelityFinding[];
  file: string;
  samples: Sample[];
  /** Milliseconds per stage (wall), and the ONNX session's create/run split. */
  timings: Record<string, number>;
}

/** Run the host stages (PyTorch and ONNX) and compare; writes `<outDir>/fidelity.json`. */
export async function runHostCheck(opts: HostCheckOptions): Promise<HostCheckResult> {
  const log = opts.log ?? nullLogger;
  const model = opts.model;
  const want = new Set<HostStage>(opts.stages ?? HOST_STAGES);
  const inputsDir = path.join(opts.outDir, 'inputs');
  fs.mkdirSync(opts.outDir, { recursive: true });
  const createdAt = (opts.now?.() ?? new Date()).toISOString();
  const plan: CheckPlan = {
    version: CHECK_PLAN_VERSION,
    model: model.name,
    createdAt,
    ...(opts.commit ? { commit: opts.commit } : {}),
    ...(opts.runId ? { runId: opts.runId } : {}),
    samples: [],
    outputs: [],
    ...(model.fidelity?.timeAxis !== undefined ? { timeAxis: model.fidelity.timeAxis } : {}),
    ...(model.fidelity?.thresholds ? { thresholds: model.fidelity.thresholds } : {}),
    ...(model.fidelity?.stageThresholds ? { stageThresholds: model.fidelity.stageThresholds } : {}),
    stages: [],
    remote: [],
  };
  // the plan exists from the start: the folder is a check (not a broken run) while the stages run
  writeCheckPlan(opts.outDir, plan);
  const samples = await resolveSamples(model, opts.root, { inputsDir });
  const outputs = await outputNames(model, opts.root);
  const paths = modelPaths(model, opts.root);
  const stages: StageRecord[] = [];
  const timings: Record<string, number> = {};
  plan.samples = samples.map((s) => ({ id: s.id, source: s.source }));
  plan.outputs = outputs;

  const fail = (stage: FidelityStage, e: unknown, seconds: number): StageRecord => {
    if (isCancelled(e)) throw e;
    const he = isHailoError(e) ? e : undefined;
    log.warn(`fidelity ${stage}: ${errorMessage(e)}`);
    return {
      stage,
      status: 'failed',
      code: he?.code ?? 'FIDELITY_STAGE_FAILED',
      message: errorMessage(e),
      ...(he?.file ? { file: he.file } : {}),
      seconds,
      where: 'host',
    };
  };

  if (want.has('torch')) {
    const t0 = performance.now();
    if (!model.entry) {
      stages.push({ stage: 'torch', status: 'skipped', message: 'the model has no "entry" (package.module:factory) in hailo.json', where: 'host' });
    } else {
      const manifest: Manifest = {
        samples: manifestSamples(samples),
        inputs: model.inputs.map((i) => ({ name: i.name, shape: i.shape, dtype: i.dtype ?? 'float32' })),
        outputs,
        outDir: path.join(opts.outDir, 'torch'),
        inputsDir,
      };
      const manifestPath = path.join(opts.outDir, 'torch.manifest.json');
      fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 1));
      try {
        opts.onProgress?.('torch: running the PyTorch model');
        const r = await runFidelityDriver({
          interpreter: opts.interpreter,
          driverPath: opts.driverPath,
          manifestPath,
          args: {
            stage: 'torch',
            entry: model.entry,
            root: opts.root,
            ...(model.fidelity?.audio ? { audioFn: model.fidelity.audio.function } : {}),
            ...(opts.factoryKwargs && Object.keys(opts.factoryKwargs).length ? { kwargs: opts.factoryKwargs } : {}),
          },
          chooseHint: opts.chooseHint,
          cwd: opts.root,
          env: opts.env,
          signal: opts.signal,
          log,
          onProgress: (p: FidelityDriverProgress) => opts.onProgress?.(p.message),
          onOutput: opts.onOutput,
        });
        const seconds = (performance.now() - t0) / 1000;
        stages.push({ stage: 'torch', status: 'ok', seconds, outputs: 'torch', where: 'host' });
        log.info(`fidelity torch: ${Object.keys(r.samples).length} sample(s) in ${seconds.toFixed(1)} s (torch ${r.versions?.torch ?? '?'})`);
      } catch (e) {
        stages.push(fail('torch', e, (performance.now() - t0) / 1000));
      }
    }
    timings.torch = performance.now() - t0;
    // inputs made from WAV files by the torch stage feed the later stages
    for (const s of samples) {
      if (s.inputs || !s.wav) continue;
      const files = Object.fromEntries(model.inputs.map((i) => [i.name, path.join(inputsDir, s.id, `${i.name}.npy`)]));
      if (Object.values(files).every((f) => fs.existsSync(f))) s.inputs = files;
    }
  }

  if (want.has('onnx')) {
    const t0 = performance.now();
    const ready = samples.filter((s): s is Sample & { inputs: Record<string, string> } => !!s.inputs);
    if (!fs.existsSync(paths.onnx)) {
      stages.push({ stage: 'onnx', status: 'skipped', message: `${paths.onnx} does not exist yet (export first)`, where: 'host' });
    } else if (ready.length < samples.length) {
      stages.push({
        stage: 'onnx',
        status: 'failed',
        code: 'FIDELITY_INPUT_INVALID',
        message: 'the WAV samples have no model inputs: the torch stage makes them and did not run',
        where: 'host',
      });
    } else {
      try {
        const stageOpts = {
          onnx: paths.onnx,
          wasmDir: opts.wasmDir,
          samples: ready.map((s) => ({ id: s.id, inputs: s.inputs })),
          outputs,
          outDir: path.join(opts.outDir, 'onnx'),
          signal: opts.signal,
          onProgress: (m: string) => opts.onProgress?.(m),
        };
        const r = opts.onnxWorker ? await runOnnxStageInWorker(stageOpts, opts.onnxWorker) : await runOnnxStage(stageOpts);
        timings.onnxCreate = r.createMs;
        timings.onnxRun = r.runMs;
        stages.push({ stage: 'onnx', status: 'ok', seconds: (performance.now() - t0) / 1000, outputs: 'onnx', where: 'host' });
      } catch (e) {
        stages.push(fail('onnx', e, (performance.now() - t0) / 1000));
      }
    }
    timings.onnx = performance.now() - t0;
  }

  plan.stages = stages;
  writeCheckPlan(opts.outDir, plan);
  if (opts.remote) {
    const t1 = performance.now();
    const track = (g: RemoteGroup) => {
      const key = g.stages.join(',');
      const i = plan.remote.findIndex((x) => x.stages.join(',') === key);
      if (i >= 0) plan.remote[i] = g;
      else plan.remote.push(g);
      writeCheckPlan(opts.outDir, plan);
    };
    const inputs = model.inputs.map((i) => ({ name: i.name, shape: i.shape, dtype: i.dtype ?? 'float32' }));
    const refused = await opts.remote({ samples, outputs, inputs, track });
    plan.stages = [...stages, ...refused];
    writeCheckPlan(opts.outDir, plan);
    timings.remote = performance.now() - t1;
  }

  const t0 = performance.now();
  const done = await completeCheck(opts.outDir, { plan });
  timings.compare = performance.now() - t0;
  return { ...done, samples, timings };
}

export interface CompletedCheck {
  record: FidelityRecord;
  findings: FidelityFinding[];
  file: string;
  /** The remote runs of the check that have ended (their steps now carry the figures for the Runs view). */
  runs: RunRecord[];
}

/**
 * Compare what a check's stages produced and store it: the stages of the plan, and those of its
 * remote runs as their run.json says (outputs copied into the check's folder; a run still going
 * is a failed stage saying so). Writes `fidelity.json` and the figures into the runs' steps. The
 * same after an uninterrupted check and after a reattached run ended.
 */
export async function completeCheck(dir: string, o: { plan?: CheckPlan; runsDir?: string } = {}): Promise<CompletedCheck> {
  const plan = o.plan ?? readCheckPlan(dir);
  const fallback = o.runsDir ?? path.dirname(dir);
  const stages: StageRecord[] = [...plan.stages];
  const runs: { runsDir: string; run: RunRecord }[] = [];
  for (const g of plan.remote) {
    if (!g.run) {
      for (const stage of g.stages)
        stages.push({
          stage,
          status: 'failed',
          code: 'FIDELITY_STAGE_FAILED',
          message: `${stage} did not start on ${g.where}: the check stopped before its run was recorded; run Check Fidelity again`,
          where: g.where,
        });
      continue;
    }
    const runsDir = groupRunsDir(dir, g, fallback);
    let run: RunRecord;
    try {
      run = readRun(path.join(runDir(runsDir, g.run), RUN_FILE));
    } catch (e) {
      for (const stage of g.stages) stages.push(remoteStageProblem(stage as RemoteStage, e, g.where));
      continue;
    }
    stages.push(...collectRemoteStages(runsDir, run, dir));
    runs.push({ runsDir, run });
  }
  const compared = await compareStageOutputs({ dir, stages, samples: plan.samples, outputs: plan.outputs, timeAxis: plan.timeAxis });
  const runIds = plan.remote.flatMap((g) => (g.run ? [g.run] : []));
  const record: FidelityRecord = {
    version: FIDELITY_RECORD_VERSION,
    model: plan.model,
    createdAt: plan.createdAt,
    ...(plan.commit ? { commit: plan.commit } : {}),
    ...(plan.runId ? { runId: plan.runId } : {}),
    ...(runIds.length ? { runs: runIds } : {}),
    samples: plan.samples,
    outputs: plan.outputs,
    stages: compared.stages,
    comparisons: compared.comparisons,
    ...(plan.thresholds ? { thresholds: plan.thresholds } : {}),
    ...(plan.stageThresholds ? { stageThresholds: plan.stageThresholds } : {}),
  };
  const file = writeFidelityRecord(dir, record);
  const ended = runs.filter((r) => !runStillGoing(r.run));
  for (const r of ended) annotateFidelityRuns(r.runsDir, [r.run], record);
  return { record, findings: fidelityFindings(record), file, runs: ended.map((r) => r.run) };
}
