import { z } from 'zod';

/**
 * Job state from Slurm's own tools, in one model:
 *  - `squeue --json` (Slurm 21.08+). Two shapes are read: OpenAPI v0.0.37/38 (21.08, 22.05: plain
 *    strings and numbers, `exit_code` a wait status) and the data_parser of 23.02+ (`job_state` a
 *    list of flags, numbers as `{set, infinite, number}`, `exit_code` an object). 22.05 ignores
 *    squeue's filters with --json, so the jobs are always picked by id here.
 *  - `scontrol show job -o` (all versions; `Key=Value` pairs, one job per line).
 *  - `sacct --parsable2` (only where accounting is configured).
 */

export type SlurmPhase = 'queued' | 'running' | 'completing' | 'suspended' | 'finished';
export type StateSource = 'squeue' | 'scontrol' | 'sacct' | 'exit-file';

export interface SlurmJobState {
  /** `12` for a job, `12_3` for an array element. */
  jobId: string;
  /** The array's job id and this element's index (array elements only). */
  arrayJobId?: string;
  arrayTaskId?: number;
  /** Pending array elements not yet split off, e.g. `0-3%2` (squeue shows them as one record). */
  arrayPending?: string;
  name?: string;
  partition?: string;
  /** Base state: PENDING, RUNNING, COMPLETED, FAILED, OUT_OF_MEMORY, TIMEOUT, CANCELLED, NODE_FAIL, PREEMPTED, ... */
  state: string;
  /** Extra state flags Slurm shows beside the base state (COMPLETING, CONFIGURING, REQUEUED, ...). */
  flags: string[];
  phase: SlurmPhase;
  /** Slurm's reason code (`Priority`, `Resources`, ...), absent when "None". */
  reason?: string;
  /** The node(s) the job runs or ran on. */
  nodes?: string;
  /** Exit code of the batch script and the signal that ended it (`ExitCode=0:9` → 0, 9). */
  exitCode?: number;
  signal?: number;
  submitTime?: number;
  /** Epoch seconds; only set once the job really started. */
  startTime?: number;
  endTime?: number;
  /** Seconds run so far (running) or in total (finished). */
  elapsedSeconds?: number;
  /** Minutes; undefined when unlimited. */
  timeLimitMinutes?: number;
  stdout?: string;
  source: StateSource;
}

const FINISHED = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'REVOKED',
  'SPECIAL_EXIT',
]);
const FLAG_STATES = new Set([
  'COMPLETING',
  'CONFIGURING',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'RESIZING',
  'RESV_DEL_HOLD',
  'SIGNALING',
  'STAGE_OUT',
  'STOPPED',
  'UPDATE_DB',
  'POWER_UP_NODE',
  'LAUNCH_FAILED',
  'RECONFIG_FAIL',
]);

export function phaseOf(state: string, flags: readonly string[]): SlurmPhase {
  if (flags.includes('COMPLETING')) return 'completing';
  if (FINISHED.has(state)) return 'finished';
  // RUNNING with CONFIGURING (nodes booting) counts as running: the job has its node
  if (state === 'RUNNING') return 'running';
  if (state === 'SUSPENDED') return 'suspended';
  // PENDING, REQUEUED, REQUEUE_HOLD, ...: waiting for a start
  return 'queued';
}

/** Split a state word like `COMPLETING` or `CANCELLED by 0` or a list of flags into base + flags. */
export function splitState(words: readonly string[]): { state: string; flags: string[] } {
  const clean = words.map((w) => w.trim().split(/\s+/)[0]!.toUpperCase()).filter(Boolean);
  const base = clean.find((w) => !FLAG_STATES.has(w));
  const flags = clean.filter((w) => FLAG_STATES.has(w));
  // `JobState=COMPLETING` alone (scontrol, squeue v0.0.38): the job ran and its processes are ending
  // `REQUEUED` alone: the job went back to the queue
  const fallback = flags.includes('COMPLETING') ? 'COMPLETING' : flags.some((f) => f.startsWith('REQUEUE')) ? 'PENDING' : 'UNKNOWN';
  return { state: base ?? fallback, flags };
}

// ------------------------------------------------------------------ squeue --json

