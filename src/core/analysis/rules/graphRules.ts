import type { GraphNode } from '../../graph/model';
import { fmtShape, isOnnxDomain, plural, type LintContext } from './context';

/**
 * Whole-graph constraints: static shapes, batch 1, rank <= 4, operators the parser rejects or
 * has not been seen parsing, shape-driven computation, opset and domains.
 * Facts: reference onnx-support.md §1 and §4, dfc-cli.md error catalogue.
 */

/** HW001: inputs and outputs must have static shapes. */
export function dynamicDims(ctx: LintContext): void {
  for (const [kind, list] of [
    ['input', ctx.g.inputs],
    ['output', ctx.g.outputs],
  ] as const) {
    for (const t of list) {
      const near = kind === 'input' ? ctx.consumers(t.name) : [ctx.producer(t.name)].filter((n): n is GraphNode => !!n);
      if (!t.shape) {
        ctx.push({
          code: 'HW001',
          severity: 'error',
          message: `Graph ${kind} "${t.name}" has no known shape. The Hailo parser needs a static shape for every ${kind} and HailoRT has no dynamic input resolution.`,
          nodes: near.slice(0, 8).map((n) => n.id),
          fix:
            kind === 'input'
              ? `Export with a fixed-size example input and no dynamic axes (remove "dynamicAxes" from the model in hailo.json).`
              : 'Export with static input shapes so every shape can be inferred; run onnxsim after export.',
        });
        continue;
      }
      const symbolic = t.shape.map((d, i) => ({ d, i })).filter((x) => typeof x.d !== 'number' || x.d <= 0);
      if (!symbolic.length) continue;
      const axes = symbolic.map((x) => `axis ${x.i} = "${x.d}"`).join(', ');
      const inputsStatic = ctx.g.inputs.every((i) => i.shape?.every((d) => typeof d === 'number' && d > 0));
      const origins = kind === 'output' && inputsStatic ? symbolicOrigins(ctx) : [];
      ctx.push({
        code: 'HW001',
        severity: 'error',
        message:
          kind === 'input'
            ? `Graph input "${t.name}" has shape ${fmtShape(t.shape)} with dynamic dimensions (${axes}). The Hailo parser needs a fixed shape for every input and HailoRT has no dynamic input resolution.`
            : inputsStatic
              ? `Graph output "${t.name}" is declared ${fmtShape(t.shape)} with symbolic dimensions (${axes}) although every input is static: shape arithmetic in the model (sizes taken from x.shape at export) was not folded${origins.length ? `, first at ${origins.map((n) => `${n.op} ${n.id}`).join(', ')}` : ''}. The Hailo parser needs fixed shapes.`
              : `Graph output "${t.name}" has shape ${fmtShape(t.shape)} with dynamic dimensions (${axes}), following the dynamic inputs. The Hailo parser needs fixed shapes.`,
        nodes: (origins.length ? origins : near).slice(0, 8).map((n) => n.id),
        fix:
          kind === 'input'
            ? `Export without dynamic axes (remove "dynamicAxes" from the model in hailo.json) using the real size, e.g. [1, 80, 3000] for a 30 s Whisper input.`
            : inputsStatic
              ? 'Write the sizes as constants in the model code (Python ints instead of x.shape values), or run onnxsim on the export so they fold.'
              : 'Export with static input shapes; the output shape then follows.',
      });
    }
  }
}

/**
 * Nodes on the data path whose data inputs are statically shaped but whose output is not: where
 * unfolded shape arithmetic (F.pad amounts, view sizes from x.shape) makes the shapes symbolic.
 */
function symbolicOrigins(ctx: LintContext): GraphNode[] {
  const isStatic = (v: string) => ctx.staticShape(v) !== undefined;
  const data = new Set(ctx.g.inputs.map((i) => i.name));
  const out: GraphNode[] = [];
  for (const n of ctx.g.nodes) {
    if (n.op === 'Shape' || n.op === 'Size') continue;
    const dataIn = n.inputs.filter((i) => i && data.has(i));
    if (!dataIn.length) continue;
    for (const o of n.outputs) if (o) data.add(o);
    if (dataIn.every(isStatic) && n.outputs.some((o) => o && ctx.shape(o) && !isStatic(o))) out.push(n);
    if (out.length >= 5) break;
  }
  return out;
}

