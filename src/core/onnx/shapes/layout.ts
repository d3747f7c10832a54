import type { Dim, GraphNode } from '../../graph/model';
import {
  attrFloats,
  attrInt,
  attrInts,
  attrStr,
  broadcastShapes,
  isNum,
  normAxis,
  product,
  remap,
  rule,
  rules,
  Skip,
  UNKNOWN,
  MAX_FOLD,
  type Folded,
  type OpResult,
  type ShapeRules,
} from './context';

/** Shape and layout: Reshape, Flatten, Transpose, Concat, Split, Slice, (Un)Squeeze, Expand, Tile, Pad, Resize, DepthToSpace. */

export const LAYOUT_RULES: ShapeRules = {
  Reshape: rule(1, (cx) => {
    const x = cx.shapeOf(0);
    const target = cx.constDims(1, 'target shape');
    if (!target) throw new Skip('target shape is missing');
    const out = reshape(x, target, attrInt(cx.node, 'allowzero', 0) !== 0);
    const f = cx.foldedOf(0);
    return { shapes: [out], folded: [f && out.every(isNum) ? { dims: out as number[], data: f.data } : undefined] };
  }),
  Flatten: rule(1, (cx) => {
    const x = cx.shapeOf(0);
    let axis = attrInt(cx.node, 'axis', 1);
    if (axis < 0) axis += x.length;
    if (axis < 0 || axis > x.length) throw new Skip(`axis ${attrInt(cx.node, 'axis', 1)} out of range for rank ${x.length}`);
    return { shapes: [[product(x.slice(0, axis)), product(x.slice(axis))]] };
  }),
  Transpose: rule(1, (cx) => {
    const x = cx.shapeOf(0);
    const perm = attrInts(cx.node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
    if (perm.length !== x.length || new Set(perm.map((p) => normAxis(p, x.length, 'perm entry'))).size !== x.length)
      throw new Skip(`perm [${perm.join(', ')}] does not fit rank ${x.length}`);
    const out = perm.map((p) => x[normAxis(p, x.length)]!);
    const f = cx.foldedOf(0);
    const np = perm.map((p) => normAxis(p, x.length));
    return {
      shapes: [out],
      folded: [f && x.every(isNum) ? remap(f, x as number[], out as number[], (o, i) => np.forEach((p, k) => (i[p] = o[k]!))) : undefined],
    };
  }),
  Concat: rule(1, (cx) => {
    const shapes = cx.node.inputs.map((_, k) => cx.shapeOf(k));
    const r = shapes[0]!.length;
    const axis = normAxis(attrInt(cx.node, 'axis', 0), r);
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
    const parts = cx.node.inputs.map((n) => (n ? cx.folded.get(n) : undefined));
    const f =
      r === 1 && parts.every((p) => p) && parts.reduce((a, p) => a + p!.data.length, 0) <= MAX_FOLD
        ? { dims: [parts.reduce((a, p) => a + p!.data.length, 0)], data: parts.flatMap((p) => p!.data) }
        : undefined;
    return { shapes: [out], folded: [f] };
  }),
  Split: rule(1, (cx) => {
    const x = cx.shapeOf(0);
    const axis = normAxis(attrInt(cx.node, 'axis', 0), x.length);
    const n = cx.node.outputs.length;
    let sizes = cx.opset >= 13 ? cx.constInts(1, 'split') : attrInts(cx.node, 'split');
    const d = x[axis]!;
    if (!sizes || sizes.length === 0) {
      if (!isNum(d)) return { shapes: cx.node.outputs.map(() => x.map((v, i) => (i === axis ? UNKNOWN : v))) };
      const parts = cx.opset >= 18 && cx.node.attrs.num_outputs !== undefined ? attrInt(cx.node, 'num_outputs', n) : n;
      const chunk = Math.ceil(d / parts);
      sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, d - chunk * i)));
      if (cx.opset < 18 && d % n !== 0) throw new Skip(`dimension ${d} does not split evenly into ${n} outputs`);
    }
    if (sizes.length !== n) throw new Skip(`${sizes.length} split sizes for ${n} outputs`);
    if (isNum(d) && sizes.reduce((a, b) => a + b, 0) !== d) throw new Skip(`split sizes [${sizes.join(', ')}] do not add up to ${d}`);
    return { shapes: sizes.map((s) => x.map((v, i) => (i === axis ? s : v))) };
  }),
  Slice: rule(1, (cx) => slice(cx.node, cx.shapeOf(0), cx.opset, (k, what) => cx.constInts(k, what), cx.foldedOf(0))),
  Squeeze: rule(1, (cx) => {
    const x = cx.shapeOf(0);
    const axes = cx.opset >= 13 ? cx.constInts(1, 'axes') : attrInts(cx.node, 'axes');
    let out: Dim[];
    if (!axes) {
      if (x.some((d) => !isNum(d))) throw new Skip('squeeze without axes on a shape with symbolic dims');
      out = x.filter((d) => d !== 1);
    } else {
      const set = new Set(axes.map((a) => normAxis(a, x.length)));
      for (const a of set) if (isNum(x[a]) && x[a] !== 1) throw new Skip(`axis ${a} has size ${x[a]}, not 1`);
      out = x.filter((_, i) => !set.has(i));
    }
    const f = cx.foldedOf(0);
    return { shapes: [out], folded: [f && out.every(isNum) ? { dims: out as number[], data: f.data } : undefined] };
  }),
  Unsqueeze: rule(1, (cx) => {
    const x = cx.shapeOf(0);
    const axes = cx.opset >= 13 ? cx.constInts(1, 'axes') : attrInts(cx.node, 'axes');
    if (!axes) throw new Skip('axes are missing');
    const r = x.length + axes.length;
    const set = new Set(axes.map((a) => normAxis(a, r)));
    if (set.size !== axes.length) throw new Skip(`repeated axes [${axes.join(', ')}]`);
    const out: Dim[] = [];
    let j = 0;
    for (let i = 0; i < r; i++) out.push(set.has(i) ? 1 : x[j++]!);
    const f = cx.foldedOf(0);
    return { shapes: [out], folded: [f && out.every(isNum) ? { dims: out as number[], data: f.data } : undefined] };
  }),
  Expand: rule(2, (cx) => {
    const x = cx.shapeOf(0);
    const target = cx.constDims(1, 'shape');
    if (!target) throw new Skip('shape is missing');
    return { shapes: [broadcastShapes([x, target])] };
  }),
  Tile: rule(2, (cx) => {
    const x = cx.shapeOf(0);
    const reps = cx.constInts(1, 'repeats');
    if (!reps || reps.length !== x.length) throw new Skip('repeats do not match the input rank');
    return { shapes: [x.map((d, i) => (isNum(d) ? d * reps[i]! : UNKNOWN))] };
  }),
  ...rules(
    ['DepthToSpace', 'SpaceToDepth'],
    rule(1, (cx) => {
      const x = cx.shapeOf(0);
      const b = attrInt(cx.node, 'blocksize', 1);
      if (x.length !== 4) throw new Skip(`input rank ${x.length} is not 4`);
      const [n, c, h, w] = x as [Dim, Dim, Dim, Dim];
      const mul = (d: Dim, k: number) => (isNum(d) ? d * k : UNKNOWN);
      const div = (d: Dim, k: number) => (isNum(d) ? d / k : UNKNOWN);
      return { shapes: [cx.op === 'DepthToSpace' ? [n, div(c, b * b), mul(h, b), mul(w, b)] : [n, mul(c, b * b), div(h, b), div(w, b)]] };
    }),
  ),
  Pad: rule(1, (cx) => {
    const x = cx.shapeOf(0);
    const pads = cx.opset >= 11 ? cx.constInts(1, 'pads') : (attrInts(cx.node, 'pads') ?? attrInts(cx.node, 'paddings'));
    if (!pads) throw new Skip('pads are missing');
    const axes = cx.opset >= 18 && cx.has(3) ? cx.constInts(3, 'axes')!.map((a) => normAxis(a, x.length)) : x.map((_, i) => i);
    if (pads.length !== 2 * axes.length) throw new Skip(`${pads.length} pads for ${axes.length} axes`);
    const out = [...x];
    axes.forEach((a, i) => {
      const d = out[a]!;
      const add = pads[i]! + pads[i + axes.length]!;
      out[a] = isNum(d) ? d + add : add === 0 ? d : UNKNOWN;
    });
    return { shapes: [out] };
  }),
  ...rules(
    ['Resize', 'Upsample'],
    rule(1, (cx) => {
      const x = cx.shapeOf(0);
      const scalesIdx = cx.op === 'Upsample' || cx.opset < 11 ? 1 : 2;
      const sizes = cx.op === 'Resize' && cx.opset >= 11 && cx.has(3) ? cx.constInts(3, 'sizes') : undefined;
      const axes = attrInts(cx.node, 'axes')?.map((a) => normAxis(a, x.length)) ?? x.map((_, i) => i);
      const out = [...x];
      if (sizes && sizes.length) {
        if (sizes.length !== axes.length) throw new Skip(`${sizes.length} sizes for rank ${axes.length}`);
        const policy = attrStr(cx.node, 'keep_aspect_ratio_policy', 'stretch');
        if (policy !== 'stretch') throw new Skip(`keep_aspect_ratio_policy '${policy}' is not inferred`);
        axes.forEach((a, i) => (out[a] = sizes[i]!));
        return { shapes: [out] };
      }
      const scales = cx.has(scalesIdx) ? cx.constFloats(scalesIdx) : attrFloats(cx.node, 'scales');
      if (!scales || !scales.length) throw new Skip('neither scales nor sizes are constant');
      if (scales.length !== axes.length) throw new Skip(`${scales.length} scales for rank ${axes.length}`);
      axes.forEach((a, i) => {
        const d = out[a]!;
        out[a] = isNum(d) ? Math.floor(d * scales[i]!) : scales[i] === 1 ? d : UNKNOWN;
      });
      return { shapes: [out] };
    }),
  ),
};

/** Numeric product and the multiset of symbolic factors of a shape. */
function factors(dims: Dim[]): { num: number; syms: string[] } {
  let num = 1;
  const syms: string[] = [];
  for (const d of dims)
    if (isNum(d)) num *= d;
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
  const f =
    data && x.every(isNum) && out.every(isNum)
      ? remap(data, x as number[], out as number[], (o, i) => o.forEach((v, k) => (i[k] = starts0[k]! + v * steps0[k]!)))
      : undefined;
  return { shapes: [out], folded: [f] };
}
