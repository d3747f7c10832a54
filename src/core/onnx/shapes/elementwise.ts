import type { Dim } from '../../graph/model';
import {
  attrInt,
  broadcastShapes,
  dtypeOf,
  isIntLike,
  isNum,
  MAX_FOLD,
  normAxis,
  product,
  rule,
  rules,
  type Folded,
  type ShapeContext,
  type ShapeRules,
} from './context';

/** Element-wise operators: one input's shape (unary), broadcast (binary, variadic, Where), dtype changes. */

export const UNARY = new Set([
  'Relu',
  'Sigmoid',
  'Tanh',
  'Gelu',
  'Erf',
  'Sqrt',
  'Neg',
  'Abs',
  'Exp',
  'Log',
  'Reciprocal',
  'Floor',
  'Ceil',
  'Round',
  'Sin',
  'Cos',
  'Tan',
  'Asin',
  'Acos',
  'Atan',
  'Sinh',
  'Cosh',
  'Asinh',
  'Acosh',
  'Atanh',
  'Softplus',
  'Softsign',
  'LeakyRelu',
  'Elu',
  'Selu',
  'Celu',
  'HardSigmoid',
  'HardSwish',
  'Mish',
  'ThresholdedRelu',
  'Clip',
  'Identity',
  'Not',
  'Sign',
  'Softmax',
  'LogSoftmax',
  'Hardmax',
  'LpNormalization',
  'LRN',
  'InstanceNormalization',
  'GroupNormalization',
  'MeanVarianceNormalization',
  'CumSum',
  'Trilu',
  'Shrink',
  'PRelu',
  'BitwiseNot',
]);
/** Two inputs, broadcast. */
const BINARY = [
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Mod',
  'BitShift',
  'And',
  'Or',
  'Xor',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'BitwiseAnd',
  'BitwiseOr',
  'BitwiseXor',
];
/** One or more inputs, broadcast. */
const VARIADIC = ['Max', 'Min', 'Mean', 'Sum'];
const BOOL_OUT = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);
const CAST_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

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
        case 'Add':
          r = a + b;
          break;
        case 'Sub':
          r = a - b;
          break;
        case 'Mul':
          r = a * b;
          break;
        case 'Div':
          r = b === 0 ? undefined : Math.trunc(a / b);
          break;
        case 'Equal':
          r = a === b ? 1 : 0;
          break;
        case 'Less':
          r = a < b ? 1 : 0;
          break;
        case 'Greater':
          r = a > b ? 1 : 0;
          break;
        case 'Max':
          r = Math.max(a, b);
          break;
        case 'Min':
          r = Math.min(a, b);
          break;
        case 'Mod':
          r = b === 0 ? undefined : a % b;
          break;
        default:
          r = undefined;
      }
    }
    if (r === undefined) return undefined;
    data.push(r);
  }
  return { dims: out as number[], data };
}

/** Unary ops that need a second input (PRelu's slope). */
const UNARY_MIN: Record<string, number> = { PRelu: 2 };

const broadcast = (c: ShapeContext) => {
  const shapes = c.node.inputs.map((_, k) => c.shapeOf(k));
  const out = broadcastShapes(shapes);
  const dtype = BOOL_OUT.has(c.op) ? 'bool' : c.op === 'Where' ? dtypeOf(c.inp, c.node.inputs[1]) : dtypeOf(c.inp, c.node.inputs[0]);
  return {
    shapes: [out],
    dtypes: [dtype],
    folded: [
      foldElementwise(
        c.op,
        c.node.inputs.map((n) => (n ? c.folded.get(n) : undefined)),
        out,
      ),
    ],
  };
};

export const ELEMENTWISE_RULES: ShapeRules = {
  ...Object.fromEntries([...UNARY].map((op) => [op, rule(UNARY_MIN[op] ?? 1, (c) => c.same())])),
  Identity: rule(1, (c) => ({ shapes: [c.shapeOf(0)], folded: [c.foldedOf(0)] })),
  ...rules(BINARY, rule(2, broadcast)),
  ...rules(VARIADIC, rule(1, broadcast)),
  Where: rule(3, broadcast),
  Dropout: rule(1, (cx) => ({ shapes: [cx.shapeOf(0), cx.shapeOf(0)], dtypes: [dtypeOf(cx.inp, cx.node.inputs[0]), 'bool'] })),
  BatchNormalization: rule(5, (cx) => ({ shapes: [cx.shapeOf(0)] })),
  LayerNormalization: rule(2, (cx) => {
    const x = cx.shapeOf(0);
    const axis = normAxis(attrInt(cx.node, 'axis', -1), x.length);
    const stat = x.map((d, i) => (i < axis ? d : 1));
    return { shapes: [x, stat, stat], dtypes: [dtypeOf(cx.inp, cx.node.inputs[0]), 'float32', 'float32'] };
  }),
  Cast: rule(1, (cx) => {
    const to = attrInt(cx.node, 'to', 0);
    const dtype = CAST_NAMES[to];
    const f = cx.foldedOf(0);
    return { shapes: [cx.shapeOf(0)], dtypes: [dtype], folded: [f && dtype && isIntLike(dtype) ? f : undefined] };
  }),
  CastLike: rule(2, (cx) => ({ shapes: [cx.shapeOf(0)], dtypes: [dtypeOf(cx.inp, cx.node.inputs[1])] })),
  ...rules(
    ['IsNaN', 'IsInf'],
    rule(1, (cx) => ({ shapes: [cx.shapeOf(0)], dtypes: ['bool'] })),
  ),
  QuantizeLinear: rule(2, (cx) => ({ shapes: [cx.shapeOf(0)], dtypes: [dtypeOf(cx.inp, cx.node.inputs[2]) ?? 'uint8'] })),
  DequantizeLinear: rule(2, (cx) => ({ shapes: [cx.shapeOf(0)], dtypes: ['float32'] })),
};
