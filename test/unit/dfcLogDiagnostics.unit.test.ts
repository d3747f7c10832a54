import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jsonc from 'jsonc-parser';
import { parseDfcLog } from '../../src/core/hailo/dfcLog';
import { endNodesEdits, modelForLog } from '../../src/core/hailo/dfcLogDiagnostics';
import { END_NODES_CODE, locateAllsError, placeDfcLog } from '../../src/core/placement';
import { parseProjectText } from '../../src/core/project/load';
import { REFERENCE_DIR } from '../reference';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'logs');
const read = (name: string) => fs.readFileSync(path.join(FIXTURES, name));

describe('dfcLog diagnostics: placement', () => {
  it('parser errors go on the ONNX model, on the PyTorch line when mapped, and on the log', () => {
    const s = parseDfcLog(read('cli-parse-failure-exception-crlf.log'));
    const plan = placeDfcLog(s, {
      onnxFile: '/p/enc.onnx',
      logFile: '/p/run/parse.log',
      sourceOf: (n) => (n === '/encoder/blocks.0/attn/TopK' ? { file: '/p/model.py', line: 42 } : undefined),
    });
    const onnx = plan.filter((p) => p.target === 'onnx' && p.code !== END_NODES_CODE);
    assert.deepEqual(
      onnx.map((p) => p.node),
      ['/encoder/blocks.0/attn/ReduceMax', '/encoder/blocks.0/attn/TopK', '/encoder/blocks.1/attn/Reshape_3'],
    );
    assert.match(onnx[1]!.message, /^UnsupportedOperationError in ONNX node \/encoder\/blocks\.0\/attn\/TopK: TopK operation is unsupported$/);
    const src = plan.filter((p) => p.target === 'source');
    assert.deepEqual(
      src.map((p) => [p.file, p.line, p.node]),
      [['/p/model.py', 41, '/encoder/blocks.0/attn/TopK']],
    );
    // the exception header has no node: it goes on the log, at its line (0-based)
    const head = plan.find((p) => p.code === 'DFC_ParsingWithRecommendationException')!;
    assert.deepEqual([head.target, head.line], ['log', 17]);
    const rec = plan.filter((p) => p.code === END_NODES_CODE);
    assert.deepEqual(
      rec.map((p) => p.target),
      ['onnx', 'log'],
    );
    assert.deepEqual(rec[0]!.endNodes, ['/encoder/blocks.0/ln_1/LayerNormalization', '/encoder/conv2/Conv']);
    assert.equal(rec[0]!.severity, 'warning');
  });

  it('every placement of an error about an ONNX node points at the node in the model ("Show in Graph"); the real parser log, byte for byte', function () {
    const file = path.join(REFERENCE_DIR, 'hailo', 'log-samples', 'parser-unsupported-lstm-slice-squeeze-with-recommendation.log');
    if (!fs.existsSync(file)) {
      console.log(`      skipped: ${file} not found (set HAILO_REFERENCE_DIR to the reference pack)`);
      this.skip();
    }
    const s = parseDfcLog(fs.readFileSync(file));
    const plan = placeDfcLog(s, {
      onnxFile: '/p/enc.onnx',
      logFile: '/p/parse.log',
      sourceOf: (n) => (n === 'Slice__166' ? { file: '/p/model.py', line: 7 } : undefined),
    });
    const withNode = plan.filter((p) => p.node);
    // 12 per-op errors, each on the model and on the log, and Slice__166 on its Python line too
    assert.equal(withNode.filter((p) => p.target === 'onnx').length, 12);
    assert.equal(withNode.filter((p) => p.target === 'log').length, 12);
    assert.deepEqual(
      withNode.filter((p) => p.target === 'source').map((p) => p.node),
      ['Slice__166'],
    );
    for (const p of withNode)
      assert.deepEqual(p.related, [{ file: '/p/enc.onnx', line: 0, message: `ONNX node ${p.node} in enc.onnx` }], `${p.target} ${p.node}`);
    assert.ok(
      withNode.some((p) => p.node === 'stage_4/dense/Tensordot'),
      'a node name with slashes is kept whole',
    );
    // no node, no reference; no model, no reference
    for (const p of plan.filter((x) => !x.node)) assert.deepEqual(p.related, []);
    for (const p of placeDfcLog(s, { logFile: '/p/parse.log' })) assert.deepEqual(p.related, []);
  });

  it('an error naming an HN layer points at it in the HAR of the step; the real optimize log, byte for byte', function () {
    const file = path.join(REFERENCE_DIR, 'hailo', 'log-samples', 'optimize-bad-inputs-shape.log');
    if (!fs.existsSync(file)) {
      console.log(`      skipped: ${file} not found (set HAILO_REFERENCE_DIR to the reference pack)`);
      this.skip();
    }
    const s = parseDfcLog(fs.readFileSync(file));
    assert.deepEqual(
      s.errors.map((e) => [e.errorClass, e.layer, e.node]),
      [['BadInputsShape', 'bilstm_model/input_layer1', undefined]],
    );
    const plan = placeDfcLog(s, { logFile: '/p/run/optimize.log', harFile: '/p/run/bilstm_model.har' });
    assert.deepEqual(
      plan.map((p) => [p.target, p.line, p.related]),
      [['log', 2, [{ file: '/p/run/bilstm_model.har', line: 0, message: 'HN layer bilstm_model/input_layer1 in bilstm_model.har' }]]],
    );
    // no HAR known: nothing to point at
    assert.deepEqual(placeDfcLog(s, { logFile: '/p/run/optimize.log' })[0]!.related, []);
  });

  it('layer names are HN layer names only: "layer to create" and "slice layer at vertex" name none', function () {
    const file = path.join(REFERENCE_DIR, 'hailo', 'log-samples', 'parser-unsupported-lstm-slice-squeeze-with-recommendation.log');
    if (!fs.existsSync(file)) {
      console.log(`      skipped: ${file} not found (set HAILO_REFERENCE_DIR to the reference pack)`);
      this.skip();
    }
    const s = parseDfcLog(fs.readFileSync(file));
    assert.ok(s.errors.length >= 12);
    assert.deepEqual(
      s.errors.filter((e) => e.layer).map((e) => e.layer),
      [],
    );
    const own = parseDfcLog(
      'hailo_sdk_client.model_translator.exceptions.ParsingWithRecommendationException: Parsing failed. The errors found in the graph are:\n UnsupportedShuffleLayerError in op /blocks.0/attn/Mul: ew mult layer ew_mult1 (translated from /blocks.0/attn/Mul) expects two inputs of the same shape\n',
    );
    const e = own.errors.find((x) => x.node === '/blocks.0/attn/Mul');
    assert.equal(e?.layer, 'ew_mult1');
  });

  it('without an ONNX file, parser errors stay on the log', () => {
    const s = parseDfcLog(read('cli-parse-failure-exception-crlf.log'));
    const plan = placeDfcLog(s, { logFile: '/p/parse.log' });
    assert.ok(plan.every((p) => p.target === 'log'));
    assert.equal(plan.filter((p) => p.code === END_NODES_CODE).length, 1);
  });

  it('model-script errors go on the .alls line and the >!< column', () => {
    const s = parseDfcLog(read('cli-optimize-model-script-error.log'));
    const alls = '# encoder script\nnormalization1 = normalization([0.0], [1.0])\nmodel_optimization_flqvour(compression_level=2)\n';
    const plan = placeDfcLog(s, { allsFile: '/p/encoder.alls', allsText: alls, logFile: '/p/opt.log' });
    const d = plan.find((p) => p.target === 'alls')!;
    assert.deepEqual([d.file, d.line, d.column], ['/p/encoder.alls', 2, 21]);
    assert.equal(d.code, 'DFC_BackendScriptParserException');
  });

  it('locateAllsError: by pyparsing line when it agrees, else by the reported text', () => {
    const text = 'a = 1\n  performance_param(x)\nnormalization([1],[2])\n';
    assert.deepEqual(locateAllsError(text, { text: 'normalization([1],[2])', column: 1, line: 1 }), { line: 3, column: 1 });
    assert.deepEqual(locateAllsError(text, { text: 'performance_param(x)', column: 12 }), { line: 2, column: 14 });
    assert.deepEqual(locateAllsError(undefined, { text: 'zzz', column: 4, line: 7 }), { line: 7, column: 4 });
    assert.deepEqual(locateAllsError(text, { text: 'not there', column: 2 }), { line: 1, column: 2 });
  });

  it('compile failures and warnings go on the log lines', () => {
    const s = parseDfcLog(read('api-compile-mapping-failed.log'));
    const plan = placeDfcLog(s, { onnxFile: '/p/enc.onnx', logFile: '/p/compile.log' });
    assert.ok(plan.every((p) => p.target === 'log'));
    assert.deepEqual(
      plan.map((p) => p.line),
      [13, 14, 15, 16, 17],
    );
    assert.equal(
      plan[4]!.message,
      'BackendAllocatorException: Compilation failed: Automri finished with too many resources on context_2 with 62/184 failures.',
    );
  });
});

