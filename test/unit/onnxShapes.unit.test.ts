import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { openOnnx } from '../../src/core/onnx';
import { broadcastShapes, inferShapes } from '../../src/core/onnx/shapes';
import { attrInt, attrInts, encodeModel, valueInfo, WHISPER_SIZES, writeShapeZoo, writeWhisper } from '../fixtures/onnx/gen';

describe('ONNX static shape inference', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-shapes-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, graph: onnx.IGraphProto, opset = 13) => {
    const file = path.join(dir, `${name}.onnx`);
    fs.writeFileSync(file, encodeModel(graph, opset));
    return file;
  };

  it('operator zoo at opset 13 (input forms): hand-computed shapes', async () => {
    const m = await openOnnx(writeShapeZoo(path.join(dir, 'zoo13.onnx'), 13).file);
    const v = (n: string) => m.graph.values[`/${n}_output_0`]?.shape;
    const expected: Record<string, (number | string)[]> = {
      Conv: [1, 16, 8, 8], // groups 2, dilation 2, pads 2, stride 2
      Conv_1: [1, 8, 8, 8], // SAME_UPPER stride 2
      Conv_2: [1, 4, 12, 12], // VALID 5x5
      ConvTranspose: [1, 4, 16, 16],
      MaxPool: [1, 8, 8, 8], // ceil_mode
      AveragePool: [1, 8, 8, 8],
      GlobalAveragePool: [1, 16, 1, 1],
      Flatten: [1, 16],
      Gemm: [1, 10],
      Transpose: [1, 16, 16, 8],
      MatMul: [1, 16, 16, 5],
      MatMul_1: [3, 5, 4, 2], // batch broadcast
      Reshape: [8, 256], // Shape -> Gather -> Unsqueeze -> Concat folded
      Reshape_1: [1, 4, 512], // 0 and -1
      Concat_1: [1, 16, 8, 8],
      Slice: [1, 8, 15, 2], // clamped end, negative start, step 2
      Slice_1: [1, 4, 16, 16], // negative step
      Squeeze: [1, 16],
      Unsqueeze_1: [1, 1, 16, 1],
      Gather_1: [1, 3, 12],
      ReduceMean: [1, 16, 16],
      ReduceSum: [1, 8, 1, 1],
      ReduceMax: [1, 8, 16, 1],
      Pad: [1, 8, 20, 22],
      Resize: [1, 8, 32, 32],
      Resize_1: [1, 8, 7, 9],
      Expand: [2, 4, 12, 12],
      Tile: [2, 30],
      Range: [4],
      ConstantOfShape: [2, 3],
      Cast: [1, 8, 16, 16],
      Where: [1, 10],
      Add: [1, 16, 8, 8],
      ArgMax: [1, 1],
      Einsum: [2, 3, 5],
      Einsum_1: [7, 2, 3, 6], // implicit output with an ellipsis
    };
    for (const [n, s] of Object.entries(expected)) assert.deepEqual(v(n), s, n);
    assert.deepEqual(m.graph.values['/Split_output_0']?.shape, [1, 4, 8, 8]);
    assert.deepEqual(m.graph.values['/Split_output_1']?.shape, [1, 12, 8, 8]);
    for (let i = 0; i < 4; i++) assert.deepEqual(m.graph.values[`/Split_1_output_${i}`]?.shape, [1, 4, 8, 8]);
    assert.equal(m.graph.values['/Cast_output_0']?.dtype, 'int64');
    assert.equal(m.graph.values['/ArgMax_output_0']?.dtype, 'int64');
    assert.equal(m.graph.values['/Greater_output_0']?.dtype, 'bool');
    assert.deepEqual(m.graph.outputs, [{ name: 'out', shape: [1, 10], dtype: 'float32' }]);
  });

  it('operator zoo at opset 9 (attribute forms: Slice, Pad, Split, Squeeze, Unsqueeze, ReduceSum)', async () => {
    const m = await openOnnx(writeShapeZoo(path.join(dir, 'zoo9.onnx'), 9).file);
    const v = (n: string) => m.graph.values[`/${n}_output_0`]?.shape;
    assert.deepEqual(v('Slice'), [1, 8, 15, 4]);
    assert.deepEqual(v('Pad'), [1, 8, 20, 22]);
    assert.deepEqual(v('Squeeze'), [1, 16]);
    assert.deepEqual(v('Unsqueeze_1'), [1, 1, 1, 16]); // axes [0, 2]
    assert.deepEqual(v('ReduceSum'), [1, 8, 1, 1]);
    assert.deepEqual(m.graph.values['/Split_output_1']?.shape, [1, 12, 8, 8]);
    assert.deepEqual(v('MaxPool'), [1, 8, 7, 7]); // no ceil_mode before opset 10
    assert.deepEqual(m.warnings, []);
  });

  it('keeps a symbolic batch through the encoder, folding reshapes whose symbols cancel', async () => {
    const m = await openOnnx(writeWhisper(path.join(dir, 'dyn.onnx'), { ...WHISPER_SIZES.toy, opset: 13, frames: 400, batch: 'batch' }).file);
    assert.deepEqual(m.graph.inputs[0]?.shape, ['batch', 80, 400]);
    assert.deepEqual(m.graph.values['/blocks.0/attn/Reshape_output_0']?.shape, ['batch', 200, 2, 16]);
    assert.deepEqual(m.graph.values['/blocks.0/attn/Reshape_1_output_0']?.shape, ['batch', 200, 2, 16]);
    assert.deepEqual(m.graph.outputs[0]?.shape, ['batch', 200, 32]);
    assert.deepEqual(m.warnings, []);
  });

  it('uses value_info for what it cannot infer, reports disagreements and unsupported ops by node', async () => {
    const file = write('vi', {
      name: 'g',
      node: [
        { name: '/custom/Op', opType: 'FancyOp', input: ['x'], output: ['a'] },
        { name: '/Relu', opType: 'Relu', input: ['a'], output: ['b'] },
        { name: '/Other', opType: 'NoSuchOp', input: ['b'], output: ['c'] },
        { name: '/Relu_1', opType: 'Relu', input: ['c'], output: ['y'] },
        { name: '/Sig', opType: 'Sigmoid', input: ['x'], output: ['s'] },
      ],
      input: [valueInfo('x', [1, 4])],
      output: [valueInfo('y', undefined), valueInfo('s', [1, 5])],
      valueInfo: [valueInfo('a', [1, 'n', 4])],
    });
    const m = await openOnnx(file);
    assert.deepEqual(m.graph.values.a?.shape, [1, 'n', 4]);
    assert.deepEqual(m.graph.values.b?.shape, [1, 'n', 4]);
    assert.equal(m.graph.values.c?.shape, undefined);
    assert.equal(m.graph.values.y?.shape, undefined);
    assert.deepEqual(m.graph.values.s?.shape, [1, 4]);
    assert.ok(
      m.warnings.some((w) => w.includes('NoSuchOp') && w.includes('/Other')),
      m.warnings.join('\n'),
    );
    assert.ok(!m.warnings.some((w) => w.includes('FancyOp')), 'declared by value_info: not a gap');
    assert.ok(
      m.warnings.some((w) => w.includes('/Sig') && w.includes('declared as [1, 5]')),
      m.warnings.join('\n'),
    );
  });

  it('reports impossible shapes with the node, never a wrong shape', async () => {
    const file = write('bad', {
      name: 'g',
      node: [
        { name: '/Add', opType: 'Add', input: ['x', 'z'], output: ['a'] },
        { name: '/MatMul', opType: 'MatMul', input: ['x', 'w'], output: ['b'] },
        { name: '/Reshape', opType: 'Reshape', input: ['x', 'shape'], output: ['c'] },
        { name: '/Transpose', opType: 'Transpose', input: ['x'], output: ['d'], attribute: [attrInts('perm', [0, 0])] },
        { name: '/Softmax', opType: 'Softmax', input: ['a'], output: ['y'], attribute: [attrInt('axis', -1)] },
      ],
      initializer: [
        { name: 'w', dims: [5, 2], dataType: 1, rawData: new Uint8Array(40) },
        { name: 'shape', dims: [2], dataType: 7, rawData: new Uint8Array(BigInt64Array.of(3n, 3n).buffer) },
      ],
      input: [valueInfo('x', [2, 4]), valueInfo('z', [3, 4])],
      output: [valueInfo('y', undefined)],
    });
    const m = await openOnnx(file);
    for (const v of ['a', 'b', 'c', 'd', 'y']) assert.equal(m.graph.values[v]?.shape, undefined, v);
    for (const n of ['/Add', '/MatMul', '/Reshape', '/Transpose'])
      assert.ok(
        m.warnings.some((w) => w.startsWith(`${n} (`)),
        `${n} reported: ${m.warnings.join('\n')}`,
      );
    assert.ok(!m.warnings.some((w) => w.startsWith('/Softmax')), 'downstream of an unknown shape: reported once, upstream');
  });

  it('broadcasts like numpy, keeping symbols', () => {
    assert.deepEqual(broadcastShapes([[1, 1500, 384], [384]]), [1, 1500, 384]);
    assert.deepEqual(
      broadcastShapes([
        ['b', 1, 4],
        [3, 1],
      ]),
      ['b', 3, 4],
    );
    assert.deepEqual(
      broadcastShapes([
        ['b', 4],
        [1, 4],
      ]),
      ['b', 4],
    );
    assert.deepEqual(broadcastShapes([[], [2]]), [2]);
    assert.throws(() => broadcastShapes([[2], [3]]));
  });
});

