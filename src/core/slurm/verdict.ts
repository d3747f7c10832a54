import type { SlurmOptions } from '../project/schema';
import { explainReason, formatElapsed, type SlurmJobState } from './state';

/**
 * Slurm's verdict on a finished job in words, with what to change. Slurm's own memory limit
 * (`--mem`) replaces the memory guard of plain SSH targets: it ends the job as OUT_OF_MEMORY where
 * the cluster enforces memory with cgroups, or kills the step (FAILED, signal 9, "Exceeded job
 * memory limit" in the log) where it polls memory use (`JobAcctGatherParams=OverMemoryKill`).
 */
export type VerdictKind =
  'succeeded' | 'failed' | 'out-of-memory' | 'timeout' | 'node-failure' | 'preempted' | 'cancelled' | 'boot-failure' | 'deadline' | 'unknown';

export interface SlurmVerdict {
  kind: VerdictKind;
  ok: boolean;
  /** One line: "Out of memory: the job used more than its 64G". */
  title: string;
  /** What happened, with the figures Slurm gave. */
  detail: string;
  /** What to change (absent when nothing needs to). */
  change?: string;
}

export interface VerdictContext {
  /** The target's request (memory, time limit, partition). */
  request?: Pick<SlurmOptions, 'memory' | 'timeLimit' | 'partition' | 'cpus'>;
  /** The end of the job's log (memory kills and cancellations are reported there by slurmstepd). */
  logTail?: string;
  /** The step the job ran (parse / optimize / compile), for the advice. */
  step?: string;
}

const MEMORY_KILL_RE = /Exceeded job memory limit|exceeded memory limit|oom-kill event|out-of-memory handler|Out Of Memory/i;