describe('dfcLog diagnostics: the end-node quick fix edit', () => {
  const project = `{
  // my project
  "version": 1,
  "models": [
    {
      "name": "other",
      "inputs": [{ "name": "x", "shape": [1, 3] }],
      "onnx": "other.onnx"
    },
    {
      "name": "enc", // the encoder
      "inputs": [{ "name": "mel", "shape": [1, 80, 3000] }],
      "onnx": "build/enc.onnx",
      "endNodes": ["old"]
    }
  ]
}
`;

  it('sets endNodes of the right model, keeps comments and the file valid', () => {
    const edits = endNodesEdits(project, 'enc', ['/a/b', "c'd"])!;
    const out = jsonc.applyEdits(project, edits);
    assert.match(out, /\/\/ my project/);
    assert.match(out, /"name": "enc", \/\/ the encoder/);
    const parsed = parseProjectText(out, 'hailo.json');
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.project!.models[1]!.endNodes, ['/a/b', "c'd"]);
    assert.equal(parsed.project!.models[0]!.endNodes, undefined);
  });

  it('adds endNodes where there was none', () => {
    const out = jsonc.applyEdits(project, endNodesEdits(project, 'other', ['n1'])!);
    const parsed = parseProjectText(out, 'hailo.json');
    assert.deepEqual(parsed.project!.models[0]!.endNodes, ['n1']);
    assert.deepEqual(parsed.project!.models[1]!.endNodes, ['old']);
  });

  it('undefined for an unknown model or a broken file', () => {
    assert.equal(endNodesEdits(project, 'nope', ['x']), undefined);
    assert.equal(endNodesEdits('[1,2]', 'enc', ['x']), undefined);
  });

  it('modelForLog: by name, by ONNX path, by network name, or the only model', () => {
    const p = parseProjectText(project, '/w/hailo.json').project!;
    assert.equal(modelForLog(p, '/w', { modelName: 'enc' }), 'enc');
    assert.equal(modelForLog(p, '/w', { onnxFile: '/w/build/enc.onnx' }), 'enc');
    assert.equal(modelForLog(p, '/w', { netName: 'other' }), 'other');
    assert.equal(modelForLog(p, '/w', { netName: 'enc' }), 'enc');
    assert.equal(modelForLog(p, '/w', { netName: 'unknown' }), undefined);
    const one = parseProjectText('{"models":[{"name":"m","inputs":[{"name":"x","shape":[1]}],"onnx":"m.onnx"}]}', '/w/hailo.json').project!;
    assert.equal(modelForLog(one, '/w', { netName: 'whatever' }), 'm');
  });
});
