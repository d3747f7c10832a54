import { strict as assert } from 'node:assert';
import { allsAppend, fixesFor, LAYER_NORM_ALLS, MATMUL_ALLS, projectEdits } from '../../src/core/analysis/quickFixes';

function apply(text: string, edits: { offset: number; length: number; content: string }[]): string {
  for (const e of [...edits].sort((a, b) => b.offset - a.offset)) text = text.slice(0, e.offset) + e.content + text.slice(e.offset + e.length);
  return text;
}

const PROJECT = `{
  // the encoder
  "version": 1,
  "models": [
    { "name": "other", "onnx": "o.onnx", "inputs": [{ "name": "x", "shape": [1, 3] }] },
    {
      "name": "enc",
      "entry": "model.encoder:build",
      "opset": 13,
      "dynamicAxes": { "mel": { "2": "frames" } },
      "onnx": "out/enc.onnx",
      "inputs": [{ "name": "mel", "shape": [1, 80, 3000] }]
    }
  ]
}
`;

describe('quick fixes: hailo.json edits', () => {
  it('sets the opset of the named model only, keeping comments', () => {
    const out = apply(PROJECT, projectEdits(PROJECT, 'enc', { kind: 'opset', opset: 17 })!);
    assert.match(out, /"opset": 17/);
    assert.doesNotMatch(out, /"opset": 13/);
    assert.match(out, /\/\/ the encoder/);
    assert.equal((out.match(/"opset"/g) ?? []).length, 1, 'the other model gets none');
  });
  it('removes dynamicAxes; adds modelScript; unknown model gives no edit', () => {
    const out = apply(PROJECT, projectEdits(PROJECT, 'enc', { kind: 'removeDynamicAxes' })!);
    assert.doesNotMatch(out, /dynamicAxes/);
    assert.doesNotThrow(() => JSON.parse(out.replace(/\/\/.*$/gm, '')));
    const withScript = apply(PROJECT, projectEdits(PROJECT, 'enc', { kind: 'modelScript', path: 'out/enc.alls' })!);
    assert.match(withScript, /"modelScript": "out\/enc\.alls"/);
    assert.equal(projectEdits(PROJECT, 'nope', { kind: 'removeDynamicAxes' }), undefined);
  });
});

describe('quick fixes: which finding offers what', () => {
  const model = { name: 'enc', opset: 13, dynamicAxes: { mel: { '2': 'frames' } }, onnx: 'out/enc.onnx' };
  it('opset 17 for an exporter-decomposed LayerNorm; not when the model is already at 17', () => {
    assert.deepEqual(
      fixesFor('HW011', 'x', model).map((f) => f.kind === 'project' && f.change),
      [{ kind: 'opset', opset: 17 }],
    );
    assert.deepEqual(fixesFor('HW011', 'x', { ...model, opset: 17 }), []);
  });
  it('remove dynamicAxes for a symbolic input, not for an output made symbolic by the export', () => {
    assert.equal(fixesFor('HW001', 'Graph input "mel" has shape', model)[0]?.title, 'Remove "dynamicAxes" from model "enc" in hailo.json');
    assert.deepEqual(fixesFor('HW001', 'Graph output "272" is declared', model), []);
    assert.deepEqual(fixesFor('HW001', 'Graph input "mel" has shape', { ...model, dynamicAxes: undefined }), []);
  });
  it('the .alls recipes for LayerNorm and attention MatMuls', () => {
    const ln = fixesFor('HW010', '12 LayerNormalization nodes', model)[0]!;
    assert.ok(ln.kind === 'alls' && ln.lines[0] === LAYER_NORM_ALLS);
    assert.deepEqual(fixesFor('HW010', 'normalize over more than the last axis', model), []);
    const mm = fixesFor('HW013', '4 MatMuls', model)[0]!;
    assert.ok(mm.kind === 'alls' && mm.lines === MATMUL_ALLS);
  });
});

describe('quick fixes: .alls insertion', () => {
  it('appends missing lines once, with a newline before them when the file lacks one', () => {
    const e = allsAppend('normalization1 = normalization([1, 2], [3, 4])', [LAYER_NORM_ALLS])!;
    assert.equal(apply('normalization1 = normalization([1, 2], [3, 4])', [e]), `normalization1 = normalization([1, 2], [3, 4])\n${LAYER_NORM_ALLS}\n`);
    const spaced = LAYER_NORM_ALLS.replace(/, /g, ',');
    assert.equal(allsAppend(`${spaced}\n`, [LAYER_NORM_ALLS]), undefined, 'already there (spacing aside)');
    const partial = allsAppend(`${MATMUL_ALLS[0]}\r\n`, MATMUL_ALLS)!;
    assert.equal(partial.content, `${MATMUL_ALLS[1]}\r\n`);
  });
});

describe('quick fixes: one-line Python rewrites', () => {
  const msg =
    'ReduceMean /pool/ReduceMean over axes [2, 3] of a rank-4 tensor (channel axis: 1): ... This is a spatial mean: export it as a GlobalAveragePool, which parses.';
  it('a spatial mean with keepdim becomes adaptive_avg_pool2d(x, 1), the rest of the line kept', async () => {
    const { pythonLineFix } = await import('../../src/core/analysis/quickFixes');
    assert.equal(
      pythonLineFix('HW016', msg, '        y = self.act(x).mean(dim=(2, 3), keepdim=True) * 2')?.text,
      '        y = torch.nn.functional.adaptive_avg_pool2d(self.act(x), 1) * 2',
    );
    assert.equal(pythonLineFix('HW016', msg, 'y = x.mean((-2, -1), keepdim=True)')?.text, 'y = torch.nn.functional.adaptive_avg_pool2d(x, 1)');
  });
  it('nothing when the meaning would change or the message is another HW016', async () => {
    const { pythonLineFix } = await import('../../src/core/analysis/quickFixes');
    assert.equal(pythonLineFix('HW016', msg, 'y = x.mean(dim=(2, 3))'), undefined, 'without keepdim the shape differs');
    assert.equal(pythonLineFix('HW016', 'ReduceMax ... UnsupportedReduceMaxLayerError', 'y = x.mean(dim=(2, 3), keepdim=True)'), undefined);
    assert.equal(pythonLineFix('HW012', msg, 'y = x.mean(dim=(2, 3), keepdim=True)'), undefined);
  });
  it('uses the name the file has for torch.nn.functional, and nothing when torch is not imported', async () => {
    const { pythonLineFix } = await import('../../src/core/analysis/quickFixes');
    const line = 'y = x.mean(dim=(2, 3), keepdim=True)';
    assert.equal(pythonLineFix('HW016', msg, line, 'import torch.nn.functional as F\n')?.text, 'y = F.adaptive_avg_pool2d(x, 1)');
    assert.equal(pythonLineFix('HW016', msg, line, 'from torch import nn\n')?.text, 'y = nn.functional.adaptive_avg_pool2d(x, 1)');
    assert.equal(pythonLineFix('HW016', msg, line, 'import numpy\n'), undefined);
  });
});
