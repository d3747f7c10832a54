import type { Dim } from '../../graph/model';
import { attrInt, attrStr, broadcastShapes, dtypeOf, isNum, rule, rules, Skip, type ShapeRules } from './context';

/** Matrix products: MatMul, Gemm, Einsum. */

export const LINEAR_RULES: ShapeRules = {
  ...rules(
    ['MatMul', 'MatMulInteger'],
    rule(2, (cx) => ({ shapes: [matmul(cx.shapeOf(0), cx.shapeOf(1))], dtypes: [cx.op === 'MatMulInteger' ? 'int32' : dtypeOf(cx.inp, cx.node.inputs[0])] })),
  ),
  Gemm: rule(2, (cx) => {
    const a = cx.shapeOf(0);
    const b = cx.shapeOf(1);
    if (a.length !== 2 || b.length !== 2) throw new Skip(`Gemm needs rank-2 inputs, got [${a.join(', ')}] and [${b.join(', ')}]`);
    const m = attrInt(cx.node, 'transA', 0) ? a[1]! : a[0]!;
    const ka = attrInt(cx.node, 'transA', 0) ? a[0]! : a[1]!;
    const kb = attrInt(cx.node, 'transB', 0) ? b[1]! : b[0]!;
    const n = attrInt(cx.node, 'transB', 0) ? b[0]! : b[1]!;
    if (isNum(ka) && isNum(kb) && ka !== kb) throw new Skip(`inner dimensions ${ka} and ${kb} differ`);
    return { shapes: [[m, n]] };
  }),
  Einsum: rule(1, (cx) => ({
    shapes: [
      einsum(
        attrStr(cx.node, 'equation', ''),
        cx.node.inputs.map((_, k) => cx.shapeOf(k)),
      ),
    ],
  })),
};

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
  const out =
    rhs ??
    `${ellipses.length ? '...' : ''}${[...counts]
      .filter(([, n]) => n === 1)
      .map(([c]) => c)
      .sort()
      .join('')}`;
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