/** A number as any squeue version writes it: plain, or `{set, infinite, number}`. */
function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v && typeof v === 'object' && 'number' in v) {
    const o = v as { set?: boolean; infinite?: boolean; number?: unknown };
    if (o.set === false || o.infinite) return undefined;
    return typeof o.number === 'number' ? o.number : undefined;
  }
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

const SqueueDoc = z.object({
  jobs: z.array(z.record(z.string(), z.unknown())),
  meta: z.unknown().optional(),
  errors: z.array(z.unknown()).optional(),
});

export class SlurmParseError extends Error {}

/** Exit status from a v0.0.38 wait status or a 23.02+ `{status, return_code, signal}` object. */
function exitOf(v: unknown): { exitCode?: number; signal?: number } {
  if (typeof v === 'number') {
    // a wait(2) status: low 7 bits the signal, next byte the exit code
    return { exitCode: (v >> 8) & 0xff, signal: v & 0x7f };
  }
  if (v && typeof v === 'object') {
    const o = v as { return_code?: unknown; signal?: unknown };
    const sig = o.signal && typeof o.signal === 'object' ? num((o.signal as { id?: unknown }).id) : num(o.signal);
    return { exitCode: num(o.return_code), signal: sig };
  }
  return {};
}

/** Every job of a `squeue --json` document, in the model above. `now` (epoch s) gives running jobs their elapsed time. */
export function parseSqueueJson(text: string, now = Date.now() / 1000): SlurmJobState[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SlurmParseError(`squeue --json printed no JSON (${(e as Error).message}): ${text.slice(0, 120)}`);
  }
  const doc = SqueueDoc.safeParse(raw);
  if (!doc.success) throw new SlurmParseError(`squeue --json: unexpected document (${doc.error.issues[0]?.message ?? 'invalid'})`);
  return doc.data.jobs.map((j) => {
    const stateWords = Array.isArray(j.job_state) ? (j.job_state as unknown[]).map(String) : [String(j.job_state ?? 'UNKNOWN')];
    const { state, flags } = splitState(stateWords);
    const phase = phaseOf(state, flags);
    const id = num(j.job_id)!;
    const arrayJob = num(j.array_job_id);
    const arrayTask = num(j.array_task_id);
    const arrayPending = str(j.array_task_string);
    const isArray = !!arrayJob && (arrayTask !== undefined || !!arrayPending);
    const reason = str(j.state_reason);
    const start = num(j.start_time);
    const end = num(j.end_time);
    // pending jobs carry the scheduler's expected start time; it is not a start
    const started = phase !== 'queued' && start ? start : undefined;
    const ended = phase === 'finished' && end ? end : undefined;
    const ex = exitOf(j.exit_code);
    const out: SlurmJobState = {
      jobId: isArray && arrayTask !== undefined ? `${arrayJob}_${arrayTask}` : String(id),
      ...(isArray ? { arrayJobId: String(arrayJob) } : {}),
      ...(isArray && arrayTask !== undefined ? { arrayTaskId: arrayTask } : {}),
      ...(isArray && arrayTask === undefined && arrayPending ? { arrayPending } : {}),
      name: str(j.name),
      partition: str(j.partition),
      state,
      flags,
      phase,
      ...(reason && reason !== 'None' ? { reason } : {}),
      ...(str(j.nodes) ? { nodes: str(j.nodes) } : {}),
      ...(phase === 'finished' ? ex : {}),
      submitTime: num(j.submit_time),
      ...(started ? { startTime: started } : {}),
      ...(ended ? { endTime: ended } : {}),
      ...(started ? { elapsedSeconds: Math.max(0, Math.round((ended ?? now) - started)) } : {}),
      timeLimitMinutes: num(j.time_limit),
      stdout: str(j.standard_output),
      source: 'squeue',
    };
    return out;
  });
}

// ------------------------------------------------------------------ scontrol show job -o

/** `Key=Value` pairs of one scontrol line; values may contain spaces (the next ` Key=` ends them). */
export function parseKeyValues(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(?:^|\s)([A-Za-z][A-Za-z0-9_/:]*)=/g;
  const keys: { key: string; start: number; valueStart: number }[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) keys.push({ key: m[1]!, start: m.index, valueStart: m.index + m[0].length });
  keys.forEach((k, i) => {
    const end = i + 1 < keys.length ? keys[i + 1]!.start : line.length;
    if (!(k.key in out)) out[k.key] = line.slice(k.valueStart, end).trim();
  });
  return out;
}

