import { HailoError } from '../errors';
import type { SlurmDfc, SlurmOptions } from '../project/schema';
import { shJoin, shQuote } from '../remote/quote';

/**
 * Batch job scripts and `sbatch` command lines for a Slurm target.
 *
 * Shared storage: the run folder (under the target's work directory) must be visible at the same
 * path on the login node and the compute nodes (home or a cluster file system, as on nearly every
 * cluster). The script is written there from the login node, the job writes its log there, and the
 * login node follows the log by byte offset. Check Target verifies this with a test job.
 *
 * Every value from hailo.json reaches the shell single-quoted (remote/quote.ts); options go to
 * sbatch as argv elements, never as `#SBATCH` lines (those are not quoted).
 */

/** One unit of work: a folder and the commands run there one after another, stopping at the first failure. */
export interface SlurmTask {
  /** Absolute remote path, on shared storage. */
  dir: string;
  /** DFC command lines, e.g. ['hailo', 'parser', 'onnx', ...]; each runs inside the DFC environment. */
  commands: string[][];
}

export interface SlurmJobSpec {
  /** Job name shown by squeue (letters, digits, "_", ".", "-"). */
  name: string;
  /** Where the script is written (absolute, shared storage). */
  scriptPath: string;
  /** stdout+stderr of the job; may use Slurm's %j, %A, %a patterns. Absolute, shared storage. */
  output: string;
  /** One task: a plain job. Several: a job array, element i runs tasks[i]. */
  tasks: SlurmTask[];
  /** Array elements running at once (`--array=0-N%K`); arrays only. */
  arrayLimit?: number;
  /** Only these array elements (a re-run of some variants); default all. */
  arrayIndices?: number[];
  /** The working directory of the job (`--chdir`). */
  chdir: string;
  /** Commands run before entering the DFC environment (Check Target's shared storage probe). */
  pre?: string[][];
}

/** The first line every job prints: the job id, the node and the start time (follow and bench read it). */
export const JOB_START_MARKER = 'hwb-job:';
/** The line printed after each command with its exit code. */
export const STEP_EXIT_MARKER = 'hwb-exit:';
/** A file written in the task folder when the job script ends normally (not when Slurm kills it). */
export const EXIT_FILE = 'hwb-job.exit';

/** `~/x` as a shell word that expands the home directory; other paths single-quoted. */
function homeWord(p: string): string {
  if (p === '~') return '"$HOME"';
  if (p.startsWith('~/')) return `"$HOME"/${shQuote(p.slice(2))}`;
  return shQuote(p);
}

function refuseOptionLike(value: string, what: string): void {
  if (value.startsWith('-'))
    throw new HailoError('INVALID_ARGUMENT', `hailo.json: ${what} "${value}" starts with "-" and would be read as an option; rename it`);
}

/** Lines that enter the DFC environment, and the prefix each DFC command gets. */
export function dfcEntry(dfc: SlurmDfc | undefined, binds: string[]): { setup: string[]; prefix: string[]; describe: string } {
  const d = dfc ?? { kind: 'path' as const };
  switch (d.kind) {
    case 'venv':
      return {
        setup: [
          `. ${homeWord(d.path.replace(/\/+$/, ''))}/bin/activate || { echo "hwb: cannot activate the virtual environment "${shQuote(d.path)}" on $(hostname)" >&2; exit 127; }`,
        ],
        prefix: [],
        describe: `the virtual environment ${d.path}`,
      };
    case 'container': {
      refuseOptionLike(d.image, 'container image');
      const runtime = d.runtime ?? 'apptainer';
      const bind = [...binds, ...(d.bind ?? [])];
      for (const b of bind) refuseOptionLike(b, 'bind mount');
      return {
        setup: [`command -v ${runtime} >/dev/null 2>&1 || { echo "hwb: ${runtime} is not on PATH on $(hostname)" >&2; exit 127; }`],
        prefix: [runtime, 'exec', ...(bind.length ? ['--bind', bind.join(',')] : []), d.image],
        describe: `the ${runtime} image ${d.image}`,
      };
    }
    case 'path': {
      const mods = d.modules ?? [];
      for (const m of mods) refuseOptionLike(m, 'module');
      return {
        setup: mods.length
          ? [
              // `module` is a shell function defined by the login profile; batch shells may lack it
              'command -v module >/dev/null 2>&1 || . /etc/profile >/dev/null 2>&1',
              ...mods.map((m) => `module load ${shQuote(m)} || { echo "hwb: module load "${shQuote(m)}" failed on $(hostname)" >&2; exit 127; }`),
            ]
          : [],
        prefix: [],
        describe: mods.length ? `\`hailo\` on PATH after module load ${mods.join(' ')}` : '`hailo` on the compute node PATH',
      };
    }
  }
}

