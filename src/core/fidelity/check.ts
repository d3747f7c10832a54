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
   * The remote stages (emulator, device), run after the host stages on the same samples: returns
   * their stage records with the outputs placed in `<outDir>/<stage>/` (see remoteRun.ts).
   */
  remote?: (r: { samples: Sample[]; outputs: string[]; inputs: Manifest['inputs'] }) => Promise<StageRecord[]>;
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
  const samples = await resolveSamples(model, opts.root, { inputsDir });
  const outputs = await outputNames(model, opts.root);
  const paths = modelPaths(model, opts.root);
  const stages: StageRecord[] = [];
  const timings: Record<string, number> = {};
  const createdAt = (opts.now?.() ?? new Date()).toISOString();

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
          args: { stage: 'torch', entry: model.entry, root: opts.root, ...(model.fidelity?.audio ? { audioFn: model.fidelity.audio.function } : {}) },
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

  if (opts.remote) {
    const t1 = performance.now();
    stages.push(...(await opts.remote({ samples, outputs, inputs: model.inputs.map((i) => ({ name: i.name, shape: i.shape, dtype: i.dtype ?? 'float32' })) })));
    timings.remote = performance.now() - t1;
  }

  const t0 = performance.now();
  const compared = await compareStageOutputs({ dir: opts.outDir, stages, samples, outputs, timeAxis: model.fidelity?.timeAxis });
  timings.compare = performance.now() - t0;
  const record: FidelityRecord = {
    version: FIDELITY_RECORD_VERSION,
    model: model.name,
    createdAt,
    ...(opts.commit ? { commit: opts.commit } : {}),
    ...(opts.runId ? { runId: opts.runId } : {}),
    samples: samples.map((s) => ({ id: s.id, source: s.source })),
    outputs,
    stages: compared.stages,
    comparisons: compared.comparisons,
    ...(model.fidelity?.thresholds ? { thresholds: model.fidelity.thresholds } : {}),
    ...(model.fidelity?.stageThresholds ? { stageThresholds: model.fidelity.stageThresholds } : {}),
  };
  const file = writeFidelityRecord(opts.outDir, record);
  return { record, findings: fidelityFindings(record), file, samples, timings };
}