/** `1-02:03:04`, `02:03:04`, `03:04` → seconds. */
export function parseSlurmDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)(?:\.\d+)?$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

/** `2026-12-06T13:31:53` (the cluster's local time, as scontrol prints it) → epoch seconds; Unknown/None → undefined. */
function scontrolTime(text: string | undefined, tzOffsetMinutes: number): number | undefined {
  if (!text || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(text)) return undefined;
  return Date.parse(`${text}Z`) / 1000 + tzOffsetMinutes * 60;
}

/** `scontrol show job -o` output (one job per line; also accepts the multi-line form of one job). */
export function parseScontrolJobs(text: string, opts: { tzOffsetMinutes?: number } = {}): SlurmJobState[] {
  const tz = opts.tzOffsetMinutes ?? 0;
  const blocks = /\n\s+\S/.test(text) ? text.split(/\n\s*\n/).map((b) => b.replace(/\n\s+/g, ' ')) : text.split('\n');
  const out: SlurmJobState[] = [];
  for (const b of blocks) {
    const line = b.trim();
    if (!line.startsWith('JobId=')) continue;
    const kv = parseKeyValues(line);
    const { state, flags } = splitState([kv.JobState ?? 'UNKNOWN']);
    const phase = phaseOf(state, flags);
    const arrayJob = kv.ArrayJobId;
    const arrayTask = kv.ArrayTaskId;
    const single = arrayTask !== undefined && /^\d+$/.test(arrayTask);
    const [code, sig] = (kv.ExitCode ?? '').split(':').map((x) => Number(x));
    const nodes = kv.NodeList && kv.NodeList !== '(null)' ? kv.NodeList : undefined;
    const started = phase !== 'queued' ? scontrolTime(kv.StartTime, tz) : undefined;
    const ended = phase === 'finished' ? scontrolTime(kv.EndTime, tz) : undefined;
    const limit = kv.TimeLimit && kv.TimeLimit !== 'UNLIMITED' ? parseSlurmDuration(kv.TimeLimit) : undefined;
    out.push({
      jobId: arrayJob && single ? `${arrayJob}_${arrayTask}` : kv.JobId!,
      ...(arrayJob ? { arrayJobId: arrayJob } : {}),
      ...(arrayJob && single ? { arrayTaskId: Number(arrayTask) } : {}),
      ...(arrayJob && arrayTask && !single ? { arrayPending: arrayTask } : {}),
      name: kv.JobName,
      partition: kv.Partition,
      state,
      flags,
      phase,
      ...(kv.Reason && kv.Reason !== 'None' ? { reason: kv.Reason } : {}),
      ...(nodes ? { nodes } : {}),
      ...(phase === 'finished' && Number.isFinite(code) ? { exitCode: code, signal: Number.isFinite(sig) ? sig : 0 } : {}),
      submitTime: scontrolTime(kv.SubmitTime, tz),
      ...(started ? { startTime: started } : {}),
      ...(ended ? { endTime: ended } : {}),
      ...(phase !== 'queued' && parseSlurmDuration(kv.RunTime) !== undefined ? { elapsedSeconds: parseSlurmDuration(kv.RunTime) } : {}),
      ...(limit !== undefined ? { timeLimitMinutes: Math.round(limit / 60) } : {}),
      ...(kv.StdOut ? { stdout: kv.StdOut } : {}),
      source: 'scontrol',
    });
  }
  return out;
}

/** scontrol's answer for a job it no longer knows. */
export function isUnknownJob(stderr: string): boolean {
  return /Invalid job id specified/i.test(stderr);
}

// ------------------------------------------------------------------ sacct

export const SACCT_FIELDS = ['JobID', 'JobName', 'Partition', 'State', 'ExitCode', 'Elapsed', 'NodeList', 'Reason', 'Timelimit'] as const;

/** sacct says accounting is off (it still exits 0). */
export function sacctDisabled(text: string): boolean {
  return /accounting storage is disabled|Slurm accounting storage is disabled|No accounting/i.test(text);
}

