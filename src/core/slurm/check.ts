import { randomBytes } from 'node:crypto';
import { HailoError, isHailoError, throwIfAborted } from '../errors';
import { parseToolVersions } from '../hailo/versions';
import type { SlurmOptions } from '../project/schema';
import { rjoin } from '../remote/quote';
import { hasSqueueJson, SlurmClient, type SlurmShell } from './client';
import { dfcEntry, gresFor } from './script';
import { describeState, parseKeyValues, parseSlurmDuration } from './state';
import { explainVerdict } from './verdict';

/**
 * Check Target for a Slurm target, run on the login node:
 *  1. the Slurm commands are there and the controller answers (`sinfo --version`, `scontrol ping`);
 *  2. the partition exists and is up;
 *  3. the request fits: time limit within MaxTime, CPUs/memory/GPUs within the partition's limits
 *     and at least one of its nodes (`sinfo -N`);
 *  4. a short test job on a compute node enters the DFC environment and runs `hailo --version`,
 *     and reads a token the login node wrote to the work folder and writes one back: the work
 *     folder must be on storage shared between the login node and the compute nodes.
 */

export type CheckLevel = 'ok' | 'warning' | 'error' | 'skipped';

export interface CheckItem {
  id: 'slurm' | 'controller' | 'partition' | 'limits' | 'dfc' | 'shared-storage';
  level: CheckLevel;
  title: string;
  detail: string;
  fix?: string;
}

export interface PartitionInfo {
  name: string;
  state?: string;
  maxTimeMinutes?: number;
  maxCpusPerNode?: number;
  maxMemPerNodeMB?: number;
  totalCpus?: number;
  nodes?: string;
}

export interface NodeInfo {
  name: string;
  cpus: number;
  memoryMB: number;
  gpus: number;
  state: string;
}

/** `scontrol show partition -o` → the partitions. */
export function parsePartitions(text: string): PartitionInfo[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('PartitionName='))
    .map((l) => {
      const kv = parseKeyValues(l);
      const int = (v: string | undefined) => (v && /^\d+$/.test(v) ? Number(v) : undefined);
      const maxTime = kv.MaxTime && kv.MaxTime !== 'UNLIMITED' ? parseSlurmDuration(kv.MaxTime.includes(':') ? kv.MaxTime : `${kv.MaxTime}:00`) : undefined;
      return {
        name: kv.PartitionName!,
        state: kv.State,
        ...(maxTime !== undefined ? { maxTimeMinutes: Math.round(maxTime / 60) } : {}),
        ...(int(kv.MaxCPUsPerNode) !== undefined ? { maxCpusPerNode: int(kv.MaxCPUsPerNode) } : {}),
        ...(int(kv.MaxMemPerNode) !== undefined ? { maxMemPerNodeMB: int(kv.MaxMemPerNode) } : {}),
        ...(int(kv.TotalCPUs) !== undefined ? { totalCpus: int(kv.TotalCPUs) } : {}),
        ...(kv.Nodes ? { nodes: kv.Nodes } : {}),
      };
    });
}

