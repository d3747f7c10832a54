import * as fs from 'node:fs';
import * as path from 'node:path';
import { HailoError } from '../errors';
import type { Model } from '../project/schema';
import { modelPaths } from '../project/load';
import { elementCount, readNpy, readNpyRows, writeNpy, type NdArray } from './npy';
import type { ManifestSample } from './driver';

/**
 * The samples a fidelity check runs on, from the model's `fidelity` section: `.npy` files or
 * folders, the first N samples of the calibration set, and WAV files for the user's audio
 * function. Every .npy input is checked against the model's input shape and dtype before any stage
 * runs, so a wrong file is named up front and not after minutes of emulation.
 */

export interface Sample {
  id: string;
  /** What the sample came from, for the record: a file, a folder, `calibSet[3]`. */
  source: string;
  /** Input files by input name (absent for WAV samples until the torch stage made them). */
  inputs?: Record<string, string>;
  wav?: string;
}

const MAX_SAMPLES = 256;

function uniqueId(base: string, used: Set<string>): string {
  let id = base.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_') || 'sample';
  if (used.has(id)) {
    let i = 2;
    while (used.has(`${id}_${i}`)) i++;
    id = `${id}_${i}`;
  }
  used.add(id);
  return id;
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function statOrThrow(p: string, what: string): fs.Stats {
  try {
    return fs.statSync(p);
  } catch {
    throw new HailoError('FIDELITY_INPUT_INVALID', `${p}: ${what} not found`, { file: p });
  }
}

function filesIn(dir: string, ext: RegExp): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && ext.test(d.name))
    .map((d) => path.join(dir, d.name))
    .sort();
}

export interface ResolveOptions {
  /** Where inputs cut from the calibration set are written (`<dir>/<sample>/<input>.npy`). */
  inputsDir: string;
}

export async function resolveSamples(model: Model, root: string, opts: ResolveOptions): Promise<Sample[]> {
  const f = model.fidelity;
  const inputNames = model.inputs.map((i) => i.name);
  const single = inputNames.length === 1;
  const used = new Set<string>();
  const out: Sample[] = [];
  const add = (s: Sample) => {
    if (out.length >= MAX_SAMPLES) throw new HailoError('FIDELITY_INPUT_INVALID', `more than ${MAX_SAMPLES} fidelity samples; pick fewer files`);
    out.push(s);
  };

  for (const rel of list(f?.inputs)) {
    const p = path.resolve(root, rel);
    const st = statOrThrow(p, 'fidelity input');
    if (st.isFile()) {
      if (!single)
        throw new HailoError(
          'FIDELITY_INPUT_INVALID',
          `${p}: the model has ${inputNames.length} inputs; give one folder per sample holding ${inputNames.map((n) => `${n}.npy`).join(', ')}`,
          { file: p },
        );
      add({ id: uniqueId(path.basename(p).replace(/\.npy$/i, ''), used), source: p, inputs: { [inputNames[0]!]: p } });
      continue;
    }
    const hasAll = (dir: string) => inputNames.every((n) => fs.existsSync(path.join(dir, `${n}.npy`)));
    if (!single && hasAll(p)) {
      add({ id: uniqueId(path.basename(p), used), source: p, inputs: Object.fromEntries(inputNames.map((n) => [n, path.join(p, `${n}.npy`)])) });
      continue;
    }
    if (single) {
      const files = filesIn(p, /\.npy$/i);
      if (!files.length) throw new HailoError('FIDELITY_INPUT_INVALID', `${p}: no .npy files in this fidelity input folder`, { file: p });
      for (const file of files) add({ id: uniqueId(path.basename(file).replace(/\.npy$/i, ''), used), source: file, inputs: { [inputNames[0]!]: file } });
      continue;
    }
    const subs = fs
      .readdirSync(p, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => path.join(p, d.name))
      .sort()
      .filter(hasAll);
    if (!subs.length)
      throw new HailoError('FIDELITY_INPUT_INVALID', `${p}: no sample folders holding ${inputNames.map((n) => `${n}.npy`).join(', ')}`, { file: p });
    for (const d of subs)
      add({ id: uniqueId(path.basename(d), used), source: d, inputs: Object.fromEntries(inputNames.map((n) => [n, path.join(d, `${n}.npy`)])) });
  }

  if (f?.calibSamples) {
    const calib = modelPaths(model, root).calibSet;
    if (!calib) throw new HailoError('FIDELITY_INPUT_INVALID', `model "${model.name}": fidelity.calibSamples needs a calibSet`);
    if (!single)
      throw new HailoError(
        'FIDELITY_INPUT_INVALID',
        `${calib}: calibration samples can feed single-input models only; list sample folders in fidelity.inputs`,
        { file: calib },
      );
    for (const s of await calibSamples(calib, model, f.calibSamples, opts.inputsDir, used)) add(s);
  }

  if (f?.audio) {
    for (const rel of list(f.audio.files)) {
      const p = path.resolve(root, rel);
      const st = statOrThrow(p, 'audio input');
      const files = st.isFile() ? [p] : filesIn(p, /\.wav$/i);
      if (!files.length) throw new HailoError('FIDELITY_INPUT_INVALID', `${p}: no .wav files in this audio folder`, { file: p });
      for (const w of files) add({ id: uniqueId(path.basename(w).replace(/\.wav$/i, ''), used), source: w, wav: w });
    }
  }
  if (!out.length) {
    throw new HailoError(
      'FIDELITY_INPUT_INVALID',
      `model "${model.name}" has no fidelity inputs: set fidelity.inputs (.npy files), fidelity.calibSamples or fidelity.audio in hailo.json`,
    );
  }
  for (const s of out) if (s.inputs) await checkInputs(model, s);
  return out;
}

