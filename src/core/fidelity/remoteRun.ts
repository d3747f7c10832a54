import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage, HailoError, isCancelled, isHailoError } from '../errors';
import { nullLogger } from '../logger';
import type { Device, Model, Target } from '../project/schema';
import { dfcEnvironment, netNameOf } from '../remote/dfc';
import { rjoin } from '../remote/quote';
import { executeRun, finishRun, type RunnerContext, type StepDriver, type StepVerdict } from '../remote/runner';
import { newRunId, pruneRuns, RunRecord, RunStep, runDir, RUN_FILE, writeRun, type FidelityStepName } from '../remote/run';
import { uploadInputs, type UploadItem } from '../remote/upload';
import { DRIVER_COMMON_FILE, parseFidelityDriverLine, type FidelityDriverResult, type Manifest } from './driver';
import type { StageRecord } from './record';
import { planRemoteStage, type RemoteStage } from './remotePlan';
import type { RemoteGroup } from './store';

/**
 * The emulator and device stages as runs of the run engine (`kind: "fidelity"`): the driver, the
 * model file (HAR or HEF), the manifests and the inputs are uploaded content-addressed; each stage
 * is one detached step (`python3 hailo_fidelity.py --stage …`), followed, reattached after a
 * dropped connection or a reload, cancellable; its outputs come back as
 * `.hailo/runs/<id>/<stage>/<sample>/<output>.npy`.
 */

export const EMULATOR_STAGES = ['fp-optimized', 'quantized'] as const;
export const REMOTE_STAGES: readonly RemoteStage[] = ['fp-optimized', 'quantized', 'device'];
export const isRemoteStage = (s: string): s is RemoteStage => (REMOTE_STAGES as readonly string[]).includes(s);

/** What the driver's result line says, kept as the step's summary. */
export interface FidelityStepSummary {
  stage: RemoteStage;
  samples: Record<string, Record<string, { shape: number[]; dtype: string }>>;
  versions?: Record<string, string | null>;
  seconds?: number;
  python?: string;
  /** The driver's error, when it reported one. */
  error?: { kind: string; message: string };
}

const SAFE = /^[A-Za-z0-9_.-]+$/;
const safe = (s: string) => SAFE.test(s) && s !== '.' && s !== '..';

/** Read the driver's JSON lines out of a step log. */
export function fidelityStepVerdict(stage: RemoteStage, text: string, exitCode: number): StepVerdict {
  let result: FidelityDriverResult | undefined;
  let error: { kind: string; message: string } | undefined;
  for (const line of text.split(/\r?\n/)) {
    const ev = parseFidelityDriverLine(line);
    if (ev?.event === 'result') result = ev;
    else if (ev?.event === 'error') error = { kind: ev.kind, message: ev.message };
  }
  const summary: FidelityStepSummary = {
    stage,
    samples: result
      ? Object.fromEntries(
          Object.entries(result.samples).map(([id, outs]) => [
            id,
            Object.fromEntries(Object.entries(outs).map(([o, f]) => [o, { shape: f.shape, dtype: f.dtype }])),
          ]),
        )
      : {},
    ...(result?.versions ? { versions: result.versions } : {}),
    ...(result?.seconds !== undefined ? { seconds: result.seconds } : {}),
    ...(result?.python ? { python: result.python } : {}),
    ...(error ? { error } : {}),
  };
  const versions = {
    ...(result?.versions?.hailo_sdk_client ? { dfc: result.versions.hailo_sdk_client } : {}),
    ...(result?.versions?.hailo_platform ? { hailort: result.versions.hailo_platform } : {}),
  };
  if (error)
    return {
      summary,
      versions,
      failed: true,
      code: error.kind === 'missing-package' ? 'PYTHON_MISSING_PACKAGE' : 'FIDELITY_STAGE_FAILED',
      reason: `${error.kind}: ${error.message}`,
    };
  if (!result) {
    const tail = text.trim().split('\n').slice(-3).join(' ').slice(0, 500);
    return {
      summary,
      versions,
      failed: true,
      code: 'FIDELITY_STAGE_FAILED',
      reason: `the driver wrote no result${exitCode !== 0 ? '' : ' although it exited with 0'}${tail ? ` (${tail})` : ''}`,
    };
  }
  return { summary, versions };
}