function taskLines(task: SlurmTask, prefix: string[], indent: string): string[] {
  const lines = [
    `${indent}cd ${shQuote(task.dir)} || { echo "hwb: cannot enter "${shQuote(task.dir)}" on $(hostname): is it on storage the compute nodes share?" >&2; exit 2; }`,
  ];
  lines.push(`${indent}rm -f ${EXIT_FILE}`);
  task.commands.forEach((argv, i) => {
    if (!argv.length) throw new TypeError('empty command');
    lines.push(`${indent}${shJoin([...prefix, ...argv])}`);
    lines.push(`${indent}rc=$?; echo "${STEP_EXIT_MARKER} ${i} $rc"`);
    lines.push(`${indent}if [ "$rc" -ne 0 ]; then echo "$rc" > ${EXIT_FILE}; exit "$rc"; fi`);
  });
  lines.push(`${indent}echo 0 > ${EXIT_FILE}`);
  return lines;
}

/** The batch script (POSIX sh). */
export function jobScript(opts: SlurmOptions, spec: SlurmJobSpec, binds: string[] = []): string {
  if (!spec.tasks.length) throw new TypeError('a job needs at least one task');
  const env = dfcEntry(opts.dfc, binds);
  const lines = [
    '#!/bin/sh',
    '# Written by Hailo Workbench: one batch job; its options are on the sbatch command line.',
    `echo "${JOB_START_MARKER} \${SLURM_JOB_ID:-?}\${SLURM_ARRAY_TASK_ID:+ task $SLURM_ARRAY_TASK_ID} on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ)"`,
    ...(spec.pre ?? []).map((argv) => shJoin(argv)),
    ...env.setup,
  ];
  if (spec.tasks.length === 1 && spec.arrayIndices === undefined) {
    lines.push(...taskLines(spec.tasks[0]!, env.prefix, ''));
  } else {
    lines.push('case "${SLURM_ARRAY_TASK_ID:-}" in');
    spec.tasks.forEach((t, i) => {
      lines.push(`${i})`, ...taskLines(t, env.prefix, '  '), '  ;;');
    });
    lines.push('*)', '  echo "hwb: no task for array index ${SLURM_ARRAY_TASK_ID:-(none)}" >&2', '  exit 2', '  ;;', 'esac');
  }
  lines.push('exit 0', '');
  return lines.join('\n');
}

