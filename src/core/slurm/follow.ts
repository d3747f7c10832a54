import { rjoin } from '../remote/quote';
import type { SlurmClient, SlurmShell, SubmittedJob } from './client';
import { EXIT_FILE, type SlurmJobSpec } from './script';
import type { SlurmJobState } from './state';

/**
 * What a run stores about a submitted job, so that a reload (or a dropped SSH connection)
 * reattaches by job id and goes on reading the log from the saved byte offset: nothing is lost,
 * because the job and its log live on the cluster, not in the connection.
 */
export interface SlurmJobRecord {
  jobId: string;
  scriptPath: string;
  /** The log (stdout+stderr) of a plain job; for arrays, the pattern with `%a`. */
  output: string;
  /** Task folders (element i of an array → taskDirs[i]). */
  taskDirs: string[];
  submittedAt: string;
}

export function jobRecord(sub: SubmittedJob, spec: SlurmJobSpec, now = new Date()): SlurmJobRecord {
  return { jobId: sub.jobId, scriptPath: sub.scriptPath, output: spec.output, taskDirs: spec.tasks.map((t) => t.dir), submittedAt: now.toISOString() };
}

export interface JobPoll {
  states: SlurmJobState[];
  /** Log bytes after the given offset, and the offset after them. */
  data: Buffer;
  offset: number;
  /** Every record finished (or the job is known only from its exit file). */
  done: boolean;
}

/**
 * One poll of a plain (non-array) job: its state and the new log bytes. When Slurm has forgotten
 * the job (finished longer ago than MinJobAge, no accounting), the exit file the script writes
 * decides; with no exit file either, the job is reported as LOST (Slurm killed it and no record
 * is left: a time limit, a memory kill or a cancel while nothing was watching).
 */
export async function pollJob(client: SlurmClient, shell: SlurmShell, rec: SlurmJobRecord, offset: number, signal?: AbortSignal): Promise<JobPoll> {
  let states = await client.state(rec.jobId, signal);
  // read the log after the state: a job seen finished has written all of its output
  const log = await client.readLog(rec.output, offset, signal);
  if (!states.length) states = [await stateFromExitFile(shell, rec, signal)];
  return { states, data: log.data, offset: log.offset, done: states.every((s) => s.phase === 'finished') };
}

/** The job's end as its exit file tells it (source `scontrol` is not claimed: see `state`). */
export async function stateFromExitFile(shell: SlurmShell, rec: SlurmJobRecord, signal?: AbortSignal): Promise<SlurmJobState> {
  const file = rjoin(rec.taskDirs[0] ?? '', EXIT_FILE);
  const r = await shell.exec(['sh', '-c', '[ -f "$1" ] && cat -- "$1"', 'sh', file], { signal, check: false });
  const text = r.stdout.toString('utf8').trim();
  if (r.exitCode === 0 && /^\d+$/.test(text)) {
    const code = Number(text);
    return { jobId: rec.jobId, state: code === 0 ? 'COMPLETED' : 'FAILED', flags: [], phase: 'finished', exitCode: code, signal: 0, source: 'exit-file' };
  }
  return {
    jobId: rec.jobId,
    state: 'LOST',
    flags: [],
    phase: 'finished',
    reason: 'Slurm no longer knows the job and it left no exit file',
    source: 'exit-file',
  };
}