/** The step driver of remote fidelity stages: the DFC environment on a target, the plain shell on a device. */
export function fidelityRunDriver(): StepDriver {
  return {
    kind: 'fidelity',
    environment: (run) =>
      run.device
        ? { jobEnv: { prefix: [] }, launch: (argv) => [...argv], mapPath: (p) => p, describe: 'Python on the device' }
        : dfcEnvironment(run.target.dfc, run.target.workDir),
    finish: (_run, step, text, result) => fidelityStepVerdict(step.step as RemoteStage, text, result.exitCode),
    async afterStep(ctx, run, step, localDir) {
      // outputs are `<stage>/<sample>/<output>.npy`: names checked before any path is made of them
      const summary = step.summary as FidelityStepSummary | undefined;
      if (!summary) return;
      for (const [sample, outs] of Object.entries(summary.samples)) {
        for (const out of Object.keys(outs)) {
          if (!safe(sample) || !safe(out)) {
            (ctx.log ?? nullLogger).warn(`Run ${run.id}: not downloading output "${out}" of sample "${sample}": not a safe file name`);
            continue;
          }
          const local = path.join(localDir, step.step, sample, `${out}.npy`);
          fs.mkdirSync(path.dirname(local), { recursive: true });
          ctx.events?.onProgress?.(`Downloading ${step.step}/${sample}/${out}.npy`);
          await ctx.host.download(rjoin(run.remoteDir, step.step, sample, `${out}.npy`), local, ctx.signal);
        }
      }
    },
  };
}

export interface RemoteStagesOptions {
  model: Model;
  /** Where the stages run: a compile target (emulator stages) or a device (device stage). */
  on: { target: Target } | { device: Device };
  stages: RemoteStage[];
  /** The HAR (emulator stages) or HEF (device stage) on this machine. */
  modelFile: string;
  driverPath: string;
  samples: { id: string; inputs?: Record<string, string> }[];
  inputs: Manifest['inputs'];
  outputs: string[];
  /** argv that runs the remote Python (default `python3`, inside the DFC environment on a target). */
  python?: readonly string[];
  commit?: string;
  /** The run's id (default: a new one); the check's own folder for its first remote run. */
  id?: string;
  /** Told once the run is recorded (before anything is sent), so a check can find it after a reload. */
  onCreated?: (run: RunRecord) => void;
}

