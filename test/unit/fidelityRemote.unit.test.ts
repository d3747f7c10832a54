/**
 * The emulator and device stages through the run engine against a real sshd on 127.0.0.1: the
 * stand-in hailo_sdk_client / hailo_platform (test/fixtures/fidelity/standins, on the remote
 * PYTHONPATH) compute the test model with deliberate errors (8-bit rounding in the quantized
 * context, the last 100 time steps zeroed on the "device"), and the comparison must find them.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/args';
import { isHailoError } from '../../src/core/errors';
import { completeCheck, runHostCheck } from '../../src/core/fidelity/check';
import { readFidelityRecord } from '../../src/core/fidelity/record';
import { findCheckOfRun, readCheckPlan } from '../../src/core/fidelity/store';
import { fidelityOfRun } from '../../src/core/remote/runCompare';
import { findFidelityDriver } from '../../src/core/fidelity/driver';
import { fidelityFindings } from '../../src/core/fidelity/findings';
import { writeNpy } from '../../src/core/fidelity/npy';
import { annotateFidelityRuns, collectRemoteStages, remoteStages, runRemoteStages } from '../../src/core/fidelity/remoteRun';
import { resumeRun } from '../../src/core/remote/pipeline';
import { listRuns, readRun } from '../../src/core/remote/run';
import { SshHost } from '../../src/core/remote/ssh';
import type { Device, Model, Target } from '../../src/core/project/schema';
import { startSshd, sshdUnavailableReason, type TestSshd } from '../harness/sshd';

const ROOT = path.resolve(__dirname, '..', '..');
const STANDINS = path.join(ROOT, 'test', 'fixtures', 'fidelity', 'standins');
const DRIVER = findFidelityDriver([path.join(ROOT, 'src')]);

describe('fidelity: emulator and device stages through a real sshd', function () {
  this.timeout(180000);
  let sshd: TestSshd;
  let host: SshHost;
  let root: string;
  const roots: string[] = [];
  let n = 0;

  const python = ['env', `PYTHONPATH=${STANDINS}`, 'python3'];
  const target = (): Target => ({ name: 'box', host: sshd.alias, workDir: path.join(sshd.dir, 'box') }) as Target;
  const device = (): Device => ({ name: 'pi5', host: sshd.alias, workDir: path.join(sshd.dir, 'pi'), hwArch: 'hailo8l' });
  const model = (over: Partial<Model> = {}): Model =>
    ({
      name: 'enc',
      inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
      outputs: [{ name: 'features' }],
      onnx: 'enc.onnx',
      hwArch: 'hailo8l',
      fidelity: { inputs: 'inputs' },
      ...over,
    }) as Model;
  const runsDir = () => path.join(root, '.hailo', 'runs');
  const ctx = (over: Record<string, unknown> = {}) => ({ host, runsDir: runsDir(), pollIntervalMs: 100, ...over });
  const standin = (file: string, spec: Record<string, unknown>) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), JSON.stringify({ standin: true, net: 'fid', ...spec }));
  };

  before(async function () {
    const why = sshdUnavailableReason();
    if (why) {
      console.log(`    skipped: ${why}`);
      this.skip();
    }
    if (spawnSync('python3', ['-c', 'import numpy']).status !== 0) {
      console.log('    skipped: python3 with numpy is needed on the test sshd');
      this.skip();
    }
    sshd = await startSshd();
    host = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: sshd.clientConfig, controlDir: sshd.controlDir });
  });
  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), `hwfr-${n++}-`));
    roots.push(root);
    fs.mkdirSync(path.join(root, 'inputs'));
    for (const [k, seed] of [
      ['a', 1],
      ['b', 2],
    ] as const) {
      const data = new Float32Array(80 * 3000);
      for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.013 * seed) + 0.3 * Math.cos(i * 0.0007 + seed);
      await writeNpy(path.join(root, 'inputs', `${k}.npy`), { dtype: 'float32', shape: [1, 80, 3000], data });
    }
  });
  after(async () => {
    await host?.close();
    await sshd?.stop();
    for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
  });

  const check = (m: Model, stages: ('fp-optimized' | 'quantized' | 'device')[], files: { har?: string; hef?: string }) => {
    const outDir = path.join(root, '.hailo', 'fidelity', 'r1');
    return runHostCheck({
      model: m,
      root,
      outDir,
      stages: [],
      interpreter: { path: 'python3', source: 'default' } as never,
      chooseHint: '',
      driverPath: DRIVER,
      wasmDir: '',
      remote: remoteStages({
        model: m,
        root,
        outDir,
        stages,
        targets: [target()],
        devices: [device()],
        files: { har: path.join(root, files.har ?? 'missing.har'), hef: path.join(root, files.hef ?? 'missing.hef') },
        driverPath: DRIVER,
        contextFor: () => ctx(),
        python,
      }),
    });
  };

  it('fp-optimized, quantized (8-bit noise) and device (last 100 steps zeroed): the error curve finds the damaged steps', async () => {
    standin('enc.har', { quantize_bits: 8 });
    standin('enc.hef', { quantize_bits: 8, zero_last: 100 });
    const m = model({ fidelity: { inputs: 'inputs', thresholds: { minSnrDb: 30 } } } as Partial<Model>);
    const r = await check(m, ['fp-optimized', 'quantized', 'device'], { har: 'enc.har', hef: 'enc.hef' });
    assert.deepEqual(
      r.record.stages.map((s) => [s.stage, s.status, s.where]),
      [
        ['fp-optimized', 'ok', 'box'],
        ['quantized', 'ok', 'box'],
        ['device', 'ok', 'pi5'],
      ],
      JSON.stringify(r.record.stages),
    );
    const q = r.record.comparisons.find((c) => c.stage === 'quantized' && c.against === 'reference')!;
    assert.equal(q.reference, 'fp-optimized');
    assert.equal(q.steps, 1500);
    // 8-bit rounding over the output range: noise ~ range/255/sqrt(12), SNR about 40-50 dB, spread evenly
    assert.ok(q.metrics.snrDb! > 30 && q.metrics.snrDb! < 60, String(q.metrics.snrDb));
    assert.ok(q.metrics.cosine! > 0.9999, String(q.metrics.cosine));
    assert.deepEqual(q.damaged, []);
    const d = r.record.comparisons.find((c) => c.stage === 'device' && c.against === 'reference')!;
    assert.deepEqual(
      d.damaged.map((x) => [x.from, x.to]),
      [[1400, 1499]],
    );
    assert.ok(d.perStep.snrDb[1450]! < 1, String(d.perStep.snrDb[1450]));
    assert.ok(d.perStep.snrDb[700]! > 30, String(d.perStep.snrDb[700]));
    // the device is compared with the stage before it too
    assert.ok(r.record.comparisons.some((c) => c.stage === 'device' && c.against === 'previous' && c.reference === 'quantized'));
    const codes = fidelityFindings(r.record).map((f) => `${f.code}:${f.stage}`);
    assert.ok(codes.includes('FID002:device'), codes.join(' '));
    assert.ok(codes.includes('FID004:device'), codes.join(' '));
    assert.ok(!codes.some((c) => c.endsWith(':quantized') && c.startsWith('FID00')), codes.join(' '));
    // the runs are recorded like any other, with the driver's summary per step
    const runs = listRuns(runsDir()).map((x) => x.run!);
    assert.deepEqual(runs.map((x) => [x.kind, x.status, x.steps.map((s) => s.step).join(',')]).sort(), [
      ['fidelity', 'succeeded', 'device'],
      ['fidelity', 'succeeded', 'fp-optimized,quantized'],
    ]);
    const emu = runs.find((x) => x.steps.length === 2)!;
    assert.match(emu.toolVersions.dfc ?? '', /standin/);
    assert.ok(fs.existsSync(path.join(runsDir(), emu.id, 'quantized', 'b', 'features.npy')));
    // the Runs view's line per stage: its figures against the reference, kept in run.json
    annotateFidelityRuns(runsDir(), runs, r.record);
    const dev = readRun(path.join(runsDir(), runs.find((x) => x.steps.length === 1)!.id, 'run.json'));
    const fig = (dev.steps[0]!.summary as { figures: { reference: string; snrDb: number; damaged: { from: number; to: number }[] } }).figures;
    assert.equal(fig.reference, 'fp-optimized');
    assert.equal(fig.snrDb, d.metrics.snrDb);
    assert.deepEqual(fig.damaged, [{ from: 1400, to: 1499 }]);
  });

  it('a stage whose file does not exist is skipped with the reason; a failing driver fails its stage with its message', async () => {
    const m = model();
    const r = await check(m, ['fp-optimized', 'quantized', 'device'], {});
    assert.deepEqual(
      r.record.stages.map((s) => [s.stage, s.status]),
      [
        ['fp-optimized', 'skipped'],
        ['quantized', 'skipped'],
        ['device', 'skipped'],
      ],
    );
    assert.match(r.record.stages[0]!.message!, /missing\.har does not exist yet/);
    assert.match(r.record.stages[2]!.message!, /missing\.hef does not exist yet \(run Compile first\)/);
    fs.writeFileSync(path.join(root, 'bad.har'), 'not json');
    const b = await check(m, ['fp-optimized'], { har: 'bad.har' });
    assert.equal(b.record.stages[0]!.status, 'failed');
    assert.match(b.record.stages[0]!.message!, /fp-optimized failed on .* \(run /);
  });

  it('an unchanged HAR and inputs are not sent again (content-addressed)', async () => {
    standin('enc.har', {});
    const run = (): Promise<ReturnType<typeof readRun>> =>
      runRemoteStages(ctx(), {
        model: model(),
        on: { target: target() },
        stages: ['fp-optimized'],
        modelFile: path.join(root, 'enc.har'),
        driverPath: DRIVER,
        samples: [{ id: 'a', inputs: { mel: path.join(root, 'inputs', 'a.npy') } }],
        inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
        outputs: ['features'],
        python,
      });
    const first = await run();
    assert.equal(first.status, 'succeeded');
    assert.equal(first.inputs.length, 5, JSON.stringify(first.inputs)); // input, HAR, driver and its shared module, manifest
    const second = await run();
    assert.equal(second.status, 'succeeded');
    // only the manifest (it names the run's own folder) is new
    const manifest = second.inputs.find((i) => i.role === 'manifest')!;
    assert.equal(second.bytesSent, manifest.size);
    assert.deepEqual(
      second.inputs.filter((i) => i.sent).map((i) => i.role),
      ['manifest'],
    );
    assert.deepEqual(
      second.inputs.filter((i) => i.role !== 'manifest').map((i) => i.sha256),
      first.inputs.filter((i) => i.role !== 'manifest').map((i) => i.sha256),
    );
  });

  it('on a target with a DFC virtual environment, the driver runs in it with its python3 (no override)', async () => {
    standin('enc.har', { quantize_bits: 8 });
    const venv = path.join(root, 'dfc_venv');
    fs.mkdirSync(path.join(venv, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(venv, 'bin', 'activate'), `PYTHONPATH=${STANDINS}\nexport PYTHONPATH\n`);
    const run = await runRemoteStages(ctx(), {
      model: model(),
      on: { target: { ...target(), dfc: { kind: 'venv', path: venv } } as Target },
      stages: ['quantized'],
      modelFile: path.join(root, 'enc.har'),
      driverPath: DRIVER,
      samples: [{ id: 'a', inputs: { mel: path.join(root, 'inputs', 'a.npy') } }],
      inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
      outputs: ['features'],
    });
    assert.equal(run.status, 'succeeded', JSON.stringify(run.steps[0]!.error));
    assert.deepEqual(run.steps[0]!.command.slice(0, 3), ['python3', path.posix.join(run.remoteDir, 'hailo_fidelity.py'), '--stage']);
    assert.equal(run.steps[0]!.launch![0], 'sh');
    assert.equal(run.toolVersions.dfc, '3.33.0-standin');
    // without the DFC, the stage fails with the driver's own words
    const bare = await runRemoteStages(ctx(), {
      model: model(),
      on: { target: target() },
      stages: ['quantized'],
      modelFile: path.join(root, 'enc.har'),
      driverPath: DRIVER,
      samples: [{ id: 'a', inputs: { mel: path.join(root, 'inputs', 'a.npy') } }],
      inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
      outputs: ['features'],
    });
    assert.equal(bare.status, 'failed');
    assert.equal(bare.steps[0]!.error!.code, 'PYTHON_MISSING_PACKAGE');
    assert.match(bare.steps[0]!.error!.message, /hailo_sdk_client/);
  });

  it('the command line: --stages fp-optimized,quantized,device runs the emulator on the target, skips the device without a HEF, exit 1 below a limit', async () => {
    standin('build/enc_optimized.har', { quantize_bits: 4 });
    standin('build/enc.har', {});
    const venv = path.join(root, 'dfc_venv');
    fs.mkdirSync(path.join(venv, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(venv, 'bin', 'activate'), `PYTHONPATH=${STANDINS}\nexport PYTHONPATH\n`);
    fs.writeFileSync(
      path.join(root, 'hailo.json'),
      JSON.stringify({
        version: 1,
        targets: [{ name: 'box', host: sshd.alias, workDir: path.join(sshd.dir, 'box'), dfc: { kind: 'venv', path: venv } }],
        models: [
          {
            name: 'enc',
            inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
            outputs: [{ name: 'features' }],
            onnx: 'build/enc.onnx',
            target: 'box',
            fidelity: { inputs: 'inputs', thresholds: { minSnrDb: 30 } },
          },
        ],
      }),
    );
    const out: string[] = [];
    const err: string[] = [];
    const cli: CliIO = { out: (x) => out.push(x), err: (x) => err.push(x), cwd: root, env: { ...process.env, HAILO_SSH_CONFIG: sshd.clientConfig } };
    const code = await main(['fidelity', '--model', 'enc', '--stages', 'fp-optimized,quantized,device', '--format', 'json'], cli);
    const j = JSON.parse(out.join('\n')) as {
      ok: boolean;
      stages: { stage: string; status: string; message?: string }[];
      comparisons: { stage: string; reference: string; metrics: { snrDb: number } }[];
      findings: { code: string; stage?: string }[];
    };
    assert.equal(code, 1, err.join('\n'));
    assert.deepEqual(
      j.stages.map((s) => `${s.stage}:${s.status}`),
      ['fp-optimized:ok', 'quantized:ok', 'device:skipped'],
      JSON.stringify(j.stages),
    );
    assert.match(j.stages[2]!.message!, /enc\.hef does not exist yet/);
    const q = j.comparisons.find((c) => c.stage === 'quantized')!;
    assert.equal(q.reference, 'fp-optimized');
    assert.ok(q.metrics.snrDb < 30, String(q.metrics.snrDb));
    assert.ok(
      j.findings.some((f) => f.code === 'FID002' && f.stage === 'quantized'),
      JSON.stringify(j.findings),
    );
    // the run is recorded with its figures for the Runs view
    const run = listRuns(path.join(root, '.hailo', 'runs'))[0]!.run!;
    assert.equal(run.kind, 'fidelity');
    assert.ok((run.steps[1]!.summary as { figures?: { snrDb: number } }).figures!.snrDb < 30);
  });

  it('a check whose device run is reattached after a reload completes when the run ends: compared, stored with the run, figures in run.json', async () => {
    standin('enc.har', { quantize_bits: 8 });
    standin('slow.hef', { quantize_bits: 8, zero_last: 100, sleep: 1.5 });
    const m = model({ fidelity: { inputs: 'inputs', thresholds: { minSnrDb: 30 } } } as Partial<Model>);
    const checkId = '20260101-000000-enc-check1';
    const outDir = path.join(runsDir(), checkId);
    const detach = new AbortController();
    // the window goes away while the device stage runs
    const err = await runHostCheck({
      model: m,
      root,
      outDir,
      stages: [],
      interpreter: { path: 'python3', source: 'default' } as never,
      chooseHint: '',
      driverPath: DRIVER,
      wasmDir: '',
      remote: remoteStages({
        model: m,
        root,
        outDir,
        stages: ['fp-optimized', 'quantized', 'device'],
        targets: [target()],
        devices: [device()],
        files: { har: path.join(root, 'enc.har'), hef: path.join(root, 'slow.hef') },
        driverPath: DRIVER,
        contextFor: () => ctx({ detach: detach.signal, events: { onLine: (s: string) => s === 'device' && detach.abort() } }),
        python,
      }),
    }).catch((e: unknown) => e);
    assert.ok(isHailoError(err, 'CANCELLED'), String(err));
    // nothing compared yet; the plan names both runs; the emulator run is the check's own folder
    assert.ok(!fs.existsSync(path.join(outDir, 'fidelity.json')));
    const plan = readCheckPlan(outDir);
    assert.deepEqual(
      plan.remote.map((g) => [g.stages.join(','), g.where, !!g.run]),
      [
        ['fp-optimized,quantized', 'box', true],
        ['device', 'pi5', true],
      ],
    );
    assert.equal(plan.remote[0]!.run, checkId);
    assert.equal(readRun(path.join(outDir, 'run.json')).status, 'succeeded');
    const devId = plan.remote[1]!.run!;
    assert.equal(readRun(path.join(runsDir(), devId, 'run.json')).status, 'running');
    // a check compared now says the device stage is still running, and how to go on
    const early = await completeCheck(outDir);
    const devEarly = early.record.stages.find((s) => s.stage === 'device')!;
    assert.equal(devEarly.status, 'failed');
    assert.equal(devEarly.code, 'FIDELITY_STAGE_RUNNING');
    assert.match(devEarly.message!, /still running on .*reattach/);
    // the next window reattaches to the device run; when it ends, its check is found and completed
    const host2 = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: sshd.clientConfig, controlDir: sshd.controlDir });
    try {
      const done = await resumeRun({ host: host2, runsDir: runsDir(), pollIntervalMs: 100 }, devId);
      assert.equal(done.status, 'succeeded');
    } finally {
      await host2.close();
    }
    assert.equal(findCheckOfRun(runsDir(), devId), outDir);
    assert.equal(findCheckOfRun(runsDir(), checkId), outDir);
    assert.equal(findCheckOfRun(runsDir(), 'nope'), undefined);
    const r = await completeCheck(outDir);
    assert.equal(r.file, path.join(outDir, 'fidelity.json'));
    assert.deepEqual(
      r.record.stages.map((s) => [s.stage, s.status]),
      [
        ['fp-optimized', 'ok'],
        ['quantized', 'ok'],
        ['device', 'ok'],
      ],
      JSON.stringify(r.record.stages),
    );
    assert.deepEqual(r.record.runs, [checkId, devId]);
    const d = r.record.comparisons.find((c) => c.stage === 'device' && c.against === 'reference')!;
    assert.deepEqual(
      d.damaged.map((x) => [x.from, x.to]),
      [[1400, 1499]],
    );
    // the device outputs were fetched into the check's folder, byte for byte as the device wrote them
    const remoteDev = readRun(path.join(runsDir(), devId, 'run.json')).remoteDir;
    assert.deepEqual(fs.readFileSync(path.join(outDir, 'device', 'b', 'features.npy')), fs.readFileSync(path.join(remoteDev, 'device', 'b', 'features.npy')));
    assert.ok(r.findings.some((f) => f.code === 'FID002' && f.stage === 'device'));
    // the Runs view lines: figures in both runs' run.json
    const fig = (id: string, i: number) => (readRun(path.join(runsDir(), id, 'run.json')).steps[i]!.summary as { figures?: { damaged: unknown[] } }).figures;
    assert.deepEqual(fig(devId, 0)!.damaged, [{ from: 1400, to: 1499 }]);
    assert.ok(fig(checkId, 1));
    // the record is found for each run by the run comparison
    assert.ok(fidelityOfRun(runsDir(), devId, readFidelityRecord)!.stages.some((s) => s.stage === 'device'));
    assert.equal(fidelityOfRun(runsDir(), checkId, readFidelityRecord)!.id, checkId);
  });

  it('a dropped SSH connection mid-stage reconnects; a client that went away reattaches; nothing lost', async () => {
    standin('slow.har', { quantize_bits: 8, sleep: 1.5 });
    const opts = {
      model: model(),
      on: { target: target() },
      stages: ['fp-optimized', 'quantized'] as ('fp-optimized' | 'quantized')[],
      modelFile: path.join(root, 'slow.har'),
      driverPath: DRIVER,
      samples: [{ id: 'a', inputs: { mel: path.join(root, 'inputs', 'a.npy') } }],
      inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
      outputs: ['features'],
      python,
    };
    let killed = false;
    const run = await runRemoteStages(
      ctx({
        events: {
          onLine: (s: string) => {
            if (s === 'fp-optimized' && !killed) {
              killed = true;
              const c = execFileSync(
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
              const mm = /pid=(\d+)/.exec(c);
              assert.ok(mm, c);
              process.kill(Number(mm[1]), 'SIGKILL');
            }
          },
        },
      }),
      opts,
    );
    assert.ok(killed);
    assert.equal(run.status, 'succeeded');
    for (const s of ['fp-optimized', 'quantized']) {
      assert.deepEqual(fs.readFileSync(path.join(runsDir(), run.id, `${s}.log`)), fs.readFileSync(path.join(run.remoteDir, 'jobs', s, 'log')));
      assert.deepEqual(
        fs.readFileSync(path.join(runsDir(), run.id, s, 'a', 'features.npy')),
        fs.readFileSync(path.join(run.remoteDir, s, 'a', 'features.npy')),
      );
    }
    // the client goes away during the first stage; a new one reattaches from run.json
    const detach = new AbortController();
    const err = await runRemoteStages(ctx({ detach: detach.signal, events: { onLine: (s: string) => s === 'fp-optimized' && detach.abort() } }), opts).catch(
      (e: unknown) => e,
    );
    assert.ok(isHailoError(err, 'CANCELLED'), String(err));
    const id = listRuns(runsDir()).find((x) => x.run?.status === 'running')!.run!.id;
    const host2 = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: sshd.clientConfig, controlDir: sshd.controlDir });
    try {
      const done = await resumeRun({ host: host2, runsDir: runsDir(), pollIntervalMs: 100 }, id);
      assert.equal(done.status, 'succeeded');
      assert.deepEqual(
        fs.readFileSync(path.join(runsDir(), id, 'fp-optimized.log')),
        fs.readFileSync(path.join(done.remoteDir, 'jobs', 'fp-optimized', 'log')),
      );
      const out = path.join(root, 'collected');
      const stages = collectRemoteStages(runsDir(), done, out);
      assert.deepEqual(
        stages.map((s) => [s.stage, s.status]),
        [
          ['fp-optimized', 'ok'],
          ['quantized', 'ok'],
        ],
      );
      assert.ok(fs.existsSync(path.join(out, 'quantized', 'a', 'features.npy')));
    } finally {
      await host2.close();
    }
  });
});
