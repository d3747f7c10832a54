import type { GraphNode } from '../../graph/model';

/**
 * A small constant folder for the chains exporters write instead of literal constants: torch's
 * F.pad turns `(0, 1, 0, 1)` into ConstantOfShape -> Concat -> Reshape -> Slice(step -1) ->
 * Transpose -> Reshape -> Cast. Only small integer-like tensors are folded (pads, axes, shapes).
 */
export interface Folded {
  dims: number[];
  data: number[];
}

export interface FoldSource {
  /** A value known directly: a read initializer or Constant, with its dims when known. */
  known(name: string): Folded | undefined;
  producer(name: string): GraphNode | undefined;
  staticShape(name: string | undefined): number[] | undefined;
  opset: number;
}

const MAX_ELEMENTS = 4096;
const MAX_DEPTH = 64;

const numel = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

function strides(dims: number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
}

/** Tensor attribute of a Constant/ConstantOfShape as the reader keeps it: {dims, values}. */
export function attrTensor(v: unknown): Folded | undefined {
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return { dims: [v.length], data: v as number[] };
  if (typeof v === 'number') return { dims: [], data: [v] };
  if (v && typeof v === 'object') {
    const o = v as { dims?: unknown; values?: unknown };
    if (Array.isArray(o.values) && o.values.every((x) => typeof x === 'number')) {
      const dims = Array.isArray(o.dims) ? (o.dims as number[]) : [o.values.length];
      return { dims, data: o.values as number[] };
    }
  }
  return undefined;
}

export class Folder {
  private readonly memo = new Map<string, Folded | null>();
  constructor(private readonly src: FoldSource) {}

  value(name: string | undefined, depth = 0): Folded | undefined {
    if (!name) return undefined;
    const m = this.memo.get(name);
    if (m !== undefined) return m ?? undefined;
    if (depth > MAX_DEPTH) return undefined;
    this.memo.set(name, null); // cycle guard
    let r: Folded | undefined;
    try {
      r = this.src.known(name) ?? this.fold(name, depth);
    } catch {
      r = undefined;
    }
    if (r && (r.data.length > MAX_ELEMENTS || r.data.length !== numel(r.dims))) r = undefined;
    this.memo.set(name, r ?? null);
    return r;
  }