/** Start a fidelity run (uploads, then the stages one after the other) and follow it to its end. */
export async function runRemoteStages(ctx: RunnerContext, o: RemoteStagesOptions): Promise<RunRecord> {
  const now = ctx.now ?? (() => new Date());
  const log = ctx.log ?? nullLogger;
  const { host } = ctx;
  const where = 'target' in o.on ? o.on.target : o.on.device;
  if (ctx.keep) pruneRuns(ctx.runsDir, Math.max(1, ctx.keep - 1));
  const workDir = await host.absolute(where.workDir ?? '~/hailo-workbench', ctx.signal);
  const id = o.id ?? newRunId(o.model.name, now());
  if (o.id && fs.existsSync(path.join(runDir(ctx.runsDir, o.id), RUN_FILE)))
    throw new HailoError('RUN_INVALID', `run ${o.id} exists already in ${ctx.runsDir}`, { file: path.join(runDir(ctx.runsDir, o.id), RUN_FILE) });
  const remoteDir = rjoin(workDir, 'runs', id);
  const localDir = runDir(ctx.runsDir, id);
  fs.mkdirSync(localDir, { recursive: true });
  const env = 'target' in o.on ? dfcEnvironment(o.on.target.dfc, workDir) : undefined;
  const jobDir = env ? env.mapPath(remoteDir) : remoteDir;
  const items = new Map<string, UploadItem>();
  const steps: RunStep[] = [];
  for (const stage of o.stages) {
    // paths as the job sees them (inside a Docker container, the work dir may be mounted elsewhere)
    const plan = planRemoteStage({
      stage,
      remoteDir: jobDir,
      localDir,
      modelFile: o.modelFile,
      driverPath: o.driverPath,
      samples: o.samples,
      inputs: o.inputs,
      outputs: o.outputs,
    });
    const manifestLocal = path.join(localDir, `${stage}.manifest.json`);
    fs.writeFileSync(manifestLocal, JSON.stringify(plan.manifest, null, 1));
    for (const u of [...plan.uploads, { local: manifestLocal, remote: plan.manifestPath }]) {
      const dest = path.posix.relative(jobDir, u.remote);
      const role =
        u.remote === plan.manifestPath
          ? 'manifest'
          : u.local === o.modelFile
            ? stage === 'device'
              ? 'hef'
              : 'har'
            : u.local === o.driverPath || path.basename(u.local) === DRIVER_COMMON_FILE
              ? 'driver'
              : 'input';
      items.set(dest, { local: u.local, dest, role });
    }
    steps.push(
      RunStep.parse({
        step: stage satisfies FidelityStepName,
        status: 'pending',
        command: [...(o.python ?? ['python3']), ...plan.argv],
        artifacts: [],
        logOffset: 0,
      }),
    );
  }
  const run: RunRecord = RunRecord.parse({
    version: 1,
    id,
    kind: 'fidelity',
    model: o.model.name,
    netName: netNameOf(o.model),
    hwArch: ('hwArch' in where && where.hwArch) || o.model.hwArch || 'hailo8l',
    target: {
      name: where.name,
      host: where.host,
      workDir,
      ...('target' in o.on && o.on.target.dfc ? { dfc: o.on.target.dfc } : {}),
      ...('target' in o.on && o.on.target.memoryLimitGB ? { memoryLimitGB: o.on.target.memoryLimitGB } : {}),
    },
    ...(o.commit ? { commit: o.commit } : {}),
    ...('device' in o.on ? { device: { name: o.on.device.name } } : {}),
    remoteDir,
    createdAt: now().toISOString(),
    status: 'running',
    steps,
    inputs: [],
    bytesSent: 0,
    toolVersions: {},
  });
  writeRun(ctx.runsDir, run);
  o.onCreated?.(run);
  log.info(`Run ${id}: fidelity ${o.stages.join(', ')} of ${o.model.name} on ${where.name} (${where.host})`);
  try {
    ctx.events?.onProgress?.(`Uploading the fidelity inputs to ${where.name}`);
    const up = await uploadInputs(host, {
      workDir,
      runDir: remoteDir,
      items: [...items.values()],
      signal: ctx.signal,
      onProgress: (m) => ctx.events?.onProgress?.(m),
    });
    run.inputs = up.inputs;
    run.bytesSent = up.bytesSent;
    log.info(`Fidelity inputs: ${up.inputs.length} file(s), ${up.bytesSent} bytes sent (the rest was cached)`);
    writeRun(ctx.runsDir, run);
  } catch (e) {
    // the steps never started: each keeps the reason (the check reads it from run.json)
    for (const s of run.steps)
      s.error = { code: isHailoError(e) ? e.code : 'FIDELITY_STAGE_FAILED', message: `upload to ${where.name} failed: ${errorMessage(e)}` };
    finishRun(ctx, run, isCancelled(e) ? 'cancelled' : 'failed');
    throw e;
  }
  return executeRun(ctx, run, fidelityRunDriver());
}

/** Whether a run is still going on its target (followed, or to be reattached). */
export const runStillGoing = (run: RunRecord) => run.status === 'running' || run.status === 'detached';

/**
 * The stage records of a fidelity run, with its outputs copied into the check's folder
 * (`<outDir>/<stage>/`, nothing to copy when the run is the check's own folder): a stage that did
 * not succeed is failed with the step's error; a run still going on its target says so.
 */
export function collectRemoteStages(runsDir: string, run: RunRecord, outDir: string): StageRecord[] {
  const local = runDir(runsDir, run.id);
  return run.steps.map((s): StageRecord => {
    const stage = s.step as RemoteStage;
    const where = run.target.name;
    const seconds = (s.durationMs ?? 0) / 1000;
    if (runStillGoing(run) && (s.status === 'running' || s.status === 'pending')) {
      return {
        stage,
        status: 'failed',
        code: 'FIDELITY_STAGE_RUNNING',
        message: `${stage} is still running on ${run.target.host} (run ${run.id}): reattach from the Runs view (or reload the window); the comparison is made again when it ends`,
        where,
      };
    }
    if (s.status !== 'succeeded') {
      const message =
        s.error?.message ??
        (s.status === 'skipped' ? `not run: an earlier step of run ${run.id} did not succeed` : `${stage} ${s.status} on ${run.target.host}`);
      return { stage, status: 'failed', code: s.error?.code ?? 'FIDELITY_STAGE_FAILED', message: `${message} (run ${run.id})`, seconds, where };
    }
    const from = path.join(local, stage);
    const to = path.join(outDir, stage);
    if (path.resolve(from) !== path.resolve(to)) {
      fs.rmSync(to, { recursive: true, force: true });
      if (fs.existsSync(from)) fs.cpSync(from, to, { recursive: true });
    }
    return { stage, status: 'ok', seconds, outputs: stage, where };
  });
}