/** HW002: the batch axis must be 1 in the graph; batching is a compile/runtime option. */
export function batchSize(ctx: LintContext): void {
  for (const t of ctx.g.inputs) {
    const b = t.shape?.[0];
    if (!t.shape || t.shape.length < 2 || typeof b !== 'number' || b === 1 || b <= 0) continue;
    ctx.push({
      code: 'HW002',
      severity: 'error',
      message: `Graph input "${t.name}" has batch size ${b} (shape ${fmtShape(t.shape)}). The Hailo parser turns the batch axis into -1 and batches at run time; a graph exported with batch ${b} has batch-dependent reshapes the parser cannot map, and ops that touch the batch axis fail.`,
      nodes: ctx
        .consumers(t.name)
        .slice(0, 8)
        .map((n) => n.id),
      fix: 'Export with batch 1; choose batching when compiling (--batch-size / optimize_for_batch) or at run time.',
    });
  }
}

/** HW003: Hailo layers are at most 4-D (NHWC after translation). */
export function rankAbove4(ctx: LintContext): void {
  const byOp = new Map<string, GraphNode[]>();
  for (const n of ctx.g.nodes) {
    const big = n.outputs.some((o) => !ctx.isConst(o) && (ctx.shape(o)?.length ?? 0) > 4);
    if (!big) continue;
    let list = byOp.get(n.op);
    if (!list) byOp.set(n.op, (list = []));
    list.push(n);
  }
  for (const [op, nodes] of byOp) {
    const example = nodes[0]!.outputs.map((o) => ctx.shape(o)).find((s) => (s?.length ?? 0) > 4);
    ctx.report(
      'HW003',
      'error',
      nodes,
      (a) => ({
        message: `${plural(a.count, `${op} node`)}${a.where} produce tensors above rank 4 (e.g. ${fmtShape(example)}). Hailo layers carry at most 4-D tensors (NCHW is translated to NHWC, rank 3 [B,S,C] is carried as [B,1,S,C]); the parser cannot represent this tensor and is expected to fail on it.`,
        fix: "Keep every activation at rank <= 4: merge axes before the op (e.g. fold heads into the channel or batch-free axes) as Hailo's own transformer exports do.",
      }),
      op,
    );
  }
}

interface Rejected {
  error: string;
  why: string;
  fix: string;
}

/** Operators with a known parser failure (exact error classes from the reference logs). */
const REJECTED: Record<string, Rejected> = {
  GatherElements: {
    error: 'UnsupportedOperationError: GatherElements operation is unsupported',
    why: 'data-dependent gather',
    fix: 'Compute it on the host, or express it as a constant-index Slice/Gather.',
  },
  TopK: {
    error: 'UnsupportedOperationError: TopK operation is unsupported',
    why: 'data-dependent selection',
    fix: 'End the Hailo graph before TopK (--end-node-names) and run it on the host.',
  },
  Mod: { error: 'UnsupportedOperationError: Mod operation is unsupported', why: 'no Hailo layer', fix: 'Remove Mod from the graph or compute it on the host.' },
  Selu: { error: 'UnsupportedOperationError: Selu operation is unsupported', why: 'no Hailo activation', fix: 'Use Elu, ReLU or GELU instead of SELU.' },
  LSTM: {
    error: 'UnsupportedLSTMLayerError: activation types [...] are not supported',
    why: 'recurrent layers',
    fix: 'Replace the recurrence with convolutions (fixed kernel length) or run it on the host.',
  },
  GRU: {
    error: 'no Hailo layer (recurrent layers fail like LSTM; uncertain)',
    why: 'recurrent layers',
    fix: 'Replace the recurrence with convolutions or run it on the host.',
  },
  RNN: {
    error: 'no Hailo layer (recurrent layers fail like LSTM; uncertain)',
    why: 'recurrent layers',
    fix: 'Replace the recurrence with convolutions or run it on the host.',
  },
  NonMaxSuppression: {
    error: 'no Hailo layer; NMS is attached by nms_postprocess in the model script',
    why: 'data-dependent output size',
    fix: 'End the graph before NMS and add nms_postprocess(...) to the .alls model script.',
  },
  Loop: { error: 'control flow is not supported', why: 'control flow', fix: 'Unroll the loop at export time (fixed trip count) or run it on the host.' },
  If: {
    error: 'control flow is not supported',
    why: 'control flow',
    fix: 'Remove the branch at export time (trace with the branch fixed) or run it on the host.',
  },
  Scan: { error: 'control flow is not supported', why: 'control flow', fix: 'Unroll the scan at export time or run it on the host.' },
  NonZero: { error: 'data-dependent output shape', why: 'data-dependent output size', fix: 'Replace with a fixed-size mask multiplication.' },
  Unique: { error: 'data-dependent output shape', why: 'data-dependent output size', fix: 'Compute it on the host.' },
};

