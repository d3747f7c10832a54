import type { Dim, GraphModel, GraphNode, TensorInfo } from '../graph/model';
import type { ConstValue } from './tensorData';

/**
 * Static shape inference over a topologically ordered ONNX graph. Small integer tensors (shape
 * vectors) are folded through Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains as torch
 * exports them, symbolic dims stay strings, and whatever cannot be inferred is reported (node
 * and op), never guessed.
 */
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
interface Folded {
  dims: number[];
  data: Dim[];
}

interface OpResult {
  shapes: (Dim[] | undefined)[];
  dtypes?: (string | undefined)[];
  folded?: (Folded | undefined)[];
}

class Skip extends Error {
  /** silent: the cause (an unknown input shape) was reported where it started. */
  constructor(
    msg: string,
    readonly silent = false,
  ) {
    super(msg);
  }
}

const MAX_FOLD = 4096;
const UNKNOWN = '?';

const UNARY = new Set([
  'Relu', 'Sigmoid', 'Tanh', 'Gelu', 'Erf', 'Sqrt', 'Neg', 'Abs', 'Exp', 'Log', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sin', 'Cos', 'Tan',
  'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Softplus', 'Softsign', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'HardSigmoid',
  'HardSwish', 'Mish', 'ThresholdedRelu', 'Clip', 'Identity', 'Not', 'Sign', 'Softmax', 'LogSoftmax', 'Hardmax', 'LpNormalization', 'LRN',
  'InstanceNormalization', 'GroupNormalization', 'MeanVarianceNormalization', 'CumSum', 'Trilu', 'Shrink', 'PRelu', 'BitwiseNot',
]);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Mean', 'Sum', 'Mod', 'BitShift', 'And', 'Or', 'Xor', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor']);
const BOOL_OUT = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);
const REDUCE = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']);
const POOL = new Set(['MaxPool', 'AveragePool', 'LpPool']);

export function inferShapes(inp: ShapeInput): string[] {
  const warnings: string[] = [];
  const unsupported = new Map<string, string[]>();
  const opset = inp.opset ?? 21;
  const folded = new Map<string, Folded>();
  for (const [name, c] of inp.consts) if (c.data.length <= MAX_FOLD && isIntLike(c.dtype)) folded.set(name, { dims: c.dims, data: c.data });
  for (const i of Object.values(inp.values)) {
    if (!i.initializer && !i.shape) warnings.push(`graph input '${i.name}' has no shape`);
  }

  for (const node of inp.nodes) {
    if (node.domain && node.domain !== 'ai.onnx') {
      markUnknown(inp, node);
      const list = unsupported.get(`${node.domain}.${node.op}`) ?? [];
      list.push(node.id);
      unsupported.set(`${node.domain}.${node.op}`, list);
      continue;
    }
    let res: OpResult | undefined;
    try {
      res = inferNode(node, inp, opset, folded);
      if (!res) {
        const list = unsupported.get(node.op) ?? [];
        list.push(node.id);
        unsupported.set(node.op, list);
      }
    } catch (e) {
      if (!(e instanceof Skip)) throw e;
      if (!e.silent) warnings.push(`${node.id} (${node.op}): ${e.message}`);
    }
    node.outputs.forEach((out, k) => {
      if (!out) return;
      let shape = res?.shapes[k];
      const dtype = res?.dtypes?.[k] ?? (res ? (res.dtypes ? undefined : dtypeOf(inp, node.inputs[0])) : undefined);
      const decl = inp.declared.get(out);
      if (shape && decl?.shape) {
        const merged = mergeDeclared(shape, decl.shape);
        if (!merged) warnings.push(`${node.id} (${node.op}): output '${out}' is declared as [${decl.shape.join(', ')}] but inferred as [${shape.join(', ')}]; using the inferred shape`);
        else shape = merged;
      }
      if (!shape && decl?.shape) shape = decl.shape;
      if (!shape && res) warnings.push(`${node.id} (${node.op}): shape of output ${k} '${out}' is not inferred`);
      const prev = inp.values[out];
      inp.values[out] = { name: out, shape: shape ?? prev?.shape, dtype: dtype ?? decl?.dtype ?? prev?.dtype };
      const f = res?.folded?.[k];
      if (f && f.data.length <= MAX_FOLD) folded.set(out, f);
    });
  }
  const byId = new Map(inp.nodes.map((n) => [n.id, n]));
  for (const [op, ids] of unsupported) {
    // declared shapes (value_info) fill the gap: only nodes left without one are reported
    const missing = ids.filter((id) => !byId.get(id)?.outputs.every((o) => !o || inp.values[o]?.shape));
    if (missing.length) warnings.push(`no shape inference for ${op} (${missing.length} node(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}); their output shapes are unknown unless declared`);
  }
  return warnings;
}

function markUnknown(inp: ShapeInput, node: GraphNode): void {
  for (const o of node.outputs) if (o) inp.values[o] = { name: o, shape: inp.declared.get(o)?.shape, dtype: inp.declared.get(o)?.dtype };
}

