import { HailoError } from '../errors';
import { elementCount, isFloatDtype, toFloat64, type NdArray } from './npy';

/**
 * The comparison maths of the fidelity check: how far one stage's output is from another's, as a
 * whole, per time step and per channel. Every figure is computed from sums kept in float64, so the
 * figures of several samples can be added up (the curve of a step is over all samples).
 */

export interface Metrics {
  /** Cosine similarity of the flattened outputs; 1 when both are all zero. */
  cosine: number;
  /** 10·log10(Σref² / Σ(ref−test)²); null when the outputs are identical (infinite SNR). */
  snrDb: number | null;
  maxAbs: number;
  meanAbs: number;
}

/** SNR below this is reported as this (the reference is all zero where the test is not). */
export const SNR_FLOOR_DB = -100;
/** Per-channel curves are kept up to this many channels. */
export const MAX_CHANNELS = 8192;

/** The sums behind Metrics, for one slice (everything, one step or one channel). */
class Sums {
  readonly ref2: Float64Array;
  readonly test2: Float64Array;
  readonly dot: Float64Array;
  readonly err2: Float64Array;
  readonly abs: Float64Array;
  readonly max: Float64Array;
  readonly n: Float64Array;
  constructor(readonly size: number) {
    this.ref2 = new Float64Array(size);
    this.test2 = new Float64Array(size);
    this.dot = new Float64Array(size);
    this.err2 = new Float64Array(size);
    this.abs = new Float64Array(size);
    this.max = new Float64Array(size);
    this.n = new Float64Array(size);
  }
  add(k: number, r: number, t: number): void {
    const e = r - t;
    const a = Math.abs(e);
    this.ref2[k]! += r * r;
    this.test2[k]! += t * t;
    this.dot[k]! += r * t;
    this.err2[k]! += e * e;
    this.abs[k]! += a;
    if (a > this.max[k]!) this.max[k] = a;
    this.n[k]! += 1;
  }
  metrics(k: number): Metrics {
    return metricsFromSums(this.ref2[k]!, this.test2[k]!, this.dot[k]!, this.err2[k]!, this.abs[k]!, this.max[k]!, this.n[k]!);
  }
}

export function metricsFromSums(ref2: number, test2: number, dot: number, err2: number, abs: number, max: number, n: number): Metrics {
  let cosine: number;
  if (ref2 === 0 && test2 === 0) cosine = 1;
  else if (ref2 === 0 || test2 === 0) cosine = 0;
  else cosine = Math.max(-1, Math.min(1, dot / Math.sqrt(ref2 * test2)));
  let snrDb: number | null;
  if (err2 === 0) snrDb = null;
  else if (ref2 === 0) snrDb = SNR_FLOOR_DB;
  else snrDb = Math.max(SNR_FLOOR_DB, 10 * Math.log10(ref2 / err2));
  return { cosine, snrDb, maxAbs: max, meanAbs: n ? abs / n : 0 };
}

/** Metrics of two equally long flat arrays (no layout, no curves). */
export function compareFlat(ref: ArrayLike<number>, test: ArrayLike<number>): Metrics {
  if (ref.length !== test.length) throw new HailoError('FIDELITY_SHAPE_MISMATCH', `cannot compare ${ref.length} values with ${test.length}`);
  const s = new Sums(1);
  for (let i = 0; i < ref.length; i++) s.add(0, ref[i]!, test[i]!);
  return s.metrics(0);
}

/** Where an array comes from, for messages: the stage and file. */
export interface Labelled {
  array: NdArray;
  /** e.g. "onnx output features of sample 3 (…/features.npy)" */
  label: string;
  file?: string;
}

function squeezed(shape: readonly number[]): number[] {
  return shape.filter((d) => d !== 1);
}

