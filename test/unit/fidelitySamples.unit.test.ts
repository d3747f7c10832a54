/**
 * fidelity.calibSamples: the first N samples of the model's calibration set as fidelity inputs, from
 * one .npy with the samples along axis 0 or a folder of .npy files; only the rows taken are read.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isHailoError } from '../../src/core/errors';
import { encodeNpy, readNpy, readNpyRows, writeNpy } from '../../src/core/fidelity/npy';
import { resolveSamples } from '../../src/core/fidelity/samples';
import type { Model } from '../../src/core/project/schema';

const C = 4;
const T = 30;

/** Sample k, value at i: distinct per sample and position. */
const value = (k: number, i: number) => k * 1000 + i * 0.5;
function samples(count: number, from = 0, Ctor: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array) {
  const data = new Ctor(count * C * T);
  for (let k = 0; k < count; k++) for (let i = 0; i < C * T; i++) data[k * C * T + i] = value(from + k, i);
  return data;
}

describe('fidelity: calibration samples', () => {
  let root: string;
  const model = (over: Partial<Model> = {}, n = 3): Model =>
    ({
      name: 'enc',
      inputs: [{ name: 'mel', shape: [1, C, T] }],
      onnx: 'enc.onnx',
      calibSet: 'calib.npy',
      fidelity: { calibSamples: n },
      ...over,
    }) as Model;
  const resolve = (m: Model) => resolveSamples(m, root, { inputsDir: path.join(root, 'check', 'inputs') });
  const expectSample = async (file: string, k: number) => {
    const a = await readNpy(file);
    assert.deepEqual(a.shape, [1, C, T]);
    assert.equal(a.dtype, 'float32');
    for (let i = 0; i < C * T; i++) assert.equal(a.data[i], value(k, i), `${file}[${i}]`);
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-calib-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('takes the first N of a .npy with the samples along axis 0, each written with the input shape', async () => {
    await writeNpy(path.join(root, 'calib.npy'), { dtype: 'float32', shape: [5, C, T], data: samples(5) });
    const s = await resolve(model());
    assert.deepEqual(
      s.map((x) => [x.id, x.source]),
      [0, 1, 2].map((k) => [`calib_${k}`, `${path.join(root, 'calib.npy')}[${k}]`]),
    );
    for (const [k, x] of s.entries()) await expectSample(x.inputs!.mel!, k);
  });

  it('accepts [N, 1, ...] (with the batch axis) and float64 data (written as float32); fewer samples than asked gives all', async () => {
    await writeNpy(path.join(root, 'calib.npy'), { dtype: 'float64', shape: [2, 1, C, T], data: samples(2, 0, Float64Array) });
    const s = await resolve(model({}, 10));
    assert.equal(s.length, 2);
    await expectSample(s[1]!.inputs!.mel!, 1);
  });

  it('a folder of .npy files, in name order: single samples and files of several samples', async () => {
    const dir = path.join(root, 'calib');
    fs.mkdirSync(dir);
    await writeNpy(path.join(dir, 'a.npy'), { dtype: 'float32', shape: [1, C, T], data: samples(1, 7) });
    await writeNpy(path.join(dir, 'b.npy'), { dtype: 'float32', shape: [3, C, T], data: samples(3, 10) });
    await writeNpy(path.join(dir, 'c.npy'), { dtype: 'float32', shape: [1, C, T], data: samples(1, 20) });
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a sample');
    const s = await resolve(model({ calibSet: 'calib' }, 3));
    assert.deepEqual(
      s.map((x) => [x.id, x.source]),
      [
        ['calib_a', path.join(dir, 'a.npy')],
        ['calib_b_0', `${path.join(dir, 'b.npy')}[0]`],
        ['calib_b_1', `${path.join(dir, 'b.npy')}[1]`],
      ],
    );
    await expectSample(s[0]!.inputs!.mel!, 7);
    await expectSample(s[2]!.inputs!.mel!, 11);
    // a folder of samples without the batch axis
    fs.rmSync(dir, { recursive: true });
    fs.mkdirSync(dir);
    await writeNpy(path.join(dir, 'x.npy'), { dtype: 'float32', shape: [C, T], data: samples(1, 3) });
    const t = await resolve(model({ calibSet: 'calib' }, 3));
    assert.equal(t.length, 1);
    await expectSample(t[0]!.inputs!.mel!, 3);
  });

  it('with fidelity.inputs too: both, ids kept apart', async () => {
    await writeNpy(path.join(root, 'calib.npy'), { dtype: 'float32', shape: [2, C, T], data: samples(2) });
    await writeNpy(path.join(root, 'calib_0.npy'), { dtype: 'float32', shape: [1, C, T], data: samples(1, 5) });
    const s = await resolve(model({ fidelity: { inputs: 'calib_0.npy', calibSamples: 1 } } as Partial<Model>));
    assert.deepEqual(
      s.map((x) => x.id),
      ['calib_0', 'calib_0_2'],
    );
  });

  it('a calibration set that does not fit is named with its shape; wrong dtype, multi-input models and empty folders are typed errors', async () => {
    const err = async (m: Model, code: string, re: RegExp) => {
      const e = await resolve(m).catch((x: unknown) => x);
      assert.ok(isHailoError(e, code as never), String(e));
      assert.match((e as Error).message, re);
    };
    // the Hailo layout (NHWC) of the same data
    await writeNpy(path.join(root, 'calib.npy'), { dtype: 'float32', shape: [5, T, C], data: samples(5) });
    await err(
      model(),
      'FIDELITY_SHAPE_MISMATCH',
      new RegExp(`calib\\.npy: calibration data of shape \\[5, ${T}, ${C}\\] does not hold samples of input "mel" \\[1, ${C}, ${T}\\]`),
    );
    await writeNpy(path.join(root, 'calib.npy'), { dtype: 'int32', shape: [2, C, T], data: new Int32Array(2 * C * T) });
    await err(model(), 'FIDELITY_DTYPE', /holds int32; input "mel" is float32/);
    await err(
      model({
        inputs: [
          { name: 'a', shape: [1, C, T] },
          { name: 'b', shape: [1, C, T] },
        ],
      } as Partial<Model>),
      'FIDELITY_INPUT_INVALID',
      /single-input models only/,
    );
    fs.mkdirSync(path.join(root, 'empty'));
    await err(model({ calibSet: 'empty' }), 'FIDELITY_INPUT_INVALID', /no \.npy files in the calibration folder/);
    await err(model({ calibSet: 'absent.npy' }), 'FIDELITY_INPUT_INVALID', /absent\.npy: calibration set not found/);
  });

  it('reads only the rows it takes: a set whose later rows are missing (truncated) still gives its first samples', async () => {
    const full = encodeNpy({
      dtype: 'float32',
      shape: [1000, C, T],
      data: new Float32Array(1000 * C * T).map((_, i) => (i < 3 * C * T ? value(Math.floor(i / (C * T)), i % (C * T)) : 0)),
    });
    const file = path.join(root, 'calib.npy');
    const headerAndThree = full.length - 997 * C * T * 4;
    fs.writeFileSync(file, full.subarray(0, headerAndThree));
    await assert.rejects(readNpy(file), /truncated data/);
    const r = await readNpyRows(file, 2);
    assert.deepEqual(r.fileShape, [1000, C, T]);
    assert.deepEqual(r.array.shape, [2, C, T]);
    const s = await resolve(model({}, 3));
    assert.equal(s.length, 3);
    await expectSample(s[2]!.inputs!.mel!, 2);
    // asking for more rows than the file holds is a clear error, not a short read
    await assert.rejects(resolve(model({}, 4)), /calib\.npy: .*truncated data/);
  });
});
