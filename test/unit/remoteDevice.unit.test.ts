import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SshHost } from '../../src/core/remote/ssh';
import { checkDevice, startDeploy } from '../../src/core/remote/device';
import { resumeRun } from '../../src/core/remote/pipeline';
import { deviceHistory, deviceResultOf, latencyOf, regressionOf, RESULTS_FILE } from '../../src/core/remote/results';
import { listRuns, readRun } from '../../src/core/remote/run';
import { isHailoError } from '../../src/core/errors';
import { isMeasured, type HailortFigures } from '../../src/core/hailo/hailort';
import type { Device, Model } from '../../src/core/project/schema';
import { startSshd, sshdUnavailableReason, type TestSshd } from '../harness/sshd';
import { REFERENCE_DIR } from '../reference';

/** Pi 5 sysfs as the device check reads it: the Hailo function on PCIe domain 0001 and the board model. */
function writeSysfs(root: string, speed: string, driver = '4.20.0', board = true): void {
  fs.rmSync(root, { recursive: true, force: true });
  const dev = path.join(root, 'bus', 'pci', 'devices', board ? '0001:01:00.0' : '0001:00:00.0');
  fs.mkdirSync(dev, { recursive: true });
  fs.writeFileSync(path.join(dev, 'vendor'), board ? '0x1e60\n' : '0x14e4\n');
  fs.writeFileSync(path.join(dev, 'current_link_speed'), `${speed}\n`);
  fs.writeFileSync(path.join(dev, 'max_link_speed'), '8.0 GT/s PCIe\n');
  fs.writeFileSync(path.join(dev, 'current_link_width'), '1\n');
  fs.writeFileSync(path.join(dev, 'max_link_width'), '1\n');
  const other = path.join(root, 'bus', 'pci', 'devices', '0000:00:00.0');
  fs.mkdirSync(other, { recursive: true });
  fs.writeFileSync(path.join(other, 'vendor'), '0x14e4\n');
  fs.mkdirSync(path.join(root, 'firmware', 'devicetree', 'base'), { recursive: true });
  fs.writeFileSync(path.join(root, 'firmware', 'devicetree', 'base', 'model'), 'Raspberry Pi 5 Model B Rev 1.0\0');
  fs.mkdirSync(path.join(root, 'module', 'hailo_pci'), { recursive: true });
  fs.writeFileSync(path.join(root, 'module', 'hailo_pci', 'version'), `${driver}\n`);
}

