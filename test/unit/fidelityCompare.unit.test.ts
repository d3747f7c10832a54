/**
 * The comparison maths on constructed arrays with known answers: cosine, SNR, errors, the time
 * axis of [1, T, C] and [1, C, T] outputs, layouts that differ between stages, per-step curves that
 * find damaged steps, findings from thresholds, drops across runs, and bad input as typed errors.
 */
import * as assert from 'node:assert/strict';
import { isHailoError, type ErrorCode } from '../../src/core/errors';
import { compareFlat, damagedRanges, layoutPermutation, OutputComparison, timeAxisOf, type Labelled } from '../../src/core/fidelity/compare';
import { compareRecords, fidelityFindings, stageSummaries } from '../../src/core/fidelity/findings';
import type { NdArray } from '../../src/core/fidelity/npy';
import { FidelityRecord, parseFidelityRecord, type ComparisonRecord } from '../../src/core/fidelity/record';
import { ProjectFile } from '../../src/core/project/schema';

const f32 = (shape: number[], fn: (i: number) => number): NdArray => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, i) => fn(i)) };
};
const f64 = (shape: number[], fn: (i: number) => number): NdArray => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float64', shape, data: Float64Array.from({ length: n }, (_, i) => fn(i)) };
};
const L = (array: NdArray, label = 'x', file?: string): Labelled => ({ array, label, ...(file ? { file } : {}) });