/** Operators seen parsing and compiling for hailo8/hailo8l (onnx-support.md §2), plus ops other rules judge. */
const SEEN: ReadonlySet<string> = new Set([
  'Conv',
  'ConvTranspose',
  'Gemm',
  'MatMul',
  'BatchNormalization',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Concat',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pad',
  'Clip',
  'Resize',
  'DepthToSpace',
  'SpaceToDepth',
  'Flatten',
  'Transpose',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Sigmoid',
  'Tanh',
  'Elu',
  'HardSigmoid',
  'HardSwish',
  'Gelu',
  'Softmax',
  'LayerNormalization',
  'InstanceNormalization',
  // judged by their own rules or folded away by the parser/simplifier
  'Constant',
  'Identity',
  'Dropout',
  'Cast',
  'Erf',
  'Gather',
  'Pow',
  'Sqrt',
  'Shape',
  'Split',
  'Slice',
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceSum',
  'ReduceProd',
  'ReduceL2',
  'ReduceL1',
  'ReduceSumSquare',
  'ReduceLogSumExp',
  'ConstantOfShape',
  'Range',
  'Size',
  'Expand',
  'Tile',
]);

/** HW004 rejected operators and foreign-domain (custom) operators; HW005 operators not seen parsing. */
export function operators(ctx: LintContext): void {
  const rejected = new Map<string, GraphNode[]>();
  const custom = new Map<string, GraphNode[]>();
  const unseen = new Map<string, GraphNode[]>();
  const add = (m: Map<string, GraphNode[]>, k: string, n: GraphNode) => {
    let l = m.get(k);
    if (!l) m.set(k, (l = []));
    l.push(n);
  };
  for (const n of ctx.g.nodes) {
    if (!isOnnxDomain(n.domain)) add(custom, `${n.domain}::${n.op}`, n);
    else if (REJECTED[n.op]) {
      // over constants only (shape arithmetic such as t % 4): folded before the parser sees it
      if (!n.inputs.every((i) => ctx.isConst(i))) add(rejected, n.op, n);
    } else if (!SEEN.has(n.op)) add(unseen, n.op, n);
  }
  for (const [op, nodes] of rejected) {
    const r = REJECTED[op]!;
    ctx.report(
      'HW004',
      'error',
      nodes,
      (a) => ({
        message: `${plural(a.count, `${op} node`)}${a.where}: the Hailo parser rejects ${op} (${r.why}); expect "${r.error}".`,
        fix: r.fix,
      }),
      op,
    );
  }
  for (const [key, nodes] of custom) {
    const [domain, op] = key.split('::');
    ctx.report(
      'HW004',
      'error',
      nodes,
      (a) => ({
        message: `${plural(a.count, `${op} node`)}${a.where} from operator domain "${domain}": the Hailo parser translates ai.onnx operators only; a custom-domain operator has no Hailo layer and parsing is expected to fail (UnsupportedOperationError).`,
        fix: 'Export without custom operators (e.g. without operator_export_type=ONNX_FALLTHROUGH or contrib ops), or end the Hailo graph before them.',
      }),
      key,
    );
  }
  for (const [op, nodes] of unseen) {
    ctx.report(
      'HW005',
      'warning',
      nodes,
      (a) => ({
        message: `${plural(a.count, `${op} node`)}${a.where}: ${op} is not among the operators seen parsing for hailo8/hailo8l in the reference material. Uncertain: Hailo's own operator table is not public, so it may parse, be rewritten or fail.`,
        fix: `Try a parse early (Hailo: parse on the compile box), or replace ${op} with operators Hailo models use (Conv, MatMul with constant weights, element-wise ops, ReLU/GELU/Sigmoid, pooling, Concat).`,
      }),
      op,
    );
  }
}

