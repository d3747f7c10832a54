/**
 * Slurm overhead on the real one-node test cluster (test/harness/slurm.ts) through the local sshd:
 *  - extension: SlurmClient.submit (script written to shared storage, `sbatch --parsable`) and the
 *    log followed by byte offset (SlurmClient.readLog, polled every POLL_MS) until the job's first
 *    log line arrives;
 *  - bare:      `ssh host sbatch --wait --parsable ... script; head -n 1 log` of the same job (what
 *    a user would type), measured to the same first line.
 * The job prints its first line and ends at once, so both measure queueing + launch + transport.
 * Medians of alternated repetitions; ratio against bare. Target: extension <= 1.0x bare (following
 * the log must not be slower than sbatch --wait, which polls the controller).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SshHost } from '../../src/core/remote/ssh';
import { SlurmClient } from '../../src/core/slurm/client';
import { JOB_START_MARKER, jobScript, sbatchArgv, type SlurmJobSpec } from '../../src/core/slurm/script';
import type { SlurmOptions } from '../../src/core/project/schema';
import { SLURM_SSHD_CONFIG, slurmUnavailableReason, startSlurm } from '../harness/slurm';
import { sshdUnavailableReason, startSshd } from '../harness/sshd';
import { shJoin } from '../../src/core/remote/quote';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 200);
const TARGET = 1.0;

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
  const t0 = Date.now();
  const slurm = await startSlurm();
  const startMs = Date.now() - t0;
  const sshd = await startSshd({ extraServerConfig: SLURM_SSHD_CONFIG });
  const config = slurm.sshClientConfig(sshd.clientConfig);
  const host = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: config, controlDir: sshd.controlDir });
  const client = new SlurmClient(host);
  const work = path.join(sshd.dir, 'work');
  const opts: SlurmOptions = { partition: slurm.partition, cpus: 1, memory: '50M', timeLimit: '2', dfc: { kind: 'path' } };
  const spec = (name: string): SlurmJobSpec => {
    const dir = path.join(work, name);
    return {
      name: `hwb-bench-${name}`,
      scriptPath: path.join(dir, 'job.sh'),
      output: path.join(dir, 'job.log'),
      chdir: dir,
      tasks: [{ dir, commands: [['true']] }],
    };
  };
  try {
    await host.exec(['true']); // master connection up, as in the extension
    const ext: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < REPS; i++) {
      {
        const s = spec(`ext${i}`);
        const t = performance.now();
        await client.submit(opts, s);
        let offset = 0;
        let text = '';
        for (;;) {
          const r = await client.readLog(s.output, offset);
          offset = r.offset;
          text += r.data.toString('utf8');
          if (text.includes('\n') && text.startsWith(JOB_START_MARKER)) break;
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
        ext.push(performance.now() - t);
      }
      {
        // the same script, written beforehand (not timed): the baseline times only sbatch --wait
        const s = spec(`bare${i}`);
        fs.mkdirSync(path.dirname(s.scriptPath), { recursive: true });
        fs.writeFileSync(s.scriptPath, jobScript(opts, s), { mode: 0o700 });
        const argv = sbatchArgv(opts, s);
        const line = `${shJoin([argv[0]!, '--wait', ...argv.slice(1)])} >/dev/null && head -n 1 ${shJoin([s.output])}`;
        const t = performance.now();
        const r = spawnSync('ssh', ['-F', config, sshd.alias, line], { encoding: 'utf8' });
        bare.push(performance.now() - t);
        if (r.status !== 0 || !r.stdout.startsWith(JOB_START_MARKER)) throw new Error(`bare sbatch --wait failed: ${r.stderr || r.stdout}`);
      }
    }
    const e = median(ext);
    const b = median(bare);
    console.log(`test cluster up in ${startMs} ms (munged + slurmctld + slurmd, node idle)`);
    console.log('| path | median ms to first log line | ratio vs bare |');
    console.log('| --- | ---: | ---: |');
    console.log(`| bare ssh sbatch --wait | ${b.toFixed(0)} | 1.00 |`);
    console.log(`| extension submit + follow (poll ${POLL_MS} ms) | ${e.toFixed(0)} | ${(e / b).toFixed(2)} |`);
    console.log(`${REPS} alternated repetitions each. Target: extension <= ${TARGET.toFixed(1)}x bare: ${e / b <= TARGET ? 'met' : 'NOT met'}`);
  } finally {
    await host.close().catch(() => undefined);
    await sshd.stop();
    const t = Date.now();
    await slurm.stop();
    console.log(`test cluster stopped in ${Date.now() - t} ms`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