/** `sinfo -h -N -p P -o '%N|%c|%m|%G|%t'` → nodes (GPUs counted from `gpu[:type]:N` GRES). */
export function parseSinfoNodes(text: string): NodeInfo[] {
  const out: NodeInfo[] = [];
  for (const line of text.split('\n')) {
    const [name, cpus, mem, gres, state] = line.trim().split('|');
    if (!name || cpus === undefined) continue;
    let gpus = 0;
    for (const g of (gres ?? '').split(',')) {
      const m = /^gpu(?::[^:(]+)?:(\d+)/.exec(g.trim());
      if (m) gpus += Number(m[1]);
    }
    out.push({ name, cpus: Number(cpus), memoryMB: Number(String(mem).replace(/\+$/, '')), gpus, state: (state ?? '').replace(/[*~#!%$@^-]+$/, '') });
  }
  return out;
}

/** "64G" → MB (Slurm's default unit is M). */
export function memoryMB(text: string): number {
  const m = /^(\d+)([KMGT]?)$/.exec(text.trim());
  if (!m) throw new HailoError('INVALID_ARGUMENT', `"${text}" is not a Slurm memory size`);
  const n = Number(m[1]);
  return m[2] === 'K' ? n / 1024 : m[2] === 'G' ? n * 1024 : m[2] === 'T' ? n * 1024 * 1024 : n;
}

/** Slurm time text → minutes (rounded up, as Slurm does). */
export function timeLimitMinutes(text: string): number {
  const t = text.trim();
  let m: RegExpExecArray | null;
  if ((m = /^(\d+)-(\d+)(?::(\d+)(?::(\d+))?)?$/.exec(t))) return Number(m[1]) * 1440 + Number(m[2]) * 60 + Number(m[3] ?? 0) + (Number(m[4] ?? 0) > 0 ? 1 : 0);
  if ((m = /^(\d+):(\d+):(\d+)$/.exec(t))) return Number(m[1]) * 60 + Number(m[2]) + (Number(m[3]) > 0 ? 1 : 0);
  if ((m = /^(\d+):(\d+)$/.exec(t))) return Number(m[1]) + (Number(m[2]) > 0 ? 1 : 0);
  if ((m = /^(\d+)$/.exec(t))) return Number(m[1]);
  throw new HailoError('INVALID_ARGUMENT', `"${text}" is not a Slurm time limit`);
}

/** Does the request fit the partition and one of its nodes? Problems in words, empty when it fits. */
export function limitProblems(req: SlurmOptions, part: PartitionInfo, nodes: readonly NodeInfo[]): { problem: string; fix: string }[] {
  const out: { problem: string; fix: string }[] = [];
  const cpus = req.cpus ?? 8;
  const mem = memoryMB(req.memory);
  const gpus = req.gpus ?? 0;
  const minutes = timeLimitMinutes(req.timeLimit);
  if (part.maxTimeMinutes !== undefined && minutes > part.maxTimeMinutes) {
    out.push({
      problem: `time limit ${req.timeLimit} (${minutes} min) is above the partition's MaxTime of ${part.maxTimeMinutes} min; the job would pend forever (PartitionTimeLimit)`,
      fix: `set "slurm.timeLimit" to ${part.maxTimeMinutes} minutes or less`,
    });
  }
  if (part.maxCpusPerNode !== undefined && cpus > part.maxCpusPerNode)
    out.push({
      problem: `${cpus} CPUs is above the partition's MaxCPUsPerNode of ${part.maxCpusPerNode}`,
      fix: `set "slurm.cpus" to ${part.maxCpusPerNode} or less`,
    });
  if (part.maxMemPerNodeMB !== undefined && mem > part.maxMemPerNodeMB)
    out.push({
      problem: `memory ${req.memory} is above the partition's MaxMemPerNode of ${part.maxMemPerNodeMB} MB`,
      fix: `set "slurm.memory" to ${part.maxMemPerNodeMB}M or less`,
    });
  if (nodes.length) {
    const fit = nodes.filter((n) => n.cpus >= cpus && n.memoryMB >= mem && n.gpus >= gpus);
    if (!fit.length) {
      const maxCpu = Math.max(...nodes.map((n) => n.cpus));
      const maxMem = Math.max(...nodes.map((n) => n.memoryMB));
      const maxGpu = Math.max(...nodes.map((n) => n.gpus));
      out.push({
        problem: `no node of partition "${part.name}" has ${cpus} CPUs, ${mem} MB${gpus ? ` and ${gpus} GPUs` : ''} (largest: ${maxCpu} CPUs, ${maxMem} MB, ${maxGpu} GPUs)`,
        fix: 'lower "slurm.cpus", "slurm.memory" or "slurm.gpus", or choose a partition with larger nodes',
      });
    }
  }
  return out;
}

export interface CheckOptions {
  /** Absolute work folder on the login node (shared storage). */
  workDir: string;
  signal?: AbortSignal;
  /** How long the test job may pend and run (default 180 s); a job still queued then is cancelled and reported. */
  jobTimeoutMs?: number;
  /** Poll interval for the test job (default 1000 ms). */
  pollMs?: number;
  /** Skip the test job (checks 1-3 only). */
  noTestJob?: boolean;
  onProgress?: (message: string) => void;
}

export async function checkSlurmTarget(shell: SlurmShell, req: SlurmOptions, opts: CheckOptions): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  const client = new SlurmClient(shell);
  const run = async (argv: string[]) => {
    const r = await shell.exec(argv, { signal: opts.signal, check: false });
    return { code: r.exitCode, out: r.stdout.toString('utf8'), err: r.stderr };
  };
  // 1. commands and version
  opts.onProgress?.('Slurm commands');
  const missing = await run(['sh', '-c', 'for c in sbatch squeue scontrol scancel sinfo; do command -v "$c" >/dev/null 2>&1 || printf "%s " "$c"; done']);
  if (missing.out.trim()) {
    items.push({
      id: 'slurm',
      level: 'error',
      title: 'Slurm commands missing on the login node',
      detail: `not on PATH: ${missing.out.trim()}`,
      fix: "Use the cluster's login node as the target host, or load the Slurm module in your shell profile.",
    });
    return items;
  }
  let version = '';
  try {
    version = await client.version(opts.signal);
  } catch (e) {
    items.push({ id: 'slurm', level: 'error', title: 'sinfo does not run', detail: (e as Error).message });
    return items;
  }
  items.push(
    hasSqueueJson(version)
      ? { id: 'slurm', level: 'ok', title: `Slurm ${version}`, detail: 'squeue --json is available (Slurm 21.08 and later).' }
      : {
          id: 'slurm',
          level: 'warning',
          title: `Slurm ${version}`,
          detail: 'Slurm older than 21.08: job state is read with scontrol instead of squeue --json.',
        },
  );
  // 2. controller
  const ping = await run(['scontrol', 'ping']);
  if (ping.code !== 0 || !/\bUP\b/.test(ping.out)) {
    items.push({
      id: 'controller',
      level: 'error',
      title: 'The Slurm controller does not answer',
      detail: (ping.out + ping.err).trim().split('\n').slice(0, 3).join(' ') || `scontrol ping exited ${ping.code}`,
      fix: 'Try again later; tell the administrators if it persists.',
    });
    return items;
  }
  items.push({ id: 'controller', level: 'ok', title: 'Controller up', detail: ping.out.trim().split('\n')[0]! });
  // 3. partition and limits
  const parts = await run(['scontrol', 'show', 'partition', '-o']);
  const all = parsePartitions(parts.out);
  const part = all.find((p) => p.name === req.partition);
  if (!part) {
    items.push({
      id: 'partition',
      level: 'error',
      title: `No partition "${req.partition}"`,
      detail: `The cluster's partitions: ${all.map((p) => p.name).join(', ') || '(none listed)'}.`,
      fix: 'Set "slurm.partition" in hailo.json to one of them.',
    });
    return items;
  }
  if (part.state && part.state !== 'UP') {
    items.push({
      id: 'partition',
      level: 'error',
      title: `Partition "${part.name}" is ${part.state}`,
      detail: 'Jobs submitted there do not start.',
      fix: 'Choose a partition that is UP, or ask the administrators.',
    });
    return items;
  }
  items.push({
    id: 'partition',
    level: 'ok',
    title: `Partition "${part.name}" is up`,
    detail: `MaxTime ${part.maxTimeMinutes !== undefined ? `${part.maxTimeMinutes} min` : 'unlimited'}, ${part.totalCpus ?? '?'} CPUs in ${part.nodes ?? '?'}.`,
  });
  const nodesText = await run(['sinfo', '-h', '-N', '-p', req.partition, '-o', '%N|%c|%m|%G|%t']);
  const nodes = parseSinfoNodes(nodesText.out);
  const problems = limitProblems(req, part, nodes);
  const request = `${req.cpus ?? 8} CPUs, ${req.memory}${gresFor(req) ? `, ${gresFor(req)}` : ''}, ${req.timeLimit}`;
  if (problems.length) {
    items.push({
      id: 'limits',
      level: 'error',
      title: 'The request does not fit the partition',
      detail: `${request}: ${problems.map((p) => p.problem).join('; ')}.`,
      fix: problems.map((p) => p.fix).join('; ') + '.',
    });
  } else {
    const big = nodes.length ? ` Largest node: ${Math.max(...nodes.map((n) => n.cpus))} CPUs, ${Math.max(...nodes.map((n) => n.memoryMB))} MB.` : '';
    items.push({ id: 'limits', level: 'ok', title: 'The request fits', detail: `${request}.${big}` });
  }
  if (opts.noTestJob) return items;
  // 4. a test job: DFC on the compute node, shared storage
  opts.onProgress?.('test job on a compute node');
  const token = randomBytes(12).toString('hex');
  const dir = rjoin(opts.workDir, '.hwb-check', token);
  await shell.exec(['sh', '-c', 'mkdir -p -- "$1" && printf %s "$2" > "$1/login.token"', 'sh', dir, token], { signal: opts.signal });
  // the test job asks for little so it starts soon; the DFC answers --version without a GPU
  const probe: SlurmOptions = {
    ...req,
    cpus: 1,
    memory: `${Math.min(memoryMB(req.memory), 2048)}M`,
    timeLimit: String(Math.min(5, part.maxTimeMinutes ?? 5)),
    gpus: 0,
  };
  let jobId: string | undefined;
  try {
    const sub = await client.submit(
      probe,
      {
        name: 'hwb-check',
        scriptPath: rjoin(dir, 'check.sbatch.sh'),
        output: rjoin(dir, 'check.log'),
        chdir: dir,
        // the storage probe runs before the DFC environment is entered, so it reports even when that fails
        pre: [
          [
            'sh',
            '-c',
            'cd -- "$1" || exit 0; echo "hwb-check: token=$(cat login.token 2>/dev/null)"; printf %s "$2" > node.token; echo "hwb-check: node=$(hostname)"',
            'sh',
            dir,
            token,
          ],
        ],
        tasks: [{ dir, commands: [['hailo', '--version']] }],
      },
      { signal: opts.signal, binds: [opts.workDir] },
    );
    jobId = sub.jobId;
  } catch (e) {
    if (!isHailoError(e) || e.code === 'CANCELLED') throw e;
    items.push({ id: 'dfc', level: 'error', title: 'The test job was refused', detail: e.message });
    return items;
  }
  let last: string | undefined;
  let states;
  try {
    states = await client.wait(jobId, {
      signal: opts.signal,
      intervalMs: opts.pollMs ?? 1000,
      timeoutMs: opts.jobTimeoutMs ?? 180000,
      onState: (s) => {
        const d = s[0] ? describeState(s[0]) : undefined;
        if (d && d !== last) opts.onProgress?.(`test job ${jobId}: ${d}`);
        last = d;
      },
    });
  } catch (e) {
    throwIfAborted(opts.signal);
    await client.cancel(jobId).catch(() => undefined);
    items.push({
      id: 'dfc',
      level: 'warning',
      title: `The test job ${jobId} did not finish in time`,
      detail: `${last ?? 'state unknown'}. It was cancelled; the DFC and shared storage checks did not run.`,
      fix: 'Run Check Target again when the partition is less busy.',
    });
    return items;
  }
  const j = states[0]!;
  const logR = await run([
    'sh',
    '-c',
    'cat -- "$1/check.log" 2>/dev/null; echo; echo "hwb-check: node.token=$(cat -- "$1/node.token" 2>/dev/null)"',
    'sh',
    dir,
  ]);
  const log = logR.out;
  const sawLogin = log.includes(`hwb-check: token=${token}`);
  const nodeWrote = log.includes(`hwb-check: node.token=${token}`);
  const node = /hwb-check: node=(\S+)/.exec(log)?.[1] ?? j.nodes ?? 'the compute node';
  const haveLog = /hwb-job:/.test(log);
  if (!haveLog) {
    items.push({
      id: 'shared-storage',
      level: 'error',
      title: 'The work folder is not shared with the compute nodes',
      detail: `Job ${jobId} ${describeState(j)}, but its log is not in ${dir} on the login node.`,
      fix: 'Set the target\'s "workDir" to a folder on storage the login and compute nodes share (home or the cluster file system).',
    });
  } else if (!sawLogin || !nodeWrote) {
    items.push({
      id: 'shared-storage',
      level: 'error',
      title: 'The work folder is not shared with the compute nodes',
      detail: `${!sawLogin ? `${node} did not see the file the login node wrote` : ''}${!sawLogin && !nodeWrote ? '; ' : ''}${!nodeWrote ? `the login node does not see the file ${node} wrote` : ''} (${dir}).`,
      fix: 'Set the target\'s "workDir" to a folder on storage the login and compute nodes share.',
    });
  } else {
    items.push({ id: 'shared-storage', level: 'ok', title: 'Work folder shared', detail: `${node} read and wrote ${dir}; the login node saw both.` });
  }
  const versions = parseToolVersions(log);
  if (j.state === 'COMPLETED' && versions.dfc) {
    items.push({
      id: 'dfc',
      level: 'ok',
      title: `DFC ${versions.dfc} on ${node}`,
      detail: `Found through ${dfcEntry(req.dfc, []).describe} in test job ${jobId}.`,
    });
  } else {
    const v = explainVerdict(j, { logTail: log });
    const tail = log
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('hwb-'))
      .slice(-3)
      .join(' | ');
    items.push({
      id: 'dfc',
      level: 'error',
      title: `The DFC was not found on ${node}`,
      detail: `Test job ${jobId}: ${v.title}. ${tail}`,
      fix: v.change ?? 'Check "slurm.dfc" in hailo.json: the environment must exist on the compute nodes.',
    });
  }
  await run(['rm', '-rf', '--', dir]);
  return items;
}
