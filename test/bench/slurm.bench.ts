/**
 * Slurm overhead on the real one-node test cluster (test/harness/slurm.ts) through the local sshd,
 * from submitting a parse step to the job's first log line:
 *  - extension: the run engine exactly as Hailo: Parse calls it (`startRun` with the context
 *    PipelineService.trackedContext builds: one persistent SSH connection, cancel and detach
 *    signals, runs kept, events; no poll interval, so the Slurm driver's default applies). Timed
 *    from the call to the first `onLine` event: run record, input upload (hashed, sent once), job
 *    script written to shared storage, `sbatch --parsable`, then the state/log polls by byte offset.
 *    "after sbatch" is the same run timed from `onStepStarted` (sbatch has returned the job id).
 *  - cli: `hailo-workbench remote run --step parse` in this process (the same startRun, a fresh
 *    SshHost per command as a terminal user gets), from the command's start to its first line on stdout.
 *  - bare: `ssh host sbatch --wait <the same sbatch argv the extension used>` and `head -n 1` of its
 *    log: the same job script (the stand-in `hailo parser` in the venv), what a user would type.
 * Medians of alternated repetitions; ratios against bare. The load average is printed: the numbers
 * move with it on a shared machine.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CliIO } from '../../src/cli/args';
import { main as cli } from '../../src/cli/main';
import type { Model, Target } from '../../src/core/project/schema';
import { startRun } from '../../src/core/remote/pipeline';
import type { RunRecord } from '../../src/core/remote/run';
import { shJoin } from '../../src/core/remote/quote';
import { SshHost } from '../../src/core/remote/ssh';
import { SLURM_SSHD_CONFIG, slurmUnavailableReason, startSlurm } from '../harness/slurm';
import { sshdUnavailableReason, startSshd, STANDIN_DIR } from '../harness/sshd';

const REPS = Number(process.env.BENCH_REPS ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const why = sshdUnavailableReason() ?? slurmUnavailableReason();
  if (why) {
    console.log(`slurm bench skipped: ${why}`);
    return;
  }
  const load0 = os.loadavg();
  const t0 = Date.now();
  const slurm = await startSlurm();
  const startMs = Date.now() - t0;
  const sshd = await startSshd({ extraServerConfig: SLURM_SSHD_CONFIG });
  const config = slurm.sshClientConfig(sshd.clientConfig);
  const host = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: config, controlDir: sshd.controlDir });
  // the DFC environment of the compute node: the stand-in `hailo` (a few hundred lines of a real parse log)
  const venv = path.join(sshd.dir, 'venvs', 'bench');
  fs.mkdirSync(path.join(venv, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(venv, 'control.json'), JSON.stringify({ delay: 0 }));
  fs.writeFileSync(
    path.join(venv, 'bin', 'activate'),
    `PATH=${STANDIN_DIR}:$PATH\nexport PATH\nHAILO_STANDIN_CONTROL=${path.join(venv, 'control.json')}\nexport HAILO_STANDIN_CONTROL\n`,
  );
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hwb-slurm-bench-'));
  fs.writeFileSync(path.join(root, 'model.onnx'), Buffer.concat([Buffer.from('\x08\x07\x12\x04onnx'), Buffer.alloc(20_000, 7)]));
  const model: Model = { name: 'enc', inputs: [{ name: 'mel', shape: [1, 80, 3000] }], onnx: 'model.onnx', hwArch: 'hailo8l', target: 'cluster' };
  const target: Target = {
    name: 'cluster',
    host: sshd.alias,
    workDir: path.join(sshd.dir, 'work'),
    kind: 'slurm',
    slurm: { partition: slurm.partition, cpus: 1, memory: '100M', timeLimit: '2', dfc: { kind: 'venv', path: venv } },
  };
  fs.writeFileSync(path.join(root, 'hailo.json'), JSON.stringify({ version: 1, models: [model], targets: [target] }, null, 2));
  const runsDir = path.join(root, '.hailo', 'runs');
  try {
    await host.exec(['true']); // the master connection is up, as in the extension after its first command
    const ext: number[] = [];
    const afterSbatch: number[] = [];
    const cliMs: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < REPS; i++) {
      // extension: Hailo: Parse's call of the run engine
      let run: RunRecord | undefined;
      {
        const cancel = new AbortController();
        const detach = new AbortController();
        const t = performance.now();
        let started = 0;
        let first = 0;
        run = await startRun(
          {
            host,
            runsDir,
            signal: cancel.signal,
            detach: detach.signal,
            keep: 50,
            events: {
              onStepStarted: () => (started ||= performance.now()),
              onLine: () => (first ||= performance.now()),
            },
          },
          { projectRoot: root, model, target, steps: ['parse'] },
        );
        if (run.status !== 'succeeded' || !first || !started)
          throw new Error(`extension run ${run.id} ${run.status}: ${run.steps[0]?.error?.message ?? 'no line'}`);
        ext.push(first - t);
        afterSbatch.push(first - started);
      }
      // cli: hailo-workbench remote run --step parse
      {
        let first = 0;
        const io: CliIO = {
          out: () => (first ||= performance.now()),
          err: () => undefined,
          cwd: root,
          env: { ...process.env, HAILO_SSH_CONFIG: config },
        };
        const t = performance.now();
        const code = await cli(['remote', 'run', '--project', path.join(root, 'hailo.json'), '--model', 'enc', '--step', 'parse'], io);
        if (code !== 0 || !first) throw new Error(`hailo-workbench remote run exited ${code}`);
        cliMs.push(first - t);
      }
      // bare: the same sbatch argv (same job script) with --wait, then the first line of its log
      {
        const step = run.steps[0]!;
        const argv = step.launch!;
        const line = `${shJoin([argv[0]!, '--wait', ...argv.slice(1)])} >/dev/null && head -n 1 ${shJoin([step.slurm!.output])}`;
        const t = performance.now();
        const r = spawnSync('ssh', ['-F', config, sshd.alias, line], { encoding: 'utf8' });
        bare.push(performance.now() - t);
        if (r.status !== 0 || !r.stdout.trim()) throw new Error(`bare sbatch --wait failed: ${r.stderr || r.stdout}`);
      }
    }
    const b = median(bare);
    const row = (name: string, xs: number[]) =>
      `| ${name} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} | ${(median(xs) / b).toFixed(2)} |`;
    const load1 = os.loadavg();
    console.log(
      `test cluster up in ${startMs} ms (munged + slurmctld + slurmd); load average ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} cores`,
    );
    console.log('| path (parse step as a Slurm job, to its first log line) | median ms | range ms | ratio vs bare |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(row('bare: ssh host sbatch --wait … && head -n 1 log', bare));
    console.log(row('extension: Hailo: Parse run engine, call → first onLine', ext));
    console.log(row('extension: from sbatch returned (onStepStarted) → first onLine', afterSbatch));
    console.log(row('cli: hailo-workbench remote run --step parse → first stdout line', cliMs));
    console.log(
      `${REPS} alternated repetitions each. The extension polls job state and log every 2 s (the Slurm driver's default); sbatch --wait polls the controller.`,
    );
  } finally {
    await host.close().catch(() => undefined);
    await sshd.stop();
    const t = Date.now();
    await slurm.stop();
    fs.rmSync(root, { recursive: true, force: true });
    console.log(`test cluster stopped in ${Date.now() - t} ms`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
