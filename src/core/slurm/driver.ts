import { HailoError, errorMessage, isHailoError, throwIfAborted } from '../errors';
import { parseDfcLog } from '../hailo/dfcLog';
import { nullLogger } from '../logger';
import type { Model, SlurmOptions, Target } from '../project/schema';
import { versionsFromLog } from '../remote/dfc';
import { dfcDriver, lastError } from '../remote/dfcDriver';
import type { FollowResult } from '../remote/job';
import { writeRun, type RunRecord, type RunStep } from '../remote/run';
import type { RunnerContext, StepDriver } from '../remote/runner';
import { SlurmClient } from './client';
import { stepJobFiles } from './client';
import { jobRecord, pollJob, type SlurmJobRecord } from './follow';
import { describeState, type SlurmJobState } from './state';
import { explainVerdict } from './verdict';

/**
 * The step driver of a `slurm` compile target: each DFC step is one batch job (`sbatch
 * --parsable`) whose script enters the DFC environment on the compute node and runs the step in
 * the run folder on shared storage. The job id is recorded on the step in run.json, so a reload or
 * a lost connection reattaches by job id and goes on reading the job's log from the saved byte
 * offset. Cancel is `scancel`. Slurm's own memory limit (`--mem`) replaces the memory guard: an
 * OUT_OF_MEMORY verdict ends the step as `memory-limit`, with Slurm's verdict in words.
 */

const RECOVERABLE = new Set(['SSH_UNREACHABLE', 'SSH_FAILED']);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function slurmOptionsOf(run: RunRecord): SlurmOptions {
  const o = run.target.slurm;
  if (!o) throw new HailoError('RUN_INVALID', `run ${run.id}: the target "${run.target.name}" is a Slurm target but run.json has no "slurm" settings`);
  return o;
}

/** The record the follow functions take, from the step's stored job. */
export function stepJob(step: RunStep): SlurmJobRecord {
  const j = step.slurm;
  if (!j) throw new HailoError('RUN_INVALID', `${step.step}: no Slurm job recorded`);
  return { jobId: j.jobId, scriptPath: j.scriptPath, output: j.output, taskDirs: j.taskDirs, submittedAt: j.submittedAt };
}

/** Store what Slurm said on the step (for the Runs view: phase, reason, node, elapsed). */
function recordState(step: RunStep, s: SlurmJobState): void {
  if (!step.slurm) return;
  step.slurm.state = s.state;
  step.slurm.phase = s.phase;
  if (s.reason) step.slurm.reason = s.reason;
  else delete step.slurm.reason;
  if (s.nodes) step.slurm.nodes = s.nodes;
  if (s.elapsedSeconds !== undefined) step.slurm.elapsedSeconds = s.elapsedSeconds;
}

/** "queued (Priority) · 0:12" / "running on node1 · 3:04" for the Runs view. */
export function describeStepJob(step: RunStep): string | undefined {
  const j = step.slurm;
  if (!j) return undefined;
  if (j.verdict && !j.verdict.ok) return `job ${j.jobId}: ${j.verdict.title}`;
  if (!j.state || !j.phase) return `job ${j.jobId} submitted`;
  return `job ${j.jobId} ${describeState({ jobId: j.jobId, state: j.state, flags: [], phase: j.phase, source: 'squeue', ...(j.reason ? { reason: j.reason } : {}), ...(j.nodes ? { nodes: j.nodes } : {}), ...(j.elapsedSeconds !== undefined ? { elapsedSeconds: j.elapsedSeconds } : {}) })}`;
}

