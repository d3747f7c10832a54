import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkNodeNames, missingNamesText } from '../../src/core/analysis/nodeNames';
import { lintModel } from '../../src/core/analysis/lint';
import { main } from '../../src/cli/main';
import { WHISPER_SIZES, writeWhisper } from '../fixtures/onnx/gen';
import { captureIO } from './cli.unit.test';
import { GraphBuilder } from './lintGraphs';

const graph = {
  nodes: [
    { id: '/blocks.0/attn/Softmax', outputs: ['/blocks.0/attn/Softmax_output_0'] },
    { id: '/stage_4/dense/Tensordot/MatMul', outputs: ['272'] },
    { id: '/ln_post/LayerNormalization', outputs: ['features'] },
  ],
};

describe('node names against the ONNX', () => {
  it('accepts node names; maps a missing leading "/", tensor names and a unique cut-short last name', () => {
    const c = checkNodeNames(['/blocks.0/attn/Softmax', 'ln_post/LayerNormalization', '272', 'stage_4/dense/Tensordot/MatM'], graph, { truncated: true });
    assert.deepEqual(
      c.map((x) => x.status),
      ['ok', 'mapped', 'mapped', 'mapped'],
    );
    assert.deepEqual(
      c.map((x) => ('node' in x ? x.node : undefined)),
      ['/blocks.0/attn/Softmax', '/ln_post/LayerNormalization', '/stage_4/dense/Tensordot/MatMul', '/stage_4/dense/Tensordot/MatMul'],
    );
  });
  it('refuses names the model does not have, with a reason and suggestions; a cut-short name only when the list was cut', () => {
    const c = checkNodeNames(['/blocks.0/attn/Softmaxx', 'model_1/dense/BiasAdd', 'stage_4/dense/Tensordot/MatM'], graph);
    assert.deepEqual(
      c.map((x) => x.status),
      ['missing', 'missing', 'missing'],
    );
    assert.ok(c[0]!.status === 'missing' && c[0]!.suggestions[0] === '/blocks.0/attn/Softmax');
    const text = missingNamesText(c, "parser's recommended end nodes", 'enc.onnx')!;
    assert.match(
      text,
      /^3 of the parser's recommended end nodes are not in enc\.onnx: no node of the ONNX model is named "\/blocks\.0\/attn\/Softmaxx" \(did you mean "\/blocks\.0\/attn\/Softmax"\?\)/,
    );
    assert.equal(missingNamesText(checkNodeNames(['/blocks.0/attn/Softmax'], graph), 'x', 'f'), undefined);
  });
  it('the lint reports endNodes the model lacks as HW021 errors on the hailo.json line', () => {
    const b = new GraphBuilder().input('x', [1, 64]);
    b.output(b.node('Relu', ['x'], [1, 64], {}, '/head/Relu'));
    const text = '{\n  "models": [\n    {\n      "name": "m",\n      "endNodes": ["/head/Relu", "/head/Gone"]\n    }\n  ]\n}\n';
    const f = lintModel(b.model(), {
      hwArch: 'hailo8l',
      expected: { name: 'm', endNodes: ['/head/Relu', '/head/Gone'] },
      projectFile: { file: '/p/hailo.json', text },
    }).filter((x) => x.code === 'HW021');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.severity, 'error');
    assert.match(f[0]!.message, /endNodes\[1\] "\/head\/Gone"/);
    assert.equal(f[0]!.related?.[0]?.line, 5);
  });
  it('validate checks startNodes/endNodes against the ONNX when it exists', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-names-'));
    try {
      writeWhisper(path.join(dir, 'enc.onnx'), { ...WHISPER_SIZES.toy, opset: 17, frames: 400 });
      const project = (nodes: string[], onnx = 'enc.onnx') =>
        JSON.stringify({ models: [{ name: 'enc', inputs: [{ name: 'mel', shape: [1, 80, 400] }], onnx, endNodes: nodes }] }, null, 2);
      fs.writeFileSync(path.join(dir, 'hailo.json'), project(['/blocks.0/attn/Softmax', 'stage_4/dense/Tensordot/MatM']));
      let io = captureIO(dir);
      assert.equal(await main(['validate'], io), 1);
      assert.match(
        io.stdout.join('\n'),
        /hailo\.json:\d+:\d+: error: model "enc": endNodes\[1\] "stage_4\/dense\/Tensordot\/MatM": no node of enc\.onnx is named/,
      );
      fs.writeFileSync(path.join(dir, 'hailo.json'), project(['/blocks.0/attn/Softmax']));
      io = captureIO(dir);
      assert.equal(await main(['validate'], io), 0, io.stdout.join('\n'));
      // no ONNX yet: nothing to check against, still valid
      fs.writeFileSync(path.join(dir, 'hailo.json'), project(['anything'], 'missing.onnx'));
      assert.equal(await main(['validate'], captureIO(dir)), 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
