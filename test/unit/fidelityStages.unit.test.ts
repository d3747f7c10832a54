/**
 * The fidelity stages for real: the PyTorch stage (hailo_fidelity.py under Debian's
 * /usr/bin/python3 with torch) and the ONNX stage (onnxruntime-web) on the example encoder, which
 * must agree to float tolerance; the emulator and device stages through the same driver against
 * stand-in hailo_sdk_client / hailo_platform packages (test/fixtures/fidelity/standins, on
 * PYTHONPATH) that return outputs with known errors, so the per-step curve must find the damage.
 * Skipped, with the reason logged, where that Python lacks torch.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isHailoError } from '../../src/core/errors';
import { compareStageOutputs, runHostCheck } from '../../src/core/fidelity/check';
import { FidelityDriverFailedError, runFidelityDriver, type DriverStageArgs, type Manifest } from '../../src/core/fidelity/driver';
import { fidelityFindings, hasErrors } from '../../src/core/fidelity/findings';
import { readNpy, writeNpy } from '../../src/core/fidelity/npy';
import { findOrtWasmDir, runOnnxStage, runOnnxStageInWorker } from '../../src/core/fidelity/onnxStage';
import { readFidelityRecord, type StageRecord } from '../../src/core/fidelity/record';
import { requireProject, findModel } from '../../src/core/project/load';
import type { Model } from '../../src/core/project/schema';

const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLE = path.join(ROOT, 'examples', 'whisper-tiny');
const FIX = path.join(ROOT, 'test', 'fixtures', 'fidelity');
const STANDINS = path.join(FIX, 'standins');
const DRIVER = path.join(ROOT, 'src', 'python', 'hailo_fidelity.py');
const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';
const interpreter = { path: PY, source: 'cli-option' as const };

function torchMissing(): string | undefined {
  const r = spawnSync(PY, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (r.error) return `${PY} cannot be run (${r.error.message})`;
  if (r.status !== 0) return `${PY} has no torch/numpy (${r.stderr.trim().split('\n').pop()})`;
  return undefined;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

async function melSample(file: string, seed: number): Promise<void> {
  const r = rng(seed);
  await writeNpy(file, { dtype: 'float32', shape: [1, 80, 3000], data: Float32Array.from({ length: 80 * 3000 }, () => r()) });
}

/** A 16-bit mono WAV of a few tones. */
function writeWav(file: string, seconds: number): void {
  const rate = 16000;
  const n = Math.floor(rate * seconds);
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++)
    b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate) + 4000 * Math.sin((2 * Math.PI * 1234 * i) / rate)), 44 + i * 2);
  fs.writeFileSync(file, b);
}