/** "0-3,5,7-9" from sorted indices. */
export function compressIndices(indices: readonly number[]): string {
  const xs = [...new Set(indices)].sort((a, b) => a - b);
  if (!xs.length) throw new TypeError('no array indices');
  const parts: string[] = [];
  for (let i = 0; i < xs.length;) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    parts.push(i === j ? String(xs[i]) : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** `--gres` value for the target's GPUs. */
export function gresFor(opts: SlurmOptions): string | undefined {
  const n = opts.gpus ?? 0;
  if (n <= 0) return undefined;
  return opts.gpuType ? `gpu:${opts.gpuType}:${n}` : `gpu:${n}`;
}

/** The sbatch argv (run on the login node). */
export function sbatchArgv(opts: SlurmOptions, spec: SlurmJobSpec): string[] {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(spec.name)) throw new HailoError('INVALID_ARGUMENT', `job name "${spec.name}": use letters, digits, "_", "." and "-"`);
  const argv = [
    'sbatch',
    '--parsable',
    `--job-name=${spec.name}`,
    `--partition=${opts.partition}`,
    `--cpus-per-task=${opts.cpus ?? 8}`,
    `--mem=${opts.memory}`,
    `--time=${opts.timeLimit}`,
    `--output=${spec.output}`,
    `--chdir=${spec.chdir}`,
    // the job's processes must not be started again elsewhere after a node failure: the run shows the verdict
    '--no-requeue',
  ];
  const gres = gresFor(opts);
  if (gres) argv.push(`--gres=${gres}`);
  if (opts.account) argv.push(`--account=${opts.account}`);
  if (opts.qos) argv.push(`--qos=${opts.qos}`);
  const array = spec.tasks.length > 1 || spec.arrayIndices !== undefined;
  if (array) {
    const idx = spec.arrayIndices ?? spec.tasks.map((_, i) => i);
    for (const i of idx) if (!Number.isInteger(i) || i < 0 || i >= spec.tasks.length) throw new TypeError(`array index ${i} has no task`);
    const limit = spec.arrayLimit ?? opts.arrayLimit ?? 4;
    argv.push(`--array=${compressIndices(idx)}%${Math.max(1, Math.floor(limit))}`);
  }
  argv.push(...(opts.sbatchArgs ?? []));
  argv.push(spec.scriptPath);
  return argv;
}

/** `12` or `12;cluster` (sbatch --parsable) → the job id. */
export function parseSbatchParsable(stdout: string): string | undefined {
  const line = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();
  const m = line && /^(\d+)(?:;\S+)?$/.exec(line);
  return m ? m[1] : undefined;
}

/** sbatch's refusal in words, with what to change. */
export function explainSbatchError(stderr: string, opts: SlurmOptions): string {
  const msg =
    (stderr
      .split('\n')
      .map((l) =>
        l
          .replace(/^sbatch: error: /, '')
          .replace(/^Batch job submission failed: ?/, '')
          .trim(),
      )
      .filter(Boolean)
      .pop() ??
      stderr.trim()) ||
    'sbatch failed';
  const text = stderr;
  if (/invalid partition specified/i.test(text))
    return `Slurm has no partition "${opts.partition}" (${msg}). Set "slurm.partition" in hailo.json to one that \`sinfo\` lists.`;
  if (/Requested node configuration is not available/i.test(text)) {
    return `No node in partition "${opts.partition}" has what the job asks for: ${opts.cpus ?? 8} CPUs, ${opts.memory} memory${gresFor(opts) ? `, ${gresFor(opts)}` : ''} (${msg}). Lower "slurm.cpus", "slurm.memory" or "slurm.gpus", or choose another partition; Check Target lists the node sizes.`;
  }
  if (/Memory required by task is not available/i.test(text))
    return `The partition's nodes do not have ${opts.memory} of memory (${msg}). Lower "slurm.memory" or choose a partition with larger nodes.`;
  if (/time limit|Requested time limit is invalid/i.test(text))
    return `The time limit ${opts.timeLimit} is not allowed in partition "${opts.partition}" (${msg}). Lower "slurm.timeLimit" to the partition's MaxTime or below.`;
  if (/Invalid account|invalid account/i.test(text))
    return `Slurm refused the account${opts.account ? ` "${opts.account}"` : ''} (${msg}). Set "slurm.account" to one of yours (\`sacctmgr show assoc user=$USER\`).`;
  if (/Invalid qos|invalid qos/i.test(text))
    return `Slurm refused the QOS${opts.qos ? ` "${opts.qos}"` : ''} (${msg}). Set "slurm.qos" to one your account may use.`;
  if (/Invalid generic resource|gres/i.test(text))
    return `Slurm refused the GPU request ${gresFor(opts) ?? ''} (${msg}). Check "slurm.gpus" and "slurm.gpuType" against the partition's GRES (\`sinfo -o %G\`).`;
  if (/MaxArraySize|Invalid job array specification/i.test(text))
    return `Slurm refused the job array (${msg}). Sweep fewer variants at once; the cluster's MaxArraySize limits the number of elements.`;
  if (/Unable to contact slurm controller|Connection refused|Socket timed out/i.test(text))
    return `The Slurm controller does not answer (${msg}). Try again later; if it persists, tell the cluster's administrators.`;
  return `sbatch refused the job: ${msg}`;
}
