import { HailoError, throwIfAborted } from '../errors';
import type { SlurmOptions } from '../project/schema';
import { rjoin } from '../remote/quote';
import { explainSbatchError, jobScript, parseSbatchParsable, sbatchArgv, type SlurmJobSpec } from './script';
import {
  isUnknownJob,
  parseSacct,
  parseScontrolJobs,
  parseSqueueJson,
  SACCT_FIELDS,
  sacctDisabled,
  selectJob,
  SlurmParseError,
  type SlurmJobState,
} from './state';

/**
 * The Slurm commands of a target, run on its login node through any host that runs an argv
 * (SshHost today; the generic RemoteHost after the runner split). Every argv is quoted by the host.
 */
export interface SlurmShell {
  exec(
    argv: readonly string[],
    opts?: { signal?: AbortSignal; check?: boolean; stdin?: string | Uint8Array },
  ): Promise<{ exitCode: number; stdout: Buffer; stderr: string }>;
}

export interface SubmittedJob {
  jobId: string;
  scriptPath: string;
  argv: string[];
}

/** Does this Slurm version have `squeue --json` (21.08+)? */
export function hasSqueueJson(version: string | undefined): boolean {
  const m = /(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return true;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > 21 || (maj === 21 && min >= 8);
}

export class SlurmClient {
  /** `squeue --json` failed once (older Slurm or no JSON plugin): use scontrol from then on. */
  private noJson = false;
  /** sacct said accounting is off. */
  private noAccounting = false;

  constructor(
    private readonly shell: SlurmShell,
    private readonly opts: { now?: () => number; tzOffsetMinutes?: number } = {},
  ) {}

  /** `sinfo --version` → "22.05.8". */
  async version(signal?: AbortSignal): Promise<string> {
    const r = await this.shell.exec(['sinfo', '--version'], { signal, check: false });
    const m = /(\d+\.\d+\.\d+\S*)/.exec(r.stdout.toString('utf8'));
    if (r.exitCode !== 0 || !m) {
      throw new HailoError(
        'REMOTE_STEP_FAILED',
        `sinfo --version failed on the login node (exit ${r.exitCode}): ${(r.stderr || r.stdout.toString('utf8')).trim().split('\n')[0] || 'no output'}. Is Slurm installed there and on PATH?`,
      );
    }
    if (!hasSqueueJson(m[1])) this.noJson = true;
    return m[1]!;
  }

  /** Write the job script to shared storage and submit it. */
  async submit(target: SlurmOptions, spec: SlurmJobSpec, opts: { signal?: AbortSignal; binds?: string[] } = {}): Promise<SubmittedJob> {
    const script = jobScript(target, spec, opts.binds ?? []);
    await this.shell.exec(
      ['sh', '-c', 'set -e; mkdir -p -- "$(dirname -- "$1")"; cat > "$1.tmp.$$"; chmod 700 "$1.tmp.$$"; mv -f -- "$1.tmp.$$" "$1"', 'sh', spec.scriptPath],
      {
        signal: opts.signal,
        stdin: script,
      },
    );
    // the output folder must exist before the job starts: Slurm does not create it
    const outDir = spec.output.slice(0, spec.output.lastIndexOf('/')) || '/';
    await this.shell.exec(['mkdir', '-p', '--', outDir, ...spec.tasks.map((t) => t.dir)], { signal: opts.signal });
    const argv = sbatchArgv(target, spec);
    const r = await this.shell.exec(argv, { signal: opts.signal, check: false });
    throwIfAborted(opts.signal);
    const id = r.exitCode === 0 ? parseSbatchParsable(r.stdout.toString('utf8')) : undefined;
    if (!id) throw new HailoError('REMOTE_STEP_FAILED', explainSbatchError(r.stderr || r.stdout.toString('utf8'), target));
    return { jobId: id, scriptPath: spec.scriptPath, argv };
  }

  /**
   * The state of a job (or of every element of an array job): `squeue --json`, then
   * `scontrol show job`, then `sacct`. Empty when no tool knows the job any more.
   */
  async state(jobId: string, signal?: AbortSignal): Promise<SlurmJobState[]> {
    return (await this.states([jobId], signal)).get(jobId) ?? [];
  }

  /** States of several jobs with one squeue call. */
  async states(jobIds: readonly string[], signal?: AbortSignal): Promise<Map<string, SlurmJobState[]>> {
    for (const id of jobIds) if (!/^\d+(_\d+)?$/.test(id)) throw new HailoError('INVALID_ARGUMENT', `"${id}" is not a Slurm job id`);
    const out = new Map<string, SlurmJobState[]>();
    const now = (this.opts.now ?? Date.now)() / 1000;
    if (!this.noJson) {
      // --states=all: finished jobs too (newer versions apply the default pending/running filter to --json)
      const r = await this.shell.exec(['squeue', '--json', '--states=all', `--jobs=${jobIds.join(',')}`], { signal, check: false });
      if (r.exitCode === 0) {
        try {
          const all = parseSqueueJson(r.stdout.toString('utf8'), now);
          for (const id of jobIds) {
            const sel = selectJob(all, id);
            if (sel.length) out.set(id, sel);
          }
        } catch (e) {
          if (!(e instanceof SlurmParseError)) throw e;
          this.noJson = true;
        }
      } else if (/unrecognized option|invalid option|json/i.test(r.stderr)) {
        this.noJson = true;
      } else if (!/Invalid job id/i.test(r.stderr)) {
        throw new HailoError('REMOTE_STEP_FAILED', `squeue failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
      }
    }
    for (const id of jobIds) {
      if (out.has(id)) continue;
      const r = await this.shell.exec(['scontrol', 'show', 'job', '-o', id], { signal, check: false });
      if (r.exitCode === 0) {
        const sel = selectJob(parseScontrolJobs(r.stdout.toString('utf8'), { tzOffsetMinutes: this.opts.tzOffsetMinutes }), id);
        if (sel.length) {
          out.set(id, sel);
          continue;
        }
      } else if (!isUnknownJob(r.stderr)) {
        throw new HailoError('REMOTE_STEP_FAILED', `scontrol show job ${id} failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
      }
      const acct = await this.sacct(id, signal);
      if (acct.length) out.set(id, acct);
    }
    return out;
  }

  /** sacct records of a job; empty where accounting is off. */
  async sacct(jobId: string, signal?: AbortSignal): Promise<SlurmJobState[]> {
    if (this.noAccounting) return [];
    const r = await this.shell.exec(['sacct', '-j', jobId, '--parsable2', '--noheader', '-o', SACCT_FIELDS.join(',')], { signal, check: false });
    const text = r.stdout.toString('utf8');
    if (sacctDisabled(r.stderr) || sacctDisabled(text)) {
      this.noAccounting = true;
      return [];
    }
    if (r.exitCode !== 0) return [];
    return selectJob(parseSacct(text), jobId);
  }

  get accountingAvailable(): boolean | undefined {
    return this.noAccounting ? false : undefined;
  }

  /** `scancel ID` (a whole array, or one element as `12_3`). Cancelling a finished job is not an error. */
  async cancel(jobId: string, signal?: AbortSignal): Promise<void> {
    if (!/^\d+(_\d+)?$/.test(jobId)) throw new HailoError('INVALID_ARGUMENT', `"${jobId}" is not a Slurm job id`);
    const r = await this.shell.exec(['scancel', jobId], { signal, check: false });
    if (r.exitCode !== 0 && !/already completing or completed|Invalid job id|Job has already finished/i.test(r.stderr)) {
      throw new HailoError('REMOTE_STEP_FAILED', `scancel ${jobId} failed: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.exitCode}`}`);
    }
  }

  /**
   * Poll until `done(states)` holds (default: every record finished) or the signal aborts.
   * `onState` sees each poll's records (for the Runs view).
   */
  async wait(
    jobId: string,
    opts: {
      signal?: AbortSignal;
      intervalMs?: number;
      timeoutMs?: number;
      done?: (s: SlurmJobState[]) => boolean;
      onState?: (s: SlurmJobState[]) => void;
    } = {},
  ): Promise<SlurmJobState[]> {
    const done = opts.done ?? ((s) => s.length > 0 && s.every((j) => j.phase === 'finished'));
    const end = opts.timeoutMs ? Date.now() + opts.timeoutMs : Infinity;
    for (;;) {
      throwIfAborted(opts.signal);
      const s = await this.state(jobId, opts.signal);
      opts.onState?.(s);
      if (done(s)) return s;
      if (Date.now() > end)
        throw new HailoError(
          'REMOTE_STEP_FAILED',
          `job ${jobId}: still ${s.map((j) => j.state).join(', ') || 'unknown to Slurm'} after ${Math.round((opts.timeoutMs ?? 0) / 1000)} s`,
        );
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
    }
  }

  /** Bytes of a log from an offset (the job's output on shared storage), and the new offset. */
  async readLog(file: string, offset: number, signal?: AbortSignal): Promise<{ data: Buffer; offset: number }> {
    const r = await this.shell.exec(['sh', '-c', '[ -f "$1" ] || exit 0; tail -c +"$2" -- "$1"', 'sh', file, String(offset + 1)], { signal, check: false });
    return { data: r.stdout, offset: offset + r.stdout.length };
  }
}

/** Folder layout of one step run as a job: script, log and task folder under the run folder. */
export function stepJobFiles(runDir: string, step: string): { scriptPath: string; output: string } {
  return { scriptPath: rjoin(runDir, `${step}.sbatch.sh`), output: rjoin(runDir, `${step}.log`) };
}