/** A deterministic pseudo-random sequence in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

function expectCode(fn: () => unknown, code: ErrorCode, re: RegExp, file?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isHailoError(e, code), `${code}, got ${String(e)}`);
    assert.match(e.message, re);
    if (file) assert.equal(e.file, file);
    return true;
  });
}

describe('fidelity: comparison maths', () => {
  it('cosine, SNR, max and mean absolute error on known values', () => {
    const ref = [1, 2, 3, 4];
    // half the signal: cosine 1, error energy 1/4 of the signal: SNR 10·log10(4)
    let m = compareFlat(
      ref,
      ref.map((x) => x / 2),
    );
    assert.equal(m.cosine, 1);
    assert.ok(Math.abs(m.snrDb! - 10 * Math.log10(4)) < 1e-12);
    assert.equal(m.maxAbs, 2);
    assert.equal(m.meanAbs, 1.25);
    // orthogonal: cosine 0, error energy = 2x signal energy (|r|=|t|): SNR -3.0103 dB
    m = compareFlat([1, 0, 1, 0], [0, 1, 0, 1]);
    assert.equal(m.cosine, 0);
    assert.ok(Math.abs(m.snrDb! - 10 * Math.log10(0.5)) < 1e-12);
    // opposite: cosine -1
    assert.equal(compareFlat([1, -2], [-1, 2]).cosine, -1);
    // identical: infinite SNR is null, errors zero
    m = compareFlat(ref, ref);
    assert.deepEqual(m, { cosine: 1, snrDb: null, maxAbs: 0, meanAbs: 0 });
    // all zero on both sides: cosine 1; reference zero, test not: cosine 0, SNR at the floor
    assert.equal(compareFlat([0, 0], [0, 0]).cosine, 1);
    m = compareFlat([0, 0], [1, 0]);
    assert.equal(m.cosine, 0);
    assert.equal(m.snrDb, -100);
    // additive noise of known energy: SNR = 10·log10(Σr² / Σn²) exactly
    const r = rng(7);
    const sig = Array.from({ length: 1000 }, () => r());
    const noise = Array.from({ length: 1000 }, () => r() * 0.01);
    const want = 10 * Math.log10(sig.reduce((a, x) => a + x * x, 0) / noise.reduce((a, x) => a + x * x, 0));
    m = compareFlat(
      sig,
      sig.map((x, i) => x + noise[i]!),
    );
    assert.ok(Math.abs(m.snrDb! - want) < 1e-9, `${m.snrDb} vs ${want}`);
    assert.ok(m.cosine > 0.9999 && m.cosine < 1);
  });

  it('finds the time axis of [1, 1500, C] and [1, C, 1500] outputs, or takes the given one', () => {
    assert.equal(timeAxisOf([1, 1500, 768]), 1);
    assert.equal(timeAxisOf([1, 768, 1500]), 2);
    assert.equal(timeAxisOf([1, 1, 1500, 64]), 2);
    assert.equal(timeAxisOf([1, 1500, 1500]), 1);
    assert.equal(timeAxisOf([1, 1, 1]), undefined);
    assert.equal(timeAxisOf([1, 64, 1500], 1), 1);
    assert.equal(timeAxisOf([1, 64, 1500], -2), 1);
    expectCode(() => timeAxisOf([1, 64], 3), 'FIDELITY_SHAPE_MISMATCH', /time axis 3 is outside/);
  });

  it('matches layouts that differ between stages, and refuses shapes that are none of them', () => {
    assert.deepEqual(layoutPermutation([1, 1500, 64], [1, 1500, 64]), [0, 1]);
    assert.deepEqual(layoutPermutation([1, 1500, 64], [1, 1, 1500, 64]), [0, 1]); // Hailo NHWC
    assert.deepEqual(layoutPermutation([1, 1500, 64], [1, 64, 1500]), [1, 0]);
    assert.deepEqual(layoutPermutation([1, 3, 8, 5], [1, 8, 5, 3]), [2, 0, 1]); // NCHW ref, NHWC test
    assert.equal(layoutPermutation([1, 1500, 64], [1, 1500, 63]), undefined);
    assert.equal(layoutPermutation([1, 1500, 64], [1500 * 64]), undefined);
  });

  it('per-step and per-channel curves of a [1, C, T] output read from a transposed [1, 1, T, C] stage', () => {
    const T = 50;
    const C = 4;
    // reference [1, C, T]: value c*100 + t + 1
    const ref = f32([1, C, T], (i) => Math.floor(i / T) * 100 + (i % T) + 1);
    // test in NHWC [1, 1, T, C]: the same, with step 7 doubled and channel 2 off by +0.5
    const test = f32([1, 1, T, C], (i) => {
      const t = Math.floor(i / C);
      const c = i % C;
      const v = c * 100 + t + 1;
      return (t === 7 ? 2 * v : v) + (c === 2 ? 0.5 : 0);
    });
    const cmp = new OutputComparison();
    cmp.add('s', L(ref, 'ref'), L(test, 'test'));
    const r = cmp.result();
    assert.equal(r.timeAxis, 2);
    assert.equal(r.steps, T);
    assert.equal(r.channels, C);
    assert.equal(r.transposed, true);
    // step 7: error = the values themselves (+0.5 on channel 2): exactly as computed by hand
    const v7 = [...Array(C).keys()].map((c) => c * 100 + 8);
    const e7 = v7.map((v, c) => v + (c === 2 ? 0.5 : 0));
    const snr7 = 10 * Math.log10(v7.reduce((a, v) => a + v * v, 0) / e7.reduce((a, e) => a + e * e, 0));
    assert.ok(Math.abs(r.perStep.snrDb[7]! - snr7) < 1e-3);
    assert.equal(r.perStep.maxAbs[7], 308);
    // other steps: only channel 2 off by 0.5
    assert.equal(r.perStep.maxAbs[3], 0.5);
    assert.equal(r.perStep.meanAbs[3], 0.125);
    // channels: 0, 1, 3 differ at step 7 only; channel 2 everywhere
    assert.equal(r.perChannel!.maxAbs[0], 8);
    assert.equal(r.perChannel!.maxAbs[1], 108);
    assert.ok(r.perChannel!.meanAbs[2]! > 0.5);
    assert.equal(r.perChannel!.meanAbs[0], 8 / T);
  });

  it('the per-step curve finds the last 100 of 1500 steps zeroed, and nothing under plain noise', () => {
    const T = 1500;
    const C = 32;
    const r = rng(3);
    const refData = Array.from({ length: T * C }, () => r());
    const noisy = refData.map((x) => x + r() * 0.02);
    const zeroed = noisy.map((x, i) => (Math.floor(i / C) >= T - 100 ? 0 : x));
    const ref = f32([1, T, C], (i) => refData[i]!);

    const plain = new OutputComparison();
    plain.add('a', L(ref), L(f32([1, T, C], (i) => noisy[i]!)));
    const pr = plain.result();
    assert.equal(pr.timeAxis, 1);
    assert.deepEqual(damagedRanges(pr.perStep.snrDb), []);

    const cut = new OutputComparison();
    cut.add('a', L(ref), L(f32([1, 1, T, C], (i) => zeroed[i]!)));
    const cr = cut.result();
    const d = damagedRanges(cr.perStep.snrDb);
    assert.equal(d.length, 1);
    assert.equal(d[0]!.from, 1400);
    assert.equal(d[0]!.to, 1499);
    // a zeroed step has error = reference: 0 dB exactly
    assert.ok(Math.abs(d[0]!.snrDb) < 1e-9);
    assert.ok(cr.perStep.snrDb[10]! > 25);
  });

  it('damaged ranges: merges near runs, ignores single noisy steps, works when most steps are exact', () => {
    const s: (number | null)[] = Array.from({ length: 100 }, () => 40);
    s[10] = 5; // one step: ignored
    for (const i of [50, 51, 53, 54, 55]) s[i] = 0; // gap of one: one range
    assert.deepEqual(damagedRanges(s), [{ from: 50, to: 55, snrDb: 0 }]);
    const exact: (number | null)[] = Array.from({ length: 100 }, () => null);
    for (let i = 90; i < 100; i++) exact[i] = 3;
    assert.deepEqual(damagedRanges(exact), [{ from: 90, to: 99, snrDb: 3 }]);
    assert.deepEqual(damagedRanges(Array.from({ length: 100 }, () => null)), []);
  });

  it('adds samples up: curves over all samples, a figure per sample', () => {
    const cmp = new OutputComparison();
    const a = f64([1, 4, 2], (i) => i + 1);
    cmp.add('one', L(a), L(a));
    cmp.add('two', L(a), L(f64([1, 4, 2], (i) => (i + 1) / 2)));
    const r = cmp.result();
    assert.deepEqual(
      r.perSample.map((s) => s.sample),
      ['one', 'two'],
    );
    assert.equal(r.perSample[0]!.snrDb, null);
    assert.ok(Math.abs(r.perSample[1]!.snrDb! - 10 * Math.log10(4)) < 1e-9);
    // over both: error energy of the second only: 10·log10(2·Σr² / (Σr²/4)) = 10·log10(8)
    assert.ok(Math.abs(r.metrics.snrDb! - 10 * Math.log10(8)) < 1e-9);
  });

  it('shape mismatch, NaN, Inf, integer outputs and no samples are typed errors naming the file', () => {
    const ref = f32([1, 10, 4], (i) => i);
    expectCode(
      () =>
        new OutputComparison().add(
          's',
          L(ref, 'ref'),
          L(
            f32([1, 10, 5], (i) => i),
            'test',
            '/x/t.npy',
          ),
        ),
      'FIDELITY_SHAPE_MISMATCH',
      /no layout of ref's \[1, 10, 4\]/,
      '/x/t.npy',
    );
    expectCode(
      () =>
        new OutputComparison().add(
          's',
          L(ref, 'ref'),
          L(
            f32([1, 10, 4], (i) => (i === 3 ? NaN : i === 7 ? Infinity : i)),
            'test',
            '/x/n.npy',
          ),
        ),
      'FIDELITY_NOT_FINITE',
      /2 non-finite value\(s\) \(1 NaN, 1 ±Inf\) of 40, the first at flat index 3/,
      '/x/n.npy',
    );
    expectCode(
      () =>
        new OutputComparison().add(
          's',
          L(
            f32([2], () => -Infinity),
            'ref',
            '/x/r.npy',
          ),
          L(f32([2], () => 0)),
        ),
      'FIDELITY_NOT_FINITE',
      /ref has 2/,
      '/x/r.npy',
    );
    expectCode(
      () => new OutputComparison().add('s', L(ref), L({ dtype: 'int8', shape: [1, 10, 4], data: new Int8Array(40) }, 'device out', '/x/q.npy')),
      'FIDELITY_DTYPE',
      /device out holds int8 values/,
      '/x/q.npy',
    );
    expectCode(
      () => new OutputComparison().add('s', L({ dtype: 'float32', shape: [3, 3], data: new Float32Array(4) }, 'bad'), L(ref)),
      'FIDELITY_SHAPE_MISMATCH',
      /4 values do not fill shape \[3, 3\]/,
    );
    const cmp = new OutputComparison();
    cmp.add('a', L(ref), L(ref));
    expectCode(
      () =>
        cmp.add(
          'b',
          L(
            f32([1, 5, 8], (i) => i),
            'second',
          ),
          L(f32([1, 5, 8], (i) => i)),
        ),
      'FIDELITY_SHAPE_MISMATCH',
      /the first sample had \[1, 10, 4\]/,
    );
    expectCode(() => new OutputComparison().result(), 'FIDELITY_OUTPUT_MISSING', /no sample/);
    expectCode(() => compareFlat([1, 2], [1]), 'FIDELITY_SHAPE_MISMATCH', /2 values with 1/);
  });
});

function comparison(stage: ComparisonRecord['stage'], snrDb: number | null, cosine: number, extra: Partial<ComparisonRecord> = {}): ComparisonRecord {
  return {
    reference: 'torch',
    stage,
    against: 'reference',
    output: 'features',
    shape: [1, 1500, 64],
    timeAxis: 1,
    steps: 1500,
    channels: 64,
    metrics: { cosine, snrDb, maxAbs: 0.5, meanAbs: 0.01 },
    perSample: [],
    perStep: { cosine: [], snrDb: [], maxAbs: [], meanAbs: [] },
    damaged: [],
    transposed: false,
    ...extra,
  };
}

function record(comparisons: ComparisonRecord[], extra: Partial<FidelityRecord> = {}): FidelityRecord {
  return {
    version: 1,
    model: 'enc',
    createdAt: '2026-01-01T00:00:00.000Z',
    samples: [{ id: 's', source: 's.npy' }],
    outputs: ['features'],
    stages: [{ stage: 'torch', status: 'ok' }, ...[...new Set(comparisons.map((c) => c.stage))].map((stage) => ({ stage, status: 'ok' as const }))],
    comparisons,
    ...extra,
  };
}

describe('fidelity: findings and runs', () => {
  it('thresholds make errors per stage; stage limits override the common ones', () => {
    const rec = record([comparison('onnx', 110, 1), comparison('quantized', 18, 0.98)], {
      thresholds: { minCosine: 0.99, minSnrDb: 30 },
      stageThresholds: { quantized: { minSnrDb: 15 } },
    });
    const f = fidelityFindings(rec);
    assert.deepEqual(
      f.map((x) => [x.code, x.severity]),
      [['FID001', 'error']],
    );
    assert.match(f[0]!.message, /quantized \(SDK_QUANTIZED\), output "features": cosine similarity to PyTorch 0\.98000 is below the limit 0\.99/);
    const strict = fidelityFindings({ ...rec, stageThresholds: undefined });
    assert.deepEqual(strict.map((x) => x.code).sort(), ['FID001', 'FID002']);
    assert.deepEqual(
      fidelityFindings({ ...rec, thresholds: { maxMeanAbsError: 0.001 } }).map((x) => x.code),
      ['FID003', 'FID003'],
    );
    const lines = stageSummaries({ ...rec, stageThresholds: undefined });
    assert.deepEqual(
      lines.map((l) => l.ok),
      [true, true, false],
    );
    assert.match(lines[2]!.text, /^quantized: cos 0\.9800, SNR 18\.0 dB, max \|e\| 0\.500 \(below limit\)$/);
  });

  it('damaged steps are reported where they first appear; a failed stage is an error', () => {
    const damaged = [{ from: 1400, to: 1499, snrDb: 0 }];
    const rec = record(
      [
        comparison('quantized', 20, 0.99, { damaged }),
        comparison('quantized', 20, 0.99, { against: 'previous', reference: 'fp-optimized', damaged }),
        comparison('device', 20, 0.99, { damaged }),
        comparison('device', 40, 1, { against: 'previous', reference: 'quantized' }),
      ],
      {},
    );
    rec.stages.push({
      stage: 'fp-optimized',
      status: 'failed',
      code: 'FIDELITY_NOT_FINITE',
      message: 'fp-optimized output has 3 non-finite value(s)',
      file: '/r/fp/s/features.npy',
    });
    const f = fidelityFindings(rec);
    const fid4 = f.filter((x) => x.code === 'FID004');
    assert.equal(fid4.length, 1);
    assert.match(
      fid4[0]!.message,
      /quantized \(SDK_QUANTIZED\), output "features" against HAR emulator, full precision \(SDK_FP_OPTIMIZED\): steps 1400–1499 \(0\.0 dB\) of 1500/,
    );
    const fid5 = f.find((x) => x.code === 'FID005')!;
    assert.equal(fid5.severity, 'error');
    assert.equal(fid5.related?.[0]?.file, '/r/fp/s/features.npy');
  });

  it('a drop between two runs is flagged, a gain or small change is not', () => {
    const prev = record([comparison('onnx', null, 1), comparison('quantized', 25, 0.995)], { commit: 'abcdef0123456789' });
    const same = record([comparison('onnx', null, 1), comparison('quantized', 24, 0.994)]);
    assert.deepEqual(compareRecords(prev, same), []);
    const worse = record([comparison('onnx', 60, 1), comparison('quantized', 18, 0.99)]);
    const f = compareRecords(prev, worse);
    assert.deepEqual(
      f.map((x) => x.code),
      ['FID006', 'FID006'],
    );
    assert.match(f[0]!.message, /ONNX \(onnxruntime\), output "features": SNR to PyTorch dropped from exact to 60\.0 dB since commit abcdef0123/);
    assert.match(f[1]!.message, /from 25\.0 dB to 18\.0 dB/);
    assert.deepEqual(compareRecords(worse, prev), []);
    assert.deepEqual(
      compareRecords(prev, worse, { maxDropDb: 10 }).map((x) => x.message.slice(0, 4)),
      ['ONNX'],
    );
    const cosOnly = record([comparison('quantized', 24, 0.95)]);
    assert.match(compareRecords(prev, cosOnly)[0]!.message, /cosine similarity to PyTorch dropped from 0\.9950 to 0\.9500/);
  });

  it('the record round-trips through JSON, and a broken one is a typed error naming the file', () => {
    const rec = record([comparison('onnx', null, 1)]);
    assert.deepEqual(parseFidelityRecord(JSON.stringify(rec), 'f.json'), FidelityRecord.parse(rec));
    assert.throws(
      () => parseFidelityRecord('{', '/r/fidelity.json'),
      (e: unknown) => isHailoError(e, 'FIDELITY_RECORD_INVALID') && e.file === '/r/fidelity.json',
    );
    assert.throws(() => parseFidelityRecord(JSON.stringify({ ...rec, stages: [{ stage: 'gpu', status: 'ok' }] }), 'x.json'), /stages\.0\.stage/);
  });

  it('hailo.json: the fidelity section is checked', () => {
    const base = { name: 'enc', entry: 'a.b:c', inputs: [{ name: 'mel', shape: [1, 80, 3000] }], onnx: 'x.onnx' };
    const ok = ProjectFile.safeParse({
      models: [
        {
          ...base,
          calibSet: 'calib.npy',
          fidelity: {
            inputs: ['a.npy', 'dir'],
            calibSamples: 4,
            audio: { files: 'wavs', function: 'audio.mel:load' },
            stages: ['torch', 'onnx', 'quantized'],
            thresholds: { minCosine: 0.99, minSnrDb: 20 },
            stageThresholds: { quantized: { minSnrDb: 12 } },
            timeAxis: 1,
            maxDropDb: 2,
          },
        },
      ],
    });
    assert.ok(ok.success, JSON.stringify(ok.error?.issues));
    const bad = (fidelity: unknown, re: RegExp, extra = {}) => {
      const r = ProjectFile.safeParse({ models: [{ ...base, ...extra, fidelity }] });
      assert.ok(!r.success);
      assert.match(JSON.stringify(r.error.issues), re);
    };
    bad({ stages: ['gpu'] }, /stages/);
    bad({ audio: { files: 'w', function: 'not a function' } }, /package\.module:function/);
    bad({ thresholds: { minCosine: 2 } }, /minCosine/);
    bad({ stageThresholds: { gpu: {} } }, /stageThresholds/);
    bad({ calibSamples: 3 }, /calibSamples needs the model's \\"calibSet\\"/);
    bad({ inputs: [] }, /inputs/);
    bad({ extra: 1 }, /unrecognized|extra/i);
  });
});
