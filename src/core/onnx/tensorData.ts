import { onnx } from 'onnx-proto';
import { HailoError } from '../errors';
import { dtypeNumber } from './dtypes';
import type { ModelFileSystem, RandomAccessFile } from './fileAccess';
import type { TensorData, TensorRef } from './model';
import { numel, toNumber } from './proto';

/** A small constant with its values as plain numbers (int64 beyond 2^53 loses precision). */
export interface ConstValue {
  dtype: string;
  dims: number[];
  data: number[];
}

async function readExactly(f: RandomAccessFile, offset: number, length: number, file: string, what: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let got: number;
  try {
    got = length ? await f.read(out, offset, length) : 0;
  } catch (e) {
    throw new HailoError(
      'MODEL_READ_FAILED',
      `${file}: reading ${what} at offset ${offset} failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      { file, cause: e },
    );
  }
  if (got < length) throw new HailoError('MODEL_TRUNCATED', `${file}: ${what}: expected ${length} bytes at offset ${offset}, the file ends first`, { file });
  return out;
}

export function typedFromBytes(dtype: string, bytes: Uint8Array, file: string, name: string): TensorData {
  const b = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const buf = b.buffer;
  const off = b.byteOffset;
  const len = b.byteLength;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf, off, len / 4);
    case 'float64':
      return new Float64Array(buf, off, len / 8);
    case 'int64':
      return new BigInt64Array(buf, off, len / 8);
    case 'uint64':
      return new BigUint64Array(buf, off, len / 8);
    case 'int32':
      return new Int32Array(buf, off, len / 4);
    case 'uint32':
      return new Uint32Array(buf, off, len / 4);
    case 'int16':
      return new Int16Array(buf, off, len / 2);
    case 'uint16':
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buf, off, len / 2); // half floats as their bit patterns
    case 'int8':
      return new Int8Array(buf, off, len);
    default:
      if (dtype === 'string') throw new HailoError('INVALID_ARGUMENT', `${file}: tensor '${name}' holds strings, which cannot be read as numbers`, { file });
      return new Uint8Array(buf, off, len);
  }
}

/** Reads a tensor's values. `model` is an open handle on the model file when the caller has one. */
export async function loadTensor(ref: TensorRef, modelFile: string, fsys: ModelFileSystem, model?: RandomAccessFile): Promise<TensorData> {
  const loc = ref.location;
  const what = `tensor '${ref.name}'`;
  const withModel = async <T>(fn: (f: RandomAccessFile) => Promise<T>): Promise<T> => {
    if (model) return fn(model);
    let f: RandomAccessFile;
    try {
      f = await fsys.open(modelFile);
    } catch (e) {
      throw new HailoError('MODEL_READ_FAILED', `${modelFile}: cannot open to read ${what}: ${(e as Error).message}`, { file: modelFile, cause: e });
    }
    try {
      return await fn(f);
    } finally {
      await f.close();
    }
  };
  switch (loc.kind) {
    case 'inline': {
      const bytes = await withModel((f) => readExactly(f, loc.offset, ref.byteLength, modelFile, what));
      return typedFromBytes(ref.dtype, bytes, modelFile, ref.name);
    }
    case 'external': {
      let f: RandomAccessFile;
      try {
        f = await fsys.open(loc.file);
      } catch (e) {
        throw new HailoError('EXTERNAL_DATA_MISSING', `${loc.file}: external data of ${what} in ${modelFile} cannot be opened: ${(e as Error).message}`, {
          file: loc.file,
          cause: e,
        });
      }
      try {
        if (loc.offset + loc.length > f.size)
          throw new HailoError(
            'EXTERNAL_DATA_INVALID',
            `${loc.file}: ${what} of ${modelFile} needs bytes ${loc.offset}..${loc.offset + loc.length}, the file has ${f.size}`,
            { file: loc.file },
          );
        return typedFromBytes(ref.dtype, await readExactly(f, loc.offset, loc.length, loc.file, what), loc.file, ref.name);
      } finally {
        await f.close();
      }
    }
    case 'raw-fields': {
      const bytes = await withModel((f) => readExactly(f, loc.messageOffset, loc.messageLength, modelFile, what));
      let t: onnx.TensorProto;
      try {
        t = onnx.TensorProto.decode(bytes);
      } catch (e) {
        throw new HailoError('MODEL_INVALID', `${modelFile}: ${what} cannot be decoded (${(e as Error).message})`, { file: modelFile });
      }
      return fromTypedFields(ref, t, modelFile);
    }
    case 'literal':
      return fromNumbers(ref.dtype, loc.values);
  }
}

function fromNumbers(dtype: string, values: number[]): TensorData {
  switch (dtype) {
    case 'int64':
      return BigInt64Array.from(values.map((v) => BigInt(Math.trunc(v))));
    case 'int32':
      return Int32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    default:
      return Float32Array.from(values);
  }
}

function fromTypedFields(ref: TensorRef, t: onnx.TensorProto, file: string): TensorData {
  const n = numel(ref.dims);
  const check = (len: number, field: string) => {
    if (len !== n)
      throw new HailoError('MODEL_INVALID', `${file}: tensor '${ref.name}'.${field} has ${len} values, dims [${ref.dims.join(', ')}] need ${n}`, { file });
  };
  const dt = dtypeNumber(ref.dtype);
  switch (ref.dtype) {
    case 'float32':
      check(t.floatData.length, 'float_data');
      return Float32Array.from(t.floatData);
    case 'float64':
      check(t.doubleData.length, 'double_data');
      return Float64Array.from(t.doubleData);
    case 'int64':
      check(t.int64Data.length, 'int64_data');
      return BigInt64Array.from(t.int64Data.map((v) => BigInt(typeof v === 'number' ? v : v.toString())));
    case 'uint32':
    case 'uint64':
      check(t.uint64Data.length, 'uint64_data');
      return ref.dtype === 'uint64'
        ? BigUint64Array.from(t.uint64Data.map((v) => BigInt(typeof v === 'number' ? v : v.toString())))
        : Uint32Array.from(t.uint64Data.map((v) => toNumber(v)));
    case 'string':
      throw new HailoError('INVALID_ARGUMENT', `${file}: tensor '${ref.name}' holds strings, which cannot be read as numbers`, { file });
    default: {
      check(t.int32Data.length, 'int32_data');
      const bytes = new Uint8Array(n * Math.max(1, ref.byteLength / Math.max(1, n)));
      const out = typedFromBytes(ref.dtype, bytes, file, ref.name) as Int32Array | Uint8Array;
      if (dt === undefined) return out;
      for (let i = 0; i < n; i++) out[i] = t.int32Data[i]!;
      return out;
    }
  }
}

export function toNumbers(d: TensorData): number[] {
  const out = new Array<number>(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return out;
}
