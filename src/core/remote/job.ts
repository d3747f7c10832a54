import { createHash } from 'node:crypto';
import { HailoError, isHailoError, throwIfAborted } from '../errors';
import { rjoin } from './quote';
import type { RemoteHost } from './host';

/**
 * Detached remote steps. A step runs under a small wrapper script in its own session and process
 * group (`setsid`), with stdin from /dev/null and output appended to `<jobDir>/log`, so a dropped
 * SSH connection does not touch it. The wrapper records `pid` and `pgid` and, when the command
 * ends, writes its exit status to `<jobDir>/exit` (atomically, by rename). The client polls with a
 * byte offset: each poll returns the exit status (read first), the log size, the RSS of the
 * process group and the bytes after the offset, so reattaching at the last offset resumes the log
 * exactly, without losing or repeating a line.
 */
export const JOB_WRAPPER = `#!/bin/sh
# Hailo Workbench job wrapper: run a command detached, in its own process group, log to a file.
# usage: setsid sh hwb-job.sh JOBDIR CWD COMMAND [ARGS...]
d=$1; cwd=$2; shift 2
pg=$(ps -o pgid= -p $$ 2>/dev/null | tr -d ' ')
echo $$ > "$d/pid.tmp" && mv -f "$d/pid.tmp" "$d/pid"
echo "\${pg:-$$}" > "$d/pgid.tmp" && mv -f "$d/pgid.tmp" "$d/pgid"
date +%s > "$d/started"
if ! cd "$cwd"; then
  echo "hwb-job: cannot enter $cwd" >> "$d/log"
  echo 126 > "$d/exit.tmp" && mv -f "$d/exit.tmp" "$d/exit"
  exit 126
fi
# a signal to the group must not stop the wrapper before it records how the command ended
trap ':' TERM INT HUP
"$@" >> "$d/log" 2>&1 < /dev/null &
child=$!
while :; do
  wait "$child"
  rc=$?
  kill -0 "$child" 2>/dev/null || break
done
echo "$rc" > "$d/exit.tmp" && mv -f "$d/exit.tmp" "$d/exit"
`;

export const JOB_WRAPPER_NAME = `hwb-job-${createHash('sha256').update(JOB_WRAPPER).digest('hex').slice(0, 12)}.sh`;

/**
 * Where job scripts run: directly on the host, or inside a Docker container (`docker exec`), in
 * which case paths under the host work dir are seen through the container's mount.
 */
export interface JobEnv {
  prefix: readonly string[];
}
export const HOST_ENV: JobEnv = { prefix: [] };

function script(host: RemoteHost, env: JobEnv | undefined, text: string, args: readonly string[], opts: Parameters<RemoteHost['exec']>[1] = {}) {
  return host.exec([...(env?.prefix ?? []), 'sh', '-c', text, 'sh', ...args], opts);
}

/** A started remote job. */
export interface JobRef {
  jobDir: string;
  pid: number;
  pgid: number;
}

export interface PollResult {
  /** Bytes of the remote log in total. */
  size: number;
  /** Exit status once the command has ended. */
  exitCode: number | undefined;
  /** RSS of the job's process group in KiB (0 once it has ended). */
  rssKB: number;
  /** MemAvailable of the machine in KiB (from /proc/meminfo; undefined where there is none). */
  availKB: number | undefined;
  /** A cancel was requested for this job (by this or another client). */
  cancelRequested: boolean;
  /** Log bytes from the requested offset. */
  data: Buffer;
}

/** Wrappers known to be installed, per host object (each has its own connection). */
const installed = new WeakMap<RemoteHost, Set<string>>();

/**
 * Install the wrapper under `<workDir>/bin` (once; its name carries its content hash). A host
 * object remembers what it installed, so later runs skip the check; `startDetached` reinstalls
 * when the file has gone since.
 */
export async function installWrapper(host: RemoteHost, workDir: string, signal?: AbortSignal): Promise<string> {
  // installed through the host (the container sees it through its mount of the work dir)
  const file = rjoin(workDir, 'bin', JOB_WRAPPER_NAME);
  if (installed.get(host)?.has(file)) return file;
  const r = await host.execScript('[ -f "$1" ] && echo yes || echo no', [file], { signal });
  if (!/(^|\n)yes\n?$/.test(r.stdout.toString())) {
    await host.execScript('set -e; mkdir -p -- "$(dirname -- "$1")"; cat > "$1.part.$$"; mv -f -- "$1.part.$$" "$1"', [file], { signal, stdin: JOB_WRAPPER });
  }
  let set = installed.get(host);
  if (!set) installed.set(host, (set = new Set()));
  set.add(file);
  return file;
}