/**
 * `sacct -j ID --parsable2 --noheader -o JobID,JobName,Partition,State,ExitCode,Elapsed,NodeList,Reason,Timelimit`.
 * Job steps (`12.batch`, `12.0`) are folded into their job: a step that ran out of memory makes the job's verdict.
 */
export function parseSacct(text: string): SlurmJobState[] {
  const jobs = new Map<string, SlurmJobState>();
  const stepStates = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || !line.includes('|')) continue;
    const f = line.split('|');
    const [jobId, name, partition, stateText, exit, elapsed, nodes, reason, limit] = f;
    if (!jobId) continue;
    const stepMatch = /^(\d+(?:_\d+)?)\.(.+)$/.exec(jobId);
    if (stepMatch) {
      (stepStates.get(stepMatch[1]!) ?? stepStates.set(stepMatch[1]!, []).get(stepMatch[1]!)!).push((stateText ?? '').split(/\s+/)[0]!);
      continue;
    }
    const { state, flags } = splitState([stateText ?? 'UNKNOWN']);
    const phase = phaseOf(state, flags);
    const [code, sig] = (exit ?? '').split(':').map((x) => Number(x));
    const am = /^(\d+)_(\d+)$/.exec(jobId);
    const ap = /^(\d+)_\[(.+)\]$/.exec(jobId);
    const lim = limit && limit !== 'UNLIMITED' && limit !== 'Partition_Limit' ? parseSlurmDuration(limit) : undefined;
    jobs.set(jobId, {
      jobId: ap ? ap[1]! : jobId,
      ...(am ? { arrayJobId: am[1], arrayTaskId: Number(am[2]) } : {}),
      ...(ap ? { arrayJobId: ap[1], arrayPending: ap[2] } : {}),
      name: name || undefined,
      partition: partition || undefined,
      state,
      flags,
      phase,
      ...(reason && reason !== 'None' ? { reason } : {}),
      ...(nodes && nodes !== 'None assigned' ? { nodes } : {}),
      ...(phase === 'finished' && Number.isFinite(code) ? { exitCode: code, signal: Number.isFinite(sig) ? sig : 0 } : {}),
      ...(phase !== 'queued' && parseSlurmDuration(elapsed) !== undefined ? { elapsedSeconds: parseSlurmDuration(elapsed) } : {}),
      ...(lim !== undefined ? { timeLimitMinutes: Math.round(lim / 60) } : {}),
      source: 'sacct',
    });
  }
  for (const [id, steps] of stepStates) {
    const j = jobs.get(id);
    if (j && j.state === 'FAILED' && steps.includes('OUT_OF_MEMORY')) j.state = 'OUT_OF_MEMORY';
  }
  return [...jobs.values()];
}

// ------------------------------------------------------------------ words

/** Pending reasons that will not resolve by waiting: the request itself must change. */
const STUCK_REASONS = new Set([
  'PartitionTimeLimit',
  'PartitionNodeLimit',
  'PartitionConfig',
  'BadConstraints',
  'InvalidAccount',
  'InvalidQOS',
  'QOSMaxWallDurationPerJobLimit',
  'QOSMaxCpuPerJobLimit',
  'QOSMaxMemoryPerJob',
  'QOSMaxGRESPerJob',
  'AssocMaxWallDurationPerJobLimit',
  'AssocMaxCpuPerJobLimit',
  'JobHeldAdmin',
  'DependencyNeverSatisfied',
  'PartitionDown',
  'PartitionInactive',
]);

export function isStuckReason(reason: string | undefined): boolean {
  return !!reason && STUCK_REASONS.has(reason);
}