function* permutations(n: number): Generator<number[]> {
  const p = [...Array(n).keys()];
  const c = new Array<number>(n).fill(0);
  yield [...p];
  let i = 0;
  while (i < n) {
    if (c[i]! < i) {
      const j = i % 2 ? c[i]! : 0;
      [p[i], p[j]] = [p[j]!, p[i]!];
      yield [...p];
      c[i]!++;
      i = 0;
    } else {
      c[i] = 0;
      i++;
    }
  }
}

/**
 * How to read `test` in the layout of `ref`: stages disagree on layout (PyTorch [1, C, T] or
 * [1, T, C], Hailo NHWC [1, 1, T, C]). Size-1 axes are ignored; when the remaining axes are a
 * permutation of the reference's, the test is transposed. Preference, when sizes repeat: the same
 * order, then channels moved between first and last (NCHW <-> NHWC), then any other.
 * Returns the permutation p (test axis p[i] becomes squeezed reference axis i), or undefined.
 */
export function layoutPermutation(refShape: readonly number[], testShape: readonly number[]): number[] | undefined {
  const r = squeezed(refShape);
  const t = squeezed(testShape);
  if (r.length !== t.length) return undefined;
  const n = r.length;
  const ok = (p: number[]) => p.every((src, i) => t[src] === r[i]);
  const identity = [...Array(n).keys()];
  if (ok(identity)) return identity;
  if (n > 6) return undefined;
  const toLast = [...identity.slice(1), 0]; // test [C, T] read as ref [T, C]: the test's first axis goes last
  const toFirst = [n - 1, ...identity.slice(0, n - 1)]; // test [T, C] read as ref [C, T]
  for (const p of [toFirst, toLast]) if (ok(p)) return p;
  for (const p of permutations(n)) if (ok(p)) return p;
  return undefined;
}

