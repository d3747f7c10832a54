import * as fs from 'node:fs';
import * as path from 'node:path';
import { HailoError, isCancelled } from '../errors';
import { nullLogger } from '../logger';
import { modelPaths } from '../project/load';
import type { Model, Target } from '../project/schema';
import { dfcEnvironment, netNameOf, planStep } from './dfc';
import { dfcDriver } from './dfcDriver';
import { driverFor } from './drivers';
import { slurmDriver } from '../slurm/driver';
import { rjoin } from './quote';
import { RunRecord, RunStep, newRunId, pruneRuns, writeRun, type DfcStepName } from './run';
import { cancelRecordedRun, executeRun, finishRun, resumeRecordedRun, type PipelineContext } from './runner';
import { uploadInputs, type UploadItem } from './upload';

export { collectExtras, lastError } from './dfcDriver';
import { optimizedHarPath } from './pipelinePaths';
export { optimizedHarPath };

export type { PipelineContext, PipelineEvents, RunEvents, RunnerContext } from './runner';

export interface StartOptions {
  projectRoot: string;
  model: Model;
  target: Target;
  steps: readonly DfcStepName[];
  /** Copy the resulting HAR/HEF to the model's paths from hailo.json (default true). */
  updateModelFiles?: boolean;
}

const iso = (d: Date) => d.toISOString();

/** Create the run (run.json, uploads) and execute its steps. */
export async function startRun(ctx: PipelineContext, opts: StartOptions): Promise<RunRecord> {
  const now = ctx.now ?? (() => new Date());
  const log = ctx.log ?? nullLogger;
  const { host, model, target } = { host: ctx.host, model: opts.model, target: opts.target };
  const hwArch = model.hwArch ?? target.hwArch ?? 'hailo8l';
  const steps = [...opts.steps].sort((a, b) => order(a) - order(b));
  if (!steps.length) throw new HailoError('INVALID_ARGUMENT', 'no steps to run');
  if (ctx.keep) pruneRuns(ctx.runsDir, Math.max(1, ctx.keep - 1));

  ctx.events?.onProgress?.(`Connecting to ${target.host}`);
  const workDir = await host.absolute(target.workDir ?? '~/hailo-workbench', ctx.signal);
  const id = newRunId(model.name, now());
  const remoteDir = rjoin(workDir, 'runs', id);
  const net = netNameOf(model);
  const p = modelPaths(model, opts.projectRoot);

  // inputs: the ONNX for parse; otherwise the HAR the first step starts from
  const items: UploadItem[] = [];
  const first = steps[0]!;
  if (first === 'parse') items.push({ role: 'onnx', local: p.onnx, dest: `inputs/${path.basename(p.onnx)}` });
  if (first === 'optimize') items.push({ role: 'har', local: p.har, dest: `${net}.har` });
  if (first === 'compile') items.push({ role: 'quantized-har', local: optimizedHarPath(p.har), dest: `${net}_optimized.har` });
  if (steps.includes('optimize')) {
    if (p.calibSet) items.push({ role: 'calibSet', local: p.calibSet, dest: `inputs/calib/${path.basename(p.calibSet)}` });
    if (p.modelScript) items.push({ role: 'modelScript', local: p.modelScript, dest: `inputs/${path.basename(p.modelScript)}` });
  }
  for (const it of items) {
    if (!fs.existsSync(it.local)) {
      const hint =
        it.role === 'onnx'
          ? 'export the model first'
          : it.role === 'har'
            ? 'run Parse first'
            : it.role === 'quantized-har'
              ? 'run Optimize first'
              : 'check hailo.json';
      throw new HailoError('INVALID_ARGUMENT', `${it.local}: ${it.role} not found (${hint})`, { file: it.local });
    }
  }

  const run: RunRecord = RunRecord.parse({
    version: 1,
    id,
    kind: 'compile',
    model: model.name,
    netName: net,
    hwArch,
    target: {
      name: target.name,
      host: target.host,
      workDir,
      ...(target.dfc ? { dfc: target.dfc } : {}),
      ...(target.memoryLimitGB ? { memoryLimitGB: target.memoryLimitGB } : {}),
      ...(target.kind === 'slurm' ? { kind: 'slurm', slurm: target.slurm } : {}),
    },
    remoteDir,
    createdAt: iso(now()),
    status: 'running',
    steps: [],
    inputs: [],
    bytesSent: 0,
    toolVersions: {},
  });
  const calibDest = p.calibSet ? `inputs/calib/${path.basename(p.calibSet)}` : undefined;
  const inputs = {
    onnx: rjoin(remoteDir, `inputs/${path.basename(p.onnx)}`),
    ...(calibDest && steps.includes('optimize') ? { calibSet: rjoin(remoteDir, calibDest) } : {}),
    ...(p.modelScript && steps.includes('optimize') ? { modelScript: rjoin(remoteDir, `inputs/${path.basename(p.modelScript)}`) } : {}),
  };
  // refuses a Docker container name that docker would read as an option, before anything is recorded
  dfcEnvironment(target.dfc, workDir);
  for (const s of steps) {
    const plan = planStep(s, model, { runDir: remoteDir, hwArch, inputs });
    run.steps.push(RunStep.parse({ step: s, status: 'pending', command: plan.argv, artifacts: plan.outputs, logOffset: 0 }));
  }
  writeRun(ctx.runsDir, run);
  log.info(`Run ${id}: ${steps.join(' → ')} of ${model.name} on ${target.host} (${remoteDir})`);

  try {
    ctx.events?.onProgress?.('Uploading inputs');
    const up = await uploadInputs(host, { workDir, runDir: remoteDir, items, signal: ctx.signal, onProgress: (m) => ctx.events?.onProgress?.(m) });
    run.inputs = up.inputs;
    run.bytesSent = up.bytesSent;
    log.info(`Inputs: ${up.inputs.map((i) => `${i.dest} ${i.sha256.slice(0, 12)}${i.sent ? ' sent' : ' cached'}`).join(', ')} (${up.bytesSent} bytes sent)`);
    writeRun(ctx.runsDir, run);
  } catch (e) {
    finishRun(ctx, run, isCancelled(e) ? 'cancelled' : 'failed');
    throw e;
  }
  const dopts = { projectRoot: opts.projectRoot, model: opts.updateModelFiles === false ? undefined : model };
  return executeRun(ctx, run, target.kind === 'slurm' ? slurmDriver(dopts) : dfcDriver(dopts));
}

/** Reattach to a run recorded in `<runsDir>/<id>/run.json` (after a reload or a lost connection). */
export async function resumeRun(ctx: PipelineContext, id: string, opts: { projectRoot?: string; model?: Model; target?: Target } = {}): Promise<RunRecord> {
  return resumeRecordedRun(ctx, id, (run) => driverFor(run, opts));
}

/**
 * Stop a run that nobody follows (left running by a closed window or a lost connection): kill the
 * remote process group of its running step and record the run as cancelled.
 */
export async function cancelDetachedRun(ctx: PipelineContext, id: string): Promise<RunRecord> {
  return cancelRecordedRun(ctx, id, (run) => driverFor(run));
}

function order(s: DfcStepName): number {
  return s === 'parse' ? 0 : s === 'optimize' ? 1 : 2;
}