  private fold(name: string, depth: number): Folded | undefined {
    const n = this.src.producer(name);
    if (!n) return undefined;
    const input = (k: number) => this.value(n.inputs[k], depth + 1);
    const ints = (k: string): number[] | undefined => {
      const v = n.attrs[k];
      return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;
    };
    const int = (k: string): number | undefined => (typeof n.attrs[k] === 'number' ? (n.attrs[k] as number) : undefined);
    const outShape = this.src.staticShape(name);
    switch (n.op) {
      case 'Constant': {
        for (const k of ['value', 'value_ints', 'value_floats', 'value_int', 'value_float']) {
          const t = attrTensor(n.attrs[k]);
          if (t) return t;
        }
        return undefined;
      }
      case 'Identity':
      case 'Cast': {
        const a = input(0);
        return a; // integer-like values survive the casts exporters insert (int64 <-> int32)
      }
      case 'Shape': {
        const s = this.src.staticShape(n.inputs[0]);
        if (!s) return undefined;
        const start = int('start') ?? 0;
        const end = int('end');
        const data = s.slice(start, end);
        return { dims: [data.length], data };
      }
      case 'ConstantOfShape': {
        const shape = input(0);
        if (!shape) return undefined;
        const fill = attrTensor(n.attrs.value)?.data[0] ?? 0;
        const dims = shape.data;
        if (numel(dims) > MAX_ELEMENTS) return undefined;
        return { dims, data: new Array<number>(numel(dims)).fill(fill) };
      }
      case 'Concat': {
        const parts = n.inputs.map((_, k) => input(k));
        if (parts.some((p) => !p) || !parts.every((p) => p!.dims.length <= 1)) return undefined;
        const data = parts.flatMap((p) => p!.data);
        return { dims: [data.length], data };
      }
      case 'Reshape':
      case 'Unsqueeze':
      case 'Squeeze':
      case 'Flatten': {
        const a = input(0);
        if (!a) return undefined;
        let dims = outShape;
        if (!dims && n.op === 'Reshape') {
          const target = input(1)?.data;
          if (!target) return undefined;
          const known = target.map((d, i) => (d === 0 ? (a.dims[i] ?? 1) : d));
          const rest = known.filter((d) => d !== -1).reduce((x, y) => x * y, 1);
          dims = known.map((d) => (d === -1 ? a.data.length / rest : d));
        }
        if (!dims || numel(dims) !== a.data.length) return undefined;
        return { dims, data: a.data };
      }
      case 'Transpose': {
        const a = input(0);
        if (!a) return undefined;
        const perm = ints('perm') ?? [...a.dims.keys()].reverse();
        const dims = perm.map((p) => a.dims[p]!);
        const inStr = strides(a.dims);
        const outStr = strides(dims);
        const data = new Array<number>(a.data.length);
        for (let i = 0; i < a.data.length; i++) {
          let rem = i;
          let src = 0;
          for (let d = 0; d < dims.length; d++) {
            const idx = Math.floor(rem / outStr[d]!);
            rem -= idx * outStr[d]!;
            src += idx * inStr[perm[d]!]!;
          }
          data[i] = a.data[src]!;
        }
        return { dims, data };
      }
      case 'Slice': {
        const a = input(0);
        if (!a) return undefined;
        const rank = a.dims.length;
        let starts: number[] | undefined, ends: number[] | undefined, axes: number[] | undefined, steps: number[] | undefined;
        if (this.src.opset < 10) {
          starts = ints('starts');
          ends = ints('ends');
          axes = ints('axes');
        } else {
          starts = input(1)?.data;
          ends = input(2)?.data;
          axes = n.inputs[3] ? input(3)?.data : undefined;
          steps = n.inputs[4] ? input(4)?.data : undefined;
          if ((n.inputs[3] && !axes) || (n.inputs[4] && !steps)) return undefined;
        }
        if (!starts || !ends) return undefined;
        const ax = axes ?? starts.map((_, i) => i);
        const ranges = a.dims.map((d) => ({ start: 0, step: 1, count: d }));
        for (let i = 0; i < ax.length; i++) {
          const axis = ax[i]! < 0 ? ax[i]! + rank : ax[i]!;
          const dim = a.dims[axis];
          if (dim === undefined) return undefined;
          const step = steps?.[i] ?? 1;
          if (step === 0) return undefined;
          const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
          let s = starts[i]!;
          let e = ends[i]!;
          if (s < 0) s += dim;
          if (e < 0) e += dim;
          if (step > 0) {
            s = clamp(s, 0, dim);
            e = clamp(e, 0, dim);
          } else {
            s = clamp(s, 0, dim - 1);
            e = clamp(e, -1, dim - 1);
          }
          const count = Math.max(0, Math.ceil((e - s) / step));
          ranges[axis] = { start: s, step, count };
        }
        const dims = ranges.map((r) => r.count);
        const inStr = strides(a.dims);
        const outStr = strides(dims);
        const total = numel(dims);
        const data = new Array<number>(total);
        for (let i = 0; i < total; i++) {
          let rem = i;
          let src = 0;
          for (let d = 0; d < dims.length; d++) {
            const idx = Math.floor(rem / outStr[d]!);
            rem -= idx * outStr[d]!;
            src += (ranges[d]!.start + idx * ranges[d]!.step) * inStr[d]!;
          }
          data[i] = a.data[src]!;
        }
        return { dims, data };
      }
      case 'Gather': {
        const a = input(0);
        const idx = input(1);
        if (!a || !idx || a.dims.length > 1 || (int('axis') ?? 0) !== 0) return undefined;
        const data = idx.data.map((i) => a.data[i < 0 ? i + a.data.length : i]!);
        if (data.some((x) => x === undefined)) return undefined;
        return { dims: idx.dims, data };
      }
      case 'Neg': {
        const a = input(0);
        return a && { dims: a.dims, data: a.data.map((x) => -x) };
      }
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div': {
        const a = input(0);
        const b = input(1);
        if (!a || !b) return undefined;
        const [big, small] = a.data.length >= b.data.length ? [a, b] : [b, a];
        if (small.data.length !== 1 && small.data.length !== big.data.length) return undefined;
        const at = (t: Folded, i: number) => (t.data.length === 1 ? t.data[0]! : t.data[i]!);
        const f = {
          Add: (x: number, y: number) => x + y,
          Sub: (x: number, y: number) => x - y,
          Mul: (x: number, y: number) => x * y,
          Div: (x: number, y: number) => Math.trunc(x / y),
        }[n.op];
        return { dims: big.dims, data: big.data.map((_, i) => f(at(a, i), at(b, i))) };
      }
      default:
        return undefined;
    }
  }
}
