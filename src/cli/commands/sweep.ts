import * as path from 'node:path';
import { HailoError } from '../../core/errors';
import { howToChooseInterpreter, resolveCliInterpreter } from '../../core/export/interpreter';
import { findDriver, runExport } from '../../core/export/run';
import { findModel, requireProject } from '../../core/project/load';
import { PROJECT_FILE_NAME } from '../../core/project/schema';
import { requireTarget } from '../../core/remote/dfc';
import { SshHost } from '../../core/remote/ssh';
import { findFidelityDriver } from '../../core/fidelity/driver';
import { findOrtWasmDir } from '../../core/fidelity/onnxStage';
import { SWEEP_COLUMNS, sweepFidelityStages, sweepRows } from '../../core/slurm/sweep';
import { runSweep, sweepDevice, variantResults } from '../../core/slurm/sweepRun';
import type { CliCommand } from '../args';

export const sweepCommand: CliCommand = {
  name: 'sweep',
  help: `Usage:
  hailo-workbench sweep --config hailo.json --name NAME [--target T] [--python PATH] [--format text|json]

Runs a sweep from hailo.json: every variant of its matrix is exported (with --python, or
HAILO_PYTHON, or python3) and linted here, then parsed, optimized and compiled on the target: on a
"slurm" target as one element of a job array (the sweep's "concurrency" elements at once), on an
SSH target one variant after the other. A variant that fails does not stop the others. With
"device" on the sweep, each compiled variant is deployed and benchmarked there (its latency). With
"fidelity" on the sweep, each variant's fidelity check runs (the torch stage with the same Python,
the factory called with the variant's keyword arguments); the fidelity column is the SNR (dB)
against PyTorch of the last stage that ran, each check kept in .hailo/runs/<id>/. The record
and each variant's ONNX and DFC log go to .hailo/sweeps/<sweep-id>/ beside hailo.json. Ctrl+C
cancels (scancel of the array).

SSH options: --ssh PATH (or HAILO_SSH), --ssh-config FILE (ssh -F; or HAILO_SSH_CONFIG),
--connect-timeout SECONDS.
Exit codes: 0 at least one variant compiled, 1 none did or the sweep was cancelled, 2 cannot run.`,
  options: [
    { name: 'config', value: true },
    { name: 'name', value: true },
    { name: 'target', value: true },
    { name: 'python', value: true },
    { name: 'format', value: true, choices: ['text', 'json'] },
    { name: 'ssh', value: true },
    { name: 'ssh-config', value: true },
    { name: 'connect-timeout', value: true },
  ],
  async run(args, io) {
    const v = args.values;
    const file = path.resolve(io.cwd, v.config ?? PROJECT_FILE_NAME);
    const { project, root } = await requireProject(file);
    const sweeps = project.sweeps ?? [];
    if (!sweeps.length) throw new HailoError('INVALID_ARGUMENT', `${file}: no "sweeps"; add one (name, model, matrix)`);
    const sweep = v.name ? sweeps.find((s) => s.name === v.name) : sweeps.length === 1 ? sweeps[0] : undefined;
    if (!sweep)
      throw new HailoError(
        'INVALID_ARGUMENT',
        v.name
          ? `${file}: no sweep named "${v.name}" (there are: ${sweeps.map((s) => s.name).join(', ')})`
          : `${file} has ${sweeps.length} sweeps: choose one with --name (${sweeps.map((s) => s.name).join(', ')})`,
      );
    const model = findModel(project, sweep.model);
    const target = requireTarget(project.targets, v.target ?? sweep.target ?? model.target);
    const timeout = Number(v['connect-timeout'] ?? 15);
    if (!Number.isFinite(timeout) || timeout <= 0) throw new HailoError('INVALID_ARGUMENT', '--connect-timeout must be a positive number of seconds');
    const configFile = v['ssh-config'] ?? io.env.HAILO_SSH_CONFIG;
    const host = new SshHost(target.host, {
      sshPath: v.ssh ?? io.env.HAILO_SSH ?? 'ssh',
      connectTimeout: timeout,
      ...(configFile ? { configFile: path.resolve(io.cwd, configFile) } : {}),
    });
    const device = sweepDevice(sweep, project.devices);
    const deviceHost = device
      ? new SshHost(device.host, {
          sshPath: v.ssh ?? io.env.HAILO_SSH ?? 'ssh',
          connectTimeout: timeout,
          ...(configFile ? { configFile: path.resolve(io.cwd, configFile) } : {}),
        })
      : undefined;
    const interpreter = resolveCliInterpreter(v.python, io.env);
    const driverPath = findDriver([__dirname]);
    const json = v.format === 'json';
    try {
      const rec = await runSweep(
        {
          host,
          sweepsDir: path.join(root, '.hailo', 'sweeps'),
          runsDir: path.join(root, '.hailo', 'runs'),
          signal: io.signal,
          onProgress: (m) => !json && io.err(`hailo-workbench: ${m}`),
          ...(deviceHost ? { deviceHost } : {}),
        },
        {
          projectRoot: root,
          projectFile: file,
          sweep,
          model,
          target,
          ...(device ? { device } : {}),
          ...(sweepFidelityStages(sweep, model)
            ? {
                fidelity: {
                  interpreter,
                  chooseHint: howToChooseInterpreter('cli'),
                  driverPath: findFidelityDriver([__dirname]),
                  wasmDir: findOrtWasmDir([__dirname]),
                  env: io.env,
                },
              }
            : {}),
          exportVariant: async (spec) => {
            await runExport({ interpreter, driverPath, spec, chooseHint: howToChooseInterpreter('cli'), signal: io.signal, env: io.env });
          },
        },
      );
      const rows = sweepRows(variantResults(rec), rec.latencyBudgetMs);
      if (json) io.out(JSON.stringify({ ...rec, rows }, null, 2));
      else {
        const keys = ['id', 'label', 'lintErrors', 'parse', 'optimize', 'compile', 'contexts', 'best', 'firstError'] as const;
        io.out(keys.map((k) => SWEEP_COLUMNS.find((c) => c.key === k)!.title).join('\t'));
        for (const r of rows) io.out(keys.map((k) => (k === 'best' ? (r.best ? 'best' : '') : String(r[k]))).join('\t'));
        io.err(
          `hailo-workbench: sweep ${rec.id} ${rec.status}${rec.jobId ? ` (Slurm job array ${rec.jobId})` : ''} → ${path.join(root, '.hailo', 'sweeps', rec.id)}`,
        );
      }
      return rec.results.some((r) => r.steps.compile === 'succeeded') ? 0 : 1;
    } finally {
      await host.close();
      await deviceHost?.close();
    }
  },
};