/** First bytes of a file are enough for the header; the data is checked by its length. */
async function checkInputs(model: Model, s: Sample): Promise<void> {
  for (const spec of model.inputs) {
    const file = s.inputs![spec.name]!;
    const a = await readNpy(file);
    const want = spec.shape;
    const dtype = spec.dtype ?? 'float32';
    if (a.shape.length !== want.length || a.shape.some((d, i) => d !== want[i])) {
      throw new HailoError('FIDELITY_SHAPE_MISMATCH', `${file}: shape [${a.shape.join(', ')}] is not the shape of input "${spec.name}" [${want.join(', ')}]`, {
        file,
      });
    }
    if (a.dtype !== dtype && !(dtype === 'float16' && a.dtype === 'float32')) {
      throw new HailoError('FIDELITY_DTYPE', `${file}: holds ${a.dtype}; input "${spec.name}" is ${dtype} (save it with .astype(np.${dtype}))`, { file });
    }
  }
}

/**
 * The first `n` samples of a calibration set: one `.npy` holding N samples along axis 0, or a
 * folder of `.npy` files (in name order), each one sample or several along axis 0. A sample has
 * the model input's shape, or that shape without its batch axis of 1. Only the rows taken are
 * read; each is written as `<inputsDir>/<id>/<input>.npy` with the input's shape (float data in
 * the input's float type). A file that does not fit is named with its shape and the one expected.
 */
async function calibSamples(calib: string, model: Model, n: number, inputsDir: string, used: Set<string>): Promise<Sample[]> {
  const spec = model.inputs[0]!;
  const want = spec.shape;
  const dtype = spec.dtype ?? 'float32';
  const per = want[0] === 1 ? want.slice(1) : want;
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  const st = statOrThrow(calib, 'calibration set');
  const files = st.isDirectory() ? filesIn(calib, /\.npy$/i) : [calib];
  if (!files.length) throw new HailoError('FIDELITY_INPUT_INVALID', `${calib}: no .npy files in the calibration folder`, { file: calib });
  const out: Sample[] = [];
  for (const file of files) {
    if (out.length >= n) break;
    const rowsRead = await readNpyRows(file, n - out.length);
    const fileShape = rowsRead.fileShape;
    // in a folder, a file of the input's shape (with or without its batch axis) is one sample; else samples along axis 0
    const single = st.isDirectory() && (same(fileShape, want) || same(fileShape, per));
    const a = single && !same(rowsRead.array.shape, fileShape) ? await readNpy(file) : rowsRead.array;
    let rowShape = fileShape.slice(1);
    if (!single && !same(rowShape, per) && rowShape[0] === 1 && same(rowShape.slice(1), per)) rowShape = rowShape.slice(1);
    if (!single && !same(rowShape, per)) {
      throw new HailoError(
        'FIDELITY_SHAPE_MISMATCH',
        `${file}: calibration data of shape [${fileShape.join(', ')}] does not hold samples of input "${spec.name}" [${want.join(', ')}] ` +
          `(expected [N, ${per.join(', ')}]${want[0] === 1 ? ` or [N, ${want.join(', ')}]` : ''}${st.isDirectory() ? ` or one sample [${want.join(', ')}]` : ''}); ` +
          'a calibration set in the Hailo layout (NHWC) cannot feed the PyTorch model: list .npy files in fidelity.inputs instead',
        { file },
      );
    }
    const isFloat = (d: string) => d === 'float16' || d === 'float32' || d === 'float64';
    if (a.dtype !== dtype && !(isFloat(a.dtype) && isFloat(dtype))) {
      throw new HailoError('FIDELITY_DTYPE', `${file}: the calibration set holds ${a.dtype}; input "${spec.name}" is ${dtype}`, { file });
    }
    const size = elementCount(want);
    const rows = single ? 1 : a.shape[0]!;
    const base = st.isDirectory() ? `calib_${path.basename(file).replace(/\.npy$/i, '')}` : 'calib';
    for (let i = 0; i < rows && out.length < n; i++) {
      const id = uniqueId(single ? base : `${base}_${i}`, used);
      const target = path.join(inputsDir, id, `${spec.name}.npy`);
      const slice = a.data.slice(i * size, (i + 1) * size);
      // float data is written in the input's float type (float16 is held as float32, as numpy loads it here)
      const asIs = a.dtype === dtype || (dtype === 'float16' && a.dtype === 'float32');
      const arr: NdArray = asIs
        ? { dtype: a.dtype, shape: [...want], data: slice }
        : { dtype: 'float32', shape: [...want], data: Float32Array.from(slice as Float64Array) };
      await writeNpy(target, arr);
      out.push({ id, source: single ? file : `${file}[${i}]`, inputs: { [spec.name]: target } });
    }
  }
  return out;
}

export function manifestSamples(samples: Sample[]): ManifestSample[] {
  return samples.map((s) => (s.inputs ? { id: s.id, inputs: s.inputs } : { id: s.id, wav: s.wav! }));
}