/** HW006: Shape-driven computation; the parser needs everything shape-related folded to constants. */
export function shapeDriven(ctx: LintContext): void {
  const foldable = new Map<string, GraphNode[]>();
  const dynamic = new Map<string, GraphNode[]>();
  const add = (m: Map<string, GraphNode[]>, n: GraphNode) => {
    let list = m.get(n.op);
    if (!list) m.set(n.op, (list = []));
    list.push(n);
  };
  for (const n of ctx.g.nodes) {
    if (n.op === 'Shape' || n.op === 'Size') add(ctx.staticShape(n.inputs[0]) ? foldable : dynamic, n);
    else if (n.op === 'Range' || n.op === 'ConstantOfShape') add(n.inputs.every((i) => ctx.isConst(i)) ? foldable : dynamic, n);
    else if ((n.op === 'Reshape' || n.op === 'Expand' || n.op === 'Tile') && n.inputs[1] && !ctx.isConst(n.inputs[1])) add(dynamic, n);
  }
  for (const [op, nodes] of dynamic) {
    ctx.report(
      'HW006',
      'warning',
      nodes,
      (a) => ({
        message: `${plural(a.count, `${op} node`)}${a.where} compute shapes or sizes from tensors whose shape is not static. The Hailo parser needs constant shapes ("Shape-driven reshapes" are listed as unsupported) and is expected to fail here.`,
        fix: 'Use fixed sizes in the model code (x.reshape(1, 1500, 768) instead of x.reshape(x.shape[0], -1, ...)), export with static input shapes, then run onnxsim.',
      }),
      op,
    );
  }
  for (const [op, nodes] of foldable) {
    ctx.report(
      'HW006',
      'info',
      nodes,
      (a) => ({
        message: `${plural(a.count, `${op} node`)}${a.where} compute shapes of statically shaped tensors (torch writes Shape -> Gather -> Concat -> Reshape for view(n, t, h, -1), and ConstantOfShape/Concat chains for F.pad amounts). They fold to constants (this lint folds them; the exporter's own shape inference may not, and then the file declares symbolic shapes after them). When the first parse fails the parser retries on an onnx-simplifier copy ("Simplified ONNX model for a parsing retry attempt"); simplifying the export yourself avoids the retry, which large models do not get ("Large model detected").`,
        fix: 'Run onnxsim (onnx-simplifier) on the export, or write shapes as constants (view(1, T, heads, -1)).',
      }),
      `${op}:fold`,
    );
  }
}

/** HW007: opset and operator domains. */
export function opset(ctx: LintContext): void {
  const v = ctx.model.defaultOpset;
  if (v === undefined) {
    ctx.push({
      code: 'HW007',
      severity: 'warning',
      message: 'The model imports no ai.onnx opset; the Hailo parser cannot tell which operator versions it holds.',
      nodes: [],
      fix: 'Set "opset": 17 for the model in hailo.json and export again (torch.onnx.export(..., opset_version=17)).',
    });
  } else if (v < 11) {
    ctx.push({
      code: 'HW007',
      severity: 'warning',
      message: `The model uses ai.onnx opset ${v}. Hailo officially named opsets 8 and 11 and its examples use 11 to 17; opset ${v} predates most of them and several operators changed form since (Pad, Resize, Slice take inputs instead of attributes from opset 10/11).`,
      nodes: [],
      fix: 'Set "opset": 17 for the model in hailo.json and export again (17 gives a native LayerNormalization op).',
    });
  } else if (v > 17) {
    ctx.push({
      code: 'HW007',
      severity: 'warning',
      message: `The model uses ai.onnx opset ${v}. The newest opset in Hailo's own exports is 17 (Model Zoo ViT, the Hailo Whisper encoder); opset ${v} may parse but is unproven (uncertain), and a Hailo engineer suggested re-exporting at opset 13 when a parse failed.`,
      nodes: [],
      fix: 'Set "opset": 17 for the model in hailo.json and export again.',
    });
  }
  if (ctx.model.unknownDomains.length) {
    ctx.push({
      code: 'HW007',
      severity: 'error',
      message: `The model imports operator domains the Hailo parser does not translate: ${ctx.model.unknownDomains.map((d) => `"${d}"`).join(', ')}.`,
      nodes: ctx.g.nodes
        .filter((n) => n.domain !== undefined && ctx.model.unknownDomains.includes(n.domain))
        .slice(0, 50)
        .map((n) => n.id),
      fix: 'Export with standard ai.onnx operators only.',
    });
  }
}