function mergeDeclared(inferred: Dim[], declared: Dim[]): Dim[] | undefined {
  if (inferred.length !== declared.length) return undefined;
  const out: Dim[] = [];
  for (let i = 0; i < inferred.length; i++) {
    const a = inferred[i]!;
    const b = declared[i]!;
    if (typeof a === 'number' && typeof b === 'number' && a !== b) return undefined;
    // inferred numbers and symbols (traced from the inputs' dim names) win; a declared dim fills an unknown one
    out.push(typeof a === 'number' || (a !== UNKNOWN && typeof b !== 'number') ? a : b);
  }
  return out;
}

function isIntLike(dtype: string): boolean {
  return /^(u?int\d+|bool)$/.test(dtype);
}

function dtypeOf(inp: ShapeInput, name: string | undefined): string | undefined {
  return name ? inp.values[name]?.dtype : undefined;
}

// ---- helpers over dims ----

const isNum = (d: Dim | undefined): d is number => typeof d === 'number';

function product(dims: Dim[]): Dim {
  let p = 1;
  for (const d of dims) {
    if (!isNum(d)) return UNKNOWN;
    p *= d;
  }
  return p;
}

function normAxis(axis: number, rank: number, what = 'axis'): number {
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

function attrInt(node: GraphNode, name: string, dflt: number): number {
  const v = node.attrs[name];
  return typeof v === 'number' ? v : dflt;
}
function attrInts(node: GraphNode, name: string): number[] | undefined {
  const v = node.attrs[name];
  return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;
}
function attrFloats(node: GraphNode, name: string): number[] | undefined {
  return attrInts(node, name);
}
function attrStr(node: GraphNode, name: string, dflt: string): string {
  const v = node.attrs[name];
  return typeof v === 'string' ? v : dflt;
}

// ---- per-op inference ----

function inferNode(node: GraphNode, inp: ShapeInput, opset: number, folded: Map<string, Folded>): OpResult | undefined {
  const op = node.op;
  const shapeOf = (k: number): Dim[] => {
    const name = node.inputs[k];
    if (!name) throw new Skip(`input ${k} is missing`);
    const s = inp.values[name]?.shape;
    if (!s) throw new Skip(`shape of input '${name}' is unknown`, true);
    return s;
  };
  const optShape = (k: number): Dim[] | undefined => {
    const name = node.inputs[k];
    return name ? inp.values[name]?.shape : undefined;
  };
  const has = (k: number) => !!node.inputs[k];
  /** Values of a constant (or folded) integer input; undefined when absent, Skip when not constant. */
  const constInts = (k: number, what: string): number[] | undefined => {
    const name = node.inputs[k];
    if (!name) return undefined;
    const f = folded.get(name);
    const c = f ?? (inp.consts.get(name) ? { dims: inp.consts.get(name)!.dims, data: inp.consts.get(name)!.data } : undefined);
    if (!c) throw new Skip(`${what} ('${name}') is not a constant`);
    if (c.data.some((d) => !isNum(d))) throw new Skip(`${what} ('${name}') holds symbolic values [${c.data.join(', ')}]`);
    return c.data as number[];
  };
  const constDims = (k: number, what: string): Dim[] | undefined => {
    const name = node.inputs[k];
    if (!name) return undefined;
    const f = folded.get(name);
    if (f) return f.data;
    const c = inp.consts.get(name);
    if (!c) throw new Skip(`${what} ('${name}') is not a constant`);
    return c.data;
  };
  const constFloats = (k: number): number[] | undefined => {
    const name = node.inputs[k];
    if (!name) return undefined;
    const c = inp.consts.get(name);
    if (!c) throw new Skip(`input '${name}' is not a constant`);
    return c.data;
  };
  const foldedOf = (k: number): Folded | undefined => {
    const name = node.inputs[k];
    return name ? folded.get(name) : undefined;
  };
  const same = (k = 0): OpResult => ({ shapes: [shapeOf(k)] });

  if (UNARY.has(op)) {
    if (op === 'Identity') {
      const f = foldedOf(0);
      return { shapes: [shapeOf(0)], folded: [f] };
    }
    return same();
  }
  if (BINARY.has(op) || op === 'Where') {
    const shapes = node.inputs.map((_, k) => shapeOf(k));
    const out = broadcastShapes(shapes);
    const dtype = BOOL_OUT.has(op) ? 'bool' : op === 'Where' ? dtypeOf(inp, node.inputs[1]) : dtypeOf(inp, node.inputs[0]);
    return { shapes: [out], dtypes: [dtype], folded: [foldElementwise(op, node.inputs.map((n) => (n ? folded.get(n) : undefined)), out)] };
  }
  if (REDUCE.has(op)) {
    const x = shapeOf(0);
    const axesAsInput = op === 'ReduceSum' ? opset >= 13 : opset >= 18;
    const axes = axesAsInput ? constInts(1, 'axes') : attrInts(node, 'axes');
    const keep = attrInt(node, 'keepdims', 1) !== 0;
    if (!axes || axes.length === 0) {
      if (axesAsInput && attrInt(node, 'noop_with_empty_axes', 0)) return same();
      return { shapes: [keep ? x.map(() => 1) : []] };
    }
    const set = new Set(axes.map((a) => normAxis(a, x.length)));
    const out: Dim[] = [];
    x.forEach((d, i) => (set.has(i) ? keep && out.push(1) : out.push(d)));
    return { shapes: [out] };
  }
  if (POOL.has(op)) return { shapes: [convLike(node, shapeOf(0), undefined, attrInts(node, 'kernel_shape'), true)], dtypes: [dtypeOf(inp, node.inputs[0]), 'int64'] };
  switch (op) {
    case 'Dropout':
      return { shapes: [shapeOf(0), shapeOf(0)], dtypes: [dtypeOf(inp, node.inputs[0]), 'bool'] };
    case 'BatchNormalization':
      return { shapes: [shapeOf(0)] };
    case 'LayerNormalization': {
      const x = shapeOf(0);
      const axis = normAxis(attrInt(node, 'axis', -1), x.length);
      const stat = x.map((d, i) => (i < axis ? d : 1));
      return { shapes: [x, stat, stat], dtypes: [dtypeOf(inp, node.inputs[0]), 'float32', 'float32'] };
    }
    case 'Cast': {
      const to = attrInt(node, 'to', 0);
      const dtype = CAST_NAMES[to];
      const f = foldedOf(0);
      return { shapes: [shapeOf(0)], dtypes: [dtype], folded: [f && dtype && isIntLike(dtype) ? f : undefined] };
    }
    case 'CastLike':
      return { shapes: [shapeOf(0)], dtypes: [dtypeOf(inp, node.inputs[1])] };
    case 'IsNaN':
    case 'IsInf':
      return { shapes: [shapeOf(0)], dtypes: ['bool'] };
    case 'QuantizeLinear':
      return { shapes: [shapeOf(0)], dtypes: [dtypeOf(inp, node.inputs[2]) ?? 'uint8'] };
    case 'DequantizeLinear':
      return { shapes: [shapeOf(0)], dtypes: ['float32'] };
    case 'Constant': {
      const out = node.outputs[0];
      const v = out ? inp.values[out] : undefined;
      const c = out ? inp.consts.get(out) : undefined;
      if (!v?.shape) throw new Skip('constant value has no tensor');
      return { shapes: [v.shape], dtypes: [v.dtype], folded: [c && isIntLike(c.dtype) && c.data.length <= MAX_FOLD ? { dims: c.dims, data: c.data } : undefined] };
    }
    case 'ConstantOfShape': {
      const dims = constDims(0, 'shape') ?? [];
      const v = node.attrs.value as { dtype?: string; values?: number[] } | undefined;
      const dtype = v?.dtype ?? 'float32';
      const n = product(dims);
      const fill = v?.values?.[0] ?? 0;
      const f = isNum(n) && n <= MAX_FOLD && isIntLike(dtype) && dims.every(isNum) ? { dims: dims as number[], data: new Array<number>(n).fill(fill) } : undefined;
      return { shapes: [dims], dtypes: [dtype], folded: [f] };
    }
    case 'Shape': {
      const x = shapeOf(0);
      const r = x.length;
      let start = attrInt(node, 'start', 0);
      let end = attrInt(node, 'end', r);
      start = Math.min(Math.max(start < 0 ? start + r : start, 0), r);
      end = Math.min(Math.max(end < 0 ? end + r : end, 0), r);
      const data = x.slice(start, Math.max(start, end));
      return { shapes: [[data.length]], dtypes: ['int64'], folded: [{ dims: [data.length], data }] };
    }
    case 'Size': {
      const p = product(shapeOf(0));
      return { shapes: [[]], dtypes: ['int64'], folded: [{ dims: [], data: [p] }] };
    }
    case 'Conv':
      return { shapes: [convLike(node, shapeOf(0), shapeOf(1), attrInts(node, 'kernel_shape'), false)] };
    case 'ConvTranspose':
      return { shapes: [convTranspose(node, shapeOf(0), shapeOf(1))] };
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'GlobalLpPool': {
      const x = shapeOf(0);
      if (x.length < 3) throw new Skip(`input rank ${x.length} < 3`);
      return { shapes: [[x[0]!, x[1]!, ...x.slice(2).map(() => 1)]] };
    }
    case 'MatMul':
    case 'MatMulInteger':
      return { shapes: [matmul(shapeOf(0), shapeOf(1))], dtypes: [op === 'MatMulInteger' ? 'int32' : dtypeOf(inp, node.inputs[0])] };
    case 'Gemm': {
      const a = shapeOf(0);
      const b = shapeOf(1);
      if (a.length !== 2 || b.length !== 2) throw new Skip(`Gemm needs rank-2 inputs, got [${a.join(', ')}] and [${b.join(', ')}]`);
      const m = attrInt(node, 'transA', 0) ? a[1]! : a[0]!;
      const ka = attrInt(node, 'transA', 0) ? a[0]! : a[1]!;
      const kb = attrInt(node, 'transB', 0) ? b[1]! : b[0]!;
      const n = attrInt(node, 'transB', 0) ? b[0]! : b[1]!;
      if (isNum(ka) && isNum(kb) && ka !== kb) throw new Skip(`inner dimensions ${ka} and ${kb} differ`);
      return { shapes: [[m, n]] };
    }
    case 'Reshape': {
      const x = shapeOf(0);
      const target = constDims(1, 'target shape');
      if (!target) throw new Skip('target shape is missing');
      const out = reshape(x, target, attrInt(node, 'allowzero', 0) !== 0);
      const f = foldedOf(0);
      return { shapes: [out], folded: [f && out.every(isNum) ? { dims: out as number[], data: f.data } : undefined] };
    }
    case 'Flatten': {
      const x = shapeOf(0);
      let axis = attrInt(node, 'axis', 1);
      if (axis < 0) axis += x.length;
      if (axis < 0 || axis > x.length) throw new Skip(`axis ${attrInt(node, 'axis', 1)} out of range for rank ${x.length}`);
      return { shapes: [[product(x.slice(0, axis)), product(x.slice(axis))]] };
    }
    case 'Transpose': {
      const x = shapeOf(0);
      const perm = attrInts(node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
      if (perm.length !== x.length || new Set(perm.map((p) => normAxis(p, x.length, 'perm entry'))).size !== x.length) throw new Skip(`perm [${perm.join(', ')}] does not fit rank ${x.length}`);
      const out = perm.map((p) => x[normAxis(p, x.length)]!);
      const f = foldedOf(0);
      const np = perm.map((p) => normAxis(p, x.length));
      return { shapes: [out], folded: [f && x.every(isNum) ? remap(f, x as number[], out as number[], (o, i) => np.forEach((p, k) => (i[p] = o[k]!))) : undefined] };
    }
    case 'Concat': {
      const shapes = node.inputs.map((_, k) => shapeOf(k));
      const r = shapes[0]!.length;
      const axis = normAxis(attrInt(node, 'axis', 0), r);
      const out = [...shapes[0]!];
      let sum: Dim = 0;
      for (const s of shapes) {
        if (s.length !== r) throw new Skip(`inputs have different ranks (${shapes.map((x) => x.length).join(', ')})`);
        const d = s[axis]!;
        sum = isNum(sum) && isNum(d) ? sum + d : UNKNOWN;
        s.forEach((dd, i) => {
          if (i !== axis && isNum(dd) && !isNum(out[i])) out[i] = dd;
        });
      }
      out[axis] = sum;
      const parts = node.inputs.map((n) => (n ? folded.get(n) : undefined));
      const f = r === 1 && parts.every((p) => p) ? { dims: [parts.reduce((a, p) => a + p!.data.length, 0)], data: parts.flatMap((p) => p!.data) } : undefined;
      return { shapes: [out], folded: [f] };
    }
    case 'Split': {
      const x = shapeOf(0);
      const axis = normAxis(attrInt(node, 'axis', 0), x.length);
      const n = node.outputs.length;
      let sizes = opset >= 13 ? constInts(1, 'split') : attrInts(node, 'split');
      const d = x[axis]!;
      if (!sizes || sizes.length === 0) {
        if (!isNum(d)) return { shapes: node.outputs.map(() => x.map((v, i) => (i === axis ? UNKNOWN : v))) };
        const parts = opset >= 18 && node.attrs.num_outputs !== undefined ? attrInt(node, 'num_outputs', n) : n;
        const chunk = Math.ceil(d / parts);
        sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, d - chunk * i)));
        if (opset < 18 && d % n !== 0) throw new Skip(`dimension ${d} does not split evenly into ${n} outputs`);
      }
      if (sizes.length !== n) throw new Skip(`${sizes.length} split sizes for ${n} outputs`);
      if (isNum(d) && sizes.reduce((a, b) => a + b, 0) !== d) throw new Skip(`split sizes [${sizes.join(', ')}] do not add up to ${d}`);
      return { shapes: sizes.map((s) => x.map((v, i) => (i === axis ? s : v))) };
    }
    case 'Slice':
      return slice(node, shapeOf(0), opset, constInts, foldedOf(0));
    case 'Squeeze': {
      const x = shapeOf(0);
      const axes = opset >= 13 ? constInts(1, 'axes') : attrInts(node, 'axes');
      let out: Dim[];
      if (!axes) {
        if (x.some((d) => !isNum(d))) throw new Skip('squeeze without axes on a shape with symbolic dims');
        out = x.filter((d) => d !== 1);
      } else {
        const set = new Set(axes.map((a) => normAxis(a, x.length)));
        for (const a of set) if (isNum(x[a]) && x[a] !== 1) throw new Skip(`axis ${a} has size ${x[a]}, not 1`);
        out = x.filter((_, i) => !set.has(i));
      }
      const f = foldedOf(0);
      return { shapes: [out], folded: [f && out.every(isNum) ? { dims: out as number[], data: f.data } : undefined] };
    }
    case 'Unsqueeze': {
      const x = shapeOf(0);
      const axes = opset >= 13 ? constInts(1, 'axes') : attrInts(node, 'axes');
      if (!axes) throw new Skip('axes are missing');
      const r = x.length + axes.length;
      const set = new Set(axes.map((a) => normAxis(a, r)));
      if (set.size !== axes.length) throw new Skip(`repeated axes [${axes.join(', ')}]`);
      const out: Dim[] = [];
      let j = 0;
      for (let i = 0; i < r; i++) out.push(set.has(i) ? 1 : x[j++]!);
      const f = foldedOf(0);
      return { shapes: [out], folded: [f && out.every(isNum) ? { dims: out as number[], data: f.data } : undefined] };
    }
    case 'Gather': {
      const x = shapeOf(0);
      const idx = shapeOf(1);
      const axis = normAxis(attrInt(node, 'axis', 0), x.length);
      const out = [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];
      const data = foldedOf(0);
      let f: Folded | undefined;
      if (data && x.length === 1) {
        const ids = foldedOf(1) ?? (node.inputs[1] && inp.consts.get(node.inputs[1]) ? { dims: idx as number[], data: inp.consts.get(node.inputs[1]!)!.data } : undefined);
        if (ids && ids.data.every(isNum) && out.every(isNum)) {
          const n = data.data.length;
          const picked = (ids.data as number[]).map((i) => data.data[i < 0 ? i + n : i]);
          if (picked.every((v) => v !== undefined)) f = { dims: out as number[], data: picked as Dim[] };
        }
      }
      return { shapes: [out], dtypes: [dtypeOf(inp, node.inputs[0])], folded: [f] };
    }
    case 'GatherElements':
      return { shapes: [shapeOf(1)] };
    case 'Pad': {
      const x = shapeOf(0);
      const pads = opset >= 11 ? constInts(1, 'pads') : (attrInts(node, 'pads') ?? attrInts(node, 'paddings'));
      if (!pads) throw new Skip('pads are missing');
      const axes = opset >= 18 && has(3) ? constInts(3, 'axes')!.map((a) => normAxis(a, x.length)) : x.map((_, i) => i);
      if (pads.length !== 2 * axes.length) throw new Skip(`${pads.length} pads for ${axes.length} axes`);
      const out = [...x];
      axes.forEach((a, i) => {
        const d = out[a]!;
        const add = pads[i]! + pads[i + axes.length]!;
        out[a] = isNum(d) ? d + add : add === 0 ? d : UNKNOWN;
      });
      return { shapes: [out] };
    }
    case 'Resize':
    case 'Upsample': {
      const x = shapeOf(0);
      const scalesIdx = op === 'Upsample' || opset < 11 ? 1 : 2;
      const sizes = op === 'Resize' && opset >= 11 && has(3) ? constInts(3, 'sizes') : undefined;
      const axes = attrInts(node, 'axes')?.map((a) => normAxis(a, x.length)) ?? x.map((_, i) => i);
      const out = [...x];
      if (sizes && sizes.length) {
        if (sizes.length !== axes.length) throw new Skip(`${sizes.length} sizes for rank ${axes.length}`);
        const policy = attrStr(node, 'keep_aspect_ratio_policy', 'stretch');
        if (policy !== 'stretch') throw new Skip(`keep_aspect_ratio_policy '${policy}' is not inferred`);
        axes.forEach((a, i) => (out[a] = sizes[i]!));
        return { shapes: [out] };
      }
      const scales = has(scalesIdx) ? constFloats(scalesIdx) : attrFloats(node, 'scales');
      if (!scales || !scales.length) throw new Skip('neither scales nor sizes are constant');
      if (scales.length !== axes.length) throw new Skip(`${scales.length} scales for rank ${axes.length}`);
      axes.forEach((a, i) => {
        const d = out[a]!;
        out[a] = isNum(d) ? Math.floor(d * scales[i]!) : scales[i] === 1 ? d : UNKNOWN;
      });
      return { shapes: [out] };
    }
    case 'Expand': {
      const x = shapeOf(0);
      const target = constDims(1, 'shape');
      if (!target) throw new Skip('shape is missing');
      return { shapes: [broadcastShapes([x, target])] };
    }
    case 'Tile': {
      const x = shapeOf(0);
      const reps = constInts(1, 'repeats');
      if (!reps || reps.length !== x.length) throw new Skip('repeats do not match the input rank');
      return { shapes: [x.map((d, i) => (isNum(d) ? d * reps[i]! : UNKNOWN))] };
    }
    case 'Range': {
      const s = constFloats(0);
      const l = constFloats(1);
      const dl = constFloats(2);
      if (!s || !l || !dl || dl[0] === 0) throw new Skip('start, limit and delta must be constants (delta not 0)');
      const n = Math.max(Math.ceil((l[0]! - s[0]!) / dl[0]!), 0);
      const f = n <= MAX_FOLD ? { dims: [n], data: Array.from({ length: n }, (_, i) => s[0]! + i * dl[0]!) } : undefined;
      return { shapes: [[n]], dtypes: [dtypeOf(inp, node.inputs[0])], folded: [f] };
    }
    case 'ArgMax':
    case 'ArgMin': {
      const x = shapeOf(0);
      const axis = normAxis(attrInt(node, 'axis', 0), x.length);
      const keep = attrInt(node, 'keepdims', 1) !== 0;
      const out: Dim[] = [];
      x.forEach((d, i) => (i === axis ? keep && out.push(1) : out.push(d)));
      return { shapes: [out], dtypes: ['int64'] };
    }
    case 'TopK': {
      const x = shapeOf(0);
      const axis = normAxis(attrInt(node, 'axis', -1), x.length);
      const k = opset >= 10 ? constInts(1, 'K')?.[0] : attrInt(node, 'k', -1);
      if (k === undefined || k < 0) throw new Skip('K is not a constant');
      const out = x.map((d, i) => (i === axis ? k : d));
      return { shapes: [out, out], dtypes: [dtypeOf(inp, node.inputs[0]), 'int64'] };
    }
    case 'DepthToSpace':
    case 'SpaceToDepth': {
      const x = shapeOf(0);
      const b = attrInt(node, 'blocksize', 1);
      if (x.length !== 4) throw new Skip(`input rank ${x.length} is not 4`);
      const [n, c, h, w] = x as [Dim, Dim, Dim, Dim];
      const mul = (d: Dim, k: number) => (isNum(d) ? d * k : UNKNOWN);
      const div = (d: Dim, k: number) => (isNum(d) ? d / k : UNKNOWN);
      return { shapes: [op === 'DepthToSpace' ? [n, div(c, b * b), mul(h, b), mul(w, b)] : [n, mul(c, b * b), div(h, b), div(w, b)]] };
    }
    case 'Einsum':
      return { shapes: [einsum(attrStr(node, 'equation', ''), node.inputs.map((_, k) => shapeOf(k)))] };
    case 'NonZero':
      return { shapes: [[shapeOf(0).length, UNKNOWN]], dtypes: ['int64'] };
    default:
      void optShape;
      return undefined;
  }
}