const START_SCRIPT = `set -e
d=$1; w=$2; cwd=$3; shift 3
[ -f "$w" ] || { echo HWB-NO-WRAPPER; exit 0; }
mkdir -p -- "$d" "$cwd"
rm -f -- "$d/exit" "$d/cancel" "$d/pid" "$d/pgid"
: >> "$d/log"
if command -v setsid >/dev/null 2>&1; then
  setsid sh "$w" "$d" "$cwd" "$@" </dev/null >/dev/null 2>&1 &
else
  nohup sh "$w" "$d" "$cwd" "$@" </dev/null >/dev/null 2>&1 &
fi
i=0
while [ ! -s "$d/pgid" ] && [ $i -lt 100 ]; do sleep 0.05 2>/dev/null || sleep 1; i=$((i+1)); done
printf '%s %s\\n' "$(cat "$d/pid" 2>/dev/null)" "$(cat "$d/pgid" 2>/dev/null)"
`;

/** Start `argv` detached in `cwd`; its output goes to `<jobDir>/log`. */
export async function startDetached(
  host: RemoteHost,
  opts: { wrapper: string; jobDir: string; cwd: string; argv: readonly string[]; env?: JobEnv; signal?: AbortSignal; reinstall?: () => Promise<unknown> },
): Promise<JobRef> {
  if (!opts.argv.length) throw new HailoError('INVALID_ARGUMENT', 'empty remote command');
  const r = await script(host, opts.env, START_SCRIPT, [opts.jobDir, opts.wrapper, opts.cwd, ...opts.argv], { signal: opts.signal });
  if (/(^|\n)HWB-NO-WRAPPER\n?$/.test(r.stdout.toString()) && opts.reinstall) {
    // the remote work dir lost the wrapper since this host installed it (removed by hand): again
    installed.get(host)?.clear();
    await opts.reinstall();
    return startDetached(host, { ...opts, reinstall: undefined });
  }
  const m = /(?:^|\n)(\d+) (\d+)\s*$/.exec(r.stdout.toString());
  if (!m) throw new HailoError('SSH_FAILED', `${host.host}: the remote job did not start in ${opts.jobDir} (got "${r.stdout.toString().trim()}")`);
  return { jobDir: opts.jobDir, pid: Number(m[1]), pgid: Number(m[2]) };
}

/** Most bytes returned by one poll; the follower polls again at once when there is more. */
export const POLL_CHUNK = 4 * 1024 * 1024;

const POLL_SCRIPT = `d=$1; off=$2; pg=$3; max=$4
ex=$(cat "$d/exit" 2>/dev/null)
sz=$(wc -c < "$d/log" 2>/dev/null || echo 0); sz=$((sz+0))
rss=0
if [ -z "$ex" ]; then rss=$(ps -A -o pgid= -o rss= 2>/dev/null | awk -v g="$pg" '$1==g{s+=$2} END{print s+0}'); fi
c=0; [ -f "$d/cancel" ] && c=1
n=$((sz-off)); [ $n -gt $max ] && n=$max
[ $n -lt 0 ] && n=0
av=$(awk '/^MemAvailable:/{print $2}' /proc/meminfo 2>/dev/null)
printf 'HWB %s %s %s %s %s %s\\n' "$sz" "\${ex:--}" "\${rss:-0}" "$c" "$n" "\${av:--}"
[ $n -gt 0 ] && tail -c +$((off+1)) "$d/log" | head -c $n
exit 0
`;

/** One poll: exit status, log size, RSS and the log bytes after `offset`. */
export async function pollJob(host: RemoteHost, job: JobRef, offset: number, signal?: AbortSignal, env?: JobEnv): Promise<PollResult> {
  const r = await script(host, env, POLL_SCRIPT, [job.jobDir, String(offset), String(job.pgid), String(POLL_CHUNK)], { signal });
  // anything a login rc file printed comes before our header: skip to it
  const starts = r.stdout.subarray(0, 4).toString() === 'HWB ';
  const at = starts ? 0 : r.stdout.indexOf('\nHWB ') + 1;
  const nl = starts || at > 0 ? r.stdout.indexOf(10, at) : -1;
  const head = nl >= 0 ? r.stdout.subarray(at, nl).toString() : r.stdout.subarray(0, 120).toString();
  const m = /^HWB (\d+) (-|\d+) (\d+) ([01]) (\d+) (-|\d+)$/.exec(head);
  if (!m) throw new HailoError('SSH_FAILED', `${host.host}: unexpected answer while following ${job.jobDir}: "${head.slice(0, 120)}"`);
  const data = r.stdout.subarray(nl + 1);
  const n = Number(m[5]);
  if (data.length !== n) throw new HailoError('SSH_FAILED', `${host.host}: log chunk of ${job.jobDir} cut short (${data.length} of ${n} bytes)`);
  return {
    size: Number(m[1]),
    exitCode: m[2] === '-' ? undefined : Number(m[2]),
    rssKB: Number(m[3]),
    availKB: m[6] === '-' ? undefined : Number(m[6]),
    cancelRequested: m[4] === '1',
    data,
  };
}

const CANCEL_SCRIPT = `d=$1; pg=$2; g=$3
: > "$d/cancel"
kill -TERM -"$pg" 2>/dev/null
i=0
while [ $i -lt $((g*10)) ]; do
  if ! kill -0 -"$pg" 2>/dev/null; then break; fi
  sleep 0.1; i=$((i+1))
done
kill -KILL -"$pg" 2>/dev/null
i=0
while [ ! -f "$d/exit" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done
[ -f "$d/exit" ] || { echo 137 > "$d/exit.tmp"; mv -f "$d/exit.tmp" "$d/exit"; }
kill -0 -"$pg" 2>/dev/null && echo alive || echo gone
`;