function transpose(data: Float64Array, shape: number[], perm: number[]): Float64Array {
  // shape: the source (squeezed test) shape; out axis i = source axis perm[i]
  const n = shape.length;
  if (perm.every((p, i) => p === i)) return data;
  const srcStride = new Array<number>(n);
  let acc = 1;
  for (let a = n - 1; a >= 0; a--) {
    srcStride[a] = acc;
    acc *= shape[a]!;
  }
  const outShape = perm.map((p) => shape[p]!);
  const stride = perm.map((p) => srcStride[p]!);
  const out = new Float64Array(data.length);
  const idx = new Array<number>(n).fill(0);
  for (let o = 0; o < data.length; o++) {
    let s = 0;
    for (let a = 0; a < n; a++) s += idx[a]! * stride[a]!;
    out[o] = data[s]!;
    for (let a = n - 1; a >= 0; a--) {
      if (++idx[a]! < outShape[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

/**
 * The time axis of an output, as an index into its shape: the given one, else the longest axis
 * (Whisper-small's encoder gives [1, 1500, 768]: 1500 steps of 768 channels; [1, 768, 1500] the
 * same). Ties go to the first. Rank 0 or all-ones shapes have no time axis (undefined).
 */
export function timeAxisOf(shape: readonly number[], given?: number): number | undefined {
  if (given !== undefined) {
    const a = given < 0 ? shape.length + given : given;
    if (!Number.isInteger(a) || a < 0 || a >= shape.length) {
      throw new HailoError('FIDELITY_SHAPE_MISMATCH', `time axis ${given} is outside the output shape [${shape.join(', ')}]`);
    }
    return a;
  }
  let best: number | undefined;
  shape.forEach((d, i) => {
    if (d > 1 && (best === undefined || d > shape[best]!)) best = i;
  });
  return best;
}

function checkArray(l: Labelled): Float64Array {
  if (!isFloatDtype(l.array.dtype)) {
    throw new HailoError(
      'FIDELITY_DTYPE',
      `${l.label} holds ${l.array.dtype} values; the comparison needs float outputs (dequantized, e.g. HailoRT FormatType.FLOAT32)`,
      { file: l.file },
    );
  }
  if (elementCount(l.array.shape) !== l.array.data.length) {
    throw new HailoError('FIDELITY_SHAPE_MISMATCH', `${l.label}: ${l.array.data.length} values do not fill shape [${l.array.shape.join(', ')}]`, {
      file: l.file,
    });
  }
  const d = toFloat64(l.array);
  let bad = 0;
  let first = -1;
  let nan = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (!Number.isFinite(v)) {
      if (first < 0) first = i;
      bad++;
      if (Number.isNaN(v)) nan++;
    }
  }
  if (bad) {
    throw new HailoError(
      'FIDELITY_NOT_FINITE',
      `${l.label} has ${bad} non-finite value(s) (${nan} NaN, ${bad - nan} ±Inf) of ${d.length}, the first at flat index ${first}`,
      { file: l.file },
    );
  }
  return d;
}

export interface Curves {
  cosine: number[];
  snrDb: (number | null)[];
  maxAbs: number[];
  meanAbs: number[];
}

export interface OutputComparisonResult {
  /** Reference shape (the first sample's). */
  shape: number[];
  /** Axis of `shape` along which steps are counted; undefined for a single value. */
  timeAxis: number | undefined;
  steps: number;
  channels: number;
  /** Over every value of every sample. */
  metrics: Metrics;
  perSample: (Metrics & { sample: string })[];
  perStep: Curves;
  /** Absent when there are more than MAX_CHANNELS channels. */
  perChannel?: Curves;
  /** Test arrays that needed a transpose to match the reference layout. */
  transposed: boolean;
}

/**
 * Compares one output of two stages over samples: call add() per sample, then result().
 * The first sample fixes the reference shape and time axis; later samples must have the same.
 */
export class OutputComparison {
  private total = new Sums(1);
  private step: Sums | undefined;
  private chan: Sums | undefined;
  private shape: number[] | undefined;
  private timeAxis: number | undefined;
  private steps = 1;
  private inner = 1;
  private channels = 1;
  private transposed = false;
  private readonly samples: (Metrics & { sample: string })[] = [];

  constructor(private readonly opts: { timeAxis?: number } = {}) {}

  add(sample: string, ref: Labelled, test: Labelled): Metrics {
    const r = checkArray(ref);
    let t = checkArray(test);
    const rs = ref.array.shape;
    if (!this.shape) {
      this.shape = [...rs];
      this.timeAxis = timeAxisOf(rs, this.opts.timeAxis);
      const sq = squeezed(rs);
      if (this.timeAxis !== undefined && rs[this.timeAxis] !== 1) {
        // position of the time axis among the squeezed axes
        const ti = rs.slice(0, this.timeAxis).filter((d) => d !== 1).length;
        this.steps = sq[ti]!;
        this.inner = elementCount(sq.slice(ti + 1));
      }
      this.channels = r.length / this.steps;
      this.step = new Sums(this.steps);
      if (this.channels <= MAX_CHANNELS) this.chan = new Sums(this.channels);
    } else if (rs.length !== this.shape.length || rs.some((d, i) => d !== this.shape![i])) {
      throw new HailoError('FIDELITY_SHAPE_MISMATCH', `${ref.label} has shape [${rs.join(', ')}], the first sample had [${this.shape.join(', ')}]`, {
        file: ref.file,
      });
    }
    const perm = layoutPermutation(rs, test.array.shape);
    if (!perm) {
      throw new HailoError(
        'FIDELITY_SHAPE_MISMATCH',
        `${test.label} has shape [${test.array.shape.join(', ')}], which is no layout of ${ref.label}'s [${rs.join(', ')}]`,
        { file: test.file },
      );
    }
    if (perm.some((p, i) => p !== i)) {
      t = transpose(t, squeezed(test.array.shape), perm);
      this.transposed = true;
    }
    const one = new Sums(1);
    const T = this.steps;
    const inner = this.inner;
    const step = this.step!;
    const chan = this.chan;
    for (let i = 0; i < r.length; i++) {
      const rv = r[i]!;
      const tv = t[i]!;
      const ti = Math.floor(i / inner) % T;
      one.add(0, rv, tv);
      this.total.add(0, rv, tv);
      step.add(ti, rv, tv);
      if (chan) chan.add(Math.floor(i / (T * inner)) * inner + (i % inner), rv, tv);
    }
    const m = one.metrics(0);
    this.samples.push({ sample, ...m });
    return m;
  }

  result(): OutputComparisonResult {
    if (!this.shape) throw new HailoError('FIDELITY_OUTPUT_MISSING', 'no sample was compared');
    const curves = (s: Sums): Curves => {
      const c: Curves = { cosine: [], snrDb: [], maxAbs: [], meanAbs: [] };
      for (let k = 0; k < s.size; k++) {
        const m = s.metrics(k);
        c.cosine.push(round(m.cosine));
        c.snrDb.push(m.snrDb === null ? null : round(m.snrDb));
        c.maxAbs.push(round(m.maxAbs));
        c.meanAbs.push(round(m.meanAbs));
      }
      return c;
    };
    return {
      shape: this.shape,
      timeAxis: this.timeAxis,
      steps: this.steps,
      channels: this.channels,
      metrics: this.total.metrics(0),
      perSample: this.samples,
      perStep: curves(this.step!),
      ...(this.chan ? { perChannel: curves(this.chan) } : {}),
      transposed: this.transposed,
    };
  }
}

/** Five significant digits: enough for a chart, a fraction of the JSON. */
export function round(x: number): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(5));
}

/** Float32 rounding stays far above this; a step below it, among exact ones, is damaged. */
export const EXACT_LIMIT_DB = 60;

export interface DamagedRange {
  /** First and last step (inclusive). */
  from: number;
  to: number;
  /** Mean SNR of the damaged steps in the range (dB). */
  snrDb: number;
}

/**
 * Contiguous runs of steps whose SNR lies `dropDb` or more below the median step: a padding that
 * was dropped and zeroes the last steps, an attention mask gone wrong at the start. Steps with an
 * exact match (null) count as good. Runs closer than `gap` steps are merged; runs shorter than
 * `minSteps` are ignored (single noisy steps are not damage).
 */
export function damagedRanges(snr: readonly (number | null)[], opts: { dropDb?: number; gap?: number; minSteps?: number } = {}): DamagedRange[] {
  const dropDb = opts.dropDb ?? 10;
  const gap = opts.gap ?? 2;
  const minSteps = opts.minSteps ?? 3;
  const finite = snr.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (!finite.length) return [];
  // median over all steps, exact ones counting as the highest; when most steps are exact, any step
  // below EXACT_LIMIT_DB (far above float rounding) stands out
  const mid = Math.floor(snr.length / 2);
  const limit = mid < finite.length ? finite[mid]! - dropDb : EXACT_LIMIT_DB;
  const out: DamagedRange[] = [];
  let cur: { from: number; to: number } | undefined;
  for (let i = 0; i < snr.length; i++) {
    const v = snr[i];
    if (v !== null && v !== undefined && v < limit) {
      if (cur && i - cur.to <= gap) cur.to = i;
      else {
        if (cur) out.push(rangeOf(cur, snr, limit));
        cur = { from: i, to: i };
      }
    }
  }
  if (cur) out.push(rangeOf(cur, snr, limit));
  return out.filter((r) => r.to - r.from + 1 >= minSteps);
}

/** The range with the mean SNR of its damaged steps (steps in merged gaps do not count). */
function rangeOf(r: { from: number; to: number }, snr: readonly (number | null)[], limit: number): DamagedRange {
  let s = 0;
  let n = 0;
  for (let i = r.from; i <= r.to; i++) {
    const v = snr[i];
    if (v !== null && v !== undefined && v < limit) {
      s += v;
      n++;
    }
  }
  return { from: r.from, to: r.to, snrDb: round(n ? s / n : 0) };
}