/** Folds an index remapping (Transpose, Slice) of a small constant: `at` fills the input index of an output index. */
function remap(f: Folded, inDims: number[], outDims: number[], at: (out: number[], inp: number[]) => void): Folded | undefined {
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

const CAST_NAMES: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16' };

function foldElementwise(op: string, ins: (Folded | undefined)[], out: Dim[]): Folded | undefined {
  if (ins.some((f) => !f) || !out.every(isNum)) return undefined;
  const n = product(out) as number;
  if (n > MAX_FOLD) return undefined;
  const vals = ins as Folded[];
  const at = (f: Folded, i: number): Dim | undefined => (f.data.length === 1 ? f.data[0] : f.data.length === n ? f.data[i] : undefined);
  const data: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const a = at(vals[0]!, i);
    const b = vals[1] ? at(vals[1], i) : undefined;
    const c = vals[2] ? at(vals[2], i) : undefined;
    if (a === undefined) return undefined;
    let r: Dim | undefined;
    if (op === 'Where') r = isNum(a) ? (a ? b : c) : undefined;
    else if (!isNum(a) || !isNum(b)) r = op === 'Mul' && (a === 1 || b === 1) ? (a === 1 ? b : a) : undefined;
    else {
      switch (op) {
        case 'Add': r = a + b; break;
        case 'Sub': r = a - b; break;
        case 'Mul': r = a * b; break;
        case 'Div': r = b === 0 ? undefined : Math.trunc(a / b); break;
        case 'Equal': r = a === b ? 1 : 0; break;
        case 'Less': r = a < b ? 1 : 0; break;
        case 'Greater': r = a > b ? 1 : 0; break;
        case 'Max': r = Math.max(a, b); break;
        case 'Min': r = Math.min(a, b); break;
        case 'Mod': r = b === 0 ? undefined : a % b; break;
        default: r = undefined;
      }
    }
    if (r === undefined) return undefined;
    data.push(r);
  }
  return { dims: out as number[], data };
}

