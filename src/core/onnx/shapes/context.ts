import type { Dim, GraphModel, GraphNode } from '../../graph/model';
import type { ConstValue } from '../tensorData';

/** What shape inference reads and fills (see `inferShapes` in ../shapes.ts). */
export interface ShapeInput {
  /** In topological order. */
  nodes: GraphNode[];
  /** ai.onnx opset; decides attribute-vs-input forms (Squeeze axes, Split sizes, Pad pads...). */
  opset: number | undefined;
  /** Filled in place: graph inputs and initializers on entry, every node output on return. */
  values: GraphModel['values'];
  /** Shapes declared in the file (value_info, graph outputs): used when inference cannot, and checked against it. */
  declared: Map<string, { shape: Dim[] | undefined; dtype: string | undefined }>;
  /** Small constants (initializers and Constant outputs) already decoded. */
  consts: Map<string, ConstValue>;
}

/** A folded small tensor: values may be symbolic dims (strings) when they come from a Shape. */
export interface Folded {
  dims: number[];
  data: Dim[];
}

export interface OpResult {
  shapes: (Dim[] | undefined)[];
  dtypes?: (string | undefined)[];
  folded?: (Folded | undefined)[];
}

/** A node whose shape cannot be inferred: reported on that node (unless silent), never fatal. */
export class Skip extends Error {
  /** silent: the cause (an unknown input shape) was reported where it started. */
  constructor(
    msg: string,
    readonly silent = false,
  ) {
    super(msg);
  }
}

/** Largest constant folded through shape arithmetic (elements). */
export const MAX_FOLD = 4096;
export const UNKNOWN = '?';

/** One operator's shape function and the inputs it needs. */
export interface ShapeRule {
  /** Fewest inputs a well-formed node of this op has; fewer is reported as "X has n inputs, needs m". */
  minInputs: number;
  infer(c: ShapeContext): OpResult;
}

/** An op family's table: op type -> rule. */
export type ShapeRules = Record<string, ShapeRule>;

/** Builds a table entry: `rule(2, (c) => ...)`. */
export function rule(minInputs: number, infer: (c: ShapeContext) => OpResult): ShapeRule {
  return { minInputs, infer };
}

/** The same rule under several op names. */
export function rules(ops: Iterable<string>, r: ShapeRule): ShapeRules {
  const out: ShapeRules = {};
  for (const op of ops) out[op] = r;
  return out;
}

/** One node as a shape function sees it: its inputs' shapes, constant values and folded values. */
export class ShapeContext {
  readonly op: string;
  constructor(
    readonly node: GraphNode,
    readonly inp: ShapeInput,
    readonly opset: number,
    readonly folded: Map<string, Folded>,
  ) {
    this.op = node.op;
  }

  shapeOf(k: number): Dim[] {
    const name = this.node.inputs[k];
    if (!name) throw new Skip(`input ${k} is missing`);
    const s = this.inp.values[name]?.shape;
    if (!s) throw new Skip(`shape of input '${name}' is unknown`, true);
    return s;
  }

  has(k: number): boolean {
    return !!this.node.inputs[k];
  }

  /** Values of a constant (or folded) integer input; undefined when absent, Skip when not constant. */
  constInts(k: number, what: string): number[] | undefined {
    const name = this.node.inputs[k];
    if (!name) return undefined;
    const f = this.folded.get(name);
    const cv = this.inp.consts.get(name);
    const c = f ?? (cv ? { dims: cv.dims, data: cv.data } : undefined);
    if (!c) throw new Skip(`${what} ('${name}') is not a constant`);
    if (c.data.some((d) => !isNum(d))) throw new Skip(`${what} ('${name}') holds symbolic values [${c.data.join(', ')}]`);
    return c.data as number[];
  }

  constDims(k: number, what: string): Dim[] | undefined {
    const name = this.node.inputs[k];
    if (!name) return undefined;
    const f = this.folded.get(name);
    if (f) return f.data;
    const c = this.inp.consts.get(name);
    if (!c) throw new Skip(`${what} ('${name}') is not a constant`);
    return c.data;
  }

  constFloats(k: number): number[] | undefined {
    const name = this.node.inputs[k];
    if (!name) return undefined;
    const c = this.inp.consts.get(name);
    if (!c) throw new Skip(`input '${name}' is not a constant`);
    return c.data;
  }

  foldedOf(k: number): Folded | undefined {
    const name = this.node.inputs[k];
    return name ? this.folded.get(name) : undefined;
  }

  /** The output has the shape of input k. */
  same(k = 0): OpResult {
    return { shapes: [this.shapeOf(k)] };
  }
}

// ---- helpers over dims and attributes ----

export const isNum = (d: Dim | undefined): d is number => typeof d === 'number';

export function product(dims: Dim[]): Dim {
  let p = 1;
  for (const d of dims) {
    if (!isNum(d)) return UNKNOWN;
    p *= d;
  }
  return p;
}

export function normAxis(axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank || !Number.isInteger(a)) throw new Skip(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

export function broadcastShapes(shapes: Dim[][]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let num: number | undefined;
    const syms = new Set<string>();
    for (const s of shapes) {
      const d = s[s.length - rank + i];
      if (d === undefined) continue;
      if (isNum(d)) {
        if (d === 1) continue;
        if (num !== undefined && num !== d) throw new Skip(`cannot broadcast shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')}`);
        num = d;
      } else syms.add(d);
    }
    if (num !== undefined) out.push(num);
    else if (syms.size === 1) out.push([...syms][0]!);
    else if (syms.size > 1) out.push(UNKNOWN);
    else out.push(1);
  }
  return out;
}

export function attrInt(node: GraphNode, name: string, dflt: number): number {
  const v = node.attrs[name];
  return typeof v === 'number' ? v : dflt;
}
export function attrInts(node: GraphNode, name: string): number[] | undefined {
  const v = node.attrs[name];
  return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;
}
export function attrFloats(node: GraphNode, name: string): number[] | undefined {
  return attrInts(node, name);
}
export function attrStr(node: GraphNode, name: string, dflt: string): string {
  const v = node.attrs[name];
  return typeof v === 'string' ? v : dflt;
}

export function isIntLike(dtype: string): boolean {
  return /^(u?int\d+|bool)$/.test(dtype);
}

export function dtypeOf(inp: ShapeInput, name: string | undefined): string | undefined {
  return name ? inp.values[name]?.dtype : undefined;
}

/** Folds an index remapping (Transpose, Slice) of a small constant: `at` fills the input index of an output index. */
export function remap(f: Folded, inDims: number[], outDims: number[], at: (out: number[], inp: number[]) => void): Folded | undefined {
  const n = outDims.reduce((a, b) => a * b, 1);
  if (n > MAX_FOLD || f.data.length !== inDims.reduce((a, b) => a * b, 1)) return undefined;
  const strides = inDims.map((_, k) => inDims.slice(k + 1).reduce((a, b) => a * b, 1));
  const idx = outDims.map(() => 0);
  const src = inDims.map(() => 0);
  const data: Dim[] = [];
  for (let e = 0; e < n; e++) {
    at(idx, src);
    let flat = 0;
    for (let k = 0; k < src.length; k++) flat += src[k]! * strides[k]!;
    const v = f.data[flat];
    if (v === undefined) return undefined;
    data.push(v);
    for (let k = idx.length - 1; k >= 0; k--) {
      if (++idx[k]! < outDims[k]!) break;
      idx[k] = 0;
    }
  }
  return { dims: outDims, data };
}