/** A remote stage that could not even start (no target, no HAR, a refused upload): failed or skipped with the reason. */
export function remoteStageProblem(stage: RemoteStage, e: unknown, where?: string): StageRecord {
  if (isCancelled(e)) throw e;
  return {
    stage,
    status: 'failed',
    code: isHailoError(e) ? e.code : 'FIDELITY_STAGE_FAILED',
    message: errorMessage(e),
    ...(isHailoError(e) && e.file ? { file: e.file } : {}),
    ...(where ? { where } : {}),
  };
}

/** Which remote stages can run for a model: the HAR for the emulator, the HEF and a device for the device stage; the rest skipped with why. */
export function remoteStagePlan(
  model: Model,
  files: { har: string; quantizedHar?: string; hef: string },
  opts: { stages: readonly RemoteStage[]; target?: Target; device?: Device; exists?: (f: string) => boolean },
): { emulator?: { target: Target; har: string; stages: RemoteStage[] }; device?: { device: Device; hef: string }; skipped: StageRecord[] } {
  const exists = opts.exists ?? fs.existsSync;
  const skipped: StageRecord[] = [];
  const emu = opts.stages.filter((s) => s !== 'device');
  let emulator: { target: Target; har: string; stages: RemoteStage[] } | undefined;
  if (emu.length) {
    // the optimized (quantized) HAR has both contexts; a parsed HAR has only the float ones
    const har = files.quantizedHar && exists(files.quantizedHar) ? files.quantizedHar : exists(files.har) ? files.har : undefined;
    if (!har) for (const s of emu) skipped.push({ stage: s, status: 'skipped', message: `${files.har} does not exist yet (run Parse and Optimize first)` });
    else if (!opts.target)
      for (const s of emu)
        skipped.push({
          stage: s,
          status: 'skipped',
          message: `no compile target for ${model.name} (set "target" on the model or add one under "targets" in hailo.json)`,
        });
    else {
      const stages = emu.filter((s) => s !== 'quantized' || har === files.quantizedHar || !files.quantizedHar);
      for (const s of emu)
        if (!stages.includes(s))
          skipped.push({
            stage: s,
            status: 'skipped',
            message: `${files.quantizedHar} does not exist yet (run Optimize first): the parsed HAR has no quantized weights`,
          });
      if (stages.length) emulator = { target: opts.target, har, stages };
    }
  }
  let device: { device: Device; hef: string } | undefined;
  if (opts.stages.includes('device')) {
    if (!exists(files.hef)) skipped.push({ stage: 'device', status: 'skipped', message: `${files.hef} does not exist yet (run Compile first)` });
    else if (!opts.device)
      skipped.push({
        stage: 'device',
        status: 'skipped',
        message: `no device for ${model.name} (set "device" on the model or add one under "devices" in hailo.json)`,
      });
    else device = { device: opts.device, hef: files.hef };
  }
  return { ...(emulator ? { emulator } : {}), ...(device ? { device } : {}), skipped };
}

export interface RemoteCallbackOptions {
  model: Model;
  /** Folder of hailo.json. */
  root: string;
  outDir: string;
  stages: readonly RemoteStage[];
  targets?: readonly Target[];
  devices?: readonly Device[];
  files: { har: string; quantizedHar?: string; hef: string };
  driverPath: string;
  /** The run engine's context for a target or device (its SSH host, runs folder, events, signal). */
  contextFor: (where: Target | Device) => RunnerContext | Promise<RunnerContext>;
  python?: readonly string[];
  commit?: string;
  /** Told each fidelity run once it ended (for the Runs view). */
  onRun?: (run: RunRecord) => void;
}

/** What runHostCheck gives its `remote` hook. */
export interface RemoteHookArgs {
  samples: { id: string; inputs?: Record<string, string> }[];
  outputs: string[];
  inputs: Manifest['inputs'];
  /** Record a group of remote stages in the check's plan (again with its run once recorded). */
  track: (group: RemoteGroup) => void;
}