function convLike(node: GraphNode, x: Dim[], w: Dim[] | undefined, kernelAttr: number[] | undefined, pool: boolean): Dim[] {
  if (x.length < 3) throw new Skip(`input rank ${x.length} < 3`);
  const sp = x.length - 2;
  const kernel: Dim[] = kernelAttr ?? (w ? w.slice(2) : []);
  if (kernel.length !== sp) throw new Skip(`kernel rank ${kernel.length} does not match ${sp} spatial dims`);
  const strides = attrInts(node, 'strides') ?? new Array<number>(sp).fill(1);
  const dil = attrInts(node, 'dilations') ?? new Array<number>(sp).fill(1);
  const pads = attrInts(node, 'pads') ?? new Array<number>(2 * sp).fill(0);
  const autoPad = attrStr(node, 'auto_pad', 'NOTSET');
  const ceilMode = pool && attrInt(node, 'ceil_mode', 0) !== 0;
  if (strides.length !== sp || dil.length !== sp || pads.length !== 2 * sp) throw new Skip('strides/dilations/pads do not match the spatial rank');
  if (strides.some((s) => s <= 0) || dil.some((d) => d <= 0)) throw new Skip('strides and dilations must be positive');
  let channels: Dim = x[1]!;
  if (!pool) {
    if (!w) throw new Skip('weight shape unknown');
    const group = attrInt(node, 'group', 1);
    const cin = w[1];
    if (isNum(x[1]) && isNum(cin) && x[1] !== cin * group) throw new Skip(`input has ${x[1]} channels, weight expects ${cin} x group ${group}`);
    channels = w[0]!;
  }
  const out: Dim[] = [x[0]!, channels];
  for (let i = 0; i < sp; i++) {
    const d = x[i + 2]!;
    const k = kernel[i]!;
    if (!isNum(d) || !isNum(k)) {
      out.push(UNKNOWN);
      continue;
    }
    const ek = (k - 1) * dil[i]! + 1;
    const s = strides[i]!;
    let o: number;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') o = Math.ceil(d / s);
    else if (autoPad === 'VALID') o = Math.floor((d - ek) / s) + 1;
    else {
      const span = d + pads[i]! + pads[i + sp]! - ek;
      o = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    }
    if (o <= 0) throw new Skip(`spatial size ${d} with kernel ${k} gives an empty output`);
    out.push(o);
  }
  return out;
}