/** Stop the job's whole process group: TERM, then KILL after `graceSeconds`. */
export async function cancelJob(host: RemoteHost, job: JobRef, graceSeconds = 5, env?: JobEnv): Promise<void> {
  if (!(job.pgid > 1)) throw new HailoError('INVALID_ARGUMENT', `refusing to signal process group ${job.pgid}`);
  const r = await script(host, env, CANCEL_SCRIPT, [job.jobDir, String(job.pgid), String(Math.max(1, Math.round(graceSeconds)))]);
  if (!/(^|\n)gone\n?$/.test(r.stdout.toString()))
    throw new HailoError('REMOTE_STEP_FAILED', `${host.host}: process group ${job.pgid} of ${job.jobDir} is still alive after KILL`);
}

export interface FollowOptions {
  /** Byte offset to resume from. */
  offset: number;
  /** Log bytes in order; `offset` is the offset after them. */
  onData: (data: Buffer, offset: number) => void;
  /** Each memory sample (KiB) and the peak so far. */
  onSample?: (rssKB: number, peakKB: number, availKB: number | undefined) => void;
  /** Told when the connection drops and when it is back. */
  onConnection?: (state: 'lost' | 'restored', error?: unknown) => void;
  signal?: AbortSignal;
  intervalMs?: number;
  /** Stop the job when the group's RSS goes above this (KiB). */
  memoryLimitKB?: number;
  /** Give up reconnecting after this long (the job keeps running remotely). */
  reconnectTimeoutMs?: number;
  /** Peak RSS seen before (when reattaching). */
  peakKB?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  env?: JobEnv;
}

export interface FollowResult {
  exitCode: number;
  /** Stopped by a cancel (ours, or a request seen on the remote side). */
  cancelled: boolean;
  /** Stopped because it went over the memory limit. */
  memoryExceeded: boolean;
  peakKB: number;
  offset: number;
}

const RECOVERABLE = new Set(['SSH_UNREACHABLE', 'SSH_FAILED']);

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
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

/**
 * Follow a job to its end: stream its log from `offset`, sample memory, survive dropped
 * connections (ssh makes a new master on the next command). Aborting the signal cancels the
 * remote job (and reports it as cancelled, not failed); use `detach` to stop following without
 * stopping the job.
 */
export async function followJob(host: RemoteHost, job: JobRef, opts: FollowOptions & { detach?: AbortSignal }): Promise<FollowResult> {
  const sleep = opts.sleep ?? defaultSleep;
  const interval = opts.intervalMs ?? 500;
  let offset = opts.offset;
  let peak = opts.peakKB ?? 0;
  let lostSince: number | undefined;
  let memoryExceeded = false;
  let cancelled = false;
  let polls = 0;
  const stop = async (why: 'cancel' | 'memory') => {
    if (why === 'memory') memoryExceeded = true;
    else cancelled = true;
    await cancelJob(host, job, 5, opts.env);
  };
  for (;;) {
    if (opts.detach?.aborted) throw new HailoError('CANCELLED', 'Stopped following the remote step (it keeps running)');
    if (opts.signal?.aborted && !cancelled && !memoryExceeded) await stop('cancel');
    let p: PollResult;
    try {
      p = await pollJob(host, job, offset, undefined, opts.env);
    } catch (e) {
      if (!isHailoError(e) || !RECOVERABLE.has(e.code)) throw e;
      if (lostSince === undefined) {
        lostSince = Date.now();
        opts.onConnection?.('lost', e);
      }
      if (Date.now() - lostSince > (opts.reconnectTimeoutMs ?? 10 * 60_000)) throw e;
      await sleep(Math.min(5000, interval * 2), opts.signal);
      continue;
    }
    if (lostSince !== undefined) {
      lostSince = undefined;
      opts.onConnection?.('restored');
    }
    if (p.data.length) {
      offset += p.data.length;
      opts.onData(p.data, offset);
    }
    if (p.exitCode === undefined) {
      peak = Math.max(peak, p.rssKB);
      opts.onSample?.(p.rssKB, peak, p.availKB);
      if (opts.memoryLimitKB && p.rssKB > opts.memoryLimitKB && !memoryExceeded) {
        await stop('memory');
        continue;
      }
    }
    if (p.exitCode !== undefined && offset >= p.size) {
      return { exitCode: p.exitCode, cancelled: (cancelled || p.cancelRequested) && !memoryExceeded, memoryExceeded, peakKB: peak, offset };
    }
    if (offset < p.size) continue; // more log waiting: poll again at once
    throwIfAborted(opts.detach);
    // a short step (parse-hef, a version probe) ends within the first second: poll at 100, 200,
    // 400 ms after the start, then every `interval`
    await sleep(Math.min(interval, 100 * 2 ** polls++), opts.signal ?? opts.detach);
  }
}