describe('fidelity: stages', function () {
  this.timeout(180_000);
  let tmp: string;
  let skipReason: string | undefined;

  before(function () {
    skipReason = torchMissing();
    if (skipReason) {
      console.log(`      skipped: ${skipReason}`);
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-fid-'));
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  it('PyTorch and ONNX (onnxruntime-web) agree on the example encoder to float tolerance', async () => {
    const { project, root } = await requireProject(path.join(EXAMPLE, 'hailo.json'));
    const base = findModel(project, 'whisper_tiny_encoder');
    const inDir = path.join(tmp, 'example-inputs');
    await melSample(path.join(inDir, 'a.npy'), 1);
    await melSample(path.join(inDir, 'b.npy'), 2);
    const model: Model = { ...base, fidelity: { inputs: inDir, thresholds: { minCosine: 0.99999, minSnrDb: 60 } } };
    const outDir = path.join(tmp, 'example-check');
    const progress: string[] = [];
    const r = await runHostCheck({
      model,
      root,
      outDir,
      interpreter,
      chooseHint: '',
      driverPath: DRIVER,
      wasmDir: findOrtWasmDir([__dirname]),
      commit: 'abc123',
      onProgress: (m) => progress.push(m),
    });
    assert.deepEqual(
      r.record.stages.map((s) => [s.stage, s.status]),
      [
        ['torch', 'ok'],
        ['onnx', 'ok'],
      ],
      JSON.stringify(r.record.stages),
    );
    assert.deepEqual(
      r.record.samples.map((s) => s.id),
      ['a', 'b'],
    );
    const c = r.record.comparisons;
    assert.equal(c.length, 1);
    assert.equal(c[0]!.stage, 'onnx');
    assert.equal(c[0]!.reference, 'torch');
    assert.deepEqual(c[0]!.shape, [1, 1500, 64]);
    assert.equal(c[0]!.timeAxis, 1);
    assert.equal(c[0]!.steps, 1500);
    assert.equal(c[0]!.channels, 64);
    assert.equal(c[0]!.perStep.snrDb.length, 1500);
    assert.equal(c[0]!.perChannel!.snrDb.length, 64);
    // float32 kernels on both sides: errors of float rounding only
    assert.ok(c[0]!.metrics.cosine > 0.999999, `cosine ${c[0]!.metrics.cosine}`);
    assert.ok(c[0]!.metrics.snrDb === null || c[0]!.metrics.snrDb > 80, `SNR ${c[0]!.metrics.snrDb}`);
    assert.ok(c[0]!.metrics.maxAbs < 1e-3, `max abs ${c[0]!.metrics.maxAbs}`);
    assert.deepEqual(c[0]!.damaged, []);
    assert.deepEqual(r.findings, []);
    // element-wise, directly from the files
    const t = await readNpy(path.join(outDir, 'torch', 'a', 'features.npy'));
    const o = await readNpy(path.join(outDir, 'onnx', 'a', 'features.npy'));
    assert.deepEqual(t.shape, [1, 1500, 64]);
    assert.deepEqual(o.shape, [1, 1500, 64]);
    for (let i = 0; i < t.data.length; i++)
      assert.ok(Math.abs(Number(t.data[i]) - Number(o.data[i])) <= 1e-4 + 1e-4 * Math.abs(Number(t.data[i])), `value ${i}`);
    // the record on disk is the one returned
    assert.deepEqual(readFidelityRecord(r.file), r.record);
    assert.equal(r.record.commit, 'abc123');
    assert.ok(
      progress.some((m) => /onnx: sample b \(2\/2\)/.test(m)),
      progress.join('\n'),
    );
  });

  it('calibSamples: PyTorch and ONNX agree on the first samples of the calibration set of the example encoder', async () => {
    const { project, root } = await requireProject(path.join(EXAMPLE, 'hailo.json'));
    const base = findModel(project, 'whisper_tiny_encoder');
    // a calibration set of 4 mel spectrograms along axis 0, as the DFC's calibration takes them
    const r0 = rng(11);
    const calib = path.join(tmp, 'calib-set.npy');
    await writeNpy(calib, { dtype: 'float32', shape: [4, 80, 3000], data: Float32Array.from({ length: 4 * 80 * 3000 }, () => r0()) });
    const model: Model = { ...base, calibSet: calib, fidelity: { calibSamples: 2, thresholds: { minCosine: 0.99999, minSnrDb: 60 } } };
    const outDir = path.join(tmp, 'calib-check');
    const r = await runHostCheck({ model, root, outDir, interpreter, chooseHint: '', driverPath: DRIVER, wasmDir: findOrtWasmDir([__dirname]) });
    assert.deepEqual(
      r.record.stages.map((s) => [s.stage, s.status]),
      [
        ['torch', 'ok'],
        ['onnx', 'ok'],
      ],
      JSON.stringify(r.record.stages),
    );
    assert.deepEqual(
      r.record.samples,
      [0, 1].map((i) => ({ id: `calib_${i}`, source: `${calib}[${i}]` })),
    );
    const c = r.record.comparisons[0]!;
    assert.equal(c.perSample.length, 2);
    assert.ok(c.metrics.cosine > 0.999999, `cosine ${c.metrics.cosine}`);
    assert.deepEqual(r.findings, []);
    // each sample is its own row of the set, and the model saw it: different inputs, different outputs
    const in1 = await readNpy(path.join(outDir, 'inputs', 'calib_1', 'mel.npy'));
    assert.deepEqual(in1.shape, [1, 80, 3000]);
    const set = await readNpy(calib);
    assert.deepEqual(Array.from(in1.data.slice(0, 50) as Float32Array), Array.from(set.data.slice(80 * 3000, 80 * 3000 + 50) as Float32Array));
    const t0 = await readNpy(path.join(outDir, 'torch', 'calib_0', 'features.npy'));
    const t1 = await readNpy(path.join(outDir, 'torch', 'calib_1', 'features.npy'));
    assert.notDeepEqual(Array.from(t0.data.slice(0, 64) as Float32Array), Array.from(t1.data.slice(0, 64) as Float32Array));
  });

  it('the ONNX stage on a worker thread writes the same outputs as on the calling thread, and stops when cancelled', async () => {
    const input = path.join(tmp, 'worker', 'in.npy');
    await melSample(input, 21);
    const onnx = path.join(EXAMPLE, 'build', 'encoder.onnx');
    const wasmDir = findOrtWasmDir([__dirname]);
    // the TypeScript entry under tsx's require hook (the extension runs the bundled dist/fidelityWorker.js)
    const shim = path.join(tmp, 'worker', 'entry.cjs');
    fs.writeFileSync(
      shim,
      `require(${JSON.stringify(require.resolve('tsx/cjs'))});\nrequire(${JSON.stringify(path.join(ROOT, 'src', 'core', 'fidelity', 'onnxWorker.ts'))});\n`,
    );
    const worker = { file: shim };
    const samples = [{ id: 'x', inputs: { mel: input } }];
    const progress: string[] = [];
    const w = await runOnnxStageInWorker({ onnx, wasmDir, samples, outDir: path.join(tmp, 'worker', 'w'), onProgress: (m) => progress.push(m) }, worker);
    assert.deepEqual(w.outputs, ['features']);
    assert.deepEqual(progress, ['onnx: sample x (1/1)']);
    await runOnnxStage({ onnx, wasmDir, samples, outDir: path.join(tmp, 'worker', 'main') });
    const a = await readNpy(path.join(tmp, 'worker', 'w', 'x', 'features.npy'));
    const b = await readNpy(path.join(tmp, 'worker', 'main', 'x', 'features.npy'));
    assert.deepEqual([...a.data], [...b.data]);
    // errors keep their code and file
    await assert.rejects(
      runOnnxStageInWorker({ onnx, wasmDir, samples, outputs: ['nope'], outDir: path.join(tmp, 'worker', 'e') }, worker),
      (e: unknown) => isHailoError(e, 'FIDELITY_OUTPUT_MISSING') && e.file === onnx,
    );
    const ac = new AbortController();
    const p = runOnnxStageInWorker({ onnx, wasmDir, samples, outDir: path.join(tmp, 'worker', 'c'), signal: ac.signal }, worker);
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(p, (e: unknown) => isHailoError(e, 'CANCELLED'));
  });

  it("WAV samples through the user's function feed every stage; a stage limit that fails is an error finding", async () => {
    const wavs = path.join(tmp, 'wavs');
    fs.mkdirSync(wavs);
    writeWav(path.join(wavs, 'speech1.wav'), 1.0);
    writeWav(path.join(wavs, 'speech2.wav'), 20.0);
    const model: Model = {
      name: 'fid',
      entry: 'fidmodel.model:build',
      inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
      outputs: [{ name: 'features', shape: [1, 1500, 16] }],
      onnx: 'missing.onnx',
      fidelity: { audio: { files: wavs, function: 'fidmodel.audio:load' } },
    };
    const outDir = path.join(tmp, 'wav-check');
    const r = await runHostCheck({
      model,
      root: path.join(FIX, 'py'),
      outDir,
      interpreter,
      chooseHint: '',
      driverPath: DRIVER,
      wasmDir: findOrtWasmDir([__dirname]),
    });
    assert.deepEqual(
      r.record.stages.map((s) => [s.stage, s.status]),
      [
        ['torch', 'ok'],
        ['onnx', 'skipped'],
      ],
    );
    assert.match(r.record.stages[1]!.message!, /missing\.onnx does not exist yet/);
    const inputs = await readNpy(path.join(outDir, 'inputs', 'speech1', 'mel.npy'));
    assert.deepEqual(inputs.shape, [1, 80, 3000]);
    assert.deepEqual(
      r.samples.map((s) => Object.keys(s.inputs ?? {})),
      [['mel'], ['mel']],
    );

    // the emulator stage on the inputs the audio function made, with a stand-in that quantizes
    const har = path.join(tmp, 'wav.har');
    fs.writeFileSync(har, JSON.stringify({ standin: true, net: 'fid', quantize_bits: 4 }));
    const manifest: Manifest = {
      samples: r.samples.map((s) => ({ id: s.id, inputs: s.inputs! })),
      inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
      outputs: ['features'],
      outDir: path.join(outDir, 'quantized'),
    };
    await runStandin(path.join(outDir, 'q.json'), manifest, { stage: 'quantized', har });
    const stages: StageRecord[] = [
      { stage: 'torch', status: 'ok' },
      { stage: 'quantized', status: 'ok' },
    ];
    const cmp = await compareStageOutputs({ dir: outDir, stages, samples: r.samples, outputs: ['features'] });
    const q = cmp.comparisons.find((c) => c.stage === 'quantized')!;
    assert.ok(q.metrics.snrDb! > 10 && q.metrics.snrDb! < 40, `4-bit SNR ${q.metrics.snrDb}`);
    const findings = fidelityFindings({
      version: 1,
      model: 'fid',
      createdAt: '',
      samples: [],
      outputs: ['features'],
      stages: cmp.stages,
      comparisons: cmp.comparisons,
      thresholds: { minSnrDb: 45 },
    });
    assert.ok(hasErrors(findings));
    assert.equal(findings[0]!.code, 'FID002');
  });

  async function runStandin(manifestPath: string, manifest: Manifest, args: DriverStageArgs) {
    fs.mkdirSync(path.dirname(manifestPath), { recursive: true });
    fs.writeFileSync(manifestPath, JSON.stringify(manifest));
    return runFidelityDriver({ interpreter, driverPath: DRIVER, manifestPath, args, chooseHint: '', env: { ...process.env, PYTHONPATH: STANDINS } });
  }

  it('emulator (FP-optimized, quantized) and device stages against stand-ins: the curve finds the zeroed last 100 steps', async () => {
    const dir = path.join(tmp, 'stages');
    await melSample(path.join(dir, 'in', 's1.npy'), 11);
    await melSample(path.join(dir, 'in', 's2.npy'), 12);
    const samples = ['s1', 's2'].map((id) => ({ id, inputs: { mel: path.join(dir, 'in', `${id}.npy`) } }));
    const manifest = (stage: string): Manifest => ({
      samples,
      inputs: [{ name: 'mel', shape: [1, 80, 3000], dtype: 'float32' }],
      outputs: ['features'],
      outDir: path.join(dir, stage),
    });
    const har = path.join(dir, 'model.har');
    fs.writeFileSync(har, JSON.stringify({ standin: true, net: 'fid', quantize_bits: 8 }));
    const hef = path.join(dir, 'model.hef');
    fs.writeFileSync(hef, JSON.stringify({ standin: true, net: 'fid', quantize_bits: 8, zero_last: 100 }));

    fs.writeFileSync(path.join(dir, 'torch.json'), JSON.stringify(manifest('torch')));
    const torch = await runFidelityDriver({
      interpreter,
      driverPath: DRIVER,
      manifestPath: path.join(dir, 'torch.json'),
      args: { stage: 'torch', entry: 'fidmodel.model:build', root: path.join(FIX, 'py') },
      chooseHint: '',
    });
    assert.deepEqual(torch.samples.s1!.features!.shape, [1, 1500, 16]);
    const fp = await runStandin(path.join(dir, 'fp.json'), manifest('fp-optimized'), { stage: 'fp-optimized', har });
    assert.equal(fp.versions?.context, 'fp-optimized');
    // Hailo layout out: the comparison reads it in the PyTorch layout
    assert.deepEqual(fp.samples.s1!.features!.shape, [1, 1, 1500, 16]);
    await runStandin(path.join(dir, 'q.json'), manifest('quantized'), { stage: 'quantized', har });
    const dev = await runStandin(path.join(dir, 'dev.json'), manifest('device'), { stage: 'device', hef });
    assert.equal(dev.versions?.hailort, '4.23.0-standin');

    const stages: StageRecord[] = (['torch', 'fp-optimized', 'quantized', 'device'] as const).map((stage) => ({ stage, status: 'ok' }));
    const r = await compareStageOutputs({ dir, stages, samples, outputs: ['features'] });
    assert.ok(
      r.stages.every((s) => s.status === 'ok'),
      JSON.stringify(r.stages),
    );
    const get = (stage: string, against: string) => r.comparisons.find((c) => c.stage === stage && c.against === against)!;
    // FP emulation computes the same function: float rounding only
    const fpRef = get('fp-optimized', 'reference');
    assert.ok(fpRef.metrics.cosine > 0.999999 && (fpRef.metrics.snrDb === null || fpRef.metrics.snrDb > 100), JSON.stringify(fpRef.metrics));
    assert.equal(fpRef.transposed, false);
    assert.deepEqual(fpRef.damaged, []);
    // 8-bit quantization noise: uniform along time, ~40 dB
    const q = get('quantized', 'reference');
    assert.ok(q.metrics.snrDb! > 30 && q.metrics.snrDb! < 50, `quantized SNR ${q.metrics.snrDb}`);
    assert.deepEqual(q.damaged, []);
    const qSteps = q.perStep.snrDb.filter((x): x is number => x !== null);
    assert.ok(Math.min(...qSteps) > 20, `worst quantized step ${Math.min(...qSteps)} dB`);
    // the device zeroes the last 100 steps: found against the reference and against the stage before
    for (const d of [get('device', 'reference'), get('device', 'previous')]) {
      assert.deepEqual(
        d.damaged.map((x) => [x.from, x.to]),
        [[1400, 1499]],
        `${d.against}: ${JSON.stringify(d.damaged)}`,
      );
      assert.equal(d.perStep.snrDb.length, 1500);
    }
    assert.equal(get('device', 'previous').reference, 'quantized');
    assert.ok(get('device', 'reference').perStep.snrDb[1450]! < 0.01);
    const findings = fidelityFindings({
      version: 1,
      model: 'fid',
      createdAt: '',
      samples: [],
      outputs: ['features'],
      stages: r.stages,
      comparisons: r.comparisons,
    });
    const damage = findings.filter((f) => f.code === 'FID004');
    assert.equal(damage.length, 1);
    assert.match(damage[0]!.message, /HEF on the device \(HailoRT\), output "features" against HAR emulator, quantized \(SDK_QUANTIZED\): steps 1400–1499/);

    // a stage that wrote nothing for a sample fails with the file named; the others still compare
    fs.rmSync(path.join(dir, 'quantized', 's2'), { recursive: true });
    const again = await compareStageOutputs({ dir, stages, samples, outputs: ['features'] });
    const qs = again.stages.find((s) => s.stage === 'quantized')!;
    assert.equal(qs.status, 'failed');
    assert.equal(qs.code, 'FIDELITY_OUTPUT_MISSING');
    assert.match(qs.file!, /quantized\/s2\/features\.npy$/);
    assert.ok(again.comparisons.some((c) => c.stage === 'device' && c.against === 'previous' && c.reference === 'fp-optimized'));
  });

  it('driver failures are typed: a factory that raises, no torch.nn.Module, a missing package, a wrong input file', async () => {
    const dir = path.join(tmp, 'fail');
    await melSample(path.join(dir, 's.npy'), 5);
    const bad = path.join(dir, 'bad.npy');
    await writeNpy(bad, { dtype: 'float32', shape: [1, 80, 10], data: new Float32Array(800) });
    const m = (file: string, outputs = ['features']): Manifest => ({
      samples: [{ id: 's', inputs: { mel: file } }],
      inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
      outputs,
      outDir: path.join(dir, 'out'),
    });
    const run = async (manifest: Manifest, args: DriverStageArgs, env?: NodeJS.ProcessEnv) => {
      const mp = path.join(dir, 'm.json');
      fs.writeFileSync(mp, JSON.stringify(manifest));
      return runFidelityDriver({ interpreter, driverPath: DRIVER, manifestPath: mp, args, chooseHint: 'Pick another.', ...(env ? { env } : {}) });
    };
    const torchArgs = (entry: string): DriverStageArgs => ({ stage: 'torch', entry, root: path.join(FIX, 'py') });
    const s = path.join(dir, 's.npy');
    const expect = async (p: Promise<unknown>, code: string, kind: string | undefined, re: RegExp) =>
      assert.rejects(p, (e: unknown) => {
        assert.ok(e instanceof FidelityDriverFailedError, String(e));
        assert.equal(e.code, code);
        assert.equal(e.detail?.kind, kind);
        assert.match(e.message, re);
        return true;
      });
    await expect(
      run(m(s), torchArgs('fidmodel.model:broken')),
      'FIDELITY_STAGE_FAILED',
      'factory',
      /the model factory fidmodel\.model:broken failed: RuntimeError: weights file is missing/,
    );
    await expect(run(m(s), torchArgs('fidmodel.model:not_a_module')), 'FIDELITY_STAGE_FAILED', 'factory', /returned NotAModule, not a torch\.nn\.Module/);
    await expect(run(m(s), torchArgs('fidmodel.model:nothing')), 'FIDELITY_STAGE_FAILED', 'entry-not-found', /has no callable nothing/);
    await expect(run(m(s), torchArgs('fidmodel.model:two_outputs')), 'FIDELITY_STAGE_FAILED', 'output', /gave 2 output\(s\); expected 1/);
    await expect(
      run(m(bad), torchArgs('fidmodel.model:build')),
      'FIDELITY_STAGE_FAILED',
      'input',
      /bad\.npy has shape \[1, 80, 10\], the model input mel needs \[1, 80, 3000\]/,
    );
    // no stand-ins on the path: the DFC is missing
    await expect(
      run(m(s), { stage: 'quantized', har: path.join(dir, 'x.har') }, { ...process.env, PYTHONPATH: '' }),
      'PYTHON_MISSING_PACKAGE',
      'missing-package',
      /cannot import hailo_sdk_client for the quantized stage.*Pick another\./,
    );
    await assert.rejects(
      runFidelityDriver({
        interpreter: { path: '/nonexistent/python3', source: 'cli-option' },
        driverPath: DRIVER,
        manifestPath: path.join(dir, 'm.json'),
        args: torchArgs('x:y'),
        chooseHint: 'Pick another.',
      }),
      (e: unknown) => isHailoError(e, 'PYTHON_NOT_FOUND') && /was not found\. Pick another\./.test(e.message),
    );
  });
});