function convTranspose(node: GraphNode, x: Dim[], w: Dim[]): Dim[] {
  if (x.length < 3) throw new Skip(`input rank ${x.length} < 3`);
  const sp = x.length - 2;
  const kernel: Dim[] = attrInts(node, 'kernel_shape') ?? w.slice(2);
  const strides = attrInts(node, 'strides') ?? new Array<number>(sp).fill(1);
  const dil = attrInts(node, 'dilations') ?? new Array<number>(sp).fill(1);
  const pads = attrInts(node, 'pads') ?? new Array<number>(2 * sp).fill(0);
  const outPad = attrInts(node, 'output_padding') ?? new Array<number>(sp).fill(0);
  const outShape = attrInts(node, 'output_shape');
  const autoPad = attrStr(node, 'auto_pad', 'NOTSET');
  const group = attrInt(node, 'group', 1);
  const m = w[1];
  const out: Dim[] = [x[0]!, isNum(m) ? m * group : UNKNOWN];
  if (outShape) return [...out, ...outShape.slice(-sp)];
  for (let i = 0; i < sp; i++) {
    const d = x[i + 2]!;
    const k = kernel[i];
    if (!isNum(d) || !isNum(k)) {
      out.push(UNKNOWN);
      continue;
    }
    const s = strides[i] ?? 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') out.push(d * s);
    else out.push(s * (d - 1) + (outPad[i] ?? 0) + (k - 1) * (dil[i] ?? 1) + 1 - (pads[i] ?? 0) - (pads[i + sp] ?? 0));
  }
  return out;
}

