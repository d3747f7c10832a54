import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseDfcLog } from '../../src/core/hailo/dfcLog';
import { parseBenchmark } from '../../src/core/hailo/hailort';
import { RunRecord, type RunStep } from '../../src/core/remote/run';
import {
  compareRunFacts,
  comparisonMarkdown,
  fidelityOfRun,
  readRunRewrites,
  runFacts,
  stepFacts,
  stepFactsText,
  writeRunRewrites,
  REWRITES_FILE,
} from '../../src/core/remote/runCompare';
import type { FidelityRecord } from '../../src/core/fidelity/record';
import { readFidelityRecord, writeFidelityRecord } from '../../src/core/fidelity/record';
import { REFERENCE_DIR, REPO_ROOT } from '../reference';

const SAMPLES = path.join(REFERENCE_DIR, 'hailo', 'log-samples');
const sample = (name: string) => fs.readFileSync(path.join(SAMPLES, name));

function run(id: string, steps: Partial<RunStep>[], extra: Partial<RunRecord> = {}): RunRecord {
  return RunRecord.parse({
    version: 1,
    id,
    model: 'whisper_tiny_encoder',
    netName: 'whisper_tiny_encoder',
    hwArch: 'hailo8l',
    target: { name: 'box', host: 'box', workDir: '/w' },
    remoteDir: '/w/r',
    createdAt: `2026-12-0${id.endsWith('b') ? 2 : 1}T10:00:00.000Z`,
    status: 'succeeded',
    steps: steps.map((s) => ({ command: [], status: 'succeeded', ...s })),
    ...extra,
  });
}