export function slurmDriver(opts: { projectRoot?: string; model?: Model; target?: Target; client?: (ctx: RunnerContext) => SlurmClient } = {}): StepDriver {
  const base = dfcDriver(opts);
  const clients = new WeakMap<RunnerContext, SlurmClient>();
  const clientOf = (ctx: RunnerContext) => {
    let c = clients.get(ctx);
    if (!c) clients.set(ctx, (c = opts.client?.(ctx) ?? new SlurmClient(ctx.host)));
    return c;
  };
  return {
    kind: 'compile',
    // steps run inside the job script, which enters the DFC environment itself
    environment: () => ({ jobEnv: { prefix: [] }, launch: (argv) => [...argv], mapPath: (p) => p, describe: 'a Slurm batch job' }),
    canReattach: (step) => !!step.slurm,
    async start(ctx, run, step) {
      const o = slurmOptionsOf(run);
      const files = stepJobFiles(run.remoteDir, step.step);
      const spec = {
        name: `hwb-${step.step}-${run.netName}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 128),
        scriptPath: files.scriptPath,
        output: files.output,
        chdir: run.remoteDir,
        tasks: [{ dir: run.remoteDir, commands: [step.command] }],
      };
      const sub = await clientOf(ctx).submit(o, spec, { signal: ctx.signal });
      step.launch = sub.argv;
      step.slurm = jobRecord(sub, spec, (ctx.now ?? (() => new Date()))());
    },
    async follow(ctx, run, step, io) {
      const client = clientOf(ctx);
      const rec = stepJob(step);
      const log = ctx.log ?? nullLogger;
      const interval = ctx.pollIntervalMs ?? 2000;
      const reconnectMs = ctx.reconnectTimeoutMs ?? 120000;
      let offset = io.offset;
      let lostSince: number | undefined;
      let lastSeen = '';
      let cancelled = false;
      for (;;) {
        if (ctx.detach?.aborted) throw new HailoError('CANCELLED', 'Stopped following the Slurm job (it keeps running)');
        if (ctx.signal?.aborted && !cancelled) {
          cancelled = true;
          ctx.events?.onProgress?.(`Cancelling Slurm job ${rec.jobId}`);
          await client.cancel(rec.jobId);
        }
        let poll;
        try {
          // after a cancel the polls go on without the (aborted) signal until Slurm reports the end
          poll = await pollJob(client, ctx.host, rec, offset, cancelled ? undefined : ctx.signal);
        } catch (e) {
          if (ctx.signal?.aborted && !cancelled) continue;
          if (!isHailoError(e) || !RECOVERABLE.has(e.code)) throw e;
          if (lostSince === undefined) {
            lostSince = Date.now();
            ctx.events?.onConnection?.('lost', e);
            log.warn(`Connection to ${run.target.host} lost (${errorMessage(e)}); retrying — Slurm job ${rec.jobId} keeps running`);
          }
          if (Date.now() - lostSince > reconnectMs) throw e;
          await sleep(interval, ctx.detach);
          continue;
        }
        if (lostSince !== undefined) {
          lostSince = undefined;
          ctx.events?.onConnection?.('restored');
          log.warn(`Connection to ${run.target.host} restored`);
        }
        if (poll.data.length) io.onData(poll.data);
        offset = poll.offset;
        const s = poll.states[0];
        if (s) {
          const seen = `${s.state} ${s.reason ?? ''} ${s.nodes ?? ''}`;
          if (seen !== lastSeen) {
            lastSeen = seen;
            ctx.events?.onProgress?.(`${step.step}: Slurm job ${rec.jobId} ${describeState(s)}`);
          }
          const before = JSON.stringify(step.slurm);
          recordState(step, s);
          // the Runs view reads run.json: queued → running → completing, the node and elapsed time
          if (JSON.stringify(step.slurm) !== before) writeRun(ctx.runsDir, run);
        }
        if (poll.done && s) {
          const tail = offset > 0 ? (await client.readLog(rec.output, Math.max(0, offset - 8192))).data.toString('utf8') : '';
          const v = explainVerdict(s, { request: slurmOptionsOf(run), logTail: tail, step: step.step });
          step.slurm!.verdict = { kind: v.kind, ok: v.ok, title: v.title, detail: v.detail, ...(v.change ? { change: v.change } : {}) };
          const exitCode = s.exitCode ?? (v.ok ? 0 : 1);
          return {
            exitCode: v.ok ? exitCode : exitCode || 1,
            cancelled: cancelled || v.kind === 'cancelled',
            memoryExceeded: v.kind === 'out-of-memory',
            peakKB: 0,
            offset,
          };
        }
        await sleep(interval, cancelled ? undefined : (ctx.signal ?? ctx.detach));
        if (!cancelled && !ctx.signal?.aborted) throwIfAborted(ctx.detach);
      }
    },
    async cancel(ctx, _run, step) {
      if (step.slurm) await clientOf(ctx).cancel(step.slurm.jobId, ctx.signal);
    },
    finish(_run, step, text, result: FollowResult) {
      const summary = parseDfcLog(text);
      const v = step.slurm?.verdict;
      const dfcReason = lastError(summary);
      // Slurm's verdict first when Slurm ended the job; the DFC's error when the step itself failed
      const slurmEnded = v && !v.ok && v.kind !== 'failed';
      const reason = slurmEnded
        ? `${v.title}. ${v.detail}${v.change ? ` ${v.change}` : ''}`
        : (dfcReason ?? (v && !v.ok ? `${v.title}. ${v.detail}${v.change ? ` ${v.change}` : ''}` : undefined));
      return {
        summary,
        versions: versionsFromLog(text),
        ...(reason ? { reason } : {}),
        ...(v && !v.ok && !result.cancelled
          ? {
              failed: true,
              code:
                v.kind === 'timeout'
                  ? 'SLURM_TIMEOUT'
                  : v.kind === 'node-failure'
                    ? 'SLURM_NODE_FAIL'
                    : v.kind === 'preempted'
                      ? 'SLURM_PREEMPTED'
                      : 'REMOTE_STEP_FAILED',
            }
          : {}),
      };
    },
    memoryMessage: (_run, step) => {
      const v = step.slurm?.verdict;
      return v ? `${v.title}. ${v.detail}${v.change ? ` ${v.change}` : ''}` : `${step.step} ran out of memory on the cluster.`;
    },
    afterStep: base.afterStep,
  };
}