/** Einsum output shape: letters map to dims, '...' broadcasts, implicit output = letters seen once, sorted. */
function einsum(equation: string, shapes: Dim[][]): Dim[] {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs] = eq.split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  if (!eq || terms.length !== shapes.length) throw new Skip(`equation '${equation}' does not match ${shapes.length} inputs`);
  const dims = new Map<string, Dim>();
  const counts = new Map<string, number>();
  const ellipses: Dim[][] = [];
  terms.forEach((term, t) => {
    const shape = shapes[t]!;
    const [pre, post] = term.includes('...') ? (term.split('...') as [string, string]) : [term, undefined];
    const letters = post === undefined ? pre : pre + post;
    if (!/^[a-zA-Z]*$/.test(letters)) throw new Skip(`equation '${equation}' is not understood`);
    const ell = shape.length - letters.length;
    if (ell < 0 || (post === undefined && ell !== 0)) throw new Skip(`term '${term}' does not fit rank ${shape.length}`);
    if (post !== undefined) ellipses.push(shape.slice(pre.length, pre.length + ell));
    const own = [...shape.slice(0, pre.length), ...shape.slice(pre.length + ell)];
    [...letters].forEach((c, i) => {
      const d = own[i]!;
      counts.set(c, (counts.get(c) ?? 0) + 1);
      const prev = dims.get(c);
      if (prev === undefined || prev === 1) dims.set(c, d);
      else if (isNum(prev) && isNum(d) && d !== 1 && d !== prev) throw new Skip(`'${c}' is ${prev} in one operand and ${d} in another`);
    });
  });
  const ell = broadcastShapes(ellipses);
  const out = rhs ?? `${ellipses.length ? '...' : ''}${[...counts].filter(([, n]) => n === 1).map(([c]) => c).sort().join('')}`;
  const result: Dim[] = [];
  const [opre, opost] = out.includes('...') ? (out.split('...') as [string, string]) : [out, undefined];
  for (const c of opre) result.push(dims.get(c) ?? failLetter(c, equation));
  if (opost !== undefined) {
    result.push(...ell);
    for (const c of opost) result.push(dims.get(c) ?? failLetter(c, equation));
  }
  return result;
}

