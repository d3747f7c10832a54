import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { interpretLayerName, leadingLayer } from '../../src/core/hailo/generatedNames';
import { summarizeCompileLog, summarizeParseLog, contextsFromModelScript, parseLogFacts, compileLogFacts } from '../../src/core/analysis/ledgerLogFacts';
import { parseDfcLog } from '../../src/core/hailo/dfcLog';
import { REFERENCE_DIR as REF } from '../reference';

const LOGS = path.join(REF, 'hailo', 'log-samples');
const ALLS = path.join(REF, 'hailo', 'alls-samples');

function needRef(ctx: Mocha.Context, file: string): void {
  if (!fs.existsSync(file)) {
    console.log(`    skipped: reference file ${file} is absent (set HAILO_REFERENCE_DIR)`);
    ctx.skip();
  }
}

describe('hn generated names', () => {
  const cases: [string, string, string | undefined, string | undefined][] = [
    ['conv2_sd0', 'spatial-defuse', 'conv2', 'sd0'],
    ['conv2_sdc', 'spatial-defuse', 'conv2', 'sdc'],
    ['dw3_d1', 'defuse', 'dw3', 'd1'],
    ['dw3_dc', 'defuse', 'dw3', 'dc'],
    ['dw3_fs', 'defuse', 'dw3', 'fs'],
    ['conv2_ws', 'width-splitter', 'conv2', 'ws'],
    ['ws_from_conv108_ws_to_conv108_sd0-3_182', 'width-splitter', 'conv108', 'ws'],
    ['conv_feature_splitter1_1', 'feature-splitter', undefined, '1_1'],
    ['dw1_defuse_1x1', 'defuse-primitive', 'dw1', 'defuse_1x1'],
    ['dw1_defuse_reshape_hxf_to_w_transposed', 'defuse-primitive', 'dw1', 'defuse_reshape_hxf_to_w_transposed'],
    ['format_conversion7_defuse_width_feature_reshape', 'defuse-primitive', 'format_conversion7', 'defuse_width_feature_reshape'],
    ['matmul2_reshape', 'layout', 'matmul2', 'reshape'],
    ['resize4_transposed_input', 'layout', 'resize4', 'transposed_input'],
    ['auto_reshape_from_input_layer1_to_normalization1', 'auto-reshape', 'input_layer1', undefined],
    ['auto_spatial_reshape_from_conv20_defuse_reshape_f_to_hxw_transposed', 'auto-reshape', 'conv20', undefined],
    ['sh_from_conv57_to_conv58-60_dw2_1', 'shortcut', 'conv57', undefined],
    ['sh_from_sh_from_conv57_to_conv58-60_dw2_1_to_dw2_sd0-1_2806', 'shortcut', 'conv57', undefined],
    ['concat_w_from_conv108_sd0-3_to_conv108_sdc', 'concat', 'conv108', undefined],
    ['concat_from_conv13_sd0-1_to_concat_from_conv13_sd0-2_to_conv13_sdc', 'concat', 'conv13', undefined],
    ['mux_conv_feature_splitter5_2_conv_feature_splitter6_1_to_conv36_matmul1', 'mux', 'conv36', undefined],
    ['demux_conv_feature_splitter5_2_conv_feature_splitter6_1_to_conv36_matmul1', 'demux', 'conv36', undefined],
    ['reduce_max_softmax3', 'softmax-part', 'softmax3', 'reduce_max'],
    ['ew_mult_softmax1', 'softmax-part', 'softmax1', 'ew_mult'],
    ['normalization13', 'layer', undefined, undefined],
    ['whisper/conv41', 'layer', undefined, undefined],
  ];
  for (const [name, kind, base, part] of cases) {
    it(`${name} -> ${kind}${base ? ` of ${base}` : ''}`, () => {
      const g = interpretLayerName(name);
      assert.equal(g.kind, kind);
      assert.equal(g.base, base);
      if (part !== undefined) assert.equal(g.part, part);
    });
  }

  it('context boundaries give the net and the two contexts', () => {
    const g = interpretLayerName('yolov8n_seg_yolov8n_seg_context_1_to_yolov8n_seg_context_3_2786');
    assert.equal(g.kind, 'context-boundary');
    assert.deepEqual(g.context, { net: 'yolov8n_seg', from: 1, to: 3, id: 2786 });
  });

  it('shortcut targets expand layer ranges', () => {
    assert.deepEqual(interpretLayerName('sh_from_conv57_to_conv58-60_dw2_1').related, ['conv57', 'conv58', 'conv59', 'conv60', 'dw2']);
  });

  it('known HN names win over pattern guesses', () => {
    const known = new Set(['conv_a1', 'conv_a1_reshape']);
    assert.equal(interpretLayerName('conv_a1_reshape', known).kind, 'layer');
    assert.equal(leadingLayer('conv_a1_reshape_sd0', known), 'conv_a1_reshape');
  });

  it('every layer of the real compile log feasibility list is interpreted, each generated one with a base', function () {
    const file = path.join(LOGS, 'hailomz-compile-hailo8-multicontext-layer-feasibility-DERIVED-stripped.log');
    needRef(this, file);
    const s = summarizeCompileLog(fs.readFileSync(file, 'utf8'));
    assert.ok(s.layers.length > 250, `found ${s.layers.length} layers`);
    assert.equal(s.contexts, 4);
    const kinds = new Map<string, number>();
    for (const l of s.layers) {
      const g = interpretLayerName(l.name);
      assert.notEqual(g.kind, 'unknown', `${l.name} (line ${l.line}) not interpreted`);
      kinds.set(g.kind, (kinds.get(g.kind) ?? 0) + 1);
      if (['spatial-defuse', 'defuse', 'defuse-primitive', 'auto-reshape', 'shortcut', 'concat', 'layout', 'mux', 'demux'].includes(g.kind)) {
        assert.ok(g.base && /^[a-z_]+\d+$/.test(g.base), `${l.name}: base ${g.base}`);
      }
    }
    for (const k of [
      'spatial-defuse',
      'defuse',
      'width-splitter',
      'feature-splitter',
      'defuse-primitive',
      'auto-reshape',
      'shortcut',
      'concat',
      'mux',
      'demux',
      'softmax-part',
      'context-boundary',
      'layout',
    ]) {
      assert.ok(kinds.get(k), `no ${k} in the real log`);
    }
    const boundaries = s.layers.map((l) => interpretLayerName(l.name)).filter((g) => g.kind === 'context-boundary');
    assert.ok(boundaries.every((b) => b.context!.net === 'yolov8n_seg' && b.context!.to > b.context!.from));
    // line numbers point at the line in the file
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    for (const l of s.layers.slice(0, 20)) assert.ok(lines[l.line - 1]!.includes(`${l.name}: `));
  });

  it('reads the start/end node mapping and context count of the real Whisper log', function () {
    const file = path.join(LOGS, 'clientrunner-parse-optimize-compile-whisper-encoder-hailo8l-multicontext.log');
    needRef(this, file);
    const text = fs.readFileSync(file, 'utf8');
    const p = summarizeParseLog(text);
    assert.deepEqual(
      p.startNodes.map((s) => [s.onnx, s.hn]),
      [['x.1', 'whisper_tiny_encoder_10s_hailo_final/input_layer1']],
    );
    assert.deepEqual(
      p.endNodes.map((e) => e.onnx),
      ['/layer_norm/LayerNormalization'],
    );
    assert.equal(p.netName, 'whisper_tiny_encoder_10s_hailo_final');
    const c = summarizeCompileLog(text);
    assert.equal(c.contexts, 9);
    assert.equal(c.success, undefined, 'the capture ends before the compilation result');
    assert.equal(c.layers.length, 0, 'this log prints no per-layer feasibility list');
  });

  it('reads context assignments from the real auto-generated allocation script', function () {
    const file = path.join(ALLS, 'hailo_model_zoo-v2.18', 'hailo8', 'base', 'detr_resnet_v1_18_bn.alls');
    needRef(this, file);
    const ctx = contextsFromModelScript(fs.readFileSync(file, 'utf8'));
    assert.ok(ctx.size > 100, `${ctx.size} layers`);
    assert.equal(ctx.get('conv10_sd0'), 0);
    const contexts = new Set(ctx.values());
    assert.ok(contexts.size >= 5);
    for (const name of ctx.keys()) assert.notEqual(interpretLayerName(name).kind, 'unknown', name);
  });

  it('the ledger reads the mappings, layers and contexts the DFC log parser found in the real logs, with their lines', function () {
    const files = [
      'hailomz-compile-hailo8-multicontext-layer-feasibility-DERIVED-stripped.log',
      'clientrunner-parse-optimize-compile-whisper-encoder-hailo8l-multicontext.log',
    ].map((f) => path.join(LOGS, f));
    needRef(this, files[0]!);
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      const lines = text.split('\n');
      const s = parseDfcLog(text);
      const parse = parseLogFacts(s);
      const compile = compileLogFacts(s);
      assert.deepEqual(
        parse.startNodes.map((x) => [x.onnx, x.hn]),
        s.parse.startNodes.map((x) => [x.onnx, x.hn]),
        f,
      );
      for (const x of parse.startNodes) assert.match(lines[x.line - 1]!, /Start nodes mapped from original model/, `${f}:${x.line}`);
      assert.deepEqual(
        parse.endNodes.map((x) => x.onnx),
        s.parse.endNodes,
        f,
      );
      for (const x of parse.endNodes) assert.match(lines[x.line - 1]!, /End nodes mapped from original model/, `${f}:${x.line}`);
      assert.deepEqual(
        compile.layers.map((l) => l.status),
        s.compile.feasibility.map((x) => x.result),
        f,
      );
      for (const l of compile.layers) assert.ok(lines[l.line - 1]!.includes(`${l.name}: ${l.status}`), `${f}:${l.line} ${l.name}`);
      assert.equal(compile.contexts, s.compile.contexts, f);
    }
  });

  it('strips ANSI colour and splits \\r redraws, keeping editor line numbers', () => {
    const text =
      "[\x1b[32minfo\x1b[0m] Start nodes mapped from original model: 'mel': 'n/input_layer1'.\nCalibration: 10%\rCalibration: 100%\r\n[info] End nodes mapped from original model: '/a/B', '/c/D'.\n";
    const p = summarizeParseLog(text);
    assert.deepEqual(p.startNodes, [{ onnx: 'mel', hn: 'n/input_layer1', line: 1 }]);
    assert.deepEqual(p.endNodes, [
      { onnx: '/a/B', line: 3 },
      { onnx: '/c/D', line: 3 },
    ]);
  });
});
