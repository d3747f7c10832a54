import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLedger } from '../../src/core/analysis/ledgerRun';
import { runExport } from '../../src/core/export/run';
import { findFidelityDriver } from '../../src/core/fidelity/driver';
import { readNpy, writeNpy } from '../../src/core/fidelity/npy';
import { findOrtWasmDir } from '../../src/core/fidelity/onnxStage';
import { readFidelityRecord } from '../../src/core/fidelity/record';
import type { Device, Model, Sweep, Target } from '../../src/core/project/schema';
import { deviceResultOf, latencyOf } from '../../src/core/remote/results';
import { listRuns, readRun } from '../../src/core/remote/run';
import { SshHost } from '../../src/core/remote/ssh';
import { fidelityFigure, sweepCsv, sweepRows, SWEEP_COLUMNS } from '../../src/core/slurm/sweep';
import { readSweep, resumeSweep, runSweep, variantResults, type SweepContext, type SweepOptions } from '../../src/core/slurm/sweepRun';
import { SLURM_SSHD_CONFIG, slurmUnavailableReason, startSlurm, type TestSlurm } from '../harness/slurm';
import { sshdUnavailableReason, startSshd, STANDIN_DIR, type TestSshd } from '../harness/sshd';
import { REFERENCE_DIR } from '../reference';

/**
 * A sweep's filled columns and its pick-up after a reload, against the real test sshd (and the
 * one-node Slurm cluster): the stand-in `hailo` writes a real HAR (test/fixtures/hailo) so each
 * variant's rewrite ledger is computed for real, the stand-in `hailortcli` is the device.
 */

const HAR = path.resolve(__dirname, '..', 'fixtures', 'hailo', 'toy-op17.har');
const REPO = path.resolve(__dirname, '..', '..');
const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';

/** Pi 5 sysfs as the device check reads it ($HWB_SYSFS of the test sshd). */
function writeSysfs(root: string): void {
  fs.rmSync(root, { recursive: true, force: true });
  const dev = path.join(root, 'bus', 'pci', 'devices', '0001:01:00.0');
  fs.mkdirSync(dev, { recursive: true });
  fs.writeFileSync(path.join(dev, 'vendor'), '0x1e60\n');
  fs.writeFileSync(path.join(dev, 'current_link_speed'), '8.0 GT/s PCIe\n');
  fs.writeFileSync(path.join(dev, 'max_link_speed'), '8.0 GT/s PCIe\n');
  fs.writeFileSync(path.join(dev, 'current_link_width'), '1\n');
  fs.writeFileSync(path.join(dev, 'max_link_width'), '1\n');
  fs.mkdirSync(path.join(root, 'firmware', 'devicetree', 'base'), { recursive: true });
  fs.writeFileSync(path.join(root, 'firmware', 'devicetree', 'base', 'model'), 'Raspberry Pi 5 Model B Rev 1.0\0');
  fs.mkdirSync(path.join(root, 'module', 'hailo_pci'), { recursive: true });
  fs.writeFileSync(path.join(root, 'module', 'hailo_pci', 'version'), '4.20.0\n');
}

const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

