import { HailoError } from '../errors';
import { stripAnsi } from '../format';
import { parseToolVersions } from '../hailo/versions';
import type { DfcActivation, Model, Target } from '../project/schema';
import { rjoin } from './quote';
import type { JobEnv } from './job';
import type { DfcStepName, RunArtifact } from './run';
import type { RemoteHost } from './host';
import { checkSlurmTargetOf } from '../slurm/targetCheck';

/**
 * The DFC command lines of each step, after `../shared/reference/hailo/dfc-cli.md`:
 *   hailo parser onnx <onnx> --net-name N --hw-arch A --har-path <run>/N.har [--start-node-names ..] [--end-node-names ..] -y
 *   hailo optimize <run>/N.har --hw-arch A (--calib-set-path P | --use-random-calib-set) [--model-script S] --output-har-path <run>/N_optimized.har
 *   hailo compiler <run>/N_optimized.har --hw-arch A --output-dir <run> --output-har-path <run>/N_compiled.har
 * `-y` answers the parser's "parse again with the recommendation? (y/n)" prompt, which would
 * otherwise wait forever on a detached step. The model script is given to optimize only: the
 * quantized HAR carries it on to the compiler.
 */

export interface StepInputs {
  /** Remote paths (inside the run dir) of the uploaded inputs. */
  onnx: string;
  calibSet?: string;
  modelScript?: string;
}

export interface StepPlan {
  step: DfcStepName;
  argv: string[];
  outputs: RunArtifact[];
}

export function netNameOf(model: Model): string {
  return model.netName ?? model.name;
}

/**
 * Values from hailo.json that end up as separate argv elements of a remote tool. The argv is
 * quoted, so the shell sees data, but the tool's own option parser would still take a value
 * starting with `-` as an option (`--end-node-names a --har-path=/x` would redirect the HAR).
 */
function refuseOptionLike(value: string, what: string): void {
  if (value.startsWith('-'))
    throw new HailoError('INVALID_ARGUMENT', `hailo.json: ${what} "${value}" starts with "-" and would be read as a command-line option; rename it`);
}

export function planStep(step: DfcStepName, model: Model, opts: { runDir: string; hwArch: string; inputs: StepInputs }): StepPlan {
  const net = netNameOf(model);
  refuseOptionLike(net, `model "${model.name}": network name`);
  for (const n of model.startNodes ?? []) refuseOptionLike(n, `model "${model.name}": start node`);
  for (const n of model.endNodes ?? []) refuseOptionLike(n, `model "${model.name}": end node`);
  const har = rjoin(opts.runDir, `${net}.har`);
  const qhar = rjoin(opts.runDir, `${net}_optimized.har`);
  const chr = rjoin(opts.runDir, `${net}_compiled.har`);
  switch (step) {
    case 'parse': {
      const argv = ['hailo', 'parser', 'onnx', opts.inputs.onnx, '--net-name', net, '--hw-arch', opts.hwArch, '--har-path', har];
      if (model.startNodes?.length) argv.push('--start-node-names', ...model.startNodes);
      if (model.endNodes?.length) argv.push('--end-node-names', ...model.endNodes);
      argv.push('-y');
      return { step, argv, outputs: [{ kind: 'har', remote: har }] };
    }
    case 'optimize': {
      const argv = ['hailo', 'optimize', har, '--hw-arch', opts.hwArch];
      if (opts.inputs.calibSet) argv.push('--calib-set-path', opts.inputs.calibSet);
      else argv.push('--use-random-calib-set');
      if (opts.inputs.modelScript) argv.push('--model-script', opts.inputs.modelScript);
      argv.push('--output-har-path', qhar);
      return { step, argv, outputs: [{ kind: 'quantized-har', remote: qhar }] };
    }
    case 'compile': {
      const argv = ['hailo', 'compiler', qhar, '--hw-arch', opts.hwArch, '--output-dir', opts.runDir, '--output-har-path', chr];
      return {
        step,
        argv,
        outputs: [
          { kind: 'hef', remote: rjoin(opts.runDir, `${net}.hef`) },
          { kind: 'compiled-har', remote: chr },
        ],
      };
    }
  }
}

/**
 * How a DFC command is started inside the target's environment: a venv is activated by a fixed
 * `sh -c` script that takes the venv path and the command as arguments; with Docker the whole
 * job (wrapper, log, process group) lives inside the container.
 */
export interface DfcEnvironment {
  /** Prefix for job scripts (docker exec) — see JobEnv. */
  jobEnv: JobEnv;
  /** argv that runs `argv` with the DFC available. */
  launch(argv: readonly string[]): string[];
  /** A host path under the work dir as the job sees it. */
  mapPath(p: string): string;
  describe: string;
}

