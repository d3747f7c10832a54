/**
 * Device step overhead against a local sshd started for the run, with the stand-in hailortcli
 * replaying a benchmark that holds 2 s (as a real phase would run for seconds):
 *  - bare:   `ssh host hailortcli parse-hef H` then `ssh host hailortcli benchmark H ...` (new
 *            connections, output to the terminal: what a user types by hand)
 *  - device: Deploy and Benchmark without its device check (content-addressed HEF already there,
 *            parse-hef and benchmark as detached steps, logs kept, results.json), product defaults
 *            (500 ms follow polls)
 * Medians of alternated repetitions; the overhead in ms and the ratio to bare.
 * Target: the overhead stays under 10 % of a default benchmark (hailortcli's 3 phases x 15 s = 45 s),
 * i.e. <= 4.5 s; it is a fixed number of SSH round trips (about 8), independent of the benchmark length.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SshHost } from '../../src/core/remote/ssh';
import { checkDevice, startDeploy } from '../../src/core/remote/device';
import { startSshd, sshdUnavailableReason } from '../harness/sshd';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const TARGET_MS = 4500;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const why = sshdUnavailableReason();
  if (why) {
    console.log(`device bench skipped: ${why}`);
    return;
  }
  const sshd = await startSshd();
  const host = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: sshd.clientConfig, controlDir: sshd.controlDir });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hwb-devbench-'));
  try {
    fs.writeFileSync(sshd.controlFile, JSON.stringify({ hailortcli: { device: 'hailo8', delay: 0, holdSeconds: 2 } }));
    // one benchmark per run, the same work as the bare command (repetitions multiply both alike)
    const device = { name: 'bench', host: sshd.alias, workDir: path.join(sshd.dir, 'pi'), hwArch: 'hailo8' as const, benchmarkRepeats: 1 };
    const model = { name: 'enc', inputs: [{ name: 'mel', shape: [1, 80, 3000] }], onnx: 'enc.onnx' };
    const hef = path.join(root, 'enc.hef');
    fs.writeFileSync(hef, 'HWB-TEST-HEF arch=hailo8\n' + 'x'.repeat(1 << 20));
    const check = await checkDevice(host, device);
    const runsDir = path.join(root, 'runs');
    // first run: uploads the HEF; the remote copy serves the bare commands too
    const first = await startDeploy({ host, runsDir }, { model, device, hef, seconds: 1, check });
    const remoteHef = path.join(first.remoteDir, 'enc.hef');
    const bareSsh = (args: string[]) => {
      const r = spawnSync('ssh', ['-F', sshd.clientConfig, '-o', 'BatchMode=yes', '-o', 'ControlMaster=no', '-o', 'ControlPath=none', sshd.alias, ...args], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`bare ssh failed: ${r.stderr}`);
    };
    const bare: number[] = [];
    const dev: number[] = [];
    for (let i = 0; i < REPS; i++) {
      let t = performance.now();
      bareSsh(['hailortcli', 'parse-hef', remoteHef]);
      bareSsh(['hailortcli', 'benchmark', remoteHef, '--time-to-run', '1', '--csv', path.join(sshd.dir, 'bare.csv')]);
      bare.push(performance.now() - t);
      t = performance.now();
      const run = await startDeploy({ host, runsDir }, { model, device, hef, seconds: 1, check });
      if (run.status !== 'succeeded' || run.bytesSent !== 0) throw new Error(`device run ${run.status}, ${run.bytesSent} bytes sent`);
      dev.push(performance.now() - t);
    }
    const b = median(bare);
    const d = median(dev);
    console.log(`device step overhead, ${REPS} alternated repetitions, medians (local sshd on 127.0.0.1:${sshd.port}; the stand-in benchmark holds 2 s)`);
    console.log('| what | ms | ratio to bare |');
    console.log('| --- | ---: | ---: |');
    console.log(`| bare: ssh host hailortcli parse-hef + ssh host hailortcli benchmark | ${b.toFixed(0)} | 1.00x |`);
    console.log(`| Deploy and Benchmark (cached HEF, detached steps, logs, results) | ${d.toFixed(0)} | ${(d / b).toFixed(2)}x |`);
    console.log(
      `overhead ${(d - b).toFixed(0)} ms (target <= ${TARGET_MS} ms, 10 % of a default 45 s benchmark): ${d - b <= TARGET_MS ? 'ok' : 'OVER TARGET'}`,
    );
    if (d - b > TARGET_MS) process.exitCode = 1;
  } finally {
    await host.close();
    await sshd.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(2);
});
