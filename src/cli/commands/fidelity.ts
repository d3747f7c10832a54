import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { HailoError, isCancelled } from '../../core/errors';
import { howToChooseInterpreter, resolveCliInterpreter } from '../../core/export/interpreter';
import { findModel, requireProject } from '../../core/project/load';
import { PROJECT_FILE_NAME } from '../../core/project/schema';
import type { CliCommand } from '../args';

const HOST = ['torch', 'onnx'] as const;
const REMOTE = ['fp-optimized', 'quantized', 'device'] as const;
const ALL = [...HOST, ...REMOTE] as const;
type Stage = (typeof ALL)[number];

/** The workspace's git commit, when it is a repository (results are compared across commits). */
function gitCommit(cwd: string): string | undefined {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', timeout: 5000 });
  return r.status === 0 && /^[0-9a-f]{40}$/.test(r.stdout.trim()) ? r.stdout.trim() : undefined;
}

export const fidelityCommand: CliCommand = {
  name: 'fidelity',
  help: `Usage: hailo-workbench fidelity --model NAME [--config hailo.json] [--stages torch,onnx,...]
                                [--python PATH] [--out DIR] [--baseline FILE] [--format text|json]

Runs the inputs of the model's "fidelity" section in hailo.json through the PyTorch model (the
reference) and the exported ONNX (ONNX Runtime), and compares them: cosine similarity, SNR (dB),
max and mean absolute error, per output, and along the time axis (which steps diverge).

  --stages    stages to run: torch, onnx (this machine), fp-optimized, quantized (the HAR in the DFC
              emulator on the model's compile target), device (the HEF through hailo_platform on
              the model's device); default: fidelity.stages, else torch,onnx. A stage whose file
              (HAR, HEF) does not exist is skipped with the reason. SSH as for "remote"
              (HAILO_SSH, HAILO_SSH_CONFIG); the remote Python is python3 (in the DFC environment)
  --python    interpreter with torch and numpy (else HAILO_PYTHON, else python3)
  --out       result folder (default: the check's run folder .hailo/runs/<id>/ beside hailo.json,
              shared with its first remote run); it gets the stage outputs as .npy, check.json
              and fidelity.json
  --baseline  an earlier fidelity.json to compare with (default: the newest earlier result of the
              model under .hailo/runs/, or .hailo/fidelity/ of earlier versions); a drop beyond
              fidelity.maxDropDb (default 3 dB) is a warning
  --format    text (default) or json

Exit code 0 when every limit holds, 1 when a stage fails or falls below a limit of
fidelity.thresholds / fidelity.stageThresholds, 2 on bad arguments or a project that cannot be read.`,
  options: [
    { name: 'config', value: true },
    { name: 'model', value: true },
    { name: 'stages', value: true },
    { name: 'python', value: true },
    { name: 'out', value: true },
    { name: 'baseline', value: true },
    { name: 'format', value: true, choices: ['text', 'json'] },
  ],
  async run(args, io) {
    if (args.positionals.length) throw new HailoError('INVALID_ARGUMENT', `unexpected argument "${args.positionals[0]}"`);
    const v = args.values;
    let stages: Stage[] | undefined;
    if (v.stages !== undefined) {
      const list = v.stages
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const s of list) {
        if (!(ALL as readonly string[]).includes(s)) throw new HailoError('INVALID_ARGUMENT', `--stages: "${s}" is not a stage (${ALL.join(', ')})`);
      }
      if (!list.length) throw new HailoError('INVALID_ARGUMENT', '--stages needs at least one stage');
      stages = list as Stage[];
    }
    const file = path.resolve(io.cwd, v.config ?? PROJECT_FILE_NAME);
    const { project, root } = await requireProject(file);
    const model = findModel(project, v.model);
    if (!stages) stages = model.fidelity?.stages ? ALL.filter((s) => model.fidelity!.stages!.includes(s)) : [...HOST];
    if (!stages.length) throw new HailoError('INVALID_ARGUMENT', `model "${model.name}": fidelity.stages lists no stage`);
    const hostStages = HOST.filter((s) => stages!.includes(s));
    const remoteList = REMOTE.filter((s) => stages!.includes(s));

    const { runHostCheck } = await import('../../core/fidelity/check');
    const { findFidelityDriver } = await import('../../core/fidelity/driver');
    const { findOrtWasmDir } = await import('../../core/fidelity/onnxStage');
    const { compareRecords, hasErrors, stageSummaries } = await import('../../core/fidelity/findings');
    const { fidelityResultDirs, listFidelityRecords, readFidelityRecord } = await import('../../core/fidelity/record');
    const { newRunId } = await import('../../core/remote/run');
    const { remoteStages } = await import('../../core/fidelity/remoteRun');
    const { SshHost } = await import('../../core/remote/ssh');
    const { modelPaths } = await import('../../core/project/load');
    const { optimizedHarPath } = await import('../../core/remote/pipelinePaths');

    const dirs = fidelityResultDirs(root);
    const outDir = v.out !== undefined ? path.resolve(io.cwd, v.out) : path.join(dirs.runs, newRunId(model.name));
    const baseline =
      v.baseline !== undefined
        ? readFidelityRecord(path.resolve(io.cwd, v.baseline))
        : listFidelityRecords([dirs.runs, dirs.legacy], model.name).find((r) => path.resolve(r.dir) !== outDir)?.record;
    const json = v.format === 'json';
    let r;
    const hosts = new Map<string, InstanceType<typeof SshHost>>();
    const driverPath = findFidelityDriver([__dirname]);
    const commit = gitCommit(root);
    const files = modelPaths(model, root);
    const sshConfig = io.env.HAILO_SSH_CONFIG;
    try {
      r = await runHostCheck({
        model,
        root,
        outDir,
        stages: hostStages,
        ...(remoteList.length
          ? {
              remote: remoteStages({
                model,
                root,
                outDir,
                stages: remoteList,
                targets: project.targets,
                devices: project.devices,
                files: { har: files.har, quantizedHar: optimizedHarPath(files.har), hef: files.hef },
                driverPath,
                ...(commit ? { commit } : {}),
                contextFor: (where) => {
                  let host = hosts.get(where.host);
                  if (!host)
                    hosts.set(
                      where.host,
                      (host = new SshHost(where.host, {
                        sshPath: io.env.HAILO_SSH ?? 'ssh',
                        connectTimeout: 15,
                        ...(sshConfig ? { configFile: path.resolve(io.cwd, sshConfig) } : {}),
                      })),
                    );
                  return {
                    host,
                    runsDir: dirs.runs,
                    signal: io.signal,
                    events: { onProgress: (m: string) => !json && io.err(`[fidelity] ${m}`) },
                  };
                },
                onRun: (run) => {
                  if (!json) io.err(`[fidelity] run ${run.id} on ${run.target.name}: ${run.status}`);
                },
              }),
            }
          : {}),
        interpreter: resolveCliInterpreter(v.python, io.env),
        chooseHint: howToChooseInterpreter('cli'),
        driverPath,
        wasmDir: findOrtWasmDir([__dirname]),
        commit,
        env: io.env,
        signal: io.signal,
        onProgress: (m) => !json && io.err(`[fidelity] ${m}`),
        onOutput: (line) => !json && !line.startsWith('[hailo-fidelity]') && io.err(line),
      });
    } catch (e) {
      if (isCancelled(e)) {
        io.err('fidelity check cancelled');
        return 1;
      }
      throw e;
    } finally {
      for (const h of hosts.values()) await h.close();
    }
    const findings = [...r.findings, ...(baseline ? compareRecords(baseline, r.record, { maxDropDb: model.fidelity?.maxDropDb }) : [])];
    await (
      await import('../../core/fidelity/rewriteLinks')
    ).linkRewrites(findings, { onnx: files.onnx, har: files.har, quantizedHar: optimizedHarPath(files.har) });
    const failed = hasErrors(findings);
    if (json) {
      io.out(
        JSON.stringify(
          {
            ok: !failed,
            model: model.name,
            file: r.file,
            baseline: baseline ? { createdAt: baseline.createdAt, commit: baseline.commit ?? null } : null,
            samples: r.record.samples,
            stages: r.record.stages,
            comparisons: r.record.comparisons.map((c) => ({
              stage: c.stage,
              reference: c.reference,
              against: c.against,
              output: c.output,
              shape: c.shape,
              timeAxis: c.timeAxis,
              steps: c.steps,
              metrics: c.metrics,
              damaged: c.damaged,
            })),
            findings,
          },
          null,
          2,
        ),
      );
    } else {
      io.out(`${model.name}: ${r.record.samples.length} sample(s), outputs ${r.record.outputs.join(', ')}`);
      for (const s of stageSummaries(r.record)) io.out(`  ${s.text}`);
      for (const f of findings) {
        io.out(`${f.severity}: ${f.code} ${f.message}${f.fix ? `\n  fix: ${f.fix}` : ''}`);
        for (const x of f.related ?? []) if (x.file) io.out(`  rewrite: ${x.file}:${x.line ?? 1} ${x.message}`);
      }
      io.out(`results: ${r.file}`);
    }
    return failed ? 1 : 0;
  },
};