/**
 * The `remote` hook of runHostCheck: the emulator stages on the model's target, the device stage on
 * its device. Returns the stages that never got a run (skipped, or refused before the run began);
 * the others are told to `track` with their run and read from its run.json by the check.
 */
export function remoteStages(o: RemoteCallbackOptions): (r: RemoteHookArgs) => Promise<StageRecord[]> {
  return async ({ samples, outputs, inputs, track }) => {
    const target = o.targets?.find((t) => t.name === o.model.target) ?? (o.model.target ? undefined : o.targets?.length === 1 ? o.targets[0] : undefined);
    const device = o.devices?.find((d) => d.name === o.model.device) ?? (o.model.device ? undefined : o.devices?.length === 1 ? o.devices[0] : undefined);
    const plan = remoteStagePlan(o.model, o.files, { stages: o.stages, ...(target ? { target } : {}), ...(device ? { device } : {}) });
    const out: StageRecord[] = [...plan.skipped];
    const runs: { on: RemoteStagesOptions['on']; file: string; stages: RemoteStage[]; name: string }[] = [];
    if (plan.emulator)
      runs.push({ on: { target: plan.emulator.target }, file: plan.emulator.har, stages: plan.emulator.stages, name: plan.emulator.target.name });
    if (plan.device) runs.push({ on: { device: plan.device.device }, file: plan.device.hef, stages: ['device'], name: plan.device.device.name });
    let ownFolderUsed = false;
    for (const r of runs) {
      track({ stages: r.stages, where: r.name });
      let created = false;
      try {
        const ctx = await o.contextFor('target' in r.on ? r.on.target : r.on.device);
        // the first run of a check kept in the runs folder takes the check's own folder
        const own = !ownFolderUsed && path.resolve(path.dirname(o.outDir)) === path.resolve(ctx.runsDir) ? path.basename(o.outDir) : undefined;
        if (own) ownFolderUsed = true;
        const run = await runRemoteStages(ctx, {
          model: o.model,
          on: r.on,
          stages: r.stages,
          modelFile: r.file,
          driverPath: o.driverPath,
          samples,
          inputs,
          outputs,
          ...(own ? { id: own } : {}),
          onCreated: (run) => {
            created = true;
            track({ stages: r.stages, where: r.name, run: run.id, runsDir: path.relative(o.outDir, ctx.runsDir) || '.' });
          },
          ...(o.python ? { python: o.python } : {}),
          ...(o.commit ? { commit: o.commit } : {}),
        });
        o.onRun?.(run);
      } catch (e) {
        if (isCancelled(e)) throw e;
        // a run that was recorded says itself what happened (failed, or still running: reattach)
        if (!created) for (const s of r.stages) out.push(remoteStageProblem(s, e, r.name));
      }
    }
    return out;
  };
}

/** The figures a fidelity step shows in the Runs view (against the reference, first output). */
export interface FidelityStepFigures {
  reference: string;
  output: string;
  cosine: number | null;
  snrDb: number | null;
  maxAbs: number | null;
  meanAbs: number | null;
  damaged: { from: number; to: number }[];
}

/** After the comparison: each remote step of these runs gets its figures against the reference in its summary (run.json). */
export function annotateFidelityRuns(
  runsDir: string,
  runs: readonly RunRecord[],
  record: {
    comparisons: readonly {
      stage: string;
      reference: string;
      against: string;
      output: string;
      metrics: { cosine?: number | null; snrDb?: number | null; maxAbs?: number | null; meanAbs?: number | null };
      damaged: readonly { from: number; to: number }[];
    }[];
  },
): void {
  for (const run of runs) {
    let changed = false;
    for (const step of run.steps) {
      const c = record.comparisons.find((x) => x.stage === step.step && x.against === 'reference');
      if (!c || !step.summary) continue;
      const figures: FidelityStepFigures = {
        reference: c.reference,
        output: c.output,
        cosine: c.metrics.cosine ?? null,
        snrDb: c.metrics.snrDb ?? null,
        maxAbs: c.metrics.maxAbs ?? null,
        meanAbs: c.metrics.meanAbs ?? null,
        damaged: c.damaged.map((d) => ({ from: d.from, to: d.to })),
      };
      step.summary = { ...(step.summary as FidelityStepSummary), figures };
      changed = true;
    }
    if (changed) writeRun(runsDir, run);
  }
}