describe('sweep: rewrites, device latency and pick-up after a reload (real sshd, stand-in tools)', function () {
  this.timeout(300000);
  let sshd: TestSshd | undefined;
  let slurm: TestSlurm | undefined;
  let slurmWhy: string | undefined;
  let host: SshHost;
  let root: string;
  let n = 0;

  const venv = (name: string, control: Record<string, unknown>): string => {
    const dir = path.join(sshd!.dir, 'venvs', name);
    fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
    const controlFile = path.join(dir, 'control.json');
    fs.writeFileSync(controlFile, JSON.stringify({ delay: 0.001, ...(fs.existsSync(REFERENCE_DIR) ? { referenceDir: REFERENCE_DIR } : {}), ...control }));
    fs.writeFileSync(
      path.join(dir, 'bin', 'activate'),
      `PATH=${STANDIN_DIR}:$PATH\nexport PATH\nHAILO_STANDIN_CONTROL=${controlFile}\nexport HAILO_STANDIN_CONTROL\n`,
    );
    return dir;
  };
  const model: Model = {
    name: 'stack',
    entry: 'tinywhisper.sweep:build',
    inputs: [{ name: 'mel', shape: [1, 80, 100] }],
    onnx: 'stack.onnx',
    calibSet: 'calib.npy',
    hwArch: 'hailo8l',
  };
  const newHost = () =>
    new SshHost(sshd!.alias, {
      sshPath: 'ssh',
      connectTimeout: 5,
      configFile: slurm ? slurm.sshClientConfig(sshd!.clientConfig) : sshd!.clientConfig,
      controlDir: sshd!.controlDir,
    });
  const options = (sweep: Sweep, target: Target, device?: Device): SweepOptions => ({
    projectRoot: root,
    projectFile: path.join(root, 'hailo.json'),
    sweep,
    model,
    target,
    ...(device ? { device } : {}),
    exportVariant: async (spec) => {
      await runExport({
        interpreter: { path: PY, source: 'cli-option' },
        driverPath: path.join(REPO, 'src', 'python', 'hailo_export.py'),
        spec: { ...spec, root: path.join(REPO, 'test', 'fixtures', 'py') },
        chooseHint: '',
      });
    },
  });
  const runsDir = () => path.join(root, '.hailo', 'runs');
  const sweepsDir = () => path.join(root, '.hailo', 'sweeps');
  const ctx = (over: Partial<SweepContext> = {}): SweepContext => ({ host, sweepsDir: sweepsDir(), runsDir: runsDir(), pollIntervalMs: 150, ...over });

  /** The ledger of a variant made again here from its files: counts by kind without "kept". */
  const ledgerCounts = async (onnx: string, har: string) => {
    const l = await runLedger({ onnxFile: onnx, hailoFile: har, stage: 'parse' });
    return Object.fromEntries(Object.entries(l.ledger.counts).filter(([k]) => k !== 'kept'));
  };

  before(async function () {
    const why = sshdUnavailableReason();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    const probe = spawnSync(PY, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.log(`      skipped: ${PY} has no torch/onnx (${(probe.stderr ?? '').trim().split('\n').pop()}); set HAILO_TEST_PYTHON`);
      this.skip();
    }
    slurmWhy = slurmUnavailableReason();
    if (!slurmWhy) slurm = await startSlurm();
    sshd = await startSshd(slurm ? { extraServerConfig: SLURM_SSHD_CONFIG } : {});
    host = newHost();
  });
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), `hwsw-${n++}-`));
    fs.writeFileSync(path.join(root, 'calib.npy'), Buffer.alloc(5_000, 3));
  });
  after(async () => {
    await host?.close().catch(() => undefined);
    await sshd?.stop();
    await slurm?.stop();
  });

  it('fills rewrites by kind from each variant’s ledger and the latency from a deploy-and-benchmark run of its HEF', async () => {
    writeSysfs(sshd!.sysfs);
    fs.writeFileSync(
      sshd!.controlFile,
      JSON.stringify({ ...(fs.existsSync(REFERENCE_DIR) ? { referenceDir: REFERENCE_DIR } : {}), hailortcli: { delay: 0.001, device: 'hailo8l' } }),
    );
    const box: Target = { name: 'box', host: sshd!.alias, workDir: path.join(sshd!.dir, 'work'), dfc: { kind: 'venv', path: venv('measure', { har: HAR }) } };
    const device: Device = { name: 'pi5', host: sshd!.alias, workDir: path.join(sshd!.dir, 'pi'), hwArch: 'hailo8l' };
    const sweep: Sweep = {
      name: 'measure',
      model: 'stack',
      matrix: { kwargs: { width: [8, 12, 16] } },
      device: 'pi5',
      benchmarkSeconds: 1,
      latencyBudgetMs: 1000,
    };
    const rec = await runSweep(ctx({ deviceHost: host }), options(sweep, box, device));
    assert.equal(rec.status, 'succeeded');
    assert.equal(rec.device, 'pi5');
    const [w8, w12, w16] = rec.results;
    assert.equal(w12!.exported, 'failed');
    assert.equal(w12!.rewrites, undefined);
    assert.equal(w12!.deviceRunId, undefined, 'a variant that did not compile is not deployed');
    for (const r of [w8!, w16!]) {
      assert.deepEqual(r.steps, { parse: 'succeeded', optimize: 'succeeded', compile: 'succeeded' }, r.firstError);
      const onnx = path.join(sweepsDir(), rec.id, r.variant.id, 'stack.onnx');
      // the same ledger as after a pipeline's parse step: the variant's ONNX against the HAR its run brought back
      const run = readRun(path.join(runsDir(), r.runId!, 'run.json'));
      const har = run.steps[0]!.artifacts.find((a) => a.kind === 'har')!;
      assert.equal(sha(path.join(runsDir(), r.runId!, har.local!)), sha(HAR), 'the parsed HAR came back');
      assert.deepEqual(r.rewrites, await ledgerCounts(onnx, HAR));
      assert.ok(
        Object.values(r.rewrites!).some((x) => x > 0),
        JSON.stringify(r.rewrites),
      );
      // the latency is that of the device run, whose HEF is the variant's own
      const dev = readRun(path.join(runsDir(), r.deviceRunId!, 'run.json'));
      assert.equal(dev.kind, 'device');
      assert.equal(dev.status, 'succeeded');
      const hef = run.steps[2]!.artifacts.find((a) => a.kind === 'hef')!;
      assert.equal(dev.inputs[0]!.sha256, sha(path.join(runsDir(), r.runId!, hef.local!)), 'the variant’s HEF was deployed');
      const lat = latencyOf(deviceResultOf(dev)!);
      assert.ok(lat && lat.value > 0);
      assert.equal(r.latencyMs, lat.value);
      assert.match(r.notes?.estimate ?? '', /^not available: no "Performance Summary"/);
    }
    const rows = sweepRows(variantResults(readSweep(path.join(sweepsDir(), rec.id, 'sweep.json'))), 1000);
    assert.equal(rows.filter((x) => x.best).length, 1, 'a best variant within the budget');
    assert.ok(rows.every((x) => x.id === w12!.variant.id || (x.rewrites !== '' && typeof x.latencyMs === 'number')));
    assert.match(rows[1]!.notes.latencyMs!, /did not compile/);
    const csv = sweepCsv(rows).split('\r\n');
    assert.ok(csv[1]!.includes(`,${w8!.latencyMs},`), csv[1]);
  });

  it('with "fidelity", checks each variant with its own factory kwargs: the column is the SNR of fidelity.json, a failed check is a note; a pick-up runs no check twice', async () => {
    // the project holds the model's package (the export and the torch stage import it from the project folder) and one input sample
    fs.cpSync(path.join(REPO, 'test', 'fixtures', 'py', 'tinywhisper'), path.join(root, 'tinywhisper'), { recursive: true });
    const r = (() => {
      let x = 7;
      return () => ((x = (x * 1103515245 + 12345) % 2 ** 31), x / 2 ** 31 - 0.5);
    })();
    await writeNpy(path.join(root, 'fid', 's1.npy'), { dtype: 'float32', shape: [1, 80, 100], data: Float32Array.from({ length: 8000 }, () => r()) });
    const fidModel: Model = { ...model, entry: 'tinywhisper.sweepgain:build', fidelity: { inputs: 'fid' } };
    const box: Target = { name: 'box', host: sshd!.alias, workDir: path.join(sshd!.dir, 'work'), dfc: { kind: 'venv', path: venv('fid', { har: HAR }) } };
    const sweep: Sweep = { name: 'fid', model: 'stack', matrix: { kwargs: { gain: [1, 2.5, 3] } }, fidelity: true };
    const opts = (): SweepOptions => ({
      ...options(sweep, box),
      model: fidModel,
      exportVariant: async (spec) => {
        await runExport({
          interpreter: { path: PY, source: 'cli-option' },
          driverPath: path.join(REPO, 'src', 'python', 'hailo_export.py'),
          spec,
          chooseHint: '',
        });
      },
      fidelity: {
        interpreter: { path: PY, source: 'cli-option' },
        chooseHint: '',
        driverPath: findFidelityDriver([path.join(REPO, 'src')]),
        wasmDir: findOrtWasmDir([__dirname]),
        // the check of gain=3 fails in its factory (its export does not see this variable)
        env: { ...process.env, HWB_TEST_FAIL_GAIN: '3.0' },
      },
    });
    // the window closes while the torch stage of the second variant runs
    const detach = new AbortController();
    const err = await runSweep(ctx({ detach: detach.signal, onProgress: (m) => /^Fidelity of gain=2\.5: torch/.test(m) && detach.abort() }), opts()).catch(
      (e: unknown) => e,
    );
    assert.match(String(err), /detached|cancelled/i);
    const id = fs.readdirSync(sweepsDir())[0]!;
    const mid = readSweep(path.join(sweepsDir(), id, 'sweep.json'));
    assert.equal(mid.status, 'running');
    assert.deepEqual(mid.fidelityStages, ['torch', 'onnx']);
    const firstCheck = path.join(runsDir(), mid.results[0]!.fidelityRunId!, 'fidelity.json');
    assert.equal(mid.results[0]!.fidelity, fidelityFigure(readFidelityRecord(firstCheck)).value, 'the first variant was checked before the window closed');
    const firstMtime = fs.statSync(firstCheck).mtimeMs;
    assert.ok(mid.results[1]!.fidelityRunId, 'the interrupted check is recorded');
    assert.ok(!fs.existsSync(path.join(runsDir(), mid.results[1]!.fidelityRunId!, 'fidelity.json')), 'and has no result');

    const host2 = newHost();
    let done;
    try {
      done = await resumeSweep(ctx({ host: host2 }), opts(), mid);
    } finally {
      await host2.close().catch(() => undefined);
    }
    assert.equal(done.status, 'succeeded');
    const [g1, g25, g3] = done.results;
    assert.equal(g1!.fidelityRunId, mid.results[0]!.fidelityRunId);
    assert.equal(fs.statSync(firstCheck).mtimeMs, firstMtime, 'a finished check is not run again after the pick-up');
    assert.equal(g25!.fidelityRunId, mid.results[1]!.fidelityRunId, 'the interrupted check runs again in its own folder');
    const rows = sweepRows(variantResults(readSweep(path.join(sweepsDir(), id, 'sweep.json'))));
    const torchOut: Record<string, Float32Array> = {};
    for (const [i, x] of [g1!, g25!].entries()) {
      assert.deepEqual(x.steps, { parse: 'succeeded', optimize: 'succeeded', compile: 'succeeded' }, x.firstError);
      const dir = path.join(runsDir(), x.fidelityRunId!);
      const fid = readFidelityRecord(path.join(dir, 'fidelity.json'));
      assert.deepEqual(
        fid.stages.map((s) => [s.stage, s.status]),
        [
          ['torch', 'ok'],
          ['onnx', 'ok'],
        ],
      );
      const c = fid.comparisons.find((y) => y.stage === 'onnx' && y.against === 'reference')!;
      assert.equal(typeof c.metrics.snrDb, 'number', 'ONNX Runtime and PyTorch differ in the last bits: a finite SNR');
      assert.ok(c.metrics.snrDb! > 60, `the variant's ONNX and its PyTorch model agree (${c.metrics.snrDb} dB)`);
      // the column is the figure in that variant's fidelity.json
      assert.equal(x.fidelity, c.metrics.snrDb);
      assert.equal(rows[i]!.fidelity, c.metrics.snrDb);
      assert.match(rows[i]!.notes.fidelity!, new RegExp(`^SNR \\(dB\\) of onnx against torch, output \\S+, cosine .*${x.fidelityRunId}`));
      const out = fs.readdirSync(path.join(dir, 'torch', 's1'))[0]!;
      torchOut[x.variant.label] = (await readNpy(path.join(dir, 'torch', 's1', out))).data as Float32Array;
    }
    // the torch stage built each variant with its own kwargs: the same weights, the output scaled by its gain
    const a = torchOut['gain=1']!;
    const b = torchOut['gain=2.5']!;
    assert.equal(a.length, b.length);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(b[i]! - 2.5 * a[i]!));
    assert.ok(maxDiff < 1e-5 && a.some((x) => Math.abs(x) > 0.01), `torch output of gain=2.5 is 2.5 x that of gain=1 (max diff ${maxDiff})`);
    // a failed check leaves a note, the sweep went on
    assert.deepEqual(g3!.steps, { parse: 'succeeded', optimize: 'succeeded', compile: 'succeeded' });
    assert.equal(g3!.fidelity, undefined);
    assert.equal(rows[2]!.fidelity, '');
    assert.match(rows[2]!.notes.fidelity!, /^not measured: only onnx ran, nothing to compare with \(torch failed: .*refusing gain 3/);
    const csv = sweepCsv(rows).split('\r\n');
    assert.ok(csv[0]!.includes(`,${SWEEP_COLUMNS.find((c) => c.key === 'fidelity')!.title},`));
    assert.ok(csv[1]!.includes(`,${g1!.fidelity},`), csv[1]);
  });

  /** A one-variant sweep of the fidelity test model with every fidelity stage; `emulatorSleep`: seconds per sample in the stand-in emulator. */
  const remoteFidelitySweep = async (emulatorSleep = 0): Promise<SweepOptions> => {
    writeSysfs(sshd!.sysfs);
    fs.writeFileSync(
      sshd!.controlFile,
      JSON.stringify({ ...(fs.existsSync(REFERENCE_DIR) ? { referenceDir: REFERENCE_DIR } : {}), hailortcli: { delay: 0.001, device: 'hailo8l' } }),
    );
    // the fidelity test model, and stand-in HAR / optimized HAR / HEF the stand-in hailo_sdk_client and hailo_platform compute with deliberate errors
    const FID = path.join(REPO, 'test', 'fixtures', 'fidelity');
    fs.cpSync(path.join(FID, 'py', 'fidmodel'), path.join(root, 'fidmodel'), { recursive: true });
    const spec = (name: string, o: Record<string, unknown>) => {
      const f = path.join(root, 'specs', name);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, JSON.stringify({ standin: true, net: 'fid', ...o }));
      return f;
    };
    const control = {
      har: spec('p.har', {}),
      quantizedHar: spec('q.har', { quantize_bits: 8, ...(emulatorSleep ? { sleep: emulatorSleep } : {}) }),
      hef: spec('d.hef', { quantize_bits: 8, zero_last: 100 }),
    };
    const r = (() => {
      let x = 11;
      return () => ((x = (x * 1103515245 + 12345) % 2 ** 31), x / 2 ** 31 - 0.5);
    })();
    await writeNpy(path.join(root, 'fid', 's1.npy'), { dtype: 'float32', shape: [1, 80, 3000], data: Float32Array.from({ length: 240000 }, () => r()) });
    const fidModel: Model = {
      name: 'enc',
      entry: 'fidmodel.model:build',
      inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
      outputs: [{ name: 'features' }],
      onnx: 'enc.onnx',
      calibSet: 'calib.npy',
      hwArch: 'hailo8l',
      fidelity: { inputs: 'fid' },
    };
    const box: Target = { name: 'box', host: sshd!.alias, workDir: path.join(sshd!.dir, 'work'), dfc: { kind: 'venv', path: venv('fid-remote', control) } };
    const device: Device = { name: 'pi5', host: sshd!.alias, workDir: path.join(sshd!.dir, 'pi'), hwArch: 'hailo8l' };
    const sweep: Sweep = {
      name: 'fidr',
      model: 'enc',
      matrix: { hwArch: ['hailo8l'] },
      device: 'pi5',
      benchmarkSeconds: 1,
      fidelity: ['torch', 'onnx', 'fp-optimized', 'quantized', 'device'],
    };
    return {
      ...options(sweep, box, device),
      model: fidModel,
      exportVariant: async (s) => {
        await runExport({
          interpreter: { path: PY, source: 'cli-option' },
          driverPath: path.join(REPO, 'src', 'python', 'hailo_export.py'),
          spec: s,
          chooseHint: '',
        });
      },
      fidelity: {
        interpreter: { path: PY, source: 'cli-option' },
        chooseHint: '',
        driverPath: findFidelityDriver([path.join(REPO, 'src')]),
        wasmDir: findOrtWasmDir([__dirname]),
        python: ['env', `PYTHONPATH=${path.join(FID, 'standins')}`, 'python3'],
      },
    };
  };

  it("with a list of fidelity stages, runs the emulator on the target and the device stage on the sweep's device with the variant's HAR and HEF; the column is the last stage", async () => {
    const rec = await runSweep(ctx({ deviceHost: host }), await remoteFidelitySweep());
    const v = rec.results[0]!;
    assert.deepEqual(v.steps, { parse: 'succeeded', optimize: 'succeeded', compile: 'succeeded' }, v.firstError);
    const dir = path.join(runsDir(), v.fidelityRunId!);
    const fid = readFidelityRecord(path.join(dir, 'fidelity.json'));
    assert.deepEqual(
      fid.stages.map((s) => [s.stage, s.status, s.where]),
      [
        ['torch', 'ok', 'host'],
        ['onnx', 'ok', 'host'],
        ['fp-optimized', 'ok', 'box'],
        ['quantized', 'ok', 'box'],
        ['device', 'ok', 'pi5'],
      ],
      JSON.stringify(fid.stages),
    );
    // the remote stages ran the variant's own files, as runs of the run engine
    const emu = readRun(path.join(dir, 'run.json'));
    assert.equal(emu.kind, 'fidelity');
    const runOf = readRun(path.join(runsDir(), v.runId!, 'run.json'));
    const quantizedHar = runOf.steps[1]!.artifacts.find((a) => a.kind === 'quantized-har')!;
    assert.ok(
      emu.inputs.some((i) => i.sha256 === sha(path.join(runsDir(), v.runId!, quantizedHar.local!))),
      'the emulator ran the variant’s optimized HAR',
    );
    const dev = fid.comparisons.find((c) => c.stage === 'device' && c.against === 'reference')!;
    assert.deepEqual(
      dev.damaged.map((d) => [d.from, d.to]),
      [[1400, 1499]],
      'the stand-in device zeroed the last 100 steps',
    );
    // the column: the device stage (the last one) against torch, as fidelity.json has it
    assert.equal(v.fidelity, dev.metrics.snrDb);
    const rows = sweepRows(variantResults(rec));
    assert.equal(rows[0]!.fidelity, dev.metrics.snrDb);
    assert.match(rows[0]!.notes.fidelity!, /^SNR \(dB\) of device against torch, output features/);
    assert.ok(typeof v.latencyMs === 'number', 'the device run measured the latency too');
  });

  it('a window closed while the emulator stage of a variant runs: the pick-up reattaches that run and completes the check; the stage not started yet is named in the note', async () => {
    const opts = await remoteFidelitySweep(1.5);
    const detach = new AbortController();
    const err = await runSweep(
      ctx({ deviceHost: host, detach: detach.signal, runEvents: { onStepStarted: (_run, step) => step.step === 'fp-optimized' && detach.abort() } }),
      opts,
    ).catch((e: unknown) => e);
    assert.match(String(err), /detached|cancelled|stopped following/i);
    const id = fs.readdirSync(sweepsDir())[0]!;
    const mid = readSweep(path.join(sweepsDir(), id, 'sweep.json'));
    assert.equal(mid.status, 'running');
    assert.equal(mid.results[0]!.fidelity, undefined, 'no figure while the emulator stage runs');
    const checkId = mid.results[0]!.fidelityRunId!;
    assert.match(readRun(path.join(runsDir(), checkId, 'run.json')).status, /^(running|detached)$/, 'the emulator stage keeps running on the target');
    const host2 = newHost();
    let rec;
    try {
      rec = await resumeSweep(ctx({ host: host2, deviceHost: host2 }), opts, mid);
    } finally {
      await host2.close().catch(() => undefined);
    }
    assert.equal(rec.status, 'succeeded');
    const v = rec.results[0]!;
    assert.equal(v.fidelityRunId, checkId, 'the same check, completed');
    assert.equal(readRun(path.join(runsDir(), checkId, 'run.json')).status, 'succeeded');
    assert.equal(listRuns(runsDir()).filter((x) => x.run?.kind === 'fidelity').length, 1, 'the emulator run was not started again');
    const fid = readFidelityRecord(path.join(runsDir(), checkId, 'fidelity.json'));
    assert.deepEqual(
      fid.stages.map((s) => [s.stage, s.status]),
      [
        ['torch', 'ok'],
        ['onnx', 'ok'],
        ['fp-optimized', 'ok'],
        ['quantized', 'ok'],
      ],
    );
    const q = fid.comparisons.find((c) => c.stage === 'quantized' && c.against === 'reference')!;
    assert.equal(v.fidelity, q.metrics.snrDb);
    assert.match(
      v.notes!.fidelity!,
      /^SNR \(dB\) of quantized against torch, output features, cosine [\d.]+; device not run: the window closed before it started \(/,
    );
  });

  it('picks up a sweep on an SSH target after a reload: the running variant run is reattached, the rest run, nothing twice', async () => {
    const argvFile = path.join(root, 'argv.jsonl');
    const box: Target = {
      name: 'box',
      host: sshd!.alias,
      workDir: path.join(sshd!.dir, 'work'),
      dfc: { kind: 'venv', path: venv('ssh-reload', { har: HAR, holdSeconds: 1, argvFile }) },
    };
    const sweep: Sweep = { name: 'reload', model: 'stack', matrix: { kwargs: { width: [8, 12, 16] } } };
    const detach = new AbortController();
    let started = 0;
    const err = await runSweep(
      ctx({ detach: detach.signal, runEvents: { onStepStarted: () => ++started === 2 && detach.abort() } }),
      options(sweep, box),
    ).catch((e: unknown) => e);
    assert.match(String(err), /detached|Cancelled|Stopped following/i);
    const id = fs.readdirSync(sweepsDir())[0]!;
    const mid = readSweep(path.join(sweepsDir(), id, 'sweep.json'));
    assert.equal(mid.status, 'running', 'the record stays running for the next window');
    const first = mid.results[0]!;
    assert.ok(first.runId, 'the running variant’s run id is recorded');
    assert.match(readRun(path.join(runsDir(), first.runId!, 'run.json')).status, /^(running|detached)$/, 'left running on the target');
    assert.equal(mid.results[2]!.runId, undefined, 'the last variant has not started');
    // a new window: a new connection, only the records to go on
    const host2 = newHost();
    try {
      const done = await resumeSweep(ctx({ host: host2 }), options(sweep, box), mid);
      assert.equal(done.status, 'succeeded');
      assert.equal(done.results[0]!.runId, first.runId, 'the same run, reattached');
      for (const r of [done.results[0]!, done.results[2]!]) {
        assert.deepEqual(r.steps, { parse: 'succeeded', optimize: 'succeeded', compile: 'succeeded' }, r.firstError);
        assert.ok(r.rewrites && Object.keys(r.rewrites).length, 'rewrites filled after the pick-up');
      }
      assert.equal(done.results[1]!.exported, 'failed');
      assert.equal(listRuns(runsDir()).length, 2, 'one run per compiled variant, none twice');
      const parses = fs
        .readFileSync(argvFile, 'utf8')
        .trim()
        .split('\n')
        .filter((l) => l.includes('"parser"'));
      assert.equal(parses.length, 2, 'each variant parsed once');
      assert.equal(readSweep(path.join(sweepsDir(), id, 'sweep.json')).status, 'succeeded');
    } finally {
      await host2.close().catch(() => undefined);
    }
  });

  it('picks up a Slurm sweep after a reload while its array runs: the same job array followed to the end, every variant in the table', async function () {
    if (!slurm) {
      console.log(`      skipped: ${slurmWhy}`);
      this.skip();
    }
    const argvFile = path.join(sshd!.dir, `argv-${n}.jsonl`);
    const v = venv('slurm-reload', { har: HAR, holdSeconds: 1, argvFile });
    const target: Target = {
      name: 'cluster',
      host: sshd!.alias,
      workDir: path.join(sshd!.dir, 'work'),
      kind: 'slurm',
      slurm: { partition: 'debug', cpus: 1, memory: '200M', timeLimit: '5', dfc: { kind: 'venv', path: v } },
    };
    const sweep: Sweep = { name: 'reload', model: 'stack', matrix: { kwargs: { width: [8, 12, 16, 32] } }, concurrency: 2, latencyBudgetMs: 50 };
    const detach = new AbortController();
    const err = await runSweep(
      ctx({ detach: detach.signal, pollIntervalMs: 250, onUpdate: (r) => r.results.some((x) => x.slurm?.state === 'RUNNING') && detach.abort() }),
      options(sweep, target),
    ).catch((e: unknown) => e);
    assert.match(String(err), /detached|Cancelled|Stopped following/i);
    const id = fs.readdirSync(sweepsDir())[0]!;
    const mid = readSweep(path.join(sweepsDir(), id, 'sweep.json'));
    assert.equal(mid.status, 'running');
    assert.match(mid.jobId ?? '', /^\d+$/);
    const q = await host.exec(['squeue', '-h', '-r', '-j', mid.jobId!, '-o', '%T'], { check: false });
    assert.match(q.stdout.toString('utf8'), /RUNNING|PENDING/, 'the array runs on without the window');
    const host2 = newHost();
    try {
      const done = await resumeSweep(ctx({ host: host2, pollIntervalMs: 250 }), options(sweep, target), mid);
      assert.equal(done.status, 'succeeded');
      assert.equal(done.jobId, mid.jobId, 'the same job array, not a new one');
      const [w8, w12, w16, w32] = done.results;
      assert.equal(w12!.exported, 'failed');
      for (const r of [w8!, w16!, w32!]) {
        assert.deepEqual(r.steps, { parse: 'succeeded', optimize: 'succeeded', compile: 'succeeded' }, `${r.variant.label}: ${r.firstError}`);
        assert.equal(r.slurm?.state, 'COMPLETED');
        assert.ok(fs.existsSync(path.join(sweepsDir(), id, r.variant.id, 'dfc.log')), 'the element log came back');
        // the parsed HAR came back from shared storage and its ledger is in the table
        const onnx = path.join(sweepsDir(), id, r.variant.id, 'stack.onnx');
        assert.deepEqual(r.rewrites, await ledgerCounts(onnx, path.join(sweepsDir(), id, r.variant.id, 'stack.har')));
        assert.ok(typeof r.contexts === 'number' || r.contexts === undefined);
      }
      const parses = fs
        .readFileSync(argvFile, 'utf8')
        .trim()
        .split('\n')
        .filter((l) => l.includes('"parser"'));
      assert.equal(parses.length, 3, 'each exported variant parsed once: nothing submitted again');
      const rows = sweepRows(variantResults(readSweep(path.join(sweepsDir(), id, 'sweep.json'))), 50);
      assert.equal(rows.length, 4);
      assert.ok(rows.filter((r) => r.compile === 'succeeded').every((r) => r.rewrites !== '' && r.slurmJob.includes('COMPLETED')));
    } finally {
      await host2.close().catch(() => undefined);
    }
  });
});
