import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DfcLogParser, parseDfcLog, type DfcLogSummary } from '../../src/core/hailo/dfcLog';
import { REFERENCE_DIR } from '../reference';

/**
 * Every real DFC capture in the reference pack, parsed and checked against values read from the
 * files by hand. The pack is read in place (HAILO_REFERENCE_DIR, default ../shared/reference);
 * when it is absent these tests skip and say why.
 */
const SAMPLES = path.join(REFERENCE_DIR, 'hailo', 'log-samples');

function sample(ctx: Mocha.Context, name: string): DfcLogSummary {
  const file = path.join(SAMPLES, name);
  if (!fs.existsSync(file)) {
    console.log(`      skipped: ${file} not found (set HAILO_REFERENCE_DIR to the reference pack)`);
    ctx.skip();
  }
  return parseDfcLog(fs.readFileSync(file));
}

function step(s: DfcLogSummary, name: string) {
  return s.steps.find((x) => x.step === name);
}

describe('dfcLog: real log samples', () => {
  it('whisper encoder, ClientRunner parse + optimize + multi-context compile (cut before the end)', function () {
    const s = sample(this, 'clientrunner-parse-optimize-compile-whisper-encoder-hailo8l-multicontext.log');
    assert.equal(s.netName, 'whisper_tiny_encoder_10s_hailo_final');
    assert.deepEqual(
      s.steps.map((x) => [x.step, x.status]),
      [
        ['parse', 'succeeded'],
        ['optimize', 'succeeded'],
        ['compile', 'incomplete'],
      ],
    );
    assert.equal(step(s, 'parse')!.durationSec, 1.0);
    assert.equal(s.outcome, 'incomplete');
    assert.deepEqual(s.errors, []);
    assert.deepEqual(s.parse.startNodes, [{ onnx: 'x.1', hn: 'whisper_tiny_encoder_10s_hailo_final/input_layer1' }]);
    assert.deepEqual(s.parse.endNodes, ['/layer_norm/LayerNormalization']);
    // optimize
    assert.equal(s.optimize.cpuFallback, true);
    assert.equal(s.optimize.calibrationEntries, 1024);
    assert.equal(s.optimize.finetuneEntries, 3340);
    assert.equal(s.optimize.modelScript, './conversion/optimization/tiny/hailo8l/encoder_model_script_tiny.alls');
    const algo = Object.fromEntries(s.optimize.algorithms.map((a) => [a.name, a]));
    assert.equal(algo['LayerNorm Decomposition']!.durationSec, 284.9);
    assert.equal(algo['Statistics Collector']!.durationText, '00:09:59.14');
    assert.equal(algo['Quantization-Aware Fine-Tuning']!.durationSec, 807.26);
    assert.equal(algo['Layer Noise Analysis']!.durationSec, 329.3);
    assert.equal(algo['Adaround']!.status, 'skipped');
    assert.equal(algo['MatmulDecompose']!.status, 'skipped');
    assert.equal(s.optimize.algorithms.length, 12);
    assert.deepEqual(
      s.optimize.snr.map((x) => [x.layer, x.db]),
      [['whisper_tiny_encoder_10s_hailo_final/output_layer1', 9.179]],
    );
    assert.deepEqual(
      s.warnings.map((w) => w.text),
      ['Training cut by the user, proceed at your own peril'],
    );
    // compile
    assert.equal(s.compile.singleContextFailed, true);
    assert.equal(s.compile.contextMode, 'multi');
    assert.equal(s.compile.contexts, 9);
    assert.equal(s.compile.partitionerIterations, 362);
    assert.equal(s.compile.partitionTimeText, '20m 58s 302ms');
    assert.equal(s.compile.partitionSearch.length, 25);
    assert.deepEqual(s.compile.partitionSearch[1], { contexts: 7, improvementPct: 12.2, line: s.compile.partitionSearch[1]!.line });
    assert.equal(s.compile.resourceLimits!['max_memory_utilization (weights)'], 60);
    assert.equal(s.compile.mappingTimePerContext, '59m 59s');
    assert.equal(s.compile.mapping, undefined);
    assert.equal(s.compile.utilization.length, 9);
    const c0 = s.compile.utilization[0]!;
    assert.equal(c0.context, 'whisper_tiny_encoder_10s_hailo_final_context_0');
    assert.deepEqual(
      c0.clusters.map((c) => c.cluster),
      ['cluster_0', 'cluster_1', 'cluster_4', 'cluster_5'],
    );
    assert.deepEqual(c0.clusters[0], { cluster: 'cluster_0', controlPct: 100, computePct: 40.6, memoryPct: 47.7 });
    assert.deepEqual(c0.total, { controlPct: 57.8, computePct: 27.7, memoryPct: 39.1 });
    assert.equal(s.compile.utilization[8]!.index, 8);
    assert.deepEqual(s.compile.utilization[8]!.total, { controlPct: 60.9, computePct: 42.6, memoryPct: 43.6 });
    assert.equal(s.compile.contextNames.length, 9);
    assert.equal(s.stats.noiseLines, 3); // absl WARNING + two E0000 cuda lines
    assert.equal(s.artifacts.length, 2);
    assert.match(s.artifacts[1]!.path, /whisper_tiny_encoder_10s_hailo_final_optimized\.har$/);
  });

  it('yolov8n-seg Model Zoo compile: parse retry, level-0 optimize, feasibility list, 4 contexts', function () {
    const s = sample(this, 'hailomz-compile-hailo8-multicontext-layer-feasibility-DERIVED-stripped.log');
    assert.equal(s.producer, 'model-zoo');
    assert.equal(s.netName, 'yolov8n_seg');
    assert.deepEqual(
      s.steps.map((x) => [x.step, x.status]),
      [
        ['parse', 'succeeded'],
        ['optimize', 'succeeded'],
        ['compile', 'succeeded'],
      ],
    );
    assert.equal(step(s, 'parse')!.attempts, 2);
    assert.equal(step(s, 'parse')!.durationText, '00:00:01.19');
    assert.equal(step(s, 'compile')!.durationSec, 6);
    assert.equal(s.outcome, 'succeeded');
    assert.deepEqual(s.parse.retriedWithEndNodes, ['/model.23/proto/cv3/act/Mul', '/model.23/Transpose']);
    assert.deepEqual(s.parse.endNodes, ['/model.23/proto/cv3/act/Mul', '/model.23/Transpose']);
    assert.deepEqual(s.parse.startNodes, [{ onnx: 'images', hn: 'yolov8n_seg/input_layer1' }]);
    assert.deepEqual(s.optimize.optimizationLevelReduced && [s.optimize.optimizationLevelReduced.level, s.optimize.optimizationLevelReduced.reason], [
      0,
      "there's less data than the recommended amount (1024), and there's no available GPU",
    ]);
    assert.equal(s.optimize.calibrationEntries, 64);
    assert.equal(s.optimize.modelScript, '/local/workspace/shared_with_docker/yolov8n_seg_no_nms.alls');
    assert.equal(s.compile.contextMode, 'multi');
    assert.equal(s.compile.contexts, 4);
    assert.equal(s.compile.partitionerIterations, 201);
    assert.equal(s.compile.partitionSearch.length, 11); // one "3 contexts" and ten "4 contexts" lines
    assert.equal(s.compile.partitionSearch[0]!.contexts, 3);
    // 329 "<layer>: Pass" lines, in log order
    assert.equal(s.compile.feasibility.length, 329);
    assert.deepEqual(
      s.compile.feasibility.slice(0, 3).map((f) => f.layer),
      ['input_layer1', 'conv2_sd2', 'conv2_sd0'],
    );
    assert.ok(s.compile.feasibility.every((f) => f.result === 'Pass'));
    const conv2 = s.compile.layerGroups.find((g) => g.base === 'conv2')!;
    assert.deepEqual([...conv2.layers].sort(), ['conv2_sd0', 'conv2_sd1', 'conv2_sd2', 'conv2_sd3', 'conv2_sdc', 'conv2_ws']);
    assert.deepEqual([...conv2.kinds].sort(), ['spatial-defuse', 'width-split']);
    // utilisation rows were joined onto one line by the paste; all are still found
    assert.deepEqual(
      s.compile.utilization.map((u) => [u.context, u.clusters.length]),
      [
        ['yolov8n_seg_context_0', 8],
        ['yolov8n_seg_context_1', 8],
        ['yolov8n_seg_context_2', 6],
        ['yolov8n_seg_context_3', 7],
      ],
    );
    assert.deepEqual(s.compile.utilization[0]!.clusters[4], { cluster: 'cluster_4', controlPct: 87.5, computePct: 37.5, memoryPct: 41.4 });
    assert.deepEqual(s.compile.utilization[3]!.total, { controlPct: 35.2, computePct: 29.7, memoryPct: 28.5 });
    assert.deepEqual(s.compile.mapping, { status: 'succeeded', durationText: '8m 6s', durationSec: 486, line: s.compile.mapping!.line });
    assert.deepEqual(s.compile.bandwidthMbps, { inputs: 2.34375, outputs: 3.42102, ddr: 0, interContext: 13.4662 });
    // allocator report per context: only context 0 had a revert (inter-cluster connectivity)
    assert.deepEqual(
      s.compile.mappingStats.map((m) => [m.context, m.iterations, m.reverts['inter-cluster connectivity']]),
      [
        ['yolov8n_seg_context_0', 4, 1],
        ['yolov8n_seg_context_1', 4, 0],
        ['yolov8n_seg_context_2', 4, 0],
        ['yolov8n_seg_context_3', 4, 0],
      ],
    );
    assert.equal(s.warnings.length, 2);
  });

  it('the RAW history dump parses like the stripped one where the history numbers allow', function () {
    const s = sample(this, 'hailomz-compile-hailo8-multicontext-layer-feasibility-RAW-history.txt');
    // every line starts with a history number, so no line has a level prefix: nothing may crash
    // and nothing may be invented
    assert.deepEqual(s.steps, []);
    assert.deepEqual(s.errors, []);
    assert.equal(s.outcome, 'unknown');
    assert.equal(s.stats.lines, 491);
  });

  it('LPRNet single-context ClientRunner run with the calibration-not-normalised notice', function () {
    const s = sample(this, 'clientrunner-hailo8-single-context-success-calib-not-normalized-warning.log');
    assert.equal(s.netName, 'DualBranchLPRNet_ThaiLP');
    assert.equal(s.outcome, 'succeeded');
    assert.deepEqual(
      s.steps.map((x) => [x.step, x.status, x.durationText]),
      [
        ['parse', 'succeeded', '00:00:00.51'],
        ['optimize', 'succeeded', undefined],
        ['compile', 'succeeded', '5s'],
      ],
    );
    assert.deepEqual(s.parse.endNodes, ['/model/lpr_head/lpr_head.4/Conv', '/model/province_head/province_head.1/Gemm']);
    assert.equal(s.compile.contextMode, 'single');
    assert.equal(s.compile.contexts, 1);
    assert.equal(s.compile.singleContextFailed, false);
    assert.equal(s.compile.resourceLimits!.max_control_utilization, 75);
    assert.equal(s.compile.utilization.length, 1);
    const u = s.compile.utilization[0]!;
    assert.equal(u.context, undefined);
    assert.equal(u.clusters.length, 8);
    assert.deepEqual(u.clusters[5], { cluster: 'cluster_5', controlPct: 68.8, computePct: 93.8, memoryPct: 25 });
    assert.deepEqual(u.total, { controlPct: 75.8, computePct: 72.5, memoryPct: 29.5 });
    assert.deepEqual(s.compile.mapping, { status: 'succeeded', durationText: '2m 49s', durationSec: 169, line: s.compile.mapping!.line });
    assert.equal(s.compile.bandwidthMbps!.interContext, 0);
    assert.equal(s.optimize.calibrationEntries, 64);
    assert.match(s.optimize.calibrationNotNormalized!, /^The calibration set seems to not be normalized, because the values range is \[\(-1\.0, 1\.0\)/);
    assert.equal(s.optimize.calibrationNotNormalized!.split('\n').length, 4);
    assert.match(s.optimize.calibrationNotNormalized!, /Add a normalization layer to the model/);
    assert.deepEqual(
      s.optimize.algorithms.filter((a) => a.status === 'done').map((a) => a.name),
      ['Mixed Precision', 'Statistics Collector', 'Fix zp_comp Encoding', 'MatmulDecomposeFix'],
    );
    assert.deepEqual(s.compile.contextNames, ['DualBranchLPRNet_ThaiLP_context_0']);
    // the live view's revert counters, then the final report with "Iterations: 4"
    assert.deepEqual(
      s.compile.mappingStats.map((m) => [m.iterations, Object.keys(m.reverts).length]),
      [
        [undefined, 4],
        [4, 4],
      ],
    );
  });

  it('model script error: BackendScriptParserException with the >!< marker, after a chained traceback', function () {
    const s = sample(this, 'model-script-parse-error-normalization-without-lhs.log');
    assert.equal(s.steps.find((x) => x.step === 'parse')!.status, 'succeeded');
    assert.equal(s.outcome, 'failed');
    assert.equal(s.errors.length, 1);
    const e = s.errors[0]!;
    assert.equal(e.category, 'model-script');
    assert.equal(e.errorClass, 'BackendScriptParserException');
    assert.equal(e.qualifiedClass, 'hailo_sdk_client.sdk_backend.sdk_backend_exceptions.BackendScriptParserException');
    assert.deepEqual(e.alls, { text: 'normalization([127.5,127.5,127.5],[127.5,127.5,127.5])', column: 1, line: 1, file: 'model_script.alls' });
    assert.equal(s.tracebacks.length, 1);
    const tb = s.tracebacks[0]!;
    assert.equal(tb.exceptionClass, 'BackendScriptParserException');
    assert.deepEqual(tb.chained, [{ exceptionClass: 'ParseException', message: "Expected end of text, found 'n'  (at char 0), (line:1, col:1)" }]);
    assert.equal(tb.frames.length, 7);
    assert.deepEqual(tb.frames[0], { file: '/home/admin_pwdvisionworks_com/dualbranch/compile_to_hef_v2.py', line: 132, fn: '<module>' });
  });

  it('parser errors per ONNX node and the recommended end nodes (exception form, cut in the source)', function () {
    const s = sample(this, 'parser-unsupported-lstm-slice-squeeze-with-recommendation.log');
    assert.equal(s.outcome, 'failed');
    assert.equal(step(s, 'parse')!.status, 'failed');
    const head = s.errors[0]!;
    assert.equal(head.errorClass, 'ParsingWithRecommendationException');
    assert.equal(head.category, 'parser');
    const perOp = s.errors.filter((e) => e.node);
    assert.equal(perOp.length, 12);
    assert.deepEqual([perOp[0]!.errorClass, perOp[0]!.node], ['UnsupportedLSTMLayerError', 'LSTM__159']);
    assert.equal(perOp[0]!.message, "activation types ['Sigmoid', 'Tanh', 'Tanh', 'Sigmoid', 'Tanh', 'Tanh'] are not supported");
    assert.deepEqual([perOp[3]!.errorClass, perOp[3]!.node], ['UnsupportedShuffleLayerError', 'stage_4/dense/Tensordot']);
    assert.deepEqual(
      [perOp[4]!.errorClass, perOp[4]!.node, perOp[4]!.message],
      ['UnexpectedNodeError', 'Squeeze__77', 'Unexpected node Squeeze__77 (Squeeze)'],
    );
    assert.deepEqual([perOp[11]!.errorClass, perOp[11]!.node], ['UnsupportedShuffleLayerError', 'stage_4/dense_1/Tensordot']);
    assert.ok(perOp.every((e) => e.category === 'parser'));
    assert.equal(s.parse.recommendedEndNodes!.form, 'exception');
    assert.deepEqual(s.parse.recommendedEndNodes!.nodes, [
      'stage_4/bidirectional/forward_lstm/PartitionedCall/transpose',
      'stage_4/tf.__operators__.getitem_3/strided_slice',
      'Concat__153',
      'stage_4/dense/Tensordot__804',
      'stage_4/tf.__operators__.getitem_1/strided_slice',
      'stage_4/dense/Tensordot/MatM',
    ]);
  });

  it('CLI recommendation prompt (transformer export), answered "n", traceback cut', function () {
    const s = sample(this, 'parser-cli-recommendation-prompt-transformer-TRUNCATED.log');
    assert.equal(s.producer, 'hailo-cli');
    assert.equal(s.header.command, 'hailo parser onnx all-relu-no-simplified.onnx --hw-arch hailo8l');
    assert.equal(s.netName, 'all-relu-no-simplified');
    assert.equal(s.parse.recommendedEndNodes!.form, 'prompt');
    assert.deepEqual(s.parse.recommendedEndNodes!.nodes, [
      'CCT_OCR_nchw_1/CCT_OCR_1/transformer_block_1_1/multi_head_attention_1/key_1/BiasAdd',
      'CCT_OCR_nchw_1/CCT_OCR_1/transformer_block_1_1/multi_head_attention_1/transpose_1',
      'CCT_OCR_nchw_1/CCT_OCR_1/transformer_block_1_1/multi_head_attention_1/value_1/BiasAdd',
      'CCT_OCR_nchw_1/CCT_OCR_1/Add',
    ]);
    assert.equal(s.parse.recommendedEndNodes!.truncated, undefined);
    assert.equal(step(s, 'parse')!.status, 'failed');
    assert.equal(s.outcome, 'failed');
    assert.equal(s.tracebacks.length, 1);
    assert.equal(s.tracebacks[0]!.truncated, true);
    assert.equal(s.tracebacks[0]!.frames.length, 3);
  });

  it('CLI recommendation prompt (simplified export)', function () {
    const s = sample(this, 'parser-cli-recommendation-prompt-simplified-TRUNCATED.log');
    assert.deepEqual(s.parse.recommendedEndNodes!.nodes, [
      'CCT_OCR_nchw_1/CCT_OCR_1/Add',
      'CCT_OCR_nchw_1/CCT_OCR_1/transformer_block_1_1/multi_head_attention_1/transpose_3',
      'CCT_OCR_nchw_1/CCT_OCR_1/transformer_block_1_1/multi_head_attention_1/Mul',
      'CCT_OCR_nchw_1/CCT_OCR_1/transformer_block_1_1/multi_head_attention_1/transpose',
    ]);
    assert.equal(s.tracebacks[0]!.frames.length, 4);
    assert.equal(s.outcome, 'failed');
  });

  it('CLI system header, then a parse traceback cut mid-frame (rtdetr)', function () {
    const s = sample(this, 'parser-cli-header-rtdetr-traceback-TRUNCATED.log');
    assert.deepEqual(s.header, {
      time: '13:38:40, 02/13/25',
      timeIso: '2025-02-13T13:38:40',
      cpu: { architecture: 'x86_64', cores: 28, utilizationPct: 4.0 },
      memory: { totalGB: 31, availableGB: 24 },
      os: 'Linux',
      kernel: '6.8.0-52-generic',
      dfcVersion: '3.30.0',
      hailortVersion: null,
      pcie: 'No Hailo PCIe device was found',
      command: 'hailo parser onnx --net-name rtdetr --hw-arch hailo8 ../models/yolo/runs/detect/yolo11n-rtdetr3/weights/best.onnx',
    });
    assert.equal(s.netName, 'rtdetr');
    assert.equal(step(s, 'parse')!.status, 'failed');
    assert.equal(s.tracebacks.length, 1);
    assert.equal(s.tracebacks[0]!.truncated, true);
    assert.deepEqual(s.tracebacks[0]!.frames, [
      { file: '/home/user/dnn/hailo/hailo/lib/python3.10/site-packages/hailo_sdk_client/sdk_backend/parser/parser.py', line: 239, fn: 'translate_onnx_model' },
    ]);
  });

  it('visualizer header whose ANSI ESC bytes were lost ([[32minfo[0m])', function () {
    const s = sample(this, 'visualizer-cli-header-ansi-color-residue.txt');
    assert.equal(s.header.dfcVersion, '3.29.0');
    assert.equal(s.header.hailortVersion, null);
    assert.equal(s.header.cpu!.model, '11th Gen Intel(R) Core(TM) i7-11700K @ 3.60GHz');
    assert.equal(s.header.cpu!.cores, 16);
    assert.equal(s.header.memory!.availableGB, 20);
    assert.equal(s.header.timeIso, '2024-10-14T12:00:34');
    assert.match(s.header.command!, /^hailo visualizer .*yolox_tiny_hailo_model\.har --no-browser$/);
    assert.deepEqual(s.steps, []);
    assert.equal(s.outcome, 'unknown');
  });

  it('YOLOX translate: NMS structure and the post-processing end nodes', function () {
    const s = sample(this, 'clientrunner-translate-onnx-yolox-nms-hint.log');
    assert.equal(s.parse.nmsStructure, 'yolox');
    assert.equal(s.parse.postprocessEndNodes!.length, 9);
    assert.equal(s.parse.postprocessEndNodes![0], '/Sigmoid');
    assert.equal(s.parse.postprocessEndNodes![8], '/model/bbox_head/multi_level_conv_reg.2/Conv');
    assert.deepEqual(s.parse.startNodes, [{ onnx: 'input', hn: 'hagrid-sample-30k-384p-yolox_tiny/input_layer1' }]);
    assert.deepEqual(s.parse.endNodes, ['/Transpose']);
    assert.equal(step(s, 'parse')!.durationSec, 0.72);
    assert.equal(s.outcome, 'succeeded');
  });

  it('Model Zoo parse of yolov5 with the zip download bar', function () {
    const s = sample(this, 'hailomz-parse-success-yolov5-nms-detected.log');
    assert.equal(s.producer, 'model-zoo');
    assert.equal(s.parse.nmsStructure, 'yolov5');
    assert.deepEqual(s.parse.endNodes, ['Conv_234', 'Conv_218', 'Conv_202']);
    assert.deepEqual(
      s.artifacts.map((a) => a.path),
      ['/local/shared_with_docker/faceDetect1/yolov5s_personface.har'],
    );
    assert.equal(s.outcome, 'succeeded');
  });

  it('Model Zoo profile: deprecation warning', function () {
    const s = sample(this, 'hailomz-profile-deprecated.log');
    assert.deepEqual(
      s.warnings.map((w) => w.text),
      ["'profile' command is deprecated and will be removed in future release. Please use 'hailo profiler' tool instead."],
    );
    assert.equal(step(s, 'parse')!.durationSec, 0.93);
    assert.equal(s.outcome, 'succeeded');
  });

  it('compile excerpt: context 0 has too many resources', function () {
    const s = sample(this, 'compiler-context0-too-many-resources-EXCERPT.log');
    assert.equal(s.compile.singleContextFailed, true);
    assert.equal(s.compile.contextMode, 'multi');
    assert.equal(s.compile.mapping!.status, 'failed');
    assert.equal(s.compile.mapping!.durationText, '~7m'); // the author's edit: not a real duration
    assert.equal(s.compile.mapping!.durationSec, undefined);
    assert.deepEqual(
      s.errors.map((e) => e.errorClass),
      ['MappingFailed', 'TooManyResources', 'PartitionFailed'],
    );
    assert.ok(s.errors.every((e) => e.category === 'compile'));
    assert.equal(step(s, 'compile')!.status, 'failed');
    assert.equal(s.outcome, 'failed');
  });

  it('compiler crash: assertion in the allocator, message spread over two lines', function () {
    const s = sample(this, 'compiler-crash-addshortcut-assertion-multicontext.log');
    assert.deepEqual(
      s.errors.map((e) => e.errorClass),
      ['CompilerAssertion', 'CompilationFailed', 'BackendAllocatorException'],
    );
    assert.equal(
      s.errors[0]!.message,
      "../src/allocator/network_graph_appender.cpp:402: Assertion `src_node.output_format() == (*first_succ)->input_format()' failed.",
    );
    assert.equal(s.errors[2]!.message, 'Compilation failed with unexpected crash');
    assert.equal(s.compile.failureReason, 'Compilation failed with unexpected crash');
    assert.equal(s.outcome, 'failed');
  });

  it('optimize: BadInputsShape at the end of a traceback tail', function () {
    const s = sample(this, 'optimize-bad-inputs-shape.log');
    assert.equal(s.errors.length, 1);
    const e = s.errors[0]!;
    assert.equal(e.errorClass, 'BadInputsShape');
    assert.equal(e.category, 'optimize');
    assert.equal(e.message, "Data shape (5, 1) for layer bilstm_model/input_layer1 doesn't match network's input shape (1, 5, 1)");
    assert.equal(step(s, 'optimize')!.status, 'failed');
  });

  it('hailortcli outputs are not mistaken for DFC logs', function () {
    for (const f of [
      'hailortcli-run-hailo8-streaming.txt',
      'hailortcli-run-hailo8-device-count-2.txt',
      'benchmark-hailo8-pi5-yolov8s-time-to-run.txt',
      'benchmark-hailo10h-hailort5-format.txt',
      'run2-hailo10h-hailort5.txt',
      'parse-hef-hailo8l-multicontext-nms-op.txt',
      'parse-hef-hailo8-single-context.txt',
      'parse-hef-hailort5-llm-header.txt',
      'parse-hef-and-benchmark-hailo8-yolov8n.txt',
      'identify-hailo8l-rpi5-fw4.17.txt',
      'identify-hailo8l-rpi5-fw4.20-domain0001.txt',
      'identify-hailo8-m2-modelzoo-doc.txt',
      'version-scan-identify-hailort4.23-no-serial-lines.txt',
    ]) {
      const s = sample(this, f);
      assert.deepEqual([s.steps, s.errors, s.outcome], [[], [], 'unknown'], f);
    }
    const refused = sample(this, 'run-refused-hailo10h-hailort5.txt');
    assert.deepEqual(
      refused.errors.map((e) => [e.category, e.message]),
      [['runtime', 'CHECK failed - The "run" command is not supported for this device type! Use "run2" instead.']],
    );
  });

  it('every sample parses the same fed one byte at a time', function () {
    if (!fs.existsSync(SAMPLES)) {
      console.log(`      skipped: ${SAMPLES} not found (set HAILO_REFERENCE_DIR to the reference pack)`);
      this.skip();
    }
    for (const f of fs.readdirSync(SAMPLES).filter((x) => /\.(log|txt)$/.test(x))) {
      const bytes = fs.readFileSync(path.join(SAMPLES, f));
      const whole = parseDfcLog(bytes);
      // chunks of 1..7 bytes, cutting UTF-8 characters and every token
      const p = new DfcLogParser();
      for (let i = 0, k = 1; i < bytes.length; i += k, k = (k % 7) + 1) p.push(bytes.subarray(i, i + k));
      assert.deepEqual(p.end(), whole, f);
    }
  });
});