function failLetter(c: string, equation: string): never {
  throw new Skip(`output letter '${c}' of '${equation}' appears in no input`);
}

function matmul(a0: Dim[], b0: Dim[]): Dim[] {
  if (!a0.length || !b0.length) throw new Skip('MatMul of a scalar');
  const a = a0.length === 1 ? [1, a0[0]!] : a0;
  const b = b0.length === 1 ? [b0[0]!, 1] : b0;
  const ka = a[a.length - 1]!;
  const kb = b[b.length - 2]!;
  if (isNum(ka) && isNum(kb) && ka !== kb) throw new Skip(`inner dimensions ${ka} and ${kb} differ ([${a0.join(', ')}] x [${b0.join(', ')}])`);
  const batch = broadcastShapes([a.slice(0, -2), b.slice(0, -2)]);
  const out = [...batch];
  if (a0.length > 1) out.push(a[a.length - 2]!);
  if (b0.length > 1) out.push(b[b.length - 1]!);
  return out;
}

/** Numeric product and the multiset of symbolic factors of a shape. */
function factors(dims: Dim[]): { num: number; syms: string[] } {
  let num = 1;
  const syms: string[] = [];
  for (const d of dims) if (isNum(d)) num *= d;
  else syms.push(d);
  return { num, syms: syms.sort() };
}

