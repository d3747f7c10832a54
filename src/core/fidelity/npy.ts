import * as fs from 'node:fs';
import * as path from 'node:path';
import { HailoError } from '../errors';

/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0): the exchange format between the fidelity
 * stages (PyTorch, ONNX Runtime, the DFC emulator, HailoRT). Reads little- and big-endian numeric
 * dtypes in C or Fortran order into a C-ordered typed array; writes little-endian C-order files.
 */

export type NpyDtype = 'float16' | 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool';

export type NpyData =
  Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array;

export interface NdArray {
  dtype: NpyDtype;
  shape: number[];
  /** C order (last axis fastest). float16 is widened to float32 when read. */
  data: NpyData;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
/** Headers beyond this are not NumPy's: refuse rather than parse megabytes of "header". */
const MAX_HEADER = 1 << 20;

const DESCR: Record<string, { dtype: NpyDtype; size: number }> = {
  f2: { dtype: 'float16', size: 2 },
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
  i1: { dtype: 'int8', size: 1 },
  i2: { dtype: 'int16', size: 2 },
  i4: { dtype: 'int32', size: 4 },
  i8: { dtype: 'int64', size: 8 },
  u1: { dtype: 'uint8', size: 1 },
  u2: { dtype: 'uint16', size: 2 },
  u4: { dtype: 'uint32', size: 4 },
  u8: { dtype: 'uint64', size: 8 },
  b1: { dtype: 'bool', size: 1 },
};

function bad(file: string, problem: string): HailoError {
  return new HailoError('NPY_INVALID', `${file}: not a readable .npy file: ${problem}`, { file });
}

interface Header {
  descr: string;
  fortran: boolean;
  shape: number[];
}

/** The header is a Python dict literal; parse exactly the three keys NumPy writes. */
function parseHeader(text: string, file: string): Header {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr) {
    if (/['"]descr['"]\s*:\s*\[/.test(text)) throw bad(file, 'structured (record) dtypes are not supported; save a plain numeric array');
    throw bad(file, 'header has no "descr"');
  }
  if (!fortran) throw bad(file, 'header has no "fortran_order"');
  if (!shape) throw bad(file, 'header has no "shape"');
  const dims = shape[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(n) || n < 0) throw bad(file, `shape entry "${s}" is not a dimension`);
      return n;
    });
  return { descr: descr[1]!, fortran: fortran[1] === 'True', shape: dims };
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Reverse a C/Fortran order: data laid out with the first axis fastest becomes last-axis fastest. */
function fortranToC<T extends { length: number; [i: number]: number | bigint }>(src: T, out: T, shape: number[]): T {
  const n = src.length;
  const rank = shape.length;
  if (rank < 2) {
    for (let i = 0; i < n; i++) out[i] = src[i]!;
    return out;
  }
  // strides of the Fortran layout
  const fStride: number[] = new Array(rank);
  let acc = 1;
  for (let a = 0; a < rank; a++) {
    fStride[a] = acc;
    acc *= shape[a]!;
  }
  const idx = new Array<number>(rank).fill(0);
  for (let c = 0; c < n; c++) {
    let f = 0;
    for (let a = 0; a < rank; a++) f += idx[a]! * fStride[a]!;
    out[c] = src[f]!;
    for (let a = rank - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** Parse the bytes of an .npy file; `file` names it in errors. */
export function parseNpy(buf: Uint8Array, file: string): NdArray {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 10) throw bad(file, b.length === 0 ? 'the file is empty' : `only ${b.length} bytes`);
  if (!b.subarray(0, 6).equals(MAGIC)) throw bad(file, 'no NumPy magic (\\x93NUMPY) at the start; is it an .npz, a pickle or a raw dump?');
  const major = b[6]!;
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = b.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (b.length < 12) throw bad(file, 'truncated header');
    headerLen = b.readUInt32LE(8);
    headerStart = 12;
  } else throw bad(file, `unsupported format version ${major}.${b[7]}`);
  if (headerLen > MAX_HEADER) throw bad(file, `header of ${headerLen} bytes`);
  if (headerStart + headerLen > b.length) throw bad(file, 'truncated header');
  const header = parseHeader(b.subarray(headerStart, headerStart + headerLen).toString(major === 3 ? 'utf8' : 'latin1'), file);
  const m = /^([<>|=]?)([a-zA-Z]\d+|\?)$/.exec(header.descr);
  if (!m) throw bad(file, `unsupported dtype "${header.descr}"`);
  const key = m[2] === '?' ? 'b1' : m[2]!;
  const dt = DESCR[key];
  if (!dt) throw bad(file, `unsupported dtype "${header.descr}" (numeric and bool arrays only)`);
  const bigEndian = m[1] === '>' && dt.size > 1;
  const count = elementCount(header.shape);
  const offset = headerStart + headerLen;
  const need = count * dt.size;
  if (!Number.isSafeInteger(need)) throw bad(file, `shape (${header.shape.join(', ')}) is too large`);
  if (b.length - offset < need) throw bad(file, `truncated data: shape (${header.shape.join(', ')}) needs ${need} bytes, the file has ${b.length - offset}`);
  // copy into an aligned buffer, swapping bytes for big-endian files
  const raw = new Uint8Array(need);
  raw.set(b.subarray(offset, offset + need));
  if (bigEndian) {
    for (let i = 0; i < need; i += dt.size) raw.subarray(i, i + dt.size).reverse();
  }
  let data: NpyData;
  let dtype = dt.dtype;
  switch (dt.dtype) {
    case 'float16': {
      const u16 = new Uint16Array(raw.buffer);
      const f = new Float32Array(count);
      for (let i = 0; i < count; i++) f[i] = halfToFloat(u16[i]!);
      data = f;
      dtype = 'float32';
      break;
    }
    case 'float32':
      data = new Float32Array(raw.buffer);
      break;
    case 'float64':
      data = new Float64Array(raw.buffer);
      break;
    case 'int8':
      data = new Int8Array(raw.buffer);
      break;
    case 'int16':
      data = new Int16Array(raw.buffer);
      break;
    case 'int32':
      data = new Int32Array(raw.buffer);
      break;
    case 'int64':
      data = new BigInt64Array(raw.buffer);
      break;
    case 'uint8':
    case 'bool':
      data = raw;
      break;
    case 'uint16':
      data = new Uint16Array(raw.buffer);
      break;
    case 'uint32':
      data = new Uint32Array(raw.buffer);
      break;
    case 'uint64':
      data = new BigUint64Array(raw.buffer);
      break;
  }
  if (header.fortran && header.shape.length > 1) {
    const Ctor = data.constructor as new (n: number) => NpyData;
    data = fortranToC(data as never, new Ctor(count) as never, header.shape) as NpyData;
  }
  return { dtype, shape: header.shape, data };
}

export async function readNpy(file: string): Promise<NdArray> {
  let buf: Buffer;
  try {
    buf = await fs.promises.readFile(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new HailoError('NPY_INVALID', `${file}: cannot read: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, { file, cause: e });
  }
  return parseNpy(buf, file);
}

const WRITE_DESCR: Record<NpyDtype, string> = {
  float16: '<f2',
  float32: '<f4',
  float64: '<f8',
  int8: '|i1',
  int16: '<i2',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  uint16: '<u2',
  uint32: '<u4',
  uint64: '<u8',
  bool: '|b1',
};

/** Encode as a version 1.0 .npy (little-endian, C order), as numpy.save does. */
export function encodeNpy(a: NdArray): Buffer {
  if (a.dtype === 'float16') throw new HailoError('INVALID_ARGUMENT', 'float16 arrays are held as float32; write them as float32');
  if (elementCount(a.shape) !== a.data.length) {
    throw new HailoError('INVALID_ARGUMENT', `array of ${a.data.length} elements does not fill shape (${a.shape.join(', ')})`);
  }
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${WRITE_DESCR[a.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  MAGIC.copy(h, 0);
  h[6] = 1;
  h[7] = 0;
  h.writeUInt16LE(header.length, 8);
  const body = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  // typed arrays are in host order; every platform Node runs on here is little-endian
  return Buffer.concat([h, Buffer.from(header, 'latin1'), body]);
}

/** Write atomically (temp file + rename), creating the folder. */
export async function writeNpy(file: string, a: NdArray): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, encodeNpy(a));
  await fs.promises.rename(tmp, file);
}

/** The values as float64, whatever the stored dtype. */
export function toFloat64(a: NdArray): Float64Array {
  if (a.data instanceof Float64Array) return a.data;
  const out = new Float64Array(a.data.length);
  const d = a.data;
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]!);
  return out;
}

export function isFloatDtype(d: NpyDtype): boolean {
  return d === 'float16' || d === 'float32' || d === 'float64';
}

/**
 * The first `rows` entries along axis 0 of an .npy file, reading only the header and those bytes
 * (a calibration set can be gigabytes; a fidelity check takes a few samples of it). Returns the
 * array of those rows and the file's full shape. Fortran-ordered files are read whole.
 */
export async function readNpyRows(file: string, rows: number): Promise<{ array: NdArray; fileShape: number[] }> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new HailoError('NPY_INVALID', `${file}: cannot read: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, { file, cause: e });
  }
  try {
    const size = (await fh.stat()).size;
    const pre = Buffer.alloc(Math.min(size, 12));
    await fh.read(pre, 0, pre.length, 0);
    // not an .npy header we can seek in: the full parser says what is wrong
    if (pre.length < 12 || !pre.subarray(0, 6).equals(MAGIC)) return await whole();
    const major = pre[6]!;
    const headerStart = major === 1 ? 10 : 12;
    const headerLen = major === 1 ? pre.readUInt16LE(8) : pre.length >= 12 ? pre.readUInt32LE(8) : 0;
    if (headerLen > MAX_HEADER || headerStart + headerLen > size) return await whole();
    const hb = Buffer.alloc(headerLen);
    await fh.read(hb, 0, headerLen, headerStart);
    const text = hb.toString(major === 3 ? 'utf8' : 'latin1');
    const header = parseHeader(text, file);
    const m = /^([<>|=]?)([a-zA-Z]\d+|\?)$/.exec(header.descr);
    const dt = m ? DESCR[m[2] === '?' ? 'b1' : m[2]!] : undefined;
    if (!dt || header.fortran || header.shape.length === 0) return await whole();
    const take = Math.max(0, Math.min(rows, header.shape[0]!));
    const shape = [take, ...header.shape.slice(1)];
    const bytes = elementCount(shape) * dt.size;
    if (headerStart + headerLen + bytes > size)
      throw bad(file, `truncated data: shape (${header.shape.join(', ')}) needs more than the ${size - headerStart - headerLen} bytes the file has`);
    const data = Buffer.alloc(bytes);
    await fh.read(data, 0, bytes, headerStart + headerLen);
    // the same parser on a header that names only the rows read
    let h = `{'descr': '${header.descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
    h += ' '.repeat(63 - ((10 + h.length) % 64)) + '\n';
    const p = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
    p.writeUInt16LE(h.length, 8);
    return { array: parseNpy(Buffer.concat([p, Buffer.from(h, 'latin1'), data]), file), fileShape: header.shape };
  } finally {
    await fh.close();
  }

  async function whole(): Promise<{ array: NdArray; fileShape: number[] }> {
    const a = await readNpy(file);
    const take = Math.min(rows, a.shape[0] ?? 0);
    const per = elementCount(a.shape.slice(1));
    return { array: { dtype: a.dtype, shape: [take, ...a.shape.slice(1)], data: a.data.slice(0, take * per) as NpyData }, fileShape: a.shape };
  }
}
