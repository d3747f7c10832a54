import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DfcLogParser,
  MAX_CHAINED,
  parseDfcLog,
  parseDuration,
  parsePythonStringList,
  type DfcLogEvent,
  type DfcLogSummary,
} from '../../src/core/hailo/dfcLog';
import { classifyCompilerLayer, groupCompilerLayers } from '../../src/core/hailo/dfcLogLayers';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'logs');
const read = (name: string) => fs.readFileSync(path.join(FIXTURES, name));

function feed(chunks: (string | Uint8Array)[]): DfcLogSummary {
  const p = new DfcLogParser();
  for (const c of chunks) p.push(c);
  return p.end();
}

/** A small deterministic PRNG so a failing split can be reproduced. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('dfcLog: own fixtures', () => {
  it('full CLI pipeline with ANSI colours, \\r progress bars and TensorFlow noise', () => {
    const s = parseDfcLog(read('cli-pipeline-whisper-small-encoder-ansi-progress.log'));
    assert.equal(s.producer, 'hailo-cli');
    assert.equal(s.header.dfcVersion, '3.33.0');
    assert.equal(s.header.hailortVersion, '4.23.0');
    assert.equal(s.header.cpu!.model, 'AMD Ryzen 9 7950X 16-Core Processor');
    // the last header wins: the compile step's command
    assert.match(s.header.command!, /^hailo compiler whisper_small_encoder_optimized\.har/);
    assert.deepEqual(
      s.steps.map((x) => [x.step, x.status]),
      [
        ['parse', 'succeeded'],
        ['optimize', 'succeeded'],
        ['compile', 'succeeded'],
      ],
    );
    assert.equal(s.steps[0]!.durationSec, 9.63);
    assert.equal(s.steps[2]!.durationSec, 41);
    assert.equal(s.outcome, 'succeeded');
    assert.deepEqual(s.errors, []);
    assert.equal(s.warnings.length, 4);
    assert.deepEqual(s.optimize.optimizationLevelReduced && s.optimize.optimizationLevelReduced.reason, "there's no available GPU");
    assert.deepEqual(s.parse.startNodes, [{ onnx: 'mel', hn: 'whisper_small_encoder/input_layer1' }]);
    assert.deepEqual(
      s.optimize.snr.map((x) => [x.layer, x.db]),
      [['whisper_small_encoder/output_layer1', 14.62]],
    );
    assert.equal(s.optimize.algorithms.find((a) => a.name === 'LayerNorm Decomposition')!.durationSec, 87.54);
    // TF lines: one on its own, one glued after the progress bar, the absl banner, the E0000 line
    assert.equal(s.stats.noiseLines, 4);
    assert.ok(s.stats.progressRedraws >= 10);
    assert.equal(s.compile.contexts, 12);
    assert.deepEqual(
      s.compile.partitionSearch.map((p) => [p.contexts, p.improvementPct]),
      [
        [11, undefined],
        [12, 3.5],
      ],
    );
    assert.equal(s.compile.utilization.length, 12);
    assert.deepEqual(s.compile.utilization[11]!.total, { controlPct: 61, computePct: 36.5, memoryPct: 33.3 });
    assert.equal(s.compile.mapping!.durationSec, 4325);
    assert.equal(s.compile.contextNames.length, 12);
    assert.deepEqual(
      s.artifacts.map((a) => a.kind),
      ['har', 'har', 'hef'],
    );
    const softmax = s.compile.layerGroups.find((g) => g.base === 'conv1')!;
    assert.deepEqual(softmax.layers, ['conv1_sd0', 'conv1_sd1', 'conv1_sdc']);
  });

  it('parser failure with CRLF line ends: per-node errors and the recommendation', () => {
    const s = parseDfcLog(read('cli-parse-failure-exception-crlf.log'));
    assert.equal(s.netName, 'encoder_kernel_attn');
    assert.deepEqual(
      s.errors.map((e) => [e.errorClass, e.node]),
      [
        ['ParsingWithRecommendationException', undefined],
        ['UnsupportedReduceMaxLayerError', '/encoder/blocks.0/attn/ReduceMax'],
        ['UnsupportedOperationError', '/encoder/blocks.0/attn/TopK'],
        ['UnsupportedShuffleLayerError', '/encoder/blocks.1/attn/Reshape_3'],
      ],
    );
    assert.equal(s.errors[2]!.message, 'TopK operation is unsupported');
    assert.deepEqual(s.parse.recommendedEndNodes!.nodes, ['/encoder/blocks.0/ln_1/LayerNormalization', '/encoder/conv2/Conv']);
    assert.equal(s.tracebacks[0]!.frames.length, 2);
    assert.equal(s.steps[0]!.status, 'failed');
    assert.equal(s.outcome, 'failed');
    assert.ok(s.errors.every((e) => !e.message.includes('\r')));
  });

  it('model script error: the >!< column and the pyparsing line', () => {
    const s = parseDfcLog(read('cli-optimize-model-script-error.log'));
    assert.equal(s.errors.length, 1);
    assert.deepEqual(s.errors[0]!.alls, { text: 'model_optimization_flqvour(compression_level=2)', column: 22, line: 3, file: 'encoder.alls' });
    assert.equal(s.steps[0]!.step, 'optimize');
    assert.equal(s.steps[0]!.status, 'failed');
  });

  it('compile failure from the Python API', () => {
    const s = parseDfcLog(read('api-compile-mapping-failed.log'));
    assert.equal(s.producer, 'client-runner');
    assert.deepEqual(
      s.errors.map((e) => e.errorClass),
      ['MappingFailed', 'TooManyResources', 'PartitionFailed', 'CompilationFailed', 'BackendAllocatorException'],
    );
    assert.equal(s.compile.mapping!.durationSec, 2823);
    assert.equal(s.compile.mappingTimePerContext, '9m 59s');
    assert.equal(s.compile.contexts, 5);
    assert.match(s.compile.failureReason!, /^Compilation failed: Automri finished with too many resources on context_2/);
    assert.equal(s.steps[0]!.status, 'failed');
  });

  for (const name of ['cli-parse-failure-exception-crlf.log', 'cli-optimize-model-script-error.log', 'api-compile-mapping-failed.log']) {
    it(`${name}: identical summary when split in two at every byte offset`, () => {
      const bytes = read(name);
      const whole = parseDfcLog(bytes);
      for (let i = 0; i <= bytes.length; i++) {
        assert.deepEqual(feed([bytes.subarray(0, i), bytes.subarray(i)]), whole, `split at byte ${i}`);
      }
    });
  }

  it('the ANSI/progress pipeline log: every split offset in its tricky regions, and random multi-splits', () => {
    const bytes = read('cli-pipeline-whisper-small-encoder-ansi-progress.log');
    const whole = parseDfcLog(bytes);
    const text = bytes.toString('latin1');
    // offsets around ESC sequences, `\r` redraws and multi-byte characters (█ is 3 bytes)
    const marks = [
      text.indexOf('\x1b['),
      text.indexOf('\rCalibration'),
      text.indexOf('\u00e2\u0096\u0088'),
      text.indexOf('\r\nFound valid'),
      text.indexOf('\tw'),
    ];
    for (const m of marks) {
      assert.ok(m >= 0);
      for (let i = Math.max(0, m - 12); i < m + 40; i++) assert.deepEqual(feed([bytes.subarray(0, i), bytes.subarray(i)]), whole, `split at byte ${i}`);
    }
    const rand = rng(42);
    for (let round = 0; round < 60; round++) {
      const chunks: Uint8Array[] = [];
      let i = 0;
      while (i < bytes.length) {
        const n = 1 + Math.floor(rand() * (round % 2 ? 9 : 900));
        chunks.push(bytes.subarray(i, i + n));
        i += n;
      }
      assert.deepEqual(feed(chunks), whole, `random split round ${round}`);
    }
    // strings instead of bytes, split inside surrogate-free text: the same
    const str = bytes.toString('utf8');
    assert.deepEqual(feed([str.slice(0, 1000), str.slice(1000, 1001), str.slice(1001)]), whole);
  });

  it('mixes Buffer and string chunks without losing a split UTF-8 character', () => {
    const bar = Buffer.from('Calibration: 100%|██████████| 64/64\n[info] Model Optimization is done\n');
    const cut = bar.indexOf(Buffer.from('█')) + 1; // inside the 3-byte character
    const s = feed([bar.subarray(0, cut), bar.subarray(cut)]);
    assert.equal(s.stats.lines, 2);
    const events: string[] = [];
    const p = new DfcLogParser();
    p.onEvent((e) => e.type === 'line' && events.push(e.text));
    // bytes cut inside the character, its last bytes as bytes, then the rest as a string
    p.push(bar.subarray(0, cut));
    p.push(bar.subarray(cut, cut + 2));
    p.push(bar.subarray(cut + 2).toString('utf8'));
    p.end();
    assert.equal(events[0], 'Calibration: 100%|██████████| 64/64');
  });

  it('keeps only the final state of a redrawn line and reports redraws as progress events', () => {
    const p = new DfcLogParser();
    const ev: DfcLogEvent[] = [];
    p.onEvent((e) => ev.push(e));
    p.push('\rCalibration:   0%|          | 0/64');
    p.push('\rCalibration:  50%|█████     | 32/64');
    p.push('\rCalibration: 100%|██████████| 64/64\n');
    p.end();
    const lines = ev.filter((e) => e.type === 'line');
    assert.deepEqual(
      lines.map((e) => (e as { text: string }).text),
      ['Calibration: 100%|██████████| 64/64'],
    );
    const progress = ev.filter((e) => e.type === 'progress').map((e) => (e as { text: string }).text);
    assert.deepEqual(progress, ['Calibration:   0%|          | 0/64', 'Calibration:  50%|█████     | 32/64']);
  });

  it('a line longer than the cap is truncated, not kept whole; a redraw after it still wins', () => {
    const p = new DfcLogParser({ maxLineLength: 1000 });
    p.push('x'.repeat(5000));
    p.push('y'.repeat(5000));
    p.push('\n[info] Model Optimization is done\n');
    const s = p.end();
    assert.equal(s.stats.truncatedLines, 1);
    assert.equal(s.stats.lines, 2);
    const q = new DfcLogParser({ maxLineLength: 100 });
    const seen: string[] = [];
    q.onEvent((e) => e.type === 'line' && seen.push(e.text));
    for (let i = 0; i < 1000; i++) q.push(`\rEpoch 1/6 ${i}/417 ━━━━ loss: 0.3`);
    q.push('\n');
    const t = q.end();
    assert.equal(t.stats.truncatedLines, 0);
    assert.deepEqual(seen, ['Epoch 1/6 999/417 ━━━━ loss: 0.3']);
  });

  it('success and failure markers, also the DFC 5.x wording', () => {
    const ok = parseDfcLog(read('cli-pipeline-whisper-small-encoder-ansi-progress.log'));
    assert.deepEqual(
      ok.markers.map((m) => m.kind),
      [
        'parse-succeeded',
        'har-saved',
        'optimize-succeeded',
        'har-saved',
        'partition-succeeded',
        'feasibility-validated',
        'mapping-succeeded',
        'compile-succeeded',
        'hef-saved',
      ],
    );
    const bad = parseDfcLog(read('api-compile-mapping-failed.log'));
    assert.deepEqual(
      bad.markers.map((m) => m.kind),
      ['feasibility-validated', 'mapping-failed', 'partition-failed', 'compile-failed'],
    );
    const v5 = parseDfcLog(
      [
        '[info] Starting Hailo allocation and compilation flow',
        '[info] Using Multi-context flow',
        '[info] enc Successful Partition and Allocation (duration: 8m 05s)',
        '[info] enc Successful Kernel Compilation (duration: 4s)',
        '[info] enc Successful Compilation (duration: 8m 20s)',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      v5.markers.map((m) => m.kind),
      ['mapping-succeeded', 'kernels-compiled', 'compile-succeeded'],
    );
    assert.equal(v5.compile.mapping!.durationSec, 485);
    assert.equal(v5.steps[0]!.durationSec, 500);
    assert.equal(v5.outcome, 'succeeded');
    const prompt = parseDfcLog("Parsing failed with recommendations for end node names: ['a'].\n");
    assert.deepEqual(
      prompt.markers.map((m) => m.kind),
      ['parse-failed'],
    );
  });

  it('live summaries: a step is running mid-stream and the outcome is incomplete', () => {
    const p = new DfcLogParser();
    p.push('[info] Translation started on ONNX model enc\n[info] Restored ONNX model enc (completion time: 00:00:00.11)\n');
    const mid = p.summary();
    assert.deepEqual(
      mid.steps.map((x) => x.status),
      ['running'],
    );
    assert.equal(mid.outcome, 'incomplete');
    p.push('[info] Translation completed on ONNX model enc (completion time: 00:00:00.50)\n');
    assert.equal(p.end().outcome, 'succeeded');
    assert.throws(() => p.push('more'));
  });

  it('JSON round trip keeps the summary', () => {
    const s = parseDfcLog(read('cli-pipeline-whisper-small-encoder-ansi-progress.log'));
    assert.deepEqual(JSON.parse(JSON.stringify(s)), JSON.parse(JSON.stringify(s)));
    assert.doesNotThrow(() => JSON.stringify(s));
    assert.ok(!JSON.stringify(s).includes('Infinity'));
  });

  it('garbage and binary input: no crash, nothing invented', () => {
    const junk = Buffer.alloc(4096);
    const r = rng(7);
    for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(r() * 256);
    const s = parseDfcLog(junk);
    assert.deepEqual(s.steps, []);
    assert.equal(s.outcome, 'unknown');
    assert.equal(parseDfcLog('').outcome, 'unknown');
  });
});

describe('dfcLog: helpers', () => {
  it('parseDuration reads every printed form', () => {
    assert.equal(parseDuration('00:04:44.90'), 284.9);
    assert.equal(parseDuration('20m 58s 302ms'), 1258.302);
    assert.equal(parseDuration('8m 6s'), 486);
    assert.equal(parseDuration('5s'), 5);
    assert.equal(parseDuration('11s 862ms'), 11.862);
    assert.equal(parseDuration('1h 12m 5s'), 4325);
    assert.equal(parseDuration('~7m'), undefined);
    assert.equal(parseDuration('Timeout'), undefined);
  });

  it('parsePythonStringList reads Python reprs and notices a cut list', () => {
    assert.deepEqual(parsePythonStringList(`['a', "b's", 'c\\'d']`), { items: ['a', "b's", "c'd"], complete: true });
    assert.deepEqual(parsePythonStringList(`['a', 'b`), { items: ['a', 'b'], complete: false });
    assert.equal(parsePythonStringList('a, b'), undefined);
  });

  it('classifies compiler layer names', () => {
    const k = (n: string) => {
      const c = classifyCompilerLayer(n);
      return [c.kind, c.base];
    };
    assert.deepEqual(k('conv2_sd0'), ['spatial-defuse', 'conv2']);
    assert.deepEqual(k('conv2_sdc'), ['spatial-defuse', 'conv2']);
    assert.deepEqual(k('net/conv2_ws'), ['width-split', 'conv2']);
    assert.deepEqual(k('dw3_d1'), ['feature-defuse', 'dw3']);
    assert.deepEqual(k('conv_feature_splitter1_2'), ['feature-splitter', 'conv_feature_splitter1']);
    assert.deepEqual(k('dw1_defuse_reshape_hxf_to_w_transposed'), ['defuse-op', 'dw1']);
    assert.deepEqual(k('auto_reshape_from_input_layer1_to_normalization1'), ['auto-reshape', 'normalization1']);
    assert.deepEqual(classifyCompilerLayer('auto_reshape_from_input_layer1_to_normalization1').related, ['input_layer1', 'normalization1']);
    assert.deepEqual(k('sh_from_conv57_to_conv58-60_dw2_1'), ['shortcut', 'conv57']);
    assert.deepEqual(k('concat_w_from_conv108_sd0-3_to_conv108_sdc'), ['concat', 'conv108_sdc']);
    assert.deepEqual(k('demux_a_b_to_conv36_matmul1'), ['demux', 'conv36_matmul1']);
    assert.equal(classifyCompilerLayer('yolov8n_seg_yolov8n_seg_context_0_to_yolov8n_seg_context_1_2757').kind, 'context-boundary');
    assert.deepEqual(k('resize4_transposed_input'), ['transposed', 'resize4']);
    assert.deepEqual(k('matmul2_reshape'), ['layout-reshape', 'matmul2']);
    assert.deepEqual(k('ew_add3'), ['original', 'ew_add3']);
    assert.deepEqual(k('reduce_max_softmax1'), ['original', 'reduce_max_softmax1']);
    const g = groupCompilerLayers(['conv1_sd0', 'conv1', 'conv1_sdc', 'conv2']);
    assert.deepEqual(g, [
      { base: 'conv1', layers: ['conv1_sd0', 'conv1', 'conv1_sdc'], kinds: ['spatial-defuse'] },
      { base: 'conv2', layers: ['conv2'], kinds: [] },
    ]);
  });
});

describe('dfcLog: hostile input', () => {
  it('long lines built from the patterns it looks for stay linear (finishes within the test timeout)', () => {
    const parts = [
      '[info] ' + 'X is done (completion time is '.repeat(30000),
      '[info] Resources optimization params: ' + 'max a b c '.repeat(50000),
      ' UnsupportedOperationError in op ' + 'a: '.repeat(100000),
      '1'.repeat(300000),
      '[error] ' + 'Mapping Failed ('.repeat(20000),
      'compiler: ' + 'a:1'.repeat(100000),
    ];
    const s = parseDfcLog(parts.join('\n') + '\n');
    assert.equal(s.stats.lines, parts.length);
    assert.deepEqual(s.steps, []);
  });

  it('millions of warnings or layers do not grow the summary without bound', () => {
    const p = new DfcLogParser();
    const block = Array.from({ length: 1000 }, (_, i) => `[warning] w${i}\nValidating net_context_${i} layer by layer (100%)\n`).join('');
    for (let i = 0; i < 30; i++) p.push(block);
    p.push('[error] Failed to produce compiled graph\n' + 'more detail\n'.repeat(20000));
    const s = p.end();
    assert.equal(s.warnings.length, 20000);
    assert.ok(s.stats.droppedEntries >= 10000);
    assert.equal(s.compile.contextNames.length, 1000);
    assert.ok(s.errors[0]!.message.length <= 64 * 1024 + 20);
  });

  it('a chain of 80,000 tracebacks keeps one traceback, the first MAX_CHAINED earlier exceptions in order, and counts the rest', () => {
    const n = 80_000;
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      if (i) parts.push('', 'During handling of the above exception, another exception occurred:', '');
      parts.push('Traceback (most recent call last):', `  File "/x/y.py", line ${i + 1}, in f`, '    raise E()', `ValueError: boom ${i}`);
    }
    const s = parseDfcLog(parts.join('\n') + '\n');
    assert.equal(s.tracebacks.length, 1);
    const tb = s.tracebacks[0]!;
    assert.equal(tb.message, `boom ${n - 1}`);
    assert.equal(tb.chained!.length, MAX_CHAINED);
    assert.deepEqual(tb.chained!.slice(0, 2), [
      { exceptionClass: 'ValueError', message: 'boom 0' },
      { exceptionClass: 'ValueError', message: 'boom 1' },
    ]);
    assert.equal(s.stats.droppedEntries, n - 1 - MAX_CHAINED);
    assert.deepEqual(
      s.errors.map((e) => e.message),
      [`boom ${n - 1}`],
      'only the last exception of the chain is an error',
    );
  });

  it('a very long recommended end node list is still read', () => {
    const nodes = Array.from({ length: 2000 }, (_, i) => `/encoder/blocks.${i}/attn/MatMul`);
    const s = parseDfcLog(`Parsing failed with recommendations for end node names: [${nodes.map((x) => `'${x}'`).join(', ')}].\n`);
    assert.equal(s.parse.recommendedEndNodes!.nodes.length, 2000);
    const t = parseDfcLog(`[info] End nodes mapped from original model: ${nodes.map((x) => `'${x}'`).join(', ')}.\n`);
    assert.equal(t.parse.endNodes.length, 2000);
  });
});

describe('dfcLog: other failures from the error catalogue', () => {
  it('UnsupportedModelError names the ONNX node it was translated from', () => {
    const s = parseDfcLog(
      '[info] Translation started on ONNX model vit\nhailo_sdk_common.hailo_nn.exceptions.UnsupportedModelError: ew mult layer ew_mult1 (translated from /blocks/blocks.0/attn/Mul) expects 2 inputs but found 1\n',
    );
    assert.deepEqual([s.errors[0]!.errorClass, s.errors[0]!.category, s.errors[0]!.node], ['UnsupportedModelError', 'parser', '/blocks/blocks.0/attn/Mul']);
    assert.equal(s.steps[0]!.status, 'failed');
  });

  it('argparse refusals, the OOM killer and native crashes fail the running step', () => {
    const usage = parseDfcLog('[info] Running `hailo compiler x.har --batch-size 8`\nhailo: error: unrecognized arguments: --batch-size 8\n');
    assert.deepEqual(
      [usage.errors[0]!.errorClass, usage.errors[0]!.message, usage.steps[0]!.status],
      ['UsageError', 'unrecognized arguments: --batch-size 8', 'failed'],
    );
    const oom = parseDfcLog(
      '[info] Starting Model Optimization\n[info] Starting Statistics Collector\nbash: line 1: 48211 Killed                  hailo optimize enc.har\n',
    );
    assert.deepEqual([oom.errors[0]!.errorClass, oom.errors[0]!.category, oom.steps[0]!.status, oom.outcome], ['Killed', 'optimize', 'failed', 'failed']);
    const seg = parseDfcLog('[info] Starting Hailo allocation and compilation flow\nSegmentation fault (core dumped)\n');
    assert.deepEqual([seg.errors[0]!.errorClass, seg.steps[0]!.status], ['Crashed', 'failed']);
    const mem = parseDfcLog(
      '[info] Starting Model Optimization\nnumpy.core._exceptions._ArrayMemoryError: Unable to allocate 112. GiB for an array with shape (1024, 1500, 768, 25) and data type float32\n',
    );
    assert.deepEqual([mem.errors[0]!.errorClass, mem.errors[0]!.category], ['_ArrayMemoryError', 'optimize']);
  });
});