describe('remote: devices through a real sshd with a stand-in hailortcli', function () {
  this.timeout(120000);
  let sshd: TestSshd;
  let host: SshHost;
  let root: string;
  let n = 0;
  const roots: string[] = [];

  const control = (c: Record<string, unknown>) =>
    fs.writeFileSync(
      sshd.controlFile,
      JSON.stringify({ ...(fs.existsSync(REFERENCE_DIR) ? { referenceDir: REFERENCE_DIR } : {}), hailortcli: { delay: 0.001, ...c } }),
    );
  const model = (over: Partial<Model> = {}): Model => ({
    name: 'enc',
    inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
    onnx: 'model.onnx',
    hwArch: 'hailo8l',
    ...over,
  });
  const device = (over: Partial<Device> = {}): Device => ({ name: 'pi5', host: sshd.alias, workDir: path.join(sshd.dir, 'pi'), hwArch: 'hailo8l', ...over });
  const runsDir = () => path.join(root, '.hailo', 'runs');
  const ctx = (over: Record<string, unknown> = {}) => ({ host, runsDir: runsDir(), pollIntervalMs: 100, ...over });
  const hef = (arch: string, extra = '') => {
    const f = path.join(root, `enc-${arch}${extra}.hef`);
    fs.writeFileSync(f, `HWB-TEST-HEF arch=${arch}\n${extra}${process.pid}-${n}\n`);
    return f;
  };

  before(async function () {
    const why = sshdUnavailableReason();
    if (why) {
      console.log(`    skipped: ${why}`);
      this.skip();
    }
    sshd = await startSshd();
    host = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: sshd.clientConfig, controlDir: sshd.controlDir });
  });
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), `hwd-${n++}-`));
    roots.push(root);
    writeSysfs(sshd.sysfs, '5.0 GT/s PCIe');
  });
  after(async () => {
    await host?.close();
    await sshd?.stop();
    for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
  });

  it('Check Device on a Pi 5 + Hailo-8L: board, architecture, firmware, HailoRT, PCIe address and the Gen 2 link with its fix', async () => {
    control({ device: 'hailo8l' });
    const c = await checkDevice(host, device());
    assert.equal(c.identify?.architecture, 'HAILO8L');
    assert.equal(c.identify?.boardName, 'Hailo-8');
    assert.equal(c.identify?.firmwareVersion, '4.20.0');
    assert.equal(c.hailortCli, '4.20.0');
    assert.equal(c.driver, '4.20.0');
    assert.deepEqual(c.devices, [{ kind: 'pcie', id: '0001:01:00.0' }]);
    assert.equal(c.platform, 'Raspberry Pi 5 Model B Rev 1.0');
    assert.equal(c.pcie?.gen, 2);
    assert.equal(c.pcie?.width, 1);
    assert.deepEqual(
      c.problems.map((p) => p.code),
      ['PCIE_GEN2'],
    );
    assert.match(c.problems[0]!.fix, /dtparam=pciex1_gen=3/);
    writeSysfs(sshd.sysfs, '8.0 GT/s PCIe');
    const g3 = await checkDevice(host, device());
    assert.equal(g3.pcie?.gen, 3);
    assert.deepEqual(g3.problems, []);
  });

  it('Check Device explains: no device, device busy, firmware/library mismatch, architecture other than hailo.json says', async () => {
    control({ device: 'none' });
    writeSysfs(sshd.sysfs, '5.0 GT/s PCIe', '4.23.0', false);
    const none = await checkDevice(host, device());
    assert.deepEqual(
      none.problems.map((p) => p.code),
      ['NO_DEVICE'],
    );
    assert.match(none.problems[0]!.fix, /ribbon cable|lspci/);
    control({ device: 'busy' });
    writeSysfs(sshd.sysfs, '5.0 GT/s PCIe');
    const busy = await checkDevice(host, device());
    assert.ok(
      busy.problems.some((p) => p.code === 'DEVICE_BUSY'),
      JSON.stringify(busy.problems),
    );
    control({ device: 'fw-mismatch' });
    const mm = await checkDevice(host, device());
    const v = mm.problems.find((p) => p.code === 'VERSION_MISMATCH');
    assert.ok(v, JSON.stringify(mm.problems));
    assert.match(v.message, /firmware 4\.20\.0 vs HailoRT 4\.23\.0/);
    assert.match(v.message, /driver 4\.20\.0 vs HailoRT 4\.23\.0/);
    control({ device: 'hailo8' });
    writeSysfs(sshd.sysfs, '8.0 GT/s PCIe', '4.23.0');
    const h8 = await checkDevice(host, device());
    assert.equal(h8.identify?.architecture, 'HAILO8');
    assert.ok(h8.problems.some((p) => p.code === 'ARCH_MISMATCH'));
  });

  it('Deploy and Benchmark: parse-hef, benchmark with --csv, results.json; an unchanged HEF is not sent again', async () => {
    control({ device: 'hailo8l' });
    const file = hef('hailo8l');
    const lines: string[] = [];
    const run = await startDeploy(ctx({ events: { onLine: (_s: string, l: string) => lines.push(l) } }), {
      model: model(),
      device: device(),
      hef: file,
      seconds: 1,
      commit: 'abc1234',
    });
    assert.equal(run.status, 'succeeded', JSON.stringify(run.steps.map((s) => s.error)));
    assert.equal(run.kind, 'device');
    assert.deepEqual(
      run.steps.map((s) => s.step),
      ['parse-hef', 'benchmark'],
    );
    assert.equal(run.device?.architecture, 'HAILO8L');
    assert.equal(run.device?.pcie, 'Gen 2 x1');
    // three repetitions (the default) in one step, each with its own CSV
    assert.deepEqual(run.steps[1]!.command.slice(0, 2), ['sh', '-c']);
    assert.deepEqual(run.steps[1]!.command.slice(3, 5), ['hailo-workbench-benchmark', '3']);
    assert.deepEqual(
      run.steps[1]!.artifacts.map((a) => path.posix.basename(a.remote)),
      ['benchmark-1.csv', 'benchmark-2.csv', 'benchmark-3.csv'],
    );
    assert.deepEqual(
      run.steps[1]!.artifacts.map((a) => a.local),
      ['benchmark-1.csv', 'benchmark-2.csv', 'benchmark-3.csv'],
    );
    assert.equal(lines.filter((l) => /^HWB-REPEAT \d\/3$/.test(l)).length, 3);
    const reps = (run.steps[1]!.summary as HailortFigures & { repetitions?: HailortFigures[] }).repetitions!;
    assert.equal(reps.length, 3);
    for (const r of reps) assert.equal(r.hwLatencyMs && isMeasured(r.hwLatencyMs) && r.hwLatencyMs.source, 'csv');
    assert.ok(
      lines.some((l) => l.includes('Measuring HW Latency')),
      'benchmark output streamed',
    );
    assert.ok(run.bytesSent > 0);
    const res = JSON.parse(fs.readFileSync(path.join(runsDir(), run.id, RESULTS_FILE), 'utf8'));
    // the CSV (full precision) and the summary agree on the replayed capture (the real Pi 5 capture, or our own M.2 one)
    const real = fs.existsSync(REFERENCE_DIR);
    assert.equal(res.figures.fpsHwOnly.value, real ? 309.58 : 326.567);
    assert.equal(res.figures.fpsStreaming.value, real ? 309.441 : 324.718);
    assert.equal(res.figures.hwLatencyMs.value, real ? 6.66137 : 7.49588);
    assert.equal(res.figures.hwLatencyMs.source, 'csv');
    if (real) assert.match(res.figures.powerAvgW.notMeasured, /no power sensor/);
    assert.equal(res.commit, 'abc1234');
    assert.equal(res.hef.contexts, 7);
    const again = await startDeploy(ctx(), { model: model(), device: device(), hef: file, seconds: 1 });
    assert.equal(again.bytesSent, 0, 'the same HEF was sent again');
    assert.equal(again.inputs[0]!.sent, false);
    assert.equal(deviceHistory(runsDir(), 'enc').length, 2);
  });

  it('refuses a hailo8 HEF on a Hailo-8L before running anything', async () => {
    control({ device: 'hailo8l', argvFile: path.join(root, 'argv.jsonl') });
    const run = await startDeploy(ctx(), { model: model(), device: device(), hef: hef('hailo8'), seconds: 1 });
    assert.equal(run.status, 'failed');
    assert.equal(run.steps[0]!.status, 'failed');
    assert.equal(run.steps[0]!.error?.code, 'HEF_INCOMPATIBLE');
    assert.match(run.steps[0]!.error!.message, /compiled for HAILO8, but the device is HAILO8L \(a Hailo-8L accepts only hailo8l HEFs\)/);
    assert.equal(run.steps[1]!.status, 'skipped');
    const argv = fs.readFileSync(path.join(root, 'argv.jsonl'), 'utf8');
    assert.ok(!argv.includes('"benchmark"'), 'benchmark ran on a refused HEF');
    const r = deviceResultOf(run)!;
    assert.ok(!isMeasured(r.figures.hwLatencyMs));
    assert.match((r.figures.hwLatencyMs as { notMeasured: string }).notMeasured, /refused/);
  });

  it('refuses a HailoRT 5.x HEF on HailoRT 4.x, and a DFC 5 HEF on HailoRT 4', async () => {
    control({ device: 'hailo8' });
    writeSysfs(sshd.sysfs, '8.0 GT/s PCIe', '4.23.0');
    const run = await startDeploy(ctx(), { model: model(), device: device({ hwArch: 'hailo8' }), hef: hef('hailo10h'), seconds: 1 });
    assert.equal(run.status, 'failed');
    assert.match(run.steps[0]!.error!.message, /needs HailoRT 5\.x; the device runs HailoRT 4\.23\.0/);
    const run2 = await startDeploy(ctx(), {
      model: model(),
      device: device({ hwArch: 'hailo8' }),
      hef: hef('hailo8', 'dfc5\n'),
      seconds: 1,
      dfcVersion: '5.1.0',
    });
    assert.match(run2.steps[0]!.error!.message, /DFC 5\.1\.0, which does not pair with HailoRT 4\.23\.0/);
  });

  it('no device / device busy: refused with the explanation before anything is uploaded', async () => {
    control({ device: 'none' });
    const e = await startDeploy(ctx(), { model: model(), device: device(), hef: hef('hailo8l'), seconds: 1 }).catch((x: unknown) => x);
    assert.ok(isHailoError(e, 'DEVICE_PROBLEM'), String(e));
    assert.match((e as Error).message, /no Hailo device found/);
    control({ device: 'busy' });
    const b = await startDeploy(ctx(), { model: model(), device: device(), hef: hef('hailo8l'), seconds: 1 }).catch((x: unknown) => x);
    assert.match((b as Error).message, /the device is busy/);
    assert.equal(listRuns(runsDir()).length, 0);
  });

  it('a benchmark failing in the latency phase keeps both FPS figures; the failure is reported', async () => {
    control({ device: 'hailo8l', benchmark: 'fail-latency' });
    const run = await startDeploy(ctx(), { model: model(), device: device(), hef: hef('hailo8l'), seconds: 1 });
    assert.equal(run.status, 'failed');
    const b = run.steps[1]!;
    assert.equal(b.status, 'failed');
    assert.equal(b.exitCode, 1);
    assert.match(b.error!.message, /HAILO_TIMEOUT/);
    const f = b.summary as HailortFigures;
    assert.deepEqual(f.fpsHwOnly, { value: 7.93, unit: 'fps', source: 'progress' });
    assert.deepEqual(f.fpsStreaming, { value: 7.62, unit: 'fps', source: 'progress' });
    const r = JSON.parse(fs.readFileSync(path.join(runsDir(), run.id, RESULTS_FILE), 'utf8'));
    assert.equal(r.partial, true);
    assert.equal(r.figures.fpsStreaming.value, 7.62);
    assert.match(r.figures.hwLatencyMs.notMeasured, /before the HW latency was printed/);
  });

  it('HW latency refused on an on-chip-NMS HEF and a two-input HEF: "not measured" with the reason', async () => {
    control({ device: 'hailo8l', benchmark: 'nms' });
    const a = await startDeploy(ctx(), { model: model(), device: device(), hef: hef('hailo8l'), seconds: 1 });
    assert.equal(a.status, 'succeeded');
    const ra = deviceResultOf(a)!;
    assert.equal((ra.figures.hwLatencyMs as { notMeasured: string }).notMeasured, 'HailoRT does not measure HW latency on networks with on-chip NMS');
    assert.equal(latencyOf(ra), undefined);
    control({ device: 'hailo8l', benchmark: 'multi-input' });
    const b = await startDeploy(ctx(), { model: model(), device: device(), hef: hef('hailo8l'), seconds: 1 });
    assert.match((deviceResultOf(b)!.figures.hwLatencyMs as { notMeasured: string }).notMeasured, /single input \(this one has 2\)/);
  });

  it('run with --measure-latency --measure-overall-latency where asked; power shown when the board has a sensor', async () => {
    control({ device: 'hailo8l', benchmark: 'power' });
    const run = await startDeploy(ctx(), { model: model(), device: device(), hef: hef('hailo8l'), seconds: 1, measureRun: true });
    assert.equal(run.status, 'succeeded', JSON.stringify(run.steps.map((s) => s.error)));
    assert.deepEqual(
      run.steps.map((s) => s.step),
      ['parse-hef', 'benchmark', 'run'],
    );
    const r = deviceResultOf(run)!;
    assert.ok(isMeasured(r.figures.powerAvgW));
    assert.equal(isMeasured(r.figures.overallLatencyMs) && r.figures.overallLatencyMs.value, 131.42);
  });

  it('HailoRT 5.x device: benchmark without --csv (5.x prints its own summary), run2', async () => {
    control({ device: 'hailort5' });
    writeSysfs(sshd.sysfs, '8.0 GT/s PCIe', '5.1.1');
    const run = await startDeploy(ctx(), { model: model(), device: device({ hwArch: 'hailo10h' }), hef: hef('hailo10h'), seconds: 1, measureRun: true });
    assert.equal(run.status, 'succeeded', JSON.stringify(run.steps.map((s) => s.error)));
    assert.deepEqual(
      run.steps.map((s) => s.step),
      ['parse-hef', 'benchmark', 'run2'],
    );
    assert.ok(!run.steps[1]!.command.includes('--csv'));
    // run2 -j: the statistics JSON comes back and its full-precision latencies win over the console's
    const r2 = run.steps[2]!;
    assert.deepEqual(r2.command.slice(r2.command.indexOf('-j'), r2.command.indexOf('-j') + 3), ['-j', r2.artifacts[0]!.remote, 'set-net']);
    assert.equal(r2.artifacts[0]!.local, 'run2.json');
    const r = deviceResultOf(run)!;
    assert.ok(isMeasured(r.figures.fpsStreaming));
    assert.deepEqual(r.figures.hwLatencyMs, { value: 38.70825, unit: 'ms', source: 'json' });
    assert.deepEqual(r.figures.overallLatencyMs, { value: 41.296312, unit: 'ms', source: 'json' });
  });

  it('a dropped SSH connection mid-benchmark: reconnects; reattach after the client went away; nothing lost', async () => {
    control({ device: 'hailo8l', delay: 0.01, holdSeconds: 2 });
    let killed = false;
    const run = await startDeploy(
      ctx({
        events: {
          onLine: (s: string) => {
            if (s === 'benchmark' && !killed) {
              killed = true;
              const check = execFileSync(
                'sh',
                [
                  '-c',
                  `ssh ${host
                    .baseArgs()
                    .map((a) => `'${a}'`)
                    .join(' ')} -O check ${sshd.alias} 2>&1 || true`,
                ],
                { encoding: 'utf8' },
              );
              const m = /pid=(\d+)/.exec(check);
              assert.ok(m, check);
              process.kill(Number(m[1]), 'SIGKILL');
            }
          },
        },
      }),
      { model: model(), device: device(), hef: hef('hailo8l'), seconds: 1 },
    );
    assert.ok(killed);
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(fs.readFileSync(path.join(runsDir(), run.id, 'benchmark.log')), fs.readFileSync(path.join(run.remoteDir, 'jobs', 'benchmark', 'log')));
    // the client goes away during the benchmark; a new one reattaches from run.json
    const detach = new AbortController();
    const err = await startDeploy(ctx({ detach: detach.signal, events: { onLine: (s: string) => s === 'benchmark' && detach.abort() } }), {
      model: model(),
      device: device(),
      hef: hef('hailo8l', 'b'),
      seconds: 1,
    }).catch((e: unknown) => e);
    assert.ok(isHailoError(err, 'CANCELLED'), String(err));
    const id = listRuns(runsDir()).find((r) => r.run?.status === 'running')!.run!.id;
    const host2 = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: sshd.clientConfig, controlDir: sshd.controlDir });
    const done = await resumeRun({ host: host2, runsDir: runsDir(), pollIntervalMs: 100 }, id);
    assert.equal(done.status, 'succeeded');
    assert.deepEqual(fs.readFileSync(path.join(runsDir(), id, 'benchmark.log')), fs.readFileSync(path.join(done.remoteDir, 'jobs', 'benchmark', 'log')));
    assert.equal(readRun(path.join(runsDir(), id, 'run.json')).status, 'succeeded');
    assert.ok(fs.existsSync(path.join(runsDir(), id, RESULTS_FILE)));
  });

  it('cancel stops the benchmark on the device and keeps what it printed', async () => {
    control({ device: 'hailo8l', holdSeconds: 30 });
    const ac = new AbortController();
    const run = await startDeploy(
      ctx({ signal: ac.signal, events: { onLine: (_s: string, l: string) => l.startsWith('Measuring FPS (and Power') && ac.abort() } }),
      { model: model(), device: device(), hef: hef('hailo8l'), seconds: 1 },
    ).catch((e: unknown) => e);
    const rec = (run as { status?: string }).status
      ? (run as ReturnType<typeof readRun>)
      : readRun(path.join(runsDir(), listRuns(runsDir())[0]!.run!.id, 'run.json'));
    assert.equal(rec.status, 'cancelled');
    const f = rec.steps[1]!.summary as HailortFigures;
    assert.equal(isMeasured(f.fpsHwOnly) && f.fpsHwOnly.value, fs.existsSync(REFERENCE_DIR) ? 309.77 : 326.57);
  });

  it('regression against the previous comparable run, beyond the noise', () => {
    const base = deviceHistory(runsDir());
    assert.equal(base.length, 0);
    const mk = (id: string, t: string, ms: number, dev = 'pi5') => ({
      runId: id,
      createdAt: t,
      model: 'enc',
      device: dev,
      status: 'succeeded' as const,
      partial: false,
      figures: { hwLatencyMs: { value: ms, unit: 'ms', source: 'summary' as const } } as never,
    });
    const h = [mk('a', '1', 100), mk('b', '2', 101), mk('c', '3', 99.5), mk('d', '4', 100.4)];
    assert.equal(regressionOf(h, h[3]!)!.regressed, false);
    const slow = mk('e', '5', 112);
    const r = regressionOf([...h, slow], slow)!;
    assert.equal(r.regressed, true);
    assert.equal(r.previous, 'd');
    assert.ok(Math.abs(r.change - 0.1155) < 0.001);
    // another device is not comparable
    const other = mk('f', '6', 300, 'other');
    assert.equal(regressionOf([...h, other], other), undefined);
  });

  it('repeated benchmarks in one run: each repetition stored; a change within their spread is noise, beyond it a regression', async () => {
    // latency x factor per benchmark invocation: run 1 spreads 7 %, run 2 is +5 % (within), run 3 +24 % (beyond)
    const counterFile = path.join(root, 'bench-count');
    control({ device: 'hailo8l', scales: [1, 1.04, 0.97, 1.05, 1.06, 1.04, 1.3, 1.31, 1.29], counterFile });
    const file = hef('hailo8l');
    const deploy = () => startDeploy(ctx(), { model: model(), device: device({ benchmarkRepeats: 3 }), hef: file, seconds: 1 });
    const runs = [await deploy(), await deploy(), await deploy()];
    for (const r of runs) assert.equal(r.status, 'succeeded', JSON.stringify(r.steps.map((s) => s.error)));
    assert.equal(fs.readFileSync(counterFile, 'utf8'), '9');
    const history = deviceHistory(runsDir(), 'enc');
    assert.equal(history.length, 3);
    // the stand-in replays one capture: HW latency 7.49588 ms (reference) or our own fixture's, times the factor
    const base = (history[0]!.repetitions![0]!.hwLatencyMs as number) / 1;
    const lat = history.map((h) => h.repetitions!.map((x) => x.hwLatencyMs!));
    const near = (a: number, b: number) => Math.abs(a - b) < 1e-3 * b;
    assert.ok(near(lat[0]![1]!, base * 1.04) && near(lat[0]![2]!, base * 0.97), JSON.stringify(lat));
    assert.ok(near(lat[2]![0]!, base * 1.3), JSON.stringify(lat));
    // the run's figure is the median of its repetitions
    assert.ok(near(latencyOf(history[1]!)!.value, base * 1.05));
    // results.json carries the repetitions, so they survive a reload
    const saved = JSON.parse(fs.readFileSync(path.join(runsDir(), runs[0]!.id, RESULTS_FILE), 'utf8')) as { repetitions: unknown[] };
    assert.equal(saved.repetitions.length, 3);
    const r2 = regressionOf(history, history[1]!)!;
    assert.equal(r2.noiseFrom, 'repeats');
    assert.ok(Math.abs(r2.noise - 0.07) < 0.002, String(r2.noise));
    assert.ok(Math.abs(r2.change - 0.05) < 0.002, String(r2.change));
    assert.equal(r2.regressed, false);
    const r3 = regressionOf(history, history[2]!)!;
    assert.equal(r3.noiseFrom, 'repeats');
    assert.ok(Math.abs(r3.noise - 0.02 / 1.05) < 0.002, String(r3.noise));
    assert.ok(Math.abs(r3.change - (1.3 / 1.05 - 1)) < 0.002, String(r3.change));
    assert.equal(r3.regressed, true);
  });
});