export function dfcEnvironment(activation: DfcActivation | undefined, hostWorkDir: string, venvPath?: string): DfcEnvironment {
  const a = activation ?? { kind: 'path' as const };
  switch (a.kind) {
    case 'path':
      return { jobEnv: { prefix: [] }, launch: (argv) => [...argv], mapPath: (p) => p, describe: '`hailo` on the remote PATH' };
    case 'venv': {
      const venv = venvPath ?? a.path;
      return {
        jobEnv: { prefix: [] },
        // the path arrives quoted, so the script expands a leading `~` itself (`~/hailo_venv`)
        launch: (argv) => [
          'sh',
          '-c',
          'v=$1; shift; case $v in "~" | "~/"*) v=$HOME${v#"~"} ;; esac; . "$v/bin/activate" || exit 127; exec "$@"',
          'hwb-venv',
          venv,
          ...argv,
        ],
        mapPath: (p) => p,
        describe: `the virtual environment ${venv}`,
      };
    }
    case 'docker': {
      // `docker exec <container>`: a name like `--privileged` or `-uroot` would be an option
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(a.container))
        throw new HailoError(
          'INVALID_ARGUMENT',
          `hailo.json: "${a.container}" is not a Docker container name or id (letters, digits, "_", "." and "-", not starting with "-")`,
        );
      const inner = a.workDir;
      const mapPath = (p: string) => {
        if (!inner) return p;
        if (p === hostWorkDir) return inner;
        if (p.startsWith(hostWorkDir + '/')) return rjoin(inner, p.slice(hostWorkDir.length + 1));
        return p;
      };
      return { jobEnv: { prefix: ['docker', 'exec', a.container] }, launch: (argv) => [...argv], mapPath, describe: `the Docker container ${a.container}` };
    }
  }
}

export interface TargetCheck {
  reachable: boolean;
  /** Where OpenSSH actually connects (`ssh -G`): user@hostname:port. */
  resolved?: string;
  dfc?: string;
  hailort?: string | null;
  /** Why the DFC is not usable, when it is not. */
  problem?: string;
  output: string;
  /** Slurm targets: each check (commands, controller, partition, limits, DFC, shared storage). */
  slurm?: import('../slurm/check').CheckItem[];
}

const CHECK_SCRIPT = `if ! command -v hailo >/dev/null 2>&1; then echo "HWB-NO-HAILO"; exit 0; fi
hailo --version 2>&1 | head -c 20000
if command -v hailortcli >/dev/null 2>&1; then hailortcli --version 2>&1 | head -c 2000; fi
python3 -m pip show hailo-dataflow-compiler hailort 2>/dev/null | grep -E '^(Name|Version):'
exit 0`;

/** Connect to a target and find the DFC (and HailoRT) versions in its DFC environment. */
export async function checkTarget(host: RemoteHost, target: Target, signal?: AbortSignal): Promise<TargetCheck> {
  if (target.kind === 'slurm') return checkSlurmTargetOf(host, target, { signal });
  const r0 = await host.resolve?.(signal);
  const resolved = r0 ? `${r0.user}@${r0.hostname}:${r0.port}` : undefined;
  await host.home(signal);
  const workDir = await host.absolute(target.workDir ?? '~/hailo-workbench', signal);
  const act = target.dfc;
  const venv = act?.kind === 'venv' ? await host.absolute(act.path, signal) : undefined;
  const env = dfcEnvironment(act, workDir, venv);
  if (act?.kind === 'docker') {
    const r = await host.exec(['docker', 'inspect', '-f', '{{.State.Running}}', act.container], { signal, check: false });
    if (r.stdout.toString().trim() !== 'true') {
      return {
        reachable: true,
        resolved,
        problem: `the Docker container "${act.container}" is not running on ${target.host} (${(r.stderr || r.stdout.toString()).trim().split('\n')[0] || 'not found'})`,
        output: r.stderr,
      };
    }
  }
  const r = await host.exec([...env.jobEnv.prefix, ...env.launch(['sh', '-c', CHECK_SCRIPT])], { signal, check: false });
  const out = stripAnsi(r.stdout.toString() + r.stderr);
  if (r.exitCode === 127 && act?.kind === 'venv')
    return {
      reachable: true,
      resolved,
      problem: `cannot activate the virtual environment ${venv} on ${target.host}: ${out.trim().split('\n')[0] ?? ''}`,
      output: out,
    };
  if (out.includes('HWB-NO-HAILO'))
    return { reachable: true, resolved, problem: `the Hailo Dataflow Compiler (\`hailo\`) was not found in ${env.describe} on ${target.host}`, output: out };
  const v = parseToolVersions(out);
  if (!v.dfc) {
    const m = /(?:^|\s)v?(\d+\.\d+\.\d+)\b/.exec(out);
    if (m) v.dfc = m[1];
  }
  const hailort = typeof v.hailort === 'string' ? v.hailort : (v.hailortCli ?? v.hailort);
  return {
    reachable: true,
    resolved,
    dfc: v.dfc,
    hailort,
    output: out,
    ...(v.dfc ? {} : { problem: `\`hailo --version\` on ${target.host} printed no DFC version` }),
  };
}

/** Tool versions from a step's log header (`[info] Hailo DFC Version: 3.33.0`). */
export function versionsFromLog(text: string): { dfc?: string; hailort?: string } {
  const v = parseToolVersions(text);
  return { ...(v.dfc ? { dfc: v.dfc } : {}), ...(typeof v.hailort === 'string' ? { hailort: v.hailort } : {}) };
}

export function requireTarget(targets: readonly Target[] | undefined, name: string | undefined): Target {
  const list = targets ?? [];
  if (!list.length) throw new HailoError('INVALID_ARGUMENT', 'hailo.json has no compile targets; add one with "Hailo: Add Target"');
  if (!name) {
    if (list.length === 1) return list[0]!;
    throw new HailoError('INVALID_ARGUMENT', `several targets in hailo.json; set "target" on the model (one of: ${list.map((t) => t.name).join(', ')})`);
  }
  const t = list.find((x) => x.name === name);
  if (!t) throw new HailoError('INVALID_ARGUMENT', `no target named "${name}" in hailo.json`);
  return t;
}
