import type { Dim } from '../../graph/model';
import { attrInt, attrInts, dtypeOf, normAxis, rule, rules, Skip, type ShapeRules } from './context';

/** Reductions over axes: Reduce*, ArgMax/ArgMin, TopK. */

const REDUCE = [
  'ReduceMean',
  'ReduceSum',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceSumSquare',
];

export const REDUCE_RULES: ShapeRules = {
  ...rules(
    REDUCE,
    rule(1, (c) => {
      const x = c.shapeOf(0);
      const axesAsInput = c.op === 'ReduceSum' ? c.opset >= 13 : c.opset >= 18;
      const axes = axesAsInput ? c.constInts(1, 'axes') : attrInts(c.node, 'axes');
      const keep = attrInt(c.node, 'keepdims', 1) !== 0;
      if (!axes || axes.length === 0) {
        if (axesAsInput && attrInt(c.node, 'noop_with_empty_axes', 0)) return c.same();
        return { shapes: [keep ? x.map(() => 1) : []] };
      }
      const set = new Set(axes.map((a) => normAxis(a, x.length)));
      const out: Dim[] = [];
      x.forEach((d, i) => (set.has(i) ? keep && out.push(1) : out.push(d)));
      return { shapes: [out] };
    }),
  ),
  ...rules(
    ['ArgMax', 'ArgMin'],
    rule(1, (cx) => {
      const x = cx.shapeOf(0);
      const axis = normAxis(attrInt(cx.node, 'axis', 0), x.length);
      const keep = attrInt(cx.node, 'keepdims', 1) !== 0;
      const out: Dim[] = [];
      x.forEach((d, i) => (i === axis ? keep && out.push(1) : out.push(d)));
      return { shapes: [out], dtypes: ['int64'] };
    }),
  ),
  TopK: rule(1, (cx) => {
    const x = cx.shapeOf(0);
    const axis = normAxis(attrInt(cx.node, 'axis', -1), x.length);
    const k = cx.opset >= 10 ? cx.constInts(1, 'K')?.[0] : attrInt(cx.node, 'k', -1);
    if (k === undefined || k < 0) throw new Skip('K is not a constant');
    const out = x.map((d, i) => (i === axis ? k : d));
    return { shapes: [out, out], dtypes: [dtypeOf(cx.inp, cx.node.inputs[0]), 'int64'] };
  }),
};
