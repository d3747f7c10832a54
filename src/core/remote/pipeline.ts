import * as fs from 'node:fs';
import * as path from 'node:path';
import { HailoError, errorMessage, isCancelled, isHailoError } from '../errors';
import { nullLogger, type Logger } from '../logger';
import { modelPaths } from '../project/load';
import type { Model, Target } from '../project/schema';
import { dfcEnvironment, netNameOf, planStep, versionsFromLog, type DfcEnvironment } from './dfc';
import { cancelJob, followJob, installWrapper, startDetached, type JobRef } from './job';
import { rjoin } from './quote';
import { RunRecord, RunStep, isRunFileName, newRunId, pruneRuns, readRun, runDir, writeRun, RUN_FILE, type StepName } from './run';
import type { SshHost } from './ssh';
import { uploadInputs, type UploadItem } from './upload';
import { LineSplitter } from './logLines';
import { parseDfcLog, type DfcLogSummary } from '../hailo/dfcLog';

/** What the pipeline reports while it works (all optional). */
export interface PipelineEvents {
  /** One complete line of a step's remote log, as bytes were written (ANSI and `\r` kept). */
  onLine?(step: StepName, line: string): void;
  /** The unfinished last line so far (a progress bar being redrawn with `\r`). */
  onPartialLine?(step: StepName, text: string): void;
  onProgress?(message: string): void;
  /** Live and peak RSS of the step's process group, and what the machine has left (KiB). */
  onMemory?(step: StepName, rssKB: number, peakKB: number, availKB?: number): void;
  onStepStarted?(run: RunRecord, step: RunStep): void;
  onStepFinished?(run: RunRecord, step: RunStep, runDir: string): void;
  onConnection?(state: 'lost' | 'restored', error?: unknown): void;
}

export interface PipelineContext {
  host: SshHost;
  /** Local `.hailo/runs`. */
  runsDir: string;
  log?: Logger;
  events?: PipelineEvents;
  /** Cancel: stops the remote step (reported as cancelled). */
  signal?: AbortSignal;
  /** Detach: stop following, leave the remote step running (window closing). */
  detach?: AbortSignal;
  now?: () => Date;
  pollIntervalMs?: number;
  reconnectTimeoutMs?: number;
  /** Runs to keep (`hailo.runs.keep`). */
  keep?: number;
}