/** A pending reason in words: what Slurm is waiting for, and (for reasons that do not pass) what to change. */
export function explainReason(reason: string | undefined): string {
  if (!reason) return 'waiting to be scheduled';
  const known: Record<string, string> = {
    Priority: 'waiting: jobs with higher priority are ahead in the queue',
    Resources: 'waiting for CPUs, memory or GPUs to become free',
    JobArrayTaskLimit: "waiting: the sweep's concurrency limit is reached (the other variants run first)",
    Dependency: 'waiting for the job it depends on',
    BeginTime: 'waiting for its start time',
    None: 'waiting to be scheduled',
    ReqNodeNotAvail: 'waiting: the nodes it needs are unavailable (down, drained or reserved)',
    Reservation: 'waiting for its reservation to start',
    JobHeldUser: 'held by you (`scontrol release <id>` lets it run)',
    JobHeldAdmin: 'held by an administrator; ask them to release it',
    PartitionTimeLimit: 'will not start: its time limit is longer than the partition\'s MaxTime. Lower "slurm.timeLimit" in hailo.json',
    PartitionNodeLimit: 'will not start: it asks for more nodes than the partition allows',
    PartitionConfig: 'will not start: it asks for more than the partition\'s per-node limits (CPUs, memory). Lower "slurm.cpus" or "slurm.memory"',
    PartitionDown: 'will not start: the partition is down; ask the administrators or choose another partition',
    PartitionInactive: 'will not start: the partition is inactive; choose another partition',
    BadConstraints: 'will not start: no node matches its constraints (check "slurm.sbatchArgs" and "slurm.gpuType")',
    InvalidAccount: 'will not start: the account is not valid for you; fix "slurm.account"',
    InvalidQOS: 'will not start: the QOS is not valid for you; fix "slurm.qos"',
    QOSMaxWallDurationPerJobLimit: 'will not start: its time limit is above the QOS maximum. Lower "slurm.timeLimit"',
    AssocMaxWallDurationPerJobLimit: 'will not start: its time limit is above your association maximum. Lower "slurm.timeLimit"',
    QOSMaxCpuPerJobLimit: 'will not start: it asks for more CPUs than the QOS allows. Lower "slurm.cpus"',
    AssocMaxCpuPerJobLimit: 'will not start: it asks for more CPUs than your association allows. Lower "slurm.cpus"',
    QOSMaxMemoryPerJob: 'will not start: it asks for more memory than the QOS allows. Lower "slurm.memory"',
    QOSMaxGRESPerJob: 'will not start: it asks for more GPUs than the QOS allows. Lower "slurm.gpus"',
    DependencyNeverSatisfied: 'will not start: the job it depends on failed',
    launch_failed_requeued_held: 'held after a failed launch; ask the administrators',
    NodeDown: 'waiting: a node it needs is down',
    Nodes_required_for_job_are_DOWN_DRAINED_or_reserved_for_jobs_in_higher_priority_partitions:
      'waiting: the nodes it needs are busy with higher-priority partitions, down or drained',
  };
  if (known[reason]) return known[reason];
  if (/^QOS|^Assoc/.test(reason)) return `waiting: a limit of your account or QOS is reached (${reason})`;
  if (/DOWN, DRAINED or reserved/i.test(reason)) return 'waiting: the nodes it needs are busy with higher-priority partitions, down or drained';
  return `waiting (${reason})`;
}

/** `1:02:03` / `3:04` elapsed time as squeue prints it. */
export function formatElapsed(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  const hms = h || d ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
  return d ? `${d}-${hms.padStart(8, '0')}` : hms;
}

/** One line for the Runs view: "queued (waiting for CPUs, ...)", "running on node01, 3:04", "completing on node01". */
export function describeState(j: SlurmJobState): string {
  switch (j.phase) {
    case 'queued':
      return `queued: ${explainReason(j.reason)}${j.arrayPending ? ` (elements ${j.arrayPending})` : ''}`;
    case 'running':
      return `running${j.nodes ? ` on ${j.nodes}` : ''}${j.elapsedSeconds !== undefined ? `, ${formatElapsed(j.elapsedSeconds)}` : ''}`;
    case 'completing':
      return `completing${j.nodes ? ` on ${j.nodes}` : ''}: Slurm is ending the job's processes`;
    case 'suspended':
      return `suspended${j.nodes ? ` on ${j.nodes}` : ''}`;
    case 'finished':
      return `${j.state.toLowerCase().replace(/_/g, ' ')}${j.elapsedSeconds !== undefined ? ` after ${formatElapsed(j.elapsedSeconds)}` : ''}`;
  }
}

/** Pick the records of one job (or of all elements of an array) from a list. */
export function selectJob(all: readonly SlurmJobState[], jobId: string): SlurmJobState[] {
  return all.filter((j) => j.jobId === jobId || j.arrayJobId === jobId || (j.arrayJobId && jobId === `${j.arrayJobId}_${j.arrayTaskId}`));
}
