import * as fs from 'node:fs';
import * as path from 'node:path';
import { HailoError } from '../errors';
import type { Model } from '../project/schema';
import { modelPaths } from '../project/load';
import { elementCount, parseNpy, readNpy, writeNpy, type NdArray } from './npy';
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

async function calibSamples(calib: string, model: Model, n: number, inputsDir: string, used: Set<string>): Promise<Sample[]> {
  const spec = model.inputs[0]!;
  const want = spec.shape;
  const st = statOrThrow(calib, 'calibration set');
  const out: Sample[] = [];
  if (st.isDirectory()) {
    const files = filesIn(calib, /\.npy$/i).slice(0, n);
    if (!files.length) throw new HailoError('FIDELITY_INPUT_INVALID', `${calib}: no .npy files in the calibration folder`, { file: calib });
    for (const file of files)
      out.push({ id: uniqueId(`calib_${path.basename(file).replace(/\.npy$/i, '')}`, used), source: file, inputs: { [spec.name]: file } });
    return out;
  }
  const a: NdArray = parseNpy(await fs.promises.readFile(calib), calib);
  // [N, ...shape without batch] or [N, ...shape]
  const per = want[0] === 1 ? want.slice(1) : want;
  const matches = (s: number[]) => s.length === per.length && s.every((d, i) => d === per[i]);
  const rows = a.shape[0] ?? 0;
  let rowShape = a.shape.slice(1);
  if (!matches(rowShape) && rowShape[0] === 1 && matches(rowShape.slice(1))) rowShape = rowShape.slice(1);
  if (!matches(rowShape)) {
    throw new HailoError(
      'FIDELITY_SHAPE_MISMATCH',
      `${calib}: calibration samples have shape [${a.shape.slice(1).join(', ')}], input "${spec.name}" is [${want.join(', ')}]; ` +
        'a calibration set in the Hailo layout (NHWC) cannot feed the PyTorch model: list .npy files in fidelity.inputs instead',
      { file: calib },
    );
  }
  const size = elementCount(want);
  for (let i = 0; i < Math.min(n, rows); i++) {
    const id = uniqueId(`calib_${i}`, used);
    const file = path.join(inputsDir, id, `${spec.name}.npy`);
    const data = a.data.slice(i * size, (i + 1) * size);
    await writeNpy(file, { dtype: a.dtype, shape: [...want], data });
    out.push({ id, source: `${calib}[${i}]`, inputs: { [spec.name]: file } });
  }
  return out;
}

export function manifestSamples(samples: Sample[]): ManifestSample[] {
  return samples.map((s) => (s.inputs ? { id: s.id, inputs: s.inputs } : { id: s.id, wav: s.wav! }));
}