export interface StartOptions {
  projectRoot: string;
  model: Model;
  target: Target;
  steps: readonly StepName[];
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
      const hint = it.role === 'onnx' ? 'export the model first' : it.role === 'har' ? 'run Parse first' : it.role === 'quantized-har' ? 'run Optimize first' : 'check hailo.json';
      throw new HailoError('INVALID_ARGUMENT', `${it.local}: ${it.role} not found (${hint})`, { file: it.local });
    }
  }

  const run: RunRecord = RunRecord.parse({
    version: 1,
    id,
    model: model.name,
    netName: net,
    hwArch,
    target: { name: target.name, host: target.host, workDir, ...(target.dfc ? { dfc: target.dfc } : {}), ...(target.memoryLimitGB ? { memoryLimitGB: target.memoryLimitGB } : {}) },
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
  const env = dfcEnvironment(target.dfc, workDir);
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
  return executeRun(ctx, run, { env, projectRoot: opts.projectRoot, model: opts.updateModelFiles === false ? undefined : model });
}

/** Reattach to a run recorded in `<runsDir>/<id>/run.json` (after a reload or a lost connection). */
export async function resumeRun(ctx: PipelineContext, id: string, opts: { projectRoot?: string; model?: Model; target?: Target } = {}): Promise<RunRecord> {
  const run = readRun(path.join(runDir(ctx.runsDir, id), RUN_FILE));
  if (run.status !== 'running' && run.status !== 'detached') return run;
  const workDir = run.target.workDir;
  const env = dfcEnvironment(run.target.dfc ?? opts.target?.dfc, workDir);
  run.status = 'running';
  writeRun(ctx.runsDir, run);
  return executeRun(ctx, run, { env, projectRoot: opts.projectRoot, model: opts.model });
}

/** The error worth showing for a failed step: the last one the log parser found. */
export function lastError(summary: DfcLogSummary): string | undefined {
  const e = summary.errors[summary.errors.length - 1];
  if (!e) return summary.compile.failureReason;
  return e.errorClass && !e.message.startsWith(e.errorClass) ? `${e.errorClass}: ${e.message}` : e.message;
}

/**
 * Stop a run that nobody follows (left running by a closed window or a lost connection): kill the
 * remote process group of its running step and record the run as cancelled.
 */
export async function cancelDetachedRun(ctx: PipelineContext, id: string): Promise<RunRecord> {
  const run = readRun(path.join(runDir(ctx.runsDir, id), RUN_FILE));
  if (run.status !== 'running' && run.status !== 'detached') return run;
  const env = dfcEnvironment(run.target.dfc, run.target.workDir);
  for (const step of run.steps) {
    if (step.status !== 'running' || !step.pgid || !step.jobDir) continue;
    await cancelJob(ctx.host, { jobDir: env.mapPath(step.jobDir), pid: step.pid ?? step.pgid, pgid: step.pgid }, 5, env.jobEnv);
    step.status = 'cancelled';
    step.endedAt = iso((ctx.now ?? (() => new Date()))());
    if (step.startedAt) step.durationMs = Math.max(0, Date.parse(step.endedAt) - Date.parse(step.startedAt));
  }
  finishRun(ctx, run, 'cancelled');
  return run;
}

function order(s: StepName): number {
  return s === 'parse' ? 0 : s === 'optimize' ? 1 : 2;
}

export function optimizedHarPath(har: string): string {
  return har.replace(/\.har$/i, '') + '_optimized.har';
}

function finishRun(ctx: PipelineContext, run: RunRecord, status: RunRecord['status']): void {
  run.status = status;
  run.endedAt = iso((ctx.now ?? (() => new Date()))());
  for (const s of run.steps) if (s.status === 'pending') s.status = 'skipped';
  writeRun(ctx.runsDir, run);
}

async function executeRun(ctx: PipelineContext, run: RunRecord, opts: { env: DfcEnvironment; projectRoot?: string; model?: Model }): Promise<RunRecord> {
  const log = ctx.log ?? nullLogger;
  const host = ctx.host;
  const localDir = runDir(ctx.runsDir, run.id);
  const wrapper = await installWrapper(host, run.target.workDir, ctx.signal);
  for (const step of run.steps) {
    if (step.status !== 'pending' && step.status !== 'running') continue;
    let status: RunStep['status'];
    try {
      status = await runStep(ctx, run, step, { wrapper, env: opts.env, localDir });
    } catch (e) {
      if (isHailoError(e, 'CANCELLED') && ctx.detach?.aborted) {
        log.info(`Run ${run.id}: detached; ${step.step} keeps running on ${run.target.host}`);
        writeRun(ctx.runsDir, run);
        throw e;
      }
      if (isHailoError(e) && (e.code === 'SSH_UNREACHABLE' || e.code === 'SSH_FAILED') && step.status === 'running') {
        run.status = 'detached';
        writeRun(ctx.runsDir, run);
        throw new HailoError(e.code, `${e.message}. The ${step.step} step keeps running on ${run.target.host}; reattach from the Runs view.`, { cause: e });
      }
      step.status = isCancelled(e) ? 'cancelled' : 'failed';
      step.error = { code: isHailoError(e) ? e.code : 'PROCESS_FAILED', message: errorMessage(e) };
      finishRun(ctx, run, step.status === 'cancelled' ? 'cancelled' : 'failed');
      ctx.events?.onStepFinished?.(run, step, localDir);
      throw e;
    }
    if (status === 'succeeded' && opts.model && opts.projectRoot) copyToModelPaths(run, step, localDir, opts.model, opts.projectRoot, log);
    ctx.events?.onStepFinished?.(run, step, localDir);
    if (status !== 'succeeded') {
      finishRun(ctx, run, status === 'cancelled' ? 'cancelled' : status === 'memory-limit' ? 'memory-limit' : 'failed');
      return run;
    }
  }
  finishRun(ctx, run, 'succeeded');
  return run;
}

async function runStep(ctx: PipelineContext, run: RunRecord, step: RunStep, o: { wrapper: string; env: DfcEnvironment; localDir: string }): Promise<RunStep['status']> {
  const host = ctx.host;
  const log = ctx.log ?? nullLogger;
  const now = ctx.now ?? (() => new Date());
  const jobDir = rjoin(run.remoteDir, 'jobs', step.step);
  const localLog = path.join(o.localDir, `${step.step}.log`);
  step.log = `${step.step}.log`;
  let job: JobRef;
  if (step.status === 'running' && step.pgid && step.jobDir) {
    job = { jobDir: o.env.mapPath(step.jobDir), pid: step.pid ?? step.pgid, pgid: step.pgid };
    // the local log holds exactly logOffset bytes: drop anything written after the last save
    if (fs.existsSync(localLog) && fs.statSync(localLog).size > step.logOffset) fs.truncateSync(localLog, step.logOffset);
    ctx.events?.onProgress?.(`Reattaching to ${step.step} on ${run.target.host}`);
    log.info(`Run ${run.id}: reattaching to ${step.step} (pgid ${job.pgid}) at log offset ${step.logOffset}`);
  } else {
    fs.writeFileSync(localLog, '');
    step.logOffset = 0;
    step.launch = o.env.launch(step.command.map((a) => (a.startsWith(run.target.workDir) ? o.env.mapPath(a) : a)));
    ctx.events?.onProgress?.(`Starting ${step.step} on ${run.target.host}`);
    job = await startDetached(host, { wrapper: o.env.mapPath(o.wrapper), jobDir: o.env.mapPath(jobDir), cwd: o.env.mapPath(run.remoteDir), argv: step.launch, env: o.env.jobEnv, signal: ctx.signal });
    step.status = 'running';
    step.jobDir = jobDir;
    step.pid = job.pid;
    step.pgid = job.pgid;
    step.startedAt = iso(now());
    log.info(`Run ${run.id}: ${step.step} started (pid ${job.pid}): ${step.command.join(' ')}`);
  }
  writeRun(ctx.runsDir, run);
  ctx.events?.onStepStarted?.(run, step);

  const splitter = new LineSplitter();
  const fd = fs.openSync(localLog, 'a');
  let lastSave = Date.now();
  let lowMemoryWarned = false;
  const limitKB = run.target.memoryLimitGB ? Math.floor(run.target.memoryLimitGB * 1024 * 1024) : undefined;
  let result;
  try {
    result = await followJob(host, job, {
      offset: step.logOffset,
      peakKB: step.peakRssKB ?? 0,
      env: o.env.jobEnv,
      signal: ctx.signal,
      detach: ctx.detach,
      intervalMs: ctx.pollIntervalMs,
      reconnectTimeoutMs: ctx.reconnectTimeoutMs,
      memoryLimitKB: limitKB,
      onConnection: (state, e) => {
        log.warn(state === 'lost' ? `Connection to ${run.target.host} lost (${errorMessage(e)}); retrying — the step keeps running remotely` : `Connection to ${run.target.host} restored`);
        ctx.events?.onConnection?.(state, e);
      },
      onData: (data) => {
        const { complete, lines } = splitter.push(data);
        if (complete.length) {
          fs.writeSync(fd, complete);
          step.logOffset += complete.length;
        }
        for (const l of lines) ctx.events?.onLine?.(step.step, l);
        const partial = splitter.partial;
        if (partial) ctx.events?.onPartialLine?.(step.step, partial);
        if (Date.now() - lastSave > 1000) {
          lastSave = Date.now();
          writeRun(ctx.runsDir, run);
        }
      },
      onSample: (rss, peak, avail) => {
        step.peakRssKB = peak;
        // without a limit, still say when the box is about to swap (once per step)
        if (avail !== undefined && avail < 1048576 && !lowMemoryWarned) {
          lowMemoryWarned = true;
          log.warn(`${run.target.host} has less than 1 GB of memory left while ${step.step} uses ${(rss / 1048576).toFixed(1)} GB; set memoryLimitGB on the target to stop steps before the machine swaps`);
        }
        ctx.events?.onMemory?.(step.step, rss, peak, avail);
      },
    });
    const rest = splitter.flush();
    if (rest.length) {
      fs.writeSync(fd, rest);
      step.logOffset += rest.length;
      ctx.events?.onLine?.(step.step, rest.toString('utf8'));
    }
  } finally {
    fs.closeSync(fd);
    writeRun(ctx.runsDir, run);
  }
  step.exitCode = result.exitCode;
  step.peakRssKB = result.peakKB;
  step.endedAt = iso(now());
  if (step.startedAt) step.durationMs = Math.max(0, Date.parse(step.endedAt) - Date.parse(step.startedAt));
  const text = fs.readFileSync(localLog, 'utf8');
  const versions = versionsFromLog(text);
  run.toolVersions = { ...run.toolVersions, ...versions };
  const summary = parseDfcLog(text);
  step.summary = summary;
  if (result.memoryExceeded) {
    step.status = 'memory-limit';
    step.error = {
      code: 'MEMORY_LIMIT',
      message: `${step.step} used more than ${run.target.memoryLimitGB} GB on ${run.target.host} (peak ${(result.peakKB / 1048576).toFixed(2)} GB) and was stopped. Try a smaller calibration set, a lower optimization level (model_optimization_flavor(optimization_level=0) in the .alls), or no fine-tuning (post_quantization_optimization(finetune, policy=disabled)); or raise memoryLimitGB for this target.`,
    };
  } else if (result.cancelled) step.status = 'cancelled';
  else if (result.exitCode === 0) step.status = 'succeeded';
  else {
    step.status = 'failed';
    const last = lastError(summary);
    step.error = { code: 'REMOTE_STEP_FAILED', message: `${step.step} failed on ${run.target.host} with exit code ${result.exitCode}${last ? `: ${last}` : ''}` };
  }
  log.info(`Run ${run.id}: ${step.step} ${step.status} (exit ${result.exitCode}, ${((step.durationMs ?? 0) / 1000).toFixed(1)} s, peak ${(result.peakKB / 1024).toFixed(0)} MB)`);

  // bring back what the step produced, and the remote log as the tool wrote it
  for (const a of step.artifacts) {
    if (step.status !== 'succeeded') break;
    const name = path.posix.basename(a.remote);
    if (!isRunFileName(name)) {
      log.warn(`Run ${run.id}: not downloading ${a.remote}: its name does not stay inside the run folder`);
      continue;
    }
    const local = path.join(o.localDir, name);
    try {
      ctx.events?.onProgress?.(`Downloading ${path.posix.basename(a.remote)}`);
      a.size = await host.download(a.remote, local, ctx.signal);
      a.local = path.basename(local);
    } catch (e) {
      if (isCancelled(e)) throw e;
      log.warn(`Run ${run.id}: could not download ${a.remote}: ${errorMessage(e)}`);
    }
  }
  if (step.status === 'succeeded') await collectExtras(ctx, run, step, o.localDir);
  writeRun(ctx.runsDir, run);
  return step.status;
}

/** Profiler output and other files the step left beside the run (HTML reports, hailo_sdk.client.log). */
export async function collectExtras(ctx: PipelineContext, run: RunRecord, step: RunStep, localDir: string): Promise<void> {
  const known = new Set(run.steps.flatMap((s) => s.artifacts.map((a) => path.posix.basename(a.remote))));
  const r = await ctx.host.execScript('cd -- "$1" 2>/dev/null && for f in *.html *.svg hailo_sdk.client.log; do [ -f "$f" ] && printf "%s\\n" "$f"; done; exit 0', [run.remoteDir], { check: false });
  for (const name of r.stdout.toString().split('\n').filter(Boolean)) {
    // only what the listing asked for: a name the remote made up (run.json, ../x) is never written
    if (known.has(name) || !isRunFileName(name) || !/\.(html|svg)$|^hailo_sdk\.client\.log$/.test(name)) continue;
    const remote = rjoin(run.remoteDir, name);
    try {
      const size = await ctx.host.download(remote, path.join(localDir, name));
      step.artifacts.push({ kind: name.endsWith('.log') ? 'log' : 'profile', remote, local: name, size });
    } catch {}
  }
}

function copyToModelPaths(run: RunRecord, step: RunStep, localDir: string, model: Model, root: string, log: Logger): void {
  const p = modelPaths(model, root);
  const dest: Partial<Record<string, string>> = { har: p.har, 'quantized-har': optimizedHarPath(p.har), hef: p.hef };
  for (const a of step.artifacts) {
    const to = dest[a.kind];
    if (!to || !a.local) continue;
    try {
      // a file changed after the run started (edited, or written by a later run) is newer than
      // this result: keep it; the result stays in the run folder
      const mtime = fs.statSync(to, { throwIfNoEntry: false })?.mtimeMs;
      if (mtime !== undefined && mtime > Date.parse(run.createdAt)) {
        log.warn(`Run ${run.id}: ${to} changed after the run started; not replaced. The run's ${a.local} is in ${localDir}`);
        continue;
      }
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(path.join(localDir, a.local), `${to}.part`);
      fs.renameSync(`${to}.part`, to);
      log.info(`Run ${run.id}: ${a.local} → ${to}`);
    } catch (e) {
      log.warn(`Run ${run.id}: could not copy ${a.local} to ${to}: ${errorMessage(e)}`);
    }
  }
}
