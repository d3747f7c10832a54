import type { Dim } from '../../graph/model';
import { attrInt, dtypeOf, isNum, normAxis, rule, type Folded, type ShapeRules } from './context';

/** Indexing: Gather, GatherElements. */

export const INDEXING_RULES: ShapeRules = {
  Gather: rule(2, (cx) => {
    const x = cx.shapeOf(0);
    const idx = cx.shapeOf(1);
    const axis = normAxis(attrInt(cx.node, 'axis', 0), x.length);
    const out = [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];
    const data = cx.foldedOf(0);
    let f: Folded | undefined;
    if (data && x.length === 1) {
      const ids =
        cx.foldedOf(1) ??
        (cx.node.inputs[1] && cx.inp.consts.get(cx.node.inputs[1]) ? { dims: idx as number[], data: cx.inp.consts.get(cx.node.inputs[1]!)!.data } : undefined);
      if (ids && ids.data.every(isNum) && out.every(isNum)) {
        const n = data.data.length;
        const picked = (ids.data as number[]).map((i) => data.data[i < 0 ? i + n : i]);
        if (picked.every((v) => v !== undefined)) f = { dims: out as number[], data: picked as Dim[] };
      }
    }
    return { shapes: [out], dtypes: [dtypeOf(cx.inp, cx.node.inputs[0])], folded: [f] };
  }),
  GatherElements: rule(2, (cx) => ({ shapes: [cx.shapeOf(1)] })),
};
