import * as path from 'node:path';
import { HailoError } from '../../core/errors';
import { findModel, requireProject } from '../../core/project/load';
import { PROJECT_FILE_NAME } from '../../core/project/schema';
import { checkTarget, requireTarget } from '../../core/remote/dfc';
import { displayLine } from '../../core/remote/logLines';
import { startRun } from '../../core/remote/pipeline';
import { listRuns, type DfcStepName } from '../../core/remote/run';
import { SshHost, type SshSettings } from '../../core/remote/ssh';
import type { CliCommand, CliIO, ParsedArgs } from '../args';

function sshSettings(args: ParsedArgs, io: CliIO): SshSettings {
  const timeout = Number(args.values['connect-timeout'] ?? 15);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new HailoError('INVALID_ARGUMENT', '--connect-timeout must be a positive number of seconds');
  const configFile = args.values['ssh-config'] ?? io.env.HAILO_SSH_CONFIG;
  return {
    sshPath: args.values.ssh ?? io.env.HAILO_SSH ?? 'ssh',
    connectTimeout: timeout,
    ...(configFile ? { configFile: path.resolve(io.cwd, configFile) } : {}),
  };
}

export const remoteCommand: CliCommand = {
  name: 'remote',
  help: `Usage:
  hailo-workbench remote run   [--project FILE] [--model NAME] [--step parse|optimize|compile|pipeline]... [--format text|json]
  hailo-workbench remote check [--project FILE] [--target NAME] [--format text|json]
  hailo-workbench remote runs  [--project FILE] [--format text|json]

run    runs the steps (default: pipeline) of a model on its target from hailo.json, streaming the
       remote log; results go to .hailo/runs/<run-id>/ beside hailo.json. Ctrl+C cancels the
       remote step (its process group is killed).
check  connects to a target and prints the DFC/HailoRT versions found in its DFC environment. On a
       "slurm" target: Slurm commands, controller, partition, whether the request fits, and a short
       test job that finds the DFC on a compute node and checks the work folder is shared.
runs   lists the recorded runs.

SSH options: --ssh PATH (or HAILO_SSH), --ssh-config FILE (ssh -F; or HAILO_SSH_CONFIG),
--connect-timeout SECONDS. Host keys are always verified; BatchMode=yes.
Exit codes: 0 ok, 1 a step failed, was cancelled or the DFC is missing, 2 cannot run (SSH, project).`,
  options: [
    { name: 'project', value: true },
    { name: 'model', value: true },
    { name: 'target', value: true },
    { name: 'step', value: true, multiple: true, choices: ['parse', 'optimize', 'compile', 'pipeline'] },
    { name: 'format', value: true, choices: ['text', 'json'] },
    { name: 'ssh', value: true },
    { name: 'ssh-config', value: true },
    { name: 'connect-timeout', value: true },
  ],
  async run(args, io) {
    const action = args.positionals[0];
    if (!action || !['run', 'check', 'runs'].includes(action)) throw new HailoError('INVALID_ARGUMENT', 'expected "run", "check" or "runs" (see --help)');
    const file = path.resolve(io.cwd, args.values.project ?? PROJECT_FILE_NAME);
    const { project, root } = await requireProject(file);
    const runsDir = path.join(root, '.hailo', 'runs');
    const json = args.values.format === 'json';

    if (action === 'runs') {
      const runs = listRuns(runsDir);
      if (json)
        io.out(
          JSON.stringify(
            runs.map((r) => r.run ?? { dir: r.dir, error: r.error }),
            null,
            2,
          ),
        );
      else if (!runs.length) io.out(`no runs under ${runsDir}`);
      else
        for (const r of runs)
          io.out(
            r.run
              ? `${r.run.id}  ${r.run.status.padEnd(12)} ${r.run.model} on ${r.run.target.name}: ${r.run.steps.map((s) => `${s.step} ${s.status}`).join(', ')}`
              : `${path.basename(r.dir)}  unreadable: ${r.error}`,
          );
      return 0;
    }

    if (action === 'check') {
      const target = requireTarget(project.targets, args.values.target);
      const host = new SshHost(target.host, sshSettings(args, io));
      try {
        const c = await checkTarget(host, target, io.signal);
        if (json) io.out(JSON.stringify({ target: target.name, host: target.host, ...c, output: undefined }, null, 2));
        else if (c.slurm) io.out(`${target.name} (${target.host}, Slurm partition ${target.slurm?.partition ?? '?'}):\n${c.output}`);
        else
          io.out(
            c.problem
              ? `${target.name} (${target.host}): reachable, but ${c.problem}`
              : `${target.name} (${target.host}): DFC ${c.dfc}${c.hailort ? `, HailoRT ${c.hailort}` : ''}`,
          );
        return c.problem ? 1 : 0;
      } finally {
        await host.close();
      }
    }

    const model = findModel(project, args.values.model);
    const target = requireTarget(project.targets, model.target);
    const wanted = args.lists.step ?? ['pipeline'];
    const steps = [...new Set(wanted.flatMap((s) => (s === 'pipeline' ? ['parse', 'optimize', 'compile'] : [s])))] as DfcStepName[];
    const host = new SshHost(target.host, sshSettings(args, io));
    try {
      const run = await startRun(
        {
          host,
          runsDir,
          signal: io.signal,
          events: {
            onProgress: (m) => !json && io.err(`hailo-workbench: ${m}`),
            onLine: (_s, l) => !json && io.out(displayLine(l)),
            onConnection: (s) => io.err(`hailo-workbench: ${s === 'lost' ? 'connection lost, reconnecting (the step keeps running)' : 'reconnected'}`),
            onStepFinished: (_r, s) =>
              !json &&
              io.err(
                `hailo-workbench: ${s.step} ${s.status}${s.exitCode !== undefined ? ` (exit ${s.exitCode})` : ''}${s.error ? `: ${s.error.message}` : ''}`,
              ),
          },
        },
        { projectRoot: root, model, target, steps },
      );
      if (json) io.out(JSON.stringify(run, null, 2));
      else io.err(`hailo-workbench: run ${run.id} ${run.status} → ${path.join(runsDir, run.id)}`);
      return run.status === 'succeeded' ? 0 : 1;
    } finally {
      await host.close();
    }
  },
};
