import { attrInt, dtypeOf, isIntLike, isNum, MAX_FOLD, product, rule, Skip, UNKNOWN, type ShapeRules } from './context';

/** Ops whose output comes from constants or metadata: Constant, ConstantOfShape, Shape, Size, Range, NonZero. */

export const GENERATOR_RULES: ShapeRules = {
  Constant: rule(0, (cx) => {
    const out = cx.node.outputs[0];
    const v = out ? cx.inp.values[out] : undefined;
    const c = out ? cx.inp.consts.get(out) : undefined;
    if (!v?.shape) throw new Skip('constant value has no tensor');
    return {
      shapes: [v.shape],
      dtypes: [v.dtype],
      folded: [c && isIntLike(c.dtype) && c.data.length <= MAX_FOLD ? { dims: c.dims, data: c.data } : undefined],
    };
  }),
  ConstantOfShape: rule(1, (cx) => {
    const dims = cx.constDims(0, 'shape') ?? [];
    if (dims.some((d) => isNum(d) && (d < 0 || !Number.isSafeInteger(d)))) throw new Skip(`shape [${dims.join(', ')}] has a negative or invalid dimension`);
    const v = cx.node.attrs.value as { dtype?: string; values?: number[] } | undefined;
    const dtype = v?.dtype ?? 'float32';
    const n = product(dims);
    const fill = v?.values?.[0] ?? 0;
    const f =
      isNum(n) && n <= MAX_FOLD && isIntLike(dtype) && dims.every(isNum) ? { dims: dims as number[], data: new Array<number>(n).fill(fill) } : undefined;
    return { shapes: [dims], dtypes: [dtype], folded: [f] };
  }),
  Shape: rule(1, (cx) => {
    const x = cx.shapeOf(0);
    const r = x.length;
    let start = attrInt(cx.node, 'start', 0);
    let end = attrInt(cx.node, 'end', r);
    start = Math.min(Math.max(start < 0 ? start + r : start, 0), r);
    end = Math.min(Math.max(end < 0 ? end + r : end, 0), r);
    const data = x.slice(start, Math.max(start, end));
    return { shapes: [[data.length]], dtypes: ['int64'], folded: [{ dims: [data.length], data }] };
  }),
  Size: rule(1, (cx) => {
    const p = product(cx.shapeOf(0));
    return { shapes: [[]], dtypes: ['int64'], folded: [{ dims: [], data: [p] }] };
  }),
  Range: rule(3, (cx) => {
    const s = cx.constFloats(0);
    const l = cx.constFloats(1);
    const dl = cx.constFloats(2);
    if (!s || !l || !dl || dl[0] === 0) throw new Skip('start, limit and delta must be constants (delta not 0)');
    const n = Math.max(Math.ceil((l[0]! - s[0]!) / dl[0]!), 0);
    const f = n <= MAX_FOLD ? { dims: [n], data: Array.from({ length: n }, (_, i) => s[0]! + i * dl[0]!) } : undefined;
    return { shapes: [[n]], dtypes: [dtypeOf(cx.inp, cx.node.inputs[0])], folded: [f] };
  }),
  NonZero: rule(1, (cx) => ({ shapes: [[cx.shapeOf(0).length, UNKNOWN]], dtypes: ['int64'] })),
};