function reshape(x: Dim[], target: Dim[], allowZero: boolean): Dim[] {
  const out: Dim[] = target.map((t, i) => (t === 0 && !allowZero ? (x[i] ?? UNKNOWN) : t));
  const minus = out.map((d, i) => (d === -1 ? i : -1)).filter((i) => i >= 0);
  if (minus.length > 1) throw new Skip(`target shape [${target.join(', ')}] has more than one -1`);
  if (out.some((d) => isNum(d) && d < -1)) throw new Skip(`target shape [${target.join(', ')}] has a negative dimension`);
  const total = factors(x);
  const rest = factors(out.filter((d) => d !== -1));
  // symbolic factors cancel when both sides carry the same ones ([batch, 1500, 384] -> [batch, 1500, 6, -1])
  const sameSyms = total.syms.length === rest.syms.length && total.syms.every((s, i) => s === rest.syms[i] && s !== UNKNOWN);
  if (minus.length === 1) {
    if (sameSyms) {
      if (rest.num === 0 || total.num % rest.num !== 0) throw new Skip(`cannot reshape [${x.join(', ')}] to [${target.join(', ')}]`);
      out[minus[0]!] = total.num / rest.num;
    } else out[minus[0]!] = UNKNOWN;
  } else if (sameSyms && total.num !== rest.num) {
    throw new Skip(`cannot reshape [${x.join(', ')}] (${product(x)} elements) to [${target.join(', ')}] (${product(out)})`);
  }
  return out;
}

function slice(node: GraphNode, x: Dim[], opset: number, constInts: (k: number, what: string) => number[] | undefined, data: Folded | undefined): OpResult {
  let starts: number[] | undefined;
  let ends: number[] | undefined;
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (opset < 10) {
    starts = attrInts(node, 'starts');
    ends = attrInts(node, 'ends');
    axes = attrInts(node, 'axes');
  } else {
    starts = constInts(1, 'starts');
    ends = constInts(2, 'ends');
    axes = constInts(3, 'axes');
    steps = constInts(4, 'steps');
  }
  if (!starts || !ends || starts.length !== ends.length) throw new Skip('starts/ends are missing or differ in length');
  axes ??= starts.map((_, i) => i);
  steps ??= starts.map(() => 1);
  if (axes.length !== starts.length || steps.length !== starts.length) throw new Skip('starts, ends, axes and steps differ in length');
  const out = [...x];
  const starts0 = x.map(() => 0);
  const steps0 = x.map(() => 1);
  axes.forEach((a0, i) => {
    const a = normAxis(a0, x.length);
    const d = x[a]!;
    const step = steps![i]!;
    if (step === 0) throw new Skip('a step is 0');
    let s = starts![i]!;
    let e = ends![i]!;
    if (!isNum(d)) {
      out[a] = s === 0 && e >= 2 ** 31 - 1 && step === 1 ? d : UNKNOWN;
      return;
    }
    if (s < 0) s += d;
    if (e < 0) e += d;
    let len: number;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
      len = Math.max(0, Math.ceil((e - s) / step));
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
      len = Math.max(0, Math.ceil((s - e) / -step));
    }
    out[a] = len;
    starts0[a] = s;
    steps0[a] = step;
  });
  const f = data && x.every(isNum) && out.every(isNum) ? remap(data, x as number[], out as number[], (o, i) => o.forEach((v, k) => (i[k] = starts0[k]! + v * steps0[k]!))) : undefined;
  return { shapes: [out], folded: [f] };
}

export type { TensorInfo };
