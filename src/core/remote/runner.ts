import * as fs from 'node:fs';
import * as path from 'node:path';
import { HailoError, errorMessage, isCancelled, isHailoError } from '../errors';
import { nullLogger, type Logger } from '../logger';
import type { RemoteHost } from './host';
import { cancelJob, followJob, installWrapper, startDetached, type FollowResult, type JobEnv, type JobRef } from './job';
import { LineSplitter } from './logLines';
import { rjoin } from './quote';
import { RunRecord, RunStep, isRunFileName, readRun, runDir, writeRun, RUN_FILE, type StepName } from './run';

/**
 * The run engine, the same for compile targets and devices: a run record (`.hailo/runs/<id>/run.json`,
 * written after every change), each step started detached on the remote (follow, reattach after a
 * reload or a dropped connection, cancel the whole process group), its log streamed and kept, its
 * memory watched, its artifacts brought back. What a step means — how it is started, what its log
 * says, what happens to its results — is the business of a `StepDriver` (the DFC on a compile
 * target: `dfcDriver`; HailoRT on a device: `deviceDriver`).
 */

/** What the runner reports while it works (all optional). */
export interface RunEvents {
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

export interface RunnerContext {
  host: RemoteHost;
  /** Local `.hailo/runs`. */
  runsDir: string;
  log?: Logger;
  events?: RunEvents;
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

/** The names the compile pipeline used before the engine was shared. */
export type PipelineEvents = RunEvents;
export type PipelineContext = RunnerContext;

/** How the steps of a run are started: where (`JobEnv`) and with which argv prefix. */
export interface StepEnvironment {
  /** Prefix for job scripts (docker exec) — see JobEnv. */
  jobEnv: JobEnv;
  /** argv that runs `argv` with the tool available. */
  launch(argv: readonly string[]): string[];
  /** A host path under the work dir as the job sees it. */
  mapPath(p: string): string;
  describe: string;
}

/** What a driver reads from a finished step's log. */
export interface StepVerdict {
  /** Stored as the step's summary in run.json. */
  summary?: unknown;
  /** Tool versions the log names. */
  versions?: RunRecord['toolVersions'];
  /** The log says the step did not work, even if it exited with 0. */
  failed?: boolean;
  /** The error worth showing when the step failed. */
  reason?: string;
  /** Error code for a failed step (default REMOTE_STEP_FAILED). */
  code?: string;
}

/** What one kind of run adds to the engine. */
export interface StepDriver {
  readonly kind: NonNullable<RunRecord['kind']>;
  environment(run: RunRecord): StepEnvironment;
  /** Read a finished step's log (complete text, as the tool wrote it). */
  finish(run: RunRecord, step: RunStep, log: string, result: FollowResult): StepVerdict;
  /** The message for a step stopped at the memory limit. */
  memoryMessage?(run: RunRecord, step: RunStep, peakKB: number): string;
  /**
   * Drivers whose steps are not detached processes on the host (Slurm batch jobs) start and follow
   * them themselves: `start` records the job on the step, `follow` streams its log from `offset`
   * and returns when it ended (cancel on `signal`, throw CANCELLED on `detach`).
   */
  start?(ctx: RunnerContext, run: RunRecord, step: RunStep): Promise<void>;
  follow?(ctx: RunnerContext, run: RunRecord, step: RunStep, io: { offset: number; onData(data: Buffer): void }): Promise<FollowResult>;
  /** Stop a step nobody follows (cancel of a detached run). */
  cancel?(ctx: RunnerContext, run: RunRecord, step: RunStep): Promise<void>;
  /** Whether a running step's record is enough to reattach (default: a pgid and a job folder). */
  canReattach?(step: RunStep): boolean;
  /** After a step succeeded and its artifacts were downloaded. */
  afterStep?(ctx: RunnerContext, run: RunRecord, step: RunStep, localDir: string): Promise<void> | void;
  /** After the run ended (succeeded, failed or cancelled; not when detached). */
  afterRun?(ctx: RunnerContext, run: RunRecord, localDir: string): Promise<void> | void;
}

const iso = (d: Date) => d.toISOString();

export function finishRun(ctx: RunnerContext, run: RunRecord, status: RunRecord['status']): void {
  run.status = status;
  run.endedAt = iso((ctx.now ?? (() => new Date()))());
  for (const s of run.steps) if (s.status === 'pending') s.status = 'skipped';
  writeRun(ctx.runsDir, run);
}

/** Execute the pending (or reattach to the running) steps of a recorded run, one after the other. */
export async function executeRun(ctx: RunnerContext, run: RunRecord, driver: StepDriver): Promise<RunRecord> {
  const log = ctx.log ?? nullLogger;
  const host = ctx.host;
  const localDir = runDir(ctx.runsDir, run.id);
  // drivers that follow their own jobs (Slurm) do not use the detached-process wrapper
  const wrapper = driver.follow ? '' : await installWrapper(host, run.target.workDir, ctx.signal);
  for (const step of run.steps) {
    if (step.status !== 'pending' && step.status !== 'running') continue;
    let status: RunStep['status'];
    try {
      status = await runStep(ctx, run, step, { wrapper, env: driver.environment(run), localDir, driver });
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
      await afterRun(ctx, run, driver, localDir);
      ctx.events?.onStepFinished?.(run, step, localDir);
      throw e;
    }
    if (status === 'succeeded') await driver.afterStep?.(ctx, run, step, localDir);
    ctx.events?.onStepFinished?.(run, step, localDir);
    if (status !== 'succeeded') {
      finishRun(ctx, run, status === 'cancelled' ? 'cancelled' : status === 'memory-limit' ? 'memory-limit' : 'failed');
      await afterRun(ctx, run, driver, localDir);
      return run;
    }
  }
  finishRun(ctx, run, 'succeeded');
  await afterRun(ctx, run, driver, localDir);
  return run;
}

async function afterRun(ctx: RunnerContext, run: RunRecord, driver: StepDriver, localDir: string): Promise<void> {
  try {
    await driver.afterRun?.(ctx, run, localDir);
  } catch (e) {
    (ctx.log ?? nullLogger).warn(`Run ${run.id}: ${errorMessage(e)}`);
  }
}

async function runStep(
  ctx: RunnerContext,
  run: RunRecord,
  step: RunStep,
  o: { wrapper: string; env: StepEnvironment; localDir: string; driver: StepDriver },
): Promise<RunStep['status']> {
  const host = ctx.host;
  const log = ctx.log ?? nullLogger;
  const now = ctx.now ?? (() => new Date());
  const jobDir = rjoin(run.remoteDir, 'jobs', step.step);
  const localLog = path.join(o.localDir, `${step.step}.log`);
  step.log = `${step.step}.log`;
  let job: JobRef;
  const reattach = step.status === 'running' && (o.driver.canReattach ? o.driver.canReattach(step) : !!(step.pgid && step.jobDir));
  if (reattach) {
    job = { jobDir: o.env.mapPath(step.jobDir ?? jobDir), pid: step.pid ?? step.pgid ?? 0, pgid: step.pgid ?? 0 };
    // the local log holds exactly logOffset bytes: drop anything written after the last save
    if (fs.existsSync(localLog) && fs.statSync(localLog).size > step.logOffset) fs.truncateSync(localLog, step.logOffset);
    ctx.events?.onProgress?.(`Reattaching to ${step.step} on ${run.target.host}`);
    log.info(
      `Run ${run.id}: reattaching to ${step.step} (${step.slurm ? `Slurm job ${step.slurm.jobId}` : `pgid ${job.pgid}`}) at log offset ${step.logOffset}`,
    );
  } else if (o.driver.start) {
    fs.writeFileSync(localLog, '');
    step.logOffset = 0;
    ctx.events?.onProgress?.(`Submitting ${step.step} to ${run.target.host}`);
    await o.driver.start(ctx, run, step);
    job = { jobDir: o.env.mapPath(jobDir), pid: 0, pgid: 0 };
    step.status = 'running';
    step.startedAt = iso(now());
    log.info(`Run ${run.id}: ${step.step} submitted${step.slurm ? ` as Slurm job ${step.slurm.jobId}` : ''}: ${step.command.join(' ')}`);
  } else {
    fs.writeFileSync(localLog, '');
    step.logOffset = 0;
    step.launch = o.env.launch(step.command.map((a) => (a.startsWith(run.target.workDir) ? o.env.mapPath(a) : a)));
    ctx.events?.onProgress?.(`Starting ${step.step} on ${run.target.host}`);
    job = await startDetached(host, {
      wrapper: o.env.mapPath(o.wrapper),
      jobDir: o.env.mapPath(jobDir),
      cwd: o.env.mapPath(run.remoteDir),
      argv: step.launch,
      env: o.env.jobEnv,
      signal: ctx.signal,
      reinstall: () => installWrapper(host, run.target.workDir, ctx.signal),
    });
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
  let result: FollowResult;
  const onData = (data: Buffer) => {
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
  };
  try {
    result = o.driver.follow
      ? await o.driver.follow(ctx, run, step, { offset: step.logOffset, onData })
      : await followJob(host, job, {
          offset: step.logOffset,
          peakKB: step.peakRssKB ?? 0,
          env: o.env.jobEnv,
          signal: ctx.signal,
          detach: ctx.detach,
          intervalMs: ctx.pollIntervalMs,
          reconnectTimeoutMs: ctx.reconnectTimeoutMs,
          memoryLimitKB: limitKB,
          onConnection: (state, e) => {
            log.warn(
              state === 'lost'
                ? `Connection to ${run.target.host} lost (${errorMessage(e)}); retrying — the step keeps running remotely`
                : `Connection to ${run.target.host} restored`,
            );
            ctx.events?.onConnection?.(state, e);
          },
          onData,
          onSample: (rss, peak, avail) => {
            step.peakRssKB = peak;
            // without a limit, still say when the box is about to swap (once per step)
            if (avail !== undefined && avail < 1048576 && !lowMemoryWarned) {
              lowMemoryWarned = true;
              log.warn(
                `${run.target.host} has less than 1 GB of memory left while ${step.step} uses ${(rss / 1048576).toFixed(1)} GB; set memoryLimitGB on the target to stop steps before the machine swaps`,
              );
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
  const verdict = o.driver.finish(run, step, text, result);
  run.toolVersions = { ...run.toolVersions, ...verdict.versions };
  step.summary = verdict.summary;
  if (result.memoryExceeded) {
    step.status = 'memory-limit';
    step.error = {
      code: 'MEMORY_LIMIT',
      message:
        o.driver.memoryMessage?.(run, step, result.peakKB) ??
        `${step.step} used more than ${run.target.memoryLimitGB} GB on ${run.target.host} (peak ${(result.peakKB / 1048576).toFixed(2)} GB) and was stopped.`,
    };
  } else if (result.cancelled) step.status = 'cancelled';
  else if (result.exitCode === 0 && !verdict.failed) step.status = 'succeeded';
  else {
    step.status = 'failed';
    step.error = {
      code: verdict.code ?? 'REMOTE_STEP_FAILED',
      message: `${step.step} failed on ${run.target.host}${result.exitCode !== 0 ? ` with exit code ${result.exitCode}` : ''}${verdict.reason ? `: ${verdict.reason}` : ''}`,
    };
  }
  log.info(
    `Run ${run.id}: ${step.step} ${step.status} (exit ${result.exitCode}, ${((step.durationMs ?? 0) / 1000).toFixed(1)} s, peak ${(result.peakKB / 1024).toFixed(0)} MB)`,
  );

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
  writeRun(ctx.runsDir, run);
  return step.status;
}

/** Reattach to a run recorded in `<runsDir>/<id>/run.json` (after a reload or a lost connection). */
export async function resumeRecordedRun(ctx: RunnerContext, id: string, driverFor: (run: RunRecord) => StepDriver): Promise<RunRecord> {
  const run = readRun(path.join(runDir(ctx.runsDir, id), RUN_FILE));
  if (run.status !== 'running' && run.status !== 'detached') return run;
  run.status = 'running';
  writeRun(ctx.runsDir, run);
  return executeRun(ctx, run, driverFor(run));
}

/**
 * Stop a run that nobody follows (left running by a closed window or a lost connection): kill the
 * remote process group of its running step and record the run as cancelled.
 */
export async function cancelRecordedRun(ctx: RunnerContext, id: string, driverFor: (run: RunRecord) => StepDriver): Promise<RunRecord> {
  const run = readRun(path.join(runDir(ctx.runsDir, id), RUN_FILE));
  if (run.status !== 'running' && run.status !== 'detached') return run;
  const env = driverFor(run).environment(run);
  const driver = driverFor(run);
  for (const step of run.steps) {
    if (step.status === 'running' && driver.cancel) {
      await driver.cancel(ctx, run, step);
      step.status = 'cancelled';
      step.endedAt = iso((ctx.now ?? (() => new Date()))());
      continue;
    }
    if (step.status !== 'running' || !step.pgid || !step.jobDir) continue;
    await cancelJob(ctx.host, { jobDir: env.mapPath(step.jobDir), pid: step.pid ?? step.pgid, pgid: step.pgid }, 5, env.jobEnv);
    step.status = 'cancelled';
    step.endedAt = iso((ctx.now ?? (() => new Date()))());
    if (step.startedAt) step.durationMs = Math.max(0, Date.parse(step.endedAt) - Date.parse(step.startedAt));
  }
  finishRun(ctx, run, 'cancelled');
  return run;
}