describe('run facts and Compare Runs', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-runcmp-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a compile step shows contexts, mean utilisation and the lowest SNR from the real DFC log', function () {
    if (!fs.existsSync(SAMPLES)) this.skip();
    const summary = parseDfcLog(sample('clientrunner-parse-optimize-compile-whisper-encoder-hailo8l-multicontext.log'));
    const f = stepFacts({ step: 'compile', status: 'succeeded', command: [], logOffset: 0, artifacts: [], summary, durationMs: 1000 } as RunStep);
    assert.equal(f.contexts, 9);
    assert.equal(f.utilisation?.contexts, 9);
    // mean of the nine per-context "Total" compute figures the compiler printed
    const compute = [27.7, 30.9, 45.7, 30.9, 45.7, 30.9, 45.7, 30.9, 42.6];
    assert.ok(Math.abs(f.utilisation!.compute - compute.reduce((a, b) => a + b) / 9) < 1e-9);
    assert.deepEqual(f.snr, { minDb: 9.179, layer: 'whisper_tiny_encoder_10s_hailo_final/output_layer1', outputs: 1 });
    assert.equal(stepFactsText(f), '9 contexts · compute 36.8 % · SNR ≥ 9.2 dB');
  });

  it('a single-context log reads as one context; a step without a summary produces no text', function () {
    if (!fs.existsSync(SAMPLES)) this.skip();
    const summary = parseDfcLog(sample('clientrunner-hailo8-single-context-success-calib-not-normalized-warning.log'));
    const f = stepFacts({ step: 'compile', status: 'succeeded', command: [], logOffset: 0, artifacts: [], summary } as RunStep);
    assert.equal(f.contexts, 1);
    assert.equal(stepFactsText(f), '1 context · compute 72.5 %');
    assert.equal(stepFactsText(stepFacts({ step: 'parse', status: 'succeeded', command: [], logOffset: 0, artifacts: [] })), undefined);
    // a summary of the wrong shape (a hand-edited run.json) is ignored, not thrown on
    assert.equal(
      stepFactsText(stepFacts({ step: 'compile', status: 'failed', command: [], logOffset: 0, artifacts: [], summary: { compile: 'x', optimize: 3 } })),
      undefined,
    );
  });

  it('rewrites by kind: written per stage beside run.json, shown on the step of that stage', () => {
    writeRunRewrites(tmp, { stage: 'parse', counts: { kept: 40, fused: 3, decomposed: 2, removed: 0, added: 0, layout: 1, host: 0, unmatched: 0 } });
    writeRunRewrites(tmp, {
      stage: 'compile',
      counts: { kept: 40, fused: 5, decomposed: 2, removed: 1, added: 0, layout: 1, host: 0, unmatched: 0 },
      contexts: { count: 3, boundaries: [], assigned: 0 },
    });
    const rec = readRunRewrites(tmp)!;
    assert.deepEqual(rec.stages.parse, { counts: { kept: 40, fused: 3, decomposed: 2, layout: 1 } });
    assert.equal(rec.stages.compile?.contexts, 3);
    const r = run('r1', [{ step: 'parse' }, { step: 'optimize' }, { step: 'compile' }]);
    const facts = runFacts(r, { rewrites: rec });
    assert.equal(stepFactsText(facts.steps[0]!), '2 decomposed, 3 fused, 1 layout');
    assert.equal(facts.steps[1]!.rewrites, undefined);
    assert.deepEqual(facts.rewrites, { stage: 'compile', counts: { kept: 40, fused: 5, decomposed: 2, removed: 1, layout: 1 } });
    // a broken file is no rewrites, not an error
    fs.writeFileSync(path.join(tmp, REWRITES_FILE), '{"version":1,"stages":{"parse":{"counts":{"fused":-1}}}}');
    assert.equal(readRunRewrites(tmp), undefined);
  });

  it('compares two compile runs side by side: outcome, durations, peak memory, contexts, utilisation, SNR, rewrites', function () {
    if (!fs.existsSync(SAMPLES)) this.skip();
    const multi = parseDfcLog(sample('clientrunner-parse-optimize-compile-whisper-encoder-hailo8l-multicontext.log'));
    const four = parseDfcLog(sample('hailomz-compile-hailo8-multicontext-layer-feasibility-DERIVED-stripped.log'));
    const a = run('r1-a', [
      { step: 'parse', durationMs: 10_000, peakRssKB: 2 * 1024 * 1024 },
      { step: 'compile', durationMs: 100_000, peakRssKB: 6 * 1024 * 1024, summary: multi },
    ]);
    const b = run(
      'r2-b',
      [
        { step: 'parse', durationMs: 10_000, peakRssKB: 2 * 1024 * 1024 },
        { step: 'compile', durationMs: 150_000, peakRssKB: 5 * 1024 * 1024, summary: four, status: 'failed', exitCode: 1 },
      ],
      { status: 'failed' },
    );
    const fa = runFacts(a, { rewrites: { version: 1, stages: { compile: { counts: { fused: 3 } } } } });
    const fb = runFacts(b, { rewrites: { version: 1, stages: { compile: { counts: { fused: 5 } } } } });
    const rows = compareRunFacts(fa, fb);
    const row = (label: string) => rows.find((r) => r.label === label);
    assert.deepEqual(row('Outcome'), { label: 'Outcome', a: 'succeeded', b: 'failed' });
    assert.deepEqual(row('compile: outcome'), { label: 'compile: outcome', a: 'succeeded', b: 'failed' });
    assert.equal(row('parse: outcome'), undefined, 'an unchanged successful step outcome is not repeated');
    assert.deepEqual(row('compile: time'), { label: 'compile: time', a: '100.0 s', b: '150.0 s', change: '+50.0 %', worse: true });
    assert.equal(row('parse: time')?.change, undefined);
    assert.deepEqual(row('Peak memory'), { label: 'Peak memory', a: '6.00 GB', b: '5.00 GB', change: '-16.7 %', worse: false });
    assert.deepEqual(row('Contexts'), { label: 'Contexts', a: '9', b: '4', change: '-55.6 %', worse: false });
    assert.equal(row('Utilisation: compute')?.a, '36.8 %');
    assert.equal(row('Utilisation: compute')?.worse, undefined, 'utilisation is neither better nor worse');
    // the four-context log prints no SNR: the row says so instead of inventing one
    assert.deepEqual(row('Lowest output SNR'), { label: 'Lowest output SNR', a: '9.2 dB (whisper_tiny_encoder_10s_hailo_final/output_layer1)', b: '—' });
    // the failed compile's rewrites are not its products
    assert.deepEqual(row('Rewrites'), { label: 'Rewrites', a: '3 fused (compile)', b: '—' });
    const rows2 = compareRunFacts(fa, runFacts(a, { rewrites: { version: 1, stages: { compile: { counts: { fused: 5, host: 1 } } } } }));
    assert.deepEqual(
      rows2.find((r) => r.label === 'Rewrites'),
      { label: 'Rewrites', a: '3 fused (compile)', b: '5 fused, 1 host (compile)' },
    );
    assert.equal(rows2.find((r) => r.label === 'Rewrites: fused')?.change, '+66.7 %');
    assert.deepEqual(
      rows2.find((r) => r.label === 'Rewrites: host'),
      { label: 'Rewrites: host', a: '0', b: '1', change: '+1.0' },
    );
    assert.equal(row('Latency'), undefined, 'compile runs have no latency row');
    const md = comparisonMarkdown(fa, fb, rows);
    assert.match(md, /^\| compile: time \| 100\.0 s \| 150\.0 s \| ⚠ \+50\.0 % \|$/m);
    assert.match(md, /^A: `r1-a` \(whisper_tiny_encoder · compile · 2026-12-01 10:00:00\)/m);
    assert.doesNotMatch(md, /remoteDir|logOffset|"id"/, 'no raw run.json fields');
  });

  it('compares two device runs: FPS and latency from the HailoRT figures, no peak memory', () => {
    const own = (f: string) => parseBenchmark(fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'hailort', f), 'utf8'), 0);
    const figs = own('benchmark-hailo8-m2-power.txt');
    const noLat = own('benchmark-hailo8l-nms-no-latency.txt');
    const dev = { kind: 'device' as const, device: { name: 'pi5', hailort: '4.23.0' } };
    const a = run('d1-a', [{ step: 'parse-hef' }, { step: 'benchmark', durationMs: 20_000, peakRssKB: 1000, summary: figs }], dev);
    const b = run('d2-b', [{ step: 'parse-hef' }, { step: 'benchmark', durationMs: 21_000, summary: noLat }], dev);
    const fa = runFacts(a);
    const fb = runFacts(b);
    assert.equal(fa.peakRssKB, undefined, 'peak memory is the SSH wrapper on a device, not shown');
    assert.equal(fa.fps, 324.718);
    assert.deepEqual(fa.latencyMs, { value: 7.49588, kind: 'hw' });
    assert.equal(fb.latencyMs, undefined, 'HailoRT does not measure HW latency with on-chip NMS: no number is made up');
    assert.equal(fa.hailort, '4.23.0');
    const rows = compareRunFacts(fa, fb);
    assert.ok(!rows.some((r) => /peak memory/i.test(r.label)));
    assert.deepEqual(
      rows.find((r) => r.label === 'FPS (streaming)'),
      { label: 'FPS (streaming)', a: '324.7', b: '49.4', change: '-84.8 %', worse: true },
    );
    assert.deepEqual(
      rows.find((r) => r.label === 'Latency'),
      { label: 'Latency', a: '7.50 ms', b: '—' },
    );
    assert.deepEqual(
      rows.find((r) => r.label === 'benchmark: time'),
      { label: 'benchmark: time', a: '20.0 s', b: '21.0 s', change: '+5.0 %', worse: true },
    );
  });

  it('fidelity of the run: the record that names the run, worst output per stage against the reference', () => {
    const fidDir = path.join(tmp, 'fidelity');
    const cmp = (stage: 'onnx' | 'quantized', output: string, snrDb: number | null, cosine: number, against: 'reference' | 'previous' = 'reference') => ({
      reference: 'torch' as const,
      stage,
      against,
      output,
      shape: [1, 4],
      timeAxis: null,
      steps: 1,
      channels: 4,
      metrics: { cosine, snrDb, maxAbs: 0, meanAbs: 0 },
      perSample: [],
      perStep: { cosine: [], snrDb: [], maxAbs: [], meanAbs: [] },
      damaged: [],
      transposed: false,
    });
    const rec = (runId: string | undefined, comparisons: FidelityRecord['comparisons']): FidelityRecord => ({
      version: 1,
      model: 'whisper_tiny_encoder',
      createdAt: '2026-12-01T10:00:00Z',
      ...(runId ? { runId } : {}),
      samples: [],
      outputs: ['a', 'b'],
      stages: [],
      comparisons,
    });
    writeFidelityRecord(
      path.join(fidDir, '20261201-100000-m'),
      rec('r1-a', [cmp('onnx', 'a', null, 1), cmp('quantized', 'a', 20, 0.99), cmp('quantized', 'b', 14, 0.995), cmp('quantized', 'b', 3, 0.5, 'previous')]),
    );
    writeFidelityRecord(path.join(fidDir, '20261201-110000-m'), rec('other', [cmp('quantized', 'a', 1, 0.1)]));
    fs.mkdirSync(path.join(fidDir, '20261201-120000-m'));
    fs.writeFileSync(path.join(fidDir, '20261201-120000-m', 'fidelity.json'), 'not json');
    const f = fidelityOfRun(fidDir, 'r1-a', readFidelityRecord)!;
    assert.deepEqual(f, {
      id: '20261201-100000-m',
      stages: [
        { stage: 'onnx', snrDb: null, cosine: 1 },
        { stage: 'quantized', snrDb: 14, cosine: 0.99 },
      ],
    });
    assert.equal(fidelityOfRun(fidDir, 'nope', readFidelityRecord), undefined);
    assert.equal(fidelityOfRun(path.join(tmp, 'absent'), 'r1-a', readFidelityRecord), undefined);
    const fa = runFacts(run('r1-a', [{ step: 'parse' }]), { fidelity: f });
    const fb = runFacts(run('r2-b', [{ step: 'parse' }]));
    const rows = compareRunFacts(fa, fb);
    assert.deepEqual(
      rows.find((r) => r.label === 'Fidelity onnx: SNR'),
      { label: 'Fidelity onnx: SNR', a: 'exact', b: '—' },
    );
    assert.deepEqual(
      rows.find((r) => r.label === 'Fidelity quantized: SNR'),
      { label: 'Fidelity quantized: SNR', a: '14.0 dB', b: '—' },
    );
  });
});