export function explainVerdict(j: SlurmJobState, ctx: VerdictContext = {}): SlurmVerdict {
  const on = j.nodes ? ` on ${j.nodes}` : '';
  const after = j.elapsedSeconds !== undefined ? ` after ${formatElapsed(j.elapsedSeconds)}` : '';
  const mem = ctx.request?.memory;
  const reqLimit = ctx.request?.timeLimit;
  const limit =
    reqLimit !== undefined
      ? /^\d+$/.test(reqLimit)
        ? `${reqLimit} min`
        : reqLimit
      : j.timeLimitMinutes !== undefined
        ? `${j.timeLimitMinutes} min`
        : undefined;
  const log = ctx.logTail ?? '';
  const optimizeHint =
    ctx.step === 'optimize' || !ctx.step
      ? ' The optimize step needs the most memory: a smaller calibration set or a lower optimization level (model_optimization_flavor in the .alls) also lowers it.'
      : '';
  const outOfMemory = (how: string): SlurmVerdict => ({
    kind: 'out-of-memory',
    ok: false,
    title: `Out of memory: the job used more than the ${mem ?? 'memory'} it asked for`,
    detail: `Slurm ended job ${j.jobId}${on}${after}: ${how}.`,
    change: `Raise "slurm.memory" in hailo.json${mem ? ` (now ${mem})` : ''}, up to what the partition's nodes have (Check Target shows it).${optimizeHint}`,
  });
  // slurmstepd writes "CANCELLED AT … DUE TO TIME LIMIT" into the job's output when it ends a job at
  // its limit; the state Slurm records can still be FAILED when the script exits on the signal first
  const state = j.state !== 'COMPLETED' && /\bDUE TO TIME LIMIT\b/.test(log) ? 'TIMEOUT' : j.state;
  switch (state) {
    case 'COMPLETED':
      return { kind: 'succeeded', ok: true, title: 'Completed', detail: `Job ${j.jobId} finished${on}${after} with exit code 0.` };
    case 'OUT_OF_MEMORY':
      return outOfMemory('the kernel killed its processes at the cgroup memory limit (OUT_OF_MEMORY)');
    case 'TIMEOUT':
      return {
        kind: 'timeout',
        ok: false,
        title: `Time limit reached${limit ? ` (${limit})` : ''}`,
        detail: `Slurm stopped job ${j.jobId}${on}${after} because it reached its time limit${limit ? ` of ${limit}` : ''}; the step did not finish.`,
        change: `Raise "slurm.timeLimit" in hailo.json${reqLimit ? ` (now "${reqLimit}")` : ''}, within the partition's MaxTime (Check Target shows it), or choose a partition with a longer MaxTime. Optimization level and compiler effort settings in the .alls also shorten the run.`,
      };
    case 'NODE_FAIL':
      return {
        kind: 'node-failure',
        ok: false,
        title: `Node failure${j.nodes ? ` (${j.nodes})` : ''}`,
        detail: `The node${on} stopped responding while job ${j.jobId} ran${after}. This is not caused by the model or its settings.`,
        change: `Run the step again. If it happens again on the same node, tell the cluster's administrators (node ${j.nodes ?? 'unknown'}); "slurm.sbatchArgs": ["--exclude=${j.nodes ?? 'NODE'}"] avoids it meanwhile.`,
      };
    case 'PREEMPTED':
      return {
        kind: 'preempted',
        ok: false,
        title: 'Preempted',
        detail: `Job ${j.jobId}${on} was stopped${after} to make room for a higher-priority job.`,
        change: 'Run the step again, or use a partition or QOS without preemption ("slurm.partition", "slurm.qos").',
      };
    case 'CANCELLED': {
      const by = /CANCELLED by (\d+)/.exec(log)?.[1];
      // a job that never ran has no node (Slurm still stamps a start time on it)
      const wasPending = !j.nodes;
      const why = wasPending ? ` before it started${j.reason && j.reason !== 'None' ? ` (pending, ${explainReason(j.reason)})` : ''}` : after;
      return {
        kind: 'cancelled',
        ok: false,
        title: 'Cancelled',
        detail: `Job ${j.jobId}${on} was cancelled${why}${by ? ` by uid ${by}` : ''} (scancel).`,
      };
    }
    case 'BOOT_FAIL':
      return {
        kind: 'boot-failure',
        ok: false,
        title: 'Node boot failure',
        detail: `The node for job ${j.jobId} failed to boot.`,
        change: 'Run the step again; tell the administrators if it repeats.',
      };
    case 'DEADLINE':
      return {
        kind: 'deadline',
        ok: false,
        title: 'Deadline passed',
        detail: `Job ${j.jobId} could not run before its deadline.`,
        change: 'Remove "--deadline" from "slurm.sbatchArgs" or set a later one.',
      };
    case 'FAILED': {
      if (j.signal === 9 && MEMORY_KILL_RE.test(log))
        return outOfMemory('Slurm killed the job step when its memory use passed the limit ("Exceeded job memory limit")');
      if (MEMORY_KILL_RE.test(log) && /oom-kill/i.test(log)) return outOfMemory('the kernel killed a process at the memory limit (oom-kill)');
      if (j.reason === 'JobLaunchFailure' || j.reason === 'launch_failed_requeued_held') {
        return {
          kind: 'failed',
          ok: false,
          title: 'Job launch failed',
          detail: `Slurm could not start job ${j.jobId}${on} (${j.reason}).`,
          change: 'Check that the run folder is on storage the compute nodes share; tell the administrators if it repeats.',
        };
      }
      const code = j.exitCode ?? 0;
      if (code === 127) {
        return {
          kind: 'failed',
          ok: false,
          title: 'The DFC environment was not found on the compute node (exit code 127)',
          detail: `Job ${j.jobId}${on} could not enter the DFC environment or find \`hailo\`.`,
          change: 'Check "slurm.dfc" in hailo.json: the venv, image or modules must exist on the compute nodes (Check Target runs a test job).',
        };
      }
      return {
        kind: 'failed',
        ok: false,
        title: j.signal ? `Failed: killed by signal ${j.signal}` : `Failed with exit code ${code}`,
        detail: `Job ${j.jobId}${on} ended${after} with ${j.signal ? `signal ${j.signal}` : `exit code ${code}`}; the step's log says why.`,
      };
    }
    case 'LOST':
      return {
        kind: 'unknown',
        ok: false,
        title: 'Job record lost',
        detail: `Slurm no longer knows job ${j.jobId} (finished longer ago than the cluster keeps records, and no accounting) and the job left no exit file: Slurm ended it (time limit, memory, cancel or node failure).`,
        change: 'Run the step again; its log shows the last thing it did.',
      };
    default:
      return {
        kind: 'unknown',
        ok: false,
        title: `Ended as ${j.state}`,
        detail: `Job ${j.jobId}${on} ended in state ${j.state}${j.reason ? ` (${j.reason})` : ''}.`,
      };
  }
}
