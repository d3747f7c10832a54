/**
 * SSH overhead against a local sshd started for the run (same machine, same server):
 *  - bare:        `ssh host true` — a fresh connection each time (what a naive tool pays)
 *  - raw mux:     `ssh -o ControlPath=... host true` spawned directly through the master
 *  - SshHost.exec: the extension's path (execa, quoting, error classification) through the master
 *  - poll:        one follow poll of a detached job (log bytes + exit + RSS), through the master
 * Medians of alternated repetitions; ratios against bare. Target: SshHost.exec <= 1.2x bare.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { SshHost } from '../../src/core/remote/ssh';
import { installWrapper, pollJob, startDetached } from '../../src/core/remote/job';
import { startSshd, sshdUnavailableReason } from '../harness/sshd';

const REPS = Number(process.env.BENCH_REPS ?? 30);
const TARGET = 1.2;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const why = sshdUnavailableReason();
  if (why) {
    console.log(`ssh bench skipped: ${why}`);
    return;
  }
  const sshd = await startSshd();
  const host = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: sshd.clientConfig, controlDir: sshd.controlDir });
  try {
    await host.exec(['true']); // master up
    const work = path.join(sshd.dir, 'work');
    const wrapper = await installWrapper(host, work);
    const job = await startDetached(host, {
      wrapper,
      jobDir: path.join(work, 'job'),
      cwd: work,
      argv: ['sh', '-c', 'i=0; while [ $i -lt 50 ]; do echo line $i; i=$((i+1)); done; sleep 600'],
    });
    const bare: number[] = [];
    const raw: number[] = [];
    const mux: number[] = [];
    const poll: number[] = [];
    const bareArgs = ['-F', sshd.clientConfig, '-o', 'BatchMode=yes', '-o', 'ControlMaster=no', '-o', 'ControlPath=none', sshd.alias, 'true'];
    const rawArgs = [...host.baseArgs(), sshd.alias, 'true'];
    for (let i = 0; i < REPS; i++) {
      let t = performance.now();
      if (spawnSync('ssh', bareArgs).status !== 0) throw new Error('bare ssh failed');
      bare.push(performance.now() - t);
      t = performance.now();
      if (spawnSync('ssh', rawArgs).status !== 0) throw new Error('raw mux ssh failed');
      raw.push(performance.now() - t);
      t = performance.now();
      await host.exec(['true']);
      mux.push(performance.now() - t);
      t = performance.now();
      await pollJob(host, job, 0);
      poll.push(performance.now() - t);
    }
    await host.execScript('kill -TERM -"$1"', [String(job.pgid)], { check: false });
    const b = median(bare);
    const rows: [string, number][] = [
      ['bare ssh host true (new connection)', b],
      ['raw ssh through the master', median(raw)],
      ['SshHost.exec through the master', median(mux)],
      ['job poll (log + exit + RSS)', median(poll)],
    ];
    console.log(`ssh overhead, ${REPS} alternated repetitions, medians (local sshd on 127.0.0.1:${sshd.port})`);
    console.log('| what | ms | ratio to bare |');
    console.log('| --- | ---: | ---: |');
    for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(2)} | ${(ms / b).toFixed(2)}x |`);
    const ratio = median(mux) / b;
    console.log(`SshHost.exec / bare = ${ratio.toFixed(2)}x (target <= ${TARGET}x): ${ratio <= TARGET ? 'ok' : 'OVER TARGET'}`);
    if (ratio > TARGET) process.exitCode = 1;
  } finally {
    await host.close();
    await sshd.stop();
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(2);
});