describe('ONNX shape inference on malformed nodes', () => {
  const run = (
    nodes: { op: string; inputs: string[]; outputs?: string[]; attrs?: Record<string, unknown> }[],
    consts: [string, { dtype: string; dims: number[]; data: number[] }][] = [],
  ) => {
    const values: Record<string, { name: string; shape: (number | string)[]; dtype: string }> = { x: { name: 'x', shape: [1, 4], dtype: 'float32' } };
    for (const [n, c] of consts) values[n] = { name: n, shape: c.dims, dtype: c.dtype };
    const gn = nodes.map((n, i) => ({ id: `n${i}`, op: n.op, scope: '', inputs: n.inputs, outputs: n.outputs ?? [`y${i}`], attrs: n.attrs ?? {} }));
    return inferShapes({ nodes: gn, opset: 17, values, declared: new Map(), consts: new Map(consts) });
  };

  it('reports too few inputs on the node and goes on with the next nodes', () => {
    const w = run([
      { op: 'Add', inputs: [] },
      { op: 'Where', inputs: [] },
      { op: 'Concat', inputs: [], attrs: { axis: 0 } },
      { op: 'Max', inputs: [] },
      { op: 'Relu', inputs: ['x'] },
    ]);
    assert.ok(w.includes('n0 (Add): Add has 0 inputs, needs 2'), w.join('\n'));
    assert.ok(w.includes('n1 (Where): Where has 0 inputs, needs 3'));
    assert.ok(w.includes('n2 (Concat): Concat has 0 inputs, needs 1'));
    assert.ok(w.includes('n3 (Max): Max has 0 inputs, needs 1'));
    assert.ok(!w.some((m) => m.startsWith('n4')), 'the Relu after them is inferred');
  });

  it('ConstantOfShape with a negative dimension is a finding, not an exception', () => {
    const w = run(
      [{ op: 'ConstantOfShape', inputs: ['s'], attrs: { value: { dtype: 'int64', values: [0] } } }],
      [['s', { dtype: 'int64', dims: [2], data: [-3, 2] }]],
    );
    assert.ok(
      w.some((m) => /n0 \(ConstantOfShape\): shape \[-3, 2\] has a negative/.test(m)),
      w.join('\n'),
    );
  });
});
