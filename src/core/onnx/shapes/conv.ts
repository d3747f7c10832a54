import type { Dim, GraphNode } from '../../graph/model';
import { attrInt, attrInts, attrStr, dtypeOf, isNum, rule, rules, Skip, UNKNOWN, type ShapeRules } from './context';

/** Convolutions and pooling: spatial output sizes from kernels, strides, dilations and pads. */

const POOL = ['MaxPool', 'AveragePool', 'LpPool'];

export const CONV_RULES: ShapeRules = {
  ...rules(
    POOL,
    rule(1, (c) => ({
      shapes: [convLike(c.node, c.shapeOf(0), undefined, attrInts(c.node, 'kernel_shape'), true)],
      dtypes: [dtypeOf(c.inp, c.node.inputs[0]), 'int64'],
    })),
  ),
  Conv: rule(2, (cx) => ({ shapes: [convLike(cx.node, cx.shapeOf(0), cx.shapeOf(1), attrInts(cx.node, 'kernel_shape'), false)] })),
  ConvTranspose: rule(2, (cx) => ({ shapes: [convTranspose(cx.node, cx.shapeOf(0), cx.shapeOf(1))] })),
  ...rules(
    ['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool'],
    rule(1, (cx) => {
      const x = cx.shapeOf(0);
      if (x.length < 3) throw new Skip(`input rank ${x.length} < 3`);
      return { shapes: [[x[0]!, x[1]!, ...x.slice(2).map(() => 1)]] };
    }),
  ),
};

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
