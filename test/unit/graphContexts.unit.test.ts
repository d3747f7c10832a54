// What the Hailo contexts overlay reads: the rewrite ledger's per-entry contexts, from the auto
// model script a compiled HAR carries (`context_N = context([...])`), and the number of contexts
// from a multi-context compile log. The real formats are read in place from the reference pack
// (skipped with the reason when absent); the compiled HAR fixture is written in the same format.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLedger } from '../../src/core/analysis/ledgerRun';
import { contextsFromModelScript } from '../../src/core/analysis/ledgerLogFacts';
import { DiffLedgerSchema } from '../../src/core/protocol/graph';
import { writeCompiledHar } from '../fixtures/hailo/contexts';
import { WHISPER_SIZES, writeWhisper } from '../fixtures/onnx/gen';
import { REFERENCE_DIR } from '../reference';

const FIX = path.resolve(__dirname, '..', 'fixtures', 'hailo');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-contexts-'));
const onnx = path.join(dir, 'toy_encoder.onnx');
before(() => writeWhisper(onnx, { ...WHISPER_SIZES.toy, opset: 17, frames: 200 }));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function needRef(ctx: Mocha.Context, file: string): void {
  if (fs.existsSync(file)) return;
  console.log(`      skipped: ${file} not found (set HAILO_REFERENCE_DIR to the reference pack)`);
  ctx.skip();
}

describe('Hailo contexts overlay: what it reads', () => {
  it('a compiled HAR: every HN layer entry gets the context its auto model script gives, though the user script comes first', async () => {
    const har = await writeCompiledHar(path.join(FIX, 'gen-whisper-toy-op17.har'), path.join(dir, 'compiled.har'), 3);
    const { ledger } = await runLedger({ onnxFile: onnx, hailoFile: har.file });
    assert.equal(ledger.contexts?.count, 3);
    assert.equal(ledger.contexts?.assigned, har.contextOf.size);
    const withLayers = ledger.entries.filter((e) => e.hnLayers.length);
    assert.ok(withLayers.length > 20);
    for (const e of withLayers) {
      const want = [...new Set(e.hnLayers.map((h) => har.contextOf.get(h.slice(h.lastIndexOf('/') + 1))!))].sort();
      assert.deepEqual(e.contexts, want, e.hnLayers.join(', '));
    }
    assert.deepEqual([...new Set(withLayers.flatMap((e) => e.contexts))].sort(), [0, 1, 2]);
    // what the webview gets validates
    const msg = { stage: ledger.stage, hailoFile: 'compiled.har', counts: { ...ledger.counts }, contextCount: ledger.contexts!.count, entries: ledger.entries };
    assert.ok(
      DiffLedgerSchema.safeParse({
        ...msg,
        entries: msg.entries.map((e) => ({ id: e.id, kind: e.kind, onnxNodes: e.onnxNodes, hnLayers: e.hnLayers, contexts: e.contexts, note: e.note })),
      }).success,
    );
  });

  it('the real auto scripts of the model zoo, byte for byte: one context (resnet_v1_50) and seven (detr_resnet_v1_18_bn)', function () {
    const alls = path.join(REFERENCE_DIR, 'hailo', 'alls-samples');
    const resnet = path.join(alls, 'hailo_model_zoo-v2.6', 'performance', 'resnet_v1_50.alls');
    const detr = path.join(alls, 'hailo_model_zoo-v2.18', 'hailo8', 'base', 'detr_resnet_v1_18_bn.alls');
    needRef(this, resnet);
    const r = contextsFromModelScript(fs.readFileSync(resnet, 'utf8'));
    const line = fs
      .readFileSync(resnet, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('context_0 = context(['))!;
    assert.equal(r.size, line.split(',').length);
    assert.deepEqual([...new Set(r.values())], [0]);
    assert.equal(r.get('conv1_sd0'), 0);
    const d = contextsFromModelScript(fs.readFileSync(detr, 'utf8'));
    assert.deepEqual([...new Set(d.values())].sort(), [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(d.get('matmul1'), 2);
    assert.equal(d.get('conv113'), 6);
  });

  it('the real multi-context compile logs give the number of contexts (and the boundaries), not which layer runs where', async function () {
    const logs = path.join(REFERENCE_DIR, 'hailo', 'log-samples');
    const whisper = path.join(logs, 'clientrunner-parse-optimize-compile-whisper-encoder-hailo8l-multicontext.log');
    const yolo = path.join(logs, 'hailomz-compile-hailo8-multicontext-layer-feasibility-DERIVED-stripped.log');
    needRef(this, whisper);
    const hailoFile = path.join(FIX, 'gen-whisper-toy-op17.har');
    const a = (await runLedger({ onnxFile: onnx, hailoFile, compileLogFile: whisper, stage: 'compile' })).ledger;
    assert.equal(a.contexts?.count, 9);
    assert.equal(a.contexts?.assigned, 0);
    assert.ok(a.entries.every((e) => !e.contexts.length));
    const b = (await runLedger({ onnxFile: onnx, hailoFile, compileLogFile: yolo, stage: 'compile' })).ledger;
    assert.equal(b.contexts?.count, 4);
    assert.equal(b.contexts?.assigned, 0);
    // the boundary tensors the feasibility list names, counted off the log text itself
    const expected = [...fs.readFileSync(yolo, 'utf8').matchAll(/^\[info\] \S+?_context_(\d+)_to_\S+?_context_(\d+)_\d+: Pass$/gm)].map(
      (m) => `${m[1]}->${m[2]}`,
    );
    assert.ok(expected.length > 10);
    assert.deepEqual(b.contexts?.boundaries.map((x) => `${x.from}->${x.to}`).sort(), expected.sort());
    assert.deepEqual([...new Set(expected)].sort(), ['0->1', '1->2', '1->3', '2->3']);
  });
});
