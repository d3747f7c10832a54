/**
 * .npy files: our encoder against our parser, files written by NumPy itself (C and Fortran order,
 * big-endian, float16, format 2.0) where /usr/bin/python3 has numpy, and corrupt files, each a
 * typed NPY_INVALID naming the file.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isHailoError } from '../../src/core/errors';
import { encodeNpy, parseNpy, readNpy, toFloat64, writeNpy } from '../../src/core/fidelity/npy';

const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';

function expectNpyError(fn: () => unknown, file: string, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isHailoError(e, 'NPY_INVALID'), `NPY_INVALID, got ${String(e)}`);
    assert.equal(e.file, file);
    assert.ok(e.message.startsWith(file), e.message);
    assert.match(e.message, re);
    return true;
  });
}

describe('fidelity: .npy files', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-npy-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('round-trips float32, float64, int64 and uint8 arrays with their shapes', async () => {
    const cases = [
      { dtype: 'float32' as const, shape: [1, 3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i * 0.5 - 2) },
      { dtype: 'float64' as const, shape: [5], data: Float64Array.from([1e-300, -2.5, Math.PI, 0, 7]) },
      { dtype: 'int64' as const, shape: [2, 2], data: BigInt64Array.from([1n, -2n, 3n, 2n ** 40n]) },
      { dtype: 'uint8' as const, shape: [], data: Uint8Array.from([200]) },
    ];
    for (const c of cases) {
      const f = path.join(tmp, `${c.dtype}.npy`);
      await writeNpy(f, c);
      const back = await readNpy(f);
      assert.equal(back.dtype, c.dtype);
      assert.deepEqual(back.shape, c.shape);
      assert.deepEqual([...back.data], [...c.data]);
      // header padded to a multiple of 64 bytes, as numpy.save does
      const buf = fs.readFileSync(f);
      assert.equal((10 + buf.readUInt16LE(8)) % 64, 0);
    }
  });

  it('reads what NumPy writes: C and Fortran order, big-endian, float16, bool, format 2.0', function () {
    const probe = spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.log(`      skipped: ${PY} has no numpy`);
      this.skip();
    }
    const script = `
import numpy as np, sys
d = sys.argv[1]
a = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8
np.save(d + '/c.npy', a)
np.save(d + '/f.npy', np.asfortranarray(a))
np.save(d + '/be.npy', a.astype('>f4'))
np.save(d + '/be8.npy', a.astype('>i8'))
np.save(d + '/h.npy', a.astype(np.float16))
np.save(d + '/b.npy', a > 1)
np.lib.format.write_array(open(d + '/v2.npy', 'wb'), a, version=(2, 0))
`;
    const r = spawnSync(PY, ['-c', script, tmp], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const want = Array.from({ length: 24 }, (_, i) => i / 8);
    for (const f of ['c', 'f', 'be', 'h', 'v2']) {
      const a = parseNpy(fs.readFileSync(path.join(tmp, `${f}.npy`)), f);
      assert.deepEqual(a.shape, [2, 3, 4], f);
      assert.equal(a.dtype, 'float32', f);
      assert.deepEqual([...toFloat64(a)], want, f);
    }
    const be8 = parseNpy(fs.readFileSync(path.join(tmp, 'be8.npy')), 'be8');
    assert.equal(be8.dtype, 'int64');
    assert.deepEqual([...toFloat64(be8)], want.map(Math.floor));
    const b = parseNpy(fs.readFileSync(path.join(tmp, 'b.npy')), 'b');
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(
      [...b.data],
      want.map((v) => (v > 1 ? 1 : 0)),
    );
  });

  it('NumPy reads what we write', async function () {
    const probe = spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' });
    if (probe.status !== 0) this.skip();
    const f = path.join(tmp, 'ours.npy');
    await writeNpy(f, { dtype: 'float32', shape: [1, 2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) });
    const r = spawnSync(PY, ['-c', 'import numpy as np, sys; a = np.load(sys.argv[1]); print(a.dtype, a.shape, a.sum())', f], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), 'float32 (1, 2, 3) 21.5', r.stderr);
  });

  it('corrupt files are typed errors naming the file and the problem', async () => {
    const good = encodeNpy({ dtype: 'float32', shape: [2, 8], data: new Float32Array(16) });
    const hdr = (h: string) => {
      const b = Buffer.alloc(10);
      Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(b);
      b.writeUInt16LE(h.length, 8);
      return Buffer.concat([b, Buffer.from(h, 'latin1'), Buffer.alloc(64)]);
    };
    const cases: [string, Buffer, RegExp][] = [
      ['empty.npy', Buffer.alloc(0), /empty/],
      ['short.npy', Buffer.from('\x93NUM', 'latin1'), /only 4 bytes/],
      ['pickle.npy', Buffer.from('\x80\x04\x95 pickle data here'), /no NumPy magic/],
      ['version9.npy', Buffer.concat([good.subarray(0, 6), Buffer.from([9, 0]), good.subarray(8)]), /format version 9/],
      ['header.npy', good.subarray(0, 40), /truncated header/],
      ['data.npy', good.subarray(0, good.length - 4), /truncated data: shape \(2, 8\) needs 64 bytes, the file has 60/],
      ['complex.npy', hdr("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }"), /unsupported dtype "<c8"/],
      ['record.npy', hdr("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }"), /structured/],
      ['noshape.npy', hdr("{'descr': '<f4', 'fortran_order': False, }"), /no "shape"/],
      ['negative.npy', hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }"), /not a dimension/],
      ['string.npy', hdr("{'descr': '<U8', 'fortran_order': False, 'shape': (1,), }"), /unsupported dtype "<U8"/],
    ];
    for (const [name, bytes, re] of cases) {
      const f = path.join(tmp, name);
      fs.writeFileSync(f, bytes);
      expectNpyError(() => parseNpy(fs.readFileSync(f), f), f, re);
      await assert.rejects(readNpy(f), (e: unknown) => isHailoError(e, 'NPY_INVALID') && e.file === f);
    }
    const missing = path.join(tmp, 'nope.npy');
    await assert.rejects(readNpy(missing), (e: unknown) => isHailoError(e, 'NPY_INVALID') && /no such file/.test(e.message) && e.file === missing);
  });

  it('refuses to encode an array that does not fill its shape', () => {
    assert.throws(
      () => encodeNpy({ dtype: 'float32', shape: [2, 3], data: new Float32Array(5) }),
      (e: unknown) => isHailoError(e, 'INVALID_ARGUMENT'),
    );
  });
});
