import type { GraphNode } from '../../graph/model';
import { attrInt, attrInts, attrString, fmtShape, normAxis, plural, type LintContext } from './context';

/**
 * Constructs the Hailo toolchain parses but rewrites (or is known to fail on in some forms).
 * Facts: reference onnx-support.md §1, §3 and §4; compile logs in log-samples/.
 */

const LN_ALLS = 'pre_quantization_optimization(layer_norm_decomposition, bit_decomposition_mode=uniform_precision, equalization=disabled)';

/** HW010: native LayerNormalization. */
export function layerNorm(ctx: LintContext): void {
  const nodes = ctx.g.nodes.filter((n) => n.op === 'LayerNormalization');
  if (!nodes.length) return;
  const offAxis: GraphNode[] = [];
  const onAxis: GraphNode[] = [];
  for (const n of nodes) {
    const rank = ctx.shape(n.inputs[0])?.length;
    const axis = normAxis(attrInt(n, 'axis') ?? -1, rank);
    (rank !== undefined && axis !== undefined && axis !== rank - 1 ? offAxis : onAxis).push(n);
  }
  ctx.report('HW010', 'info', onAxis, (a) => ({
    message: `${plural(a.count, 'LayerNormalization node')}${a.where}: the parser keeps each as a normalization layer (normalizationN / layer_normalization in the HN) and the optimizer decomposes it ("Starting LayerNorm Decomposition", about 5 minutes for the Whisper-tiny encoder on CPU) into 8/16-bit pieces, so the quantized result differs from the float LayerNorm.`,
    fix: `Keep the native op (opset 17) and add Hailo's transformer recipe to the .alls: ${LN_ALLS}; or, if the rewrite is unwanted, normalize with BatchNorm that folds into the convolutions (Hailo shipped BatchNorm variants of its early ViTs for this reason).`,
  }));
  ctx.report(
    'HW010',
    'warning',
    offAxis,
    (a) => ({
      message: `${plural(a.count, 'LayerNormalization node')}${a.where} normalize over more than the last axis. Hailo normalization layers work on the channel (last) axis; a multi-axis LayerNorm is expected to be rewritten with reshapes or to fail (uncertain).`,
      fix: 'Normalize over the channel axis only (nn.LayerNorm(C) on [B, S, C]).',
    }),
    'axis',
  );
}

/** HW011: LayerNorm written out as ReduceMean -> Sub -> Pow -> ReduceMean -> Add -> Sqrt -> Div. */
export function decomposedLayerNorm(ctx: LintContext): void {
  const found: GraphNode[][] = [];
  for (const mean of ctx.g.nodes) {
    if (mean.op !== 'ReduceMean' || ctx.claimed.has(mean.id)) continue;
    const x = mean.inputs[0];
    const u = mean.outputs[0];
    if (!x || !u) continue;
    const sub = ctx.consumers(u).find((c) => c.op === 'Sub' && c.inputs.includes(x));
    const d = sub?.outputs[0];
    if (!sub || !d) continue;
    const dc = ctx.consumers(d);
    const sq = dc.find((c) => c.op === 'Pow' || (c.op === 'Mul' && c.inputs[0] === d && c.inputs[1] === d));
    const div = dc.find((c) => c.op === 'Div');
    if (!sq || !div) continue;
    const chain = [mean, sub, sq];
    // the variance branch: ReduceMean -> Add(eps) -> Sqrt, ending at the Div
    let cur = sq.outputs[0] ? ctx.consumers(sq.outputs[0]).find((c) => c.op === 'ReduceMean') : undefined;
    for (let i = 0; cur && cur !== div && i < 4; i++) {
      chain.push(cur);
      const next: GraphNode | undefined = cur.outputs[0] ? ctx.consumers(cur.outputs[0])[0] : undefined;
      cur = next;
    }
    chain.push(div);
    for (const n of chain) ctx.claimed.add(n.id);
    found.push(chain);
  }
  if (!found.length) return;
  const firsts = found.map((c) => c[0]!);
  const all = new Map(found.map((c) => [c[0]!.id, c]));
  // one finding per scope pattern; the node list carries every node of every pattern
  const groups = new Map<string, GraphNode[]>();
  const byExporter = ctx.opset < 17;
  ctx.report('HW011', 'info', firsts, (a) => {
    const nodes = a.nodes.flatMap((n) => all.get(n.id) ?? [n]);
    groups.set(a.nodes[0]!.id, nodes);
    const what = byExporter
      ? `${plural(a.count, 'LayerNorm')} decomposed by the ONNX exporter into ReduceMean/Sub/Pow/Sqrt/Div${a.where}: opset ${ctx.opset} has no LayerNormalization operator, so torch writes nn.LayerNorm out; opset 17 keeps it whole as one LayerNormalization node.`
      : `${plural(a.count, 'LayerNorm')} written out as ReduceMean/Sub/Pow/Sqrt/Div${a.where} (not nn.LayerNorm, which opset ${ctx.opset} would export as one LayerNormalization node).`;
    return {
      message: `${what} Uncertain whether the Hailo parser fuses the pattern back into one normalization layer; otherwise each piece becomes its own reduce/element-wise layer, quantized separately (a "LayerNorm-decomposition wall" was reported on such a model).`,
      fix: byExporter
        ? 'Set "opset": 17 for the model in hailo.json and export again (then see HW010).'
        : 'Use nn.LayerNorm (a native LayerNormalization op at opset 17; then see HW010).',
    };
  });
  // replace each finding's nodes with the full chains
  for (const f of ctx.out) {
    if (f.code !== 'HW011') continue;
    const full = groups.get(f.nodes[0] ?? '');
    if (full) f.nodes = full.map((n) => n.id);
  }
}

/** HW012: Softmax is decomposed into reduce_max / ew_sub / exp / reduce_sum / ew_mult layers. */
export function softmax(ctx: LintContext): void {
  const onAxis: GraphNode[] = [];
  const offAxis: GraphNode[] = [];
  for (const n of ctx.g.nodes) {
    if (n.op !== 'Softmax') continue;
    const rank = ctx.shape(n.inputs[0])?.length;
    const axis = normAxis(attrInt(n, 'axis') ?? (ctx.opset >= 13 ? -1 : 1), rank);
    (rank !== undefined && axis !== undefined && axis !== rank - 1 ? offAxis : onAxis).push(n);
  }
  ctx.report('HW012', 'info', onAxis, (a) => ({
    message: `${plural(a.count, 'Softmax node')}${a.where}: the compiler decomposes each Softmax into reduce_max_softmaxN -> ew_sub_softmaxN -> exp activation -> reduce_sum_softmaxN -> ew_mult_softmaxN; each piece is quantized on its own (16-bit on attention softmax was reported to crash the allocator).`,
    fix: 'Nothing to change if the attention is intended; keep the softmax on the last (channel) axis. To avoid it entirely, design the block without softmax attention (e.g. convolutional mixing).',
  }));
  for (const n of offAxis) {
    const rank = ctx.shape(n.inputs[0])?.length;
    ctx.push({
      code: 'HW012',
      severity: 'warning',
      message: `Softmax ${n.id} runs on axis ${attrInt(n, 'axis') ?? 1} of a rank-${rank} tensor, not on the last (channel) axis. Hailo's Softmax decomposition reduces over the channel axis; another axis needs layout rewrites around it or fails (uncertain).`,
      nodes: [n.id],
      fix: 'Transpose so the softmax axis is last (or use dim=-1 in PyTorch).',
    });
  }
}

/** HW013: MatMul whose operands are both activations (attention Q·Kᵀ and attention·V). */
export function activationMatMul(ctx: LintContext): void {
  const nodes = ctx.g.nodes.filter((n) => n.op === 'MatMul' && !ctx.isConst(n.inputs[0]) && !ctx.isConst(n.inputs[1]));
  ctx.report('HW013', 'info', nodes, (a) => ({
    message: `${plural(a.count, 'MatMul')} between two activations${a.where} (attention): each becomes a matmulN layer with layout conversions inserted around it (format_conversion / transpose_matmul, mux/demux); on Hailo-8L a transformer block like this goes multi-context (the Whisper-tiny encoder compiled to 9 contexts).`,
    fix: 'Add Hailo\'s transformer recipe to the .alls: pre_quantization_optimization(matmul_correction, layers={matmul*}, correction_type=zp_comp_block) and matmul_equalization; keep the attention "eager" (no scaled_dot_product_attention).',
  }));
}

/** Reshape [B, S, C] -> [B, S, H, D] with H * D = C: splitting the channels into attention heads. */
function isHeadSplit(inS: readonly number[] | undefined, outS: readonly number[] | undefined): boolean {
  return !!inS && !!outS && inS.length === 3 && outS.length === 4 && inS[0] === outS[0] && inS[1] === outS[1] && inS[2] === outS[2]! * outS[3]! && outS[2]! > 1;
}

/** Reshape [B, S, H, D] -> [B, S, H * D]: merging attention heads back into the channels. */
function isHeadMerge(inS: readonly number[] | undefined, outS: readonly number[] | undefined): boolean {
  return isHeadSplit(outS, inS);
}

const HEAD_PERMS = ['0,2,1,3', '0,2,3,1', '0,1,3,2'];

/**
 * The attention head split/merge of PyTorch eager attention (ViT/BERT/Whisper): x.view(B, S, H, D)
 * .permute(0, 2, 1, 3), the key permuted to [B, H, D, S], and the merge out.transpose(1, 2)
 * .reshape(B, S, C). The Hailo parser maps these to layout layers (reference onnx-support.md §2).
 */
function isAttentionLayout(ctx: LintContext, n: GraphNode): boolean {
  const inS = ctx.staticShape(n.inputs[0]);
  const outS = ctx.staticShape(n.outputs[0]);
  if (n.op === 'Reshape') return isHeadSplit(inS, outS) || isHeadMerge(inS, outS);
  if (n.op !== 'Transpose') return false;
  const perm = attrInts(n, 'perm');
  if (!perm || perm.length !== 4 || !HEAD_PERMS.includes(perm.join(','))) return false;
  const activationMatMul = (m: GraphNode | undefined) => m?.op === 'MatMul' && !ctx.isConst(m.inputs[0]) && !ctx.isConst(m.inputs[1]);
  const headReshape = (m: GraphNode | undefined) => m?.op === 'Reshape' && isAttentionLayout(ctx, m);
  const p = ctx.producer(n.inputs[0]);
  const next = n.outputs[0] ? ctx.consumers(n.outputs[0]) : [];
  return (
    headReshape(p) ||
    activationMatMul(p) ||
    next.some(
      (c) =>
        activationMatMul(c) ||
        headReshape(c) ||
        (c.op === 'Transpose' && next.length === 1 && c.outputs[0] !== undefined && ctx.consumers(c.outputs[0]).some(activationMatMul)),
    )
  );
}

/** HW014: Reshape/Flatten/Transpose that split, merge or reorder axes. */
export function layoutChanges(ctx: LintContext): void {
  const hits = new Map<string, GraphNode[]>();
  for (const n of ctx.g.nodes) {
    if (n.op !== 'Reshape' && n.op !== 'Flatten' && n.op !== 'Transpose') continue;
    if (ctx.isConst(n.inputs[0])) continue; // folded by the parser
    if (isAttentionLayout(ctx, n)) continue; // a supported pattern
    const inS = ctx.staticShape(n.inputs[0]);
    const outS = ctx.staticShape(n.outputs[0]);
    let moves = false;
    if (n.op === 'Transpose') {
      const perm = attrInts(n, 'perm') ?? (inS ? [...inS.keys()].reverse() : undefined);
      if (!perm) continue;
      const order = inS ? perm.filter((p) => inS[p] !== 1) : perm;
      moves = order.some((p, i) => i > 0 && p < order[i - 1]!);
    } else {
      if (!inS || !outS) continue;
      const a = inS.filter((d) => d !== 1);
      const b = outS.filter((d) => d !== 1);
      moves = a.length !== b.length || a.some((d, i) => d !== b[i]);
    }
    if (!moves) continue;
    let list = hits.get(n.op);
    if (!list) hits.set(n.op, (list = []));
    list.push(n);
  }
  const detail = (n: GraphNode) => `${fmtShape(ctx.shape(n.inputs[0]))} -> ${fmtShape(ctx.shape(n.outputs[0]))}`;
  for (const [op, nodes] of hits) {
    ctx.report(
      'HW014',
      'warning',
      nodes,
      (a) => ({
        message: `${plural(a.count, `${op} node`)}${a.where} move${a.count === 1 ? 's' : ''} data across axes (e.g. ${detail(a.nodes[0]!)}) outside the attention head split/merge pattern the Hailo parser is known to map. The parser turns the layouts it recognises into layout layers (format_conversion, auto_reshape_from_X_to_Y, *_defuse_reshape_*) and fails on others with "UnsupportedShuffleLayerError ... Failed to determine type of layer to create"; either way the compiled graph differs here.`,
        fix: 'Prefer layouts that need no reshape: keep sequences as [1, C, 1, T] and mix with (1, k) convolutions; where heads are split, use the plain reshape/transpose pattern of PyTorch eager attention.',
      }),
      op,
    );
  }
}

const ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean']);

/** HW015: element-wise ops between activations of different shapes (implicit broadcast). */
export function broadcast(ctx: LintContext): void {
  const hits = new Map<string, GraphNode[]>();
  const details = new Map<string, string>();
  for (const n of ctx.g.nodes) {
    if (!ELEMENTWISE.has(n.op) || ctx.claimed.has(n.id)) continue;
    const acts = n.inputs.filter((i) => i && !ctx.isConst(i));
    if (acts.length < 2) continue;
    const shapes = acts.map((i) => ctx.staticShape(i));
    if (shapes.some((s) => !s)) continue;
    const key = shapes.map((s) => fmtShape(s)).join(' with ');
    if (new Set(shapes.map((s) => fmtShape(s))).size === 1) continue;
    let list = hits.get(n.op);
    if (!list) hits.set(n.op, (list = []));
    list.push(n);
    if (!details.has(n.op)) details.set(n.op, key);
  }
  for (const [op, nodes] of hits) {
    ctx.report(
      'HW015',
      'warning',
      nodes,
      (a) => ({
        message: `${plural(a.count, `${op} node`)}${a.where} broadcast one activation against another of a different shape (e.g. ${details.get(op)}). Hailo element-wise layers (ew_add, ew_mult...) take equal shapes; the compiler restructures the graph around a broadcast (feature/spatial repeats, reshapes), which changes what is quantized.`,
        fix: 'Make both operands the same shape in the model (expand explicitly once, or restructure so the broadcast operand is a constant).',
      }),
      op,
    );
  }
}

const REDUCE = new Set(['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceSum', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSumExp']);

const PASS_THROUGH = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Relu',
  'Sigmoid',
  'Tanh',
  'Gelu',
  'Erf',
  'LeakyRelu',
  'PRelu',
  'Elu',
  'HardSigmoid',
  'HardSwish',
  'Clip',
  'Pow',
  'Sqrt',
  'Cast',
  'Identity',
  'Dropout',
  'BatchNormalization',
  'InstanceNormalization',
  'Split',
  'Slice',
  'MaxPool',
  'AveragePool',
  'Pad',
  'Concat',
]);

/**
 * The axis Hailo treats as features after translating to NHWC: axis 1 of NCHW tensors; for rank 3,
 * the last axis of a [B, S, C] sequence (Hailo carries it as [B, 1, S, C]) unless the tensor comes
 * from a 1-D convolution, whose [B, C, T] output is NCHW with H = 1 (channel axis 1).
 */
function channelAxis(ctx: LintContext, name: string | undefined, rank: number): number {
  if (rank === 4) return 1;
  if (rank !== 3) return rank - 1;
  let cur = name;
  for (let i = 0; i < 32 && cur; i++) {
    const p = ctx.producer(cur);
    if (!p) break;
    if (p.op === 'Conv' || p.op === 'ConvTranspose') return 1;
    const sameRank = (p.op === 'Reshape' || p.op === 'InstanceNormalization') && ctx.shape(p.inputs[0])?.length === 3;
    if (!PASS_THROUGH.has(p.op) && !sameRank) break;
    cur = p.inputs.find((x) => x && !ctx.isConst(x));
  }
  return 2;
}

/** HW016: reductions on a non-channel axis or without keepdims. */
export function reductions(ctx: LintContext): void {
  for (const n of ctx.g.nodes) {
    if (!REDUCE.has(n.op) || ctx.claimed.has(n.id)) continue;
    const rank = ctx.shape(n.inputs[0])?.length;
    const axesInput = n.inputs[1];
    let axes: readonly number[] | undefined = attrInts(n, 'axes');
    let unknownAxes = false;
    if (!axes && axesInput) {
      axes = ctx.constValue(axesInput);
      unknownAxes = !axes;
    }
    if (rank === undefined) continue;
    const all = !axes && !unknownAxes ? [...Array(rank).keys()] : (axes ?? []).map((a) => normAxis(a, rank)!);
    const keep = (attrInt(n, 'keepdims') ?? 1) !== 0;
    const ch = channelAxis(ctx, n.inputs[0], rank);
    const isMax = n.op === 'ReduceMax' || n.op === 'ReduceMin';
    if (unknownAxes) {
      ctx.push({
        code: 'HW016',
        severity: 'warning',
        message: `${n.op} ${n.id} takes its axes from a tensor whose values are not known here; Hailo reduces only on the channel axis with keepdims=1, check that this one does.`,
        nodes: [n.id],
        fix: 'Use constant axes (dim=-1, keepdim=True).',
      });
      continue;
    }
    const onChannel = all.length === 1 && all[0] === ch;
    if (onChannel && keep) continue;
    const gap = rank === 4 && n.op === 'ReduceMean' && keep && all.length === 2 && all.includes(2) && all.includes(3);
    const what = onChannel ? 'with keepdims=0' : `over axes [${all.join(', ')}] of a rank-${rank} tensor (channel axis: ${ch})`;
    ctx.push({
      code: 'HW016',
      severity: isMax ? 'error' : 'warning',
      message: isMax
        ? `${n.op} ${n.id} ${what}: the parser fails with "UnsupportedReduceMaxLayerError ... Reduce max is only supported on the features axis, and with keepdim=True".`
        : `${n.op} ${n.id} ${what}: Hailo's reduce layers are known to work only on the features (channel) axis with keepdim=True (stated for ReduceMax; likely the same for ${n.op}, uncertain). ${gap ? 'This is a spatial mean: export it as a GlobalAveragePool, which parses.' : 'Expect a parse failure or a rewrite with reshapes ("Invalid kernel shape" was reported after torch.mean(dim) + Linear).'}`,
      nodes: [n.id],
      fix: gap
        ? 'Use nn.AdaptiveAvgPool2d(1) (GlobalAveragePool) instead of x.mean(dim=(2, 3)).'
        : 'Reduce over the channel axis with keepdim=True (transpose first if needed), or move the reduction to the host.',
    });
  }
}

/** HW017: GELU as a Gelu op or as the Erf pattern of PyTorch exports. */
export function gelu(ctx: LintContext): void {
  const geluOps = ctx.g.nodes.filter((n) => n.op === 'Gelu');
  const erfPattern: GraphNode[] = [];
  const loneErf: GraphNode[] = [];
  for (const n of ctx.g.nodes) {
    if (n.op !== 'Erf') continue;
    const add = n.outputs[0] ? ctx.consumers(n.outputs[0]).find((c) => c.op === 'Add') : undefined;
    const mul = add?.outputs[0] ? ctx.consumers(add.outputs[0]).find((c) => c.op === 'Mul') : undefined;
    (mul ? erfPattern : loneErf).push(n);
  }
  ctx.report(
    'HW017',
    'info',
    geluOps,
    (a) => ({
      message: `${plural(a.count, 'Gelu node')}${a.where}: becomes a gelu activation; PyTorch-exported GELU parsed in published tests. Quantized GELU differs from float GELU in the negative tail.`,
    }),
    'Gelu',
  );
  ctx.report(
    'HW017',
    'info',
    erfPattern,
    (a) => ({
      message: `${plural(a.count, 'GELU')}${a.where} in the form torch exports nn.GELU / F.gelu below opset 20 (x * 0.5 * (1 + erf(x / sqrt 2))): PyTorch-exported GELU of this form parsed in published tests and becomes a gelu activation (the same pattern from a TF export failed with "UnsupportedActivationLayerError ... Unexpected activation"). Quantized GELU differs from float GELU in the negative tail.`,
    }),
    'Erf',
  );
  ctx.report(
    'HW017',
    'warning',
    loneErf,
    (a) => ({
      message: `${plural(a.count, 'Erf node')}${a.where} outside a GELU pattern: Hailo has no stand-alone erf layer (it recognises Erf only as part of GELU); expect "UnsupportedActivationLayerError" (uncertain).`,
      fix: 'Remove the Erf, or if it is meant as a GELU use nn.GELU() / F.gelu so the exporter writes the full pattern.',
    }),
    'lone',
  );
}

/** HW018: Gather (embedding lookups, batch-axis gathers, computed indices). */
export function gather(ctx: LintContext): void {
  const groups: Record<'embedding' | 'dynamic' | 'batch' | 'slice', GraphNode[]> = { embedding: [], dynamic: [], batch: [], slice: [] };
  for (const n of ctx.g.nodes) {
    if (n.op !== 'Gather') continue;
    const [data, idx] = n.inputs;
    const dataConst = ctx.isConst(data);
    const idxConst = ctx.isConst(idx);
    if (dataConst && idxConst) continue; // folded at parse time
    if (ctx.producer(data)?.op === 'Shape') continue; // shape arithmetic: HW006
    const rank = ctx.shape(data)?.length;
    const axis = normAxis(attrInt(n, 'axis') ?? 0, rank);
    if (dataConst) groups.embedding.push(n);
    else if (!idxConst) groups.dynamic.push(n);
    else if (axis === 0 && (rank ?? 2) >= 2) groups.batch.push(n);
    else groups.slice.push(n);
  }
  ctx.report(
    'HW018',
    'error',
    groups.embedding,
    (a) => ({
      message: `${plural(a.count, 'embedding lookup')} (Gather on a weight table with input indices)${a.where}: Hailo keeps embeddings on the host (Model Zoo BERT/CLIP are parsed from after the lookup, Hailo's Whisper decoder embeds on the CPU); a Gather with computed indices fails with "UnsupportedGatherLayerError ... Can't find index".`,
      fix: 'Do the lookup on the host and feed the summed embeddings as the network input, or start the Hailo graph after it (--start-node-names <the node after the lookup>).',
    }),
    'embedding',
  );
  ctx.report(
    'HW018',
    'error',
    groups.dynamic,
    (a) => ({
      message: `${plural(a.count, 'Gather node')} with computed indices${a.where}: the parser fails with "UnsupportedGatherLayerError ... Can't find index".`,
      fix: 'Use constant indices (slicing) or move the gather to the host.',
    }),
    'dynamic',
  );
  ctx.report(
    'HW018',
    'error',
    groups.batch,
    (a) => ({
      message: `${plural(a.count, 'Gather node')} on axis 0${a.where}: the parser fails with "UnsupportedSliceLayerError ... Gather operation on the batch dimension is not supported" (seen on ViT attention exports that pick q/k/v with Gather).`,
      fix: 'Split q/k/v with a Split or Slice on a non-batch axis (e.g. torch.chunk on the channel axis) instead of indexing the leading axis.',
    }),
    'batch',
  );
  ctx.report(
    'HW018',
    'info',
    groups.slice,
    (a) => ({
      message: `${plural(a.count, 'Gather node')} with constant indices on a non-batch axis${a.where}: expected to become a slice/feature split; uncertain, not confirmed by the reference.`,
      fix: 'Prefer Slice/Split, which Hailo models use.',
    }),
    'slice',
  );
}

/** HW019: 1-D convolutions. */
export function conv1d(ctx: LintContext): void {
  const nodes = ctx.g.nodes.filter((n) => {
    if (n.op !== 'Conv' && n.op !== 'ConvTranspose') return false;
    const k = attrInts(n, 'kernel_shape');
    if (k) return k.length === 1;
    const w = ctx.shape(n.inputs[1]);
    if (w) return w.length === 3;
    return ctx.shape(n.inputs[0])?.length === 3;
  });
  ctx.report('HW019', 'warning', nodes, (a) => ({
    message: `${plural(a.count, 'Conv1d')}${a.where}: the parser carries a 1-D convolution as a 2-D convolution with a (1, k) kernel on [B, C, 1, T] (layout conversions around it); Hailo's own Whisper export rewrites Conv1d as Conv2d(kernel=(1, k)) beforehand, and one sweep saw Conv1d time out at compile.`,
    fix: "Use nn.Conv2d(C_in, C_out, kernel_size=(1, k), padding=(0, p)) on input shaped [1, C, 1, T] (x.unsqueeze(2)), as Hailo's Whisper encoder does.",
  }));
}

/** HW020: padding that is asymmetric, non-zero, non-constant, or not constant mode. */
export function padding(ctx: LintContext): void {
  const add = (severity: 'error' | 'warning' | 'info', n: GraphNode, message: string, fix: string) =>
    ctx.push({ code: 'HW020', severity, message, nodes: [n.id], fix });
  const asym: GraphNode[] = [];
  for (const n of ctx.g.nodes) {
    if (n.op === 'Pad') {
      const mode = attrString(n, 'mode') ?? 'constant';
      let pads: readonly number[] | undefined = attrInts(n, 'pads');
      if (!pads && n.inputs[1]) {
        if (!ctx.isConst(n.inputs[1])) {
          add(
            'error',
            n,
            `Pad ${n.id} takes its pads from a computed tensor: the Hailo parser needs constant pads and fails on shape-driven padding.`,
            'Use constant padding amounts (fixed input size), then run onnxsim.',
          );
          continue;
        }
        pads = ctx.constValue(n.inputs[1]);
      }
      if (mode !== 'constant') {
        add(
          'warning',
          n,
          `Pad ${n.id} uses mode "${mode}". Hailo models only show zero (constant) padding; ${mode} padding is expected to fail or be rewritten (uncertain).`,
          'Use zero padding, or pad on the host.',
        );
      }
      const cv = n.inputs[2] ? ctx.constValue(n.inputs[2]) : undefined;
      if (n.inputs[2] && !ctx.isConst(n.inputs[2])) {
        add('error', n, `Pad ${n.id} takes its fill value from a computed tensor; the Hailo parser needs a constant fill.`, 'Use a constant fill value (0).');
      } else if (cv && cv.some((v) => v !== 0)) {
        add(
          'warning',
          n,
          `Pad ${n.id} fills with ${cv[0]}, not 0. Hailo folds zero padding into the next layer; a non-zero fill needs a separate layer whose value is quantized with the activation (uncertain).`,
          'Pad with zeros.',
        );
      }
      if (!pads) {
        // an odd size change on some axis cannot be split evenly: asymmetric whatever the values
        const inS = ctx.staticShape(n.inputs[0]);
        const outS = ctx.staticShape(n.outputs[0]);
        if (inS && outS && inS.length === outS.length && inS.some((d, i) => (outS[i]! - d) % 2 !== 0)) asym.push(n);
        else add('info', n, `Pad ${n.id}: the pad amounts could not be read, so symmetry was not checked.`, 'Check that the padding is symmetric and zero.');
        continue;
      }
      if (isAsymmetric(pads)) asym.push(n);
    } else if ((n.op === 'Conv' || n.op === 'ConvTranspose' || n.op === 'MaxPool' || n.op === 'AveragePool') && !ctx.isConst(n.inputs[0])) {
      const pads = attrInts(n, 'pads');
      if (pads && isAsymmetric(pads)) asym.push(n);
    }
  }
  const detail = (n: GraphNode) => {
    const pads = attrInts(n, 'pads') ?? (n.inputs[1] ? ctx.constValue(n.inputs[1]) : undefined);
    return pads ? ` (pads [${pads.join(', ')}])` : '';
  };
  ctx.report('HW020', 'warning', asym, (a) => ({
    message: `${plural(a.count, 'asymmetric padding')}${a.where}${a.count === 1 ? detail(a.nodes[0]!) : ` (e.g. ${a.nodes[0]!.id}${detail(a.nodes[0]!)})`}: Hailo folds symmetric zero padding into convolutions; asymmetric padding is realised with extra layers or changed, and paddings were seen to disappear from the parsed graph (uncertain which applies to your DFC version).`,
    fix: 'Use symmetric padding (odd kernels with padding=k//2), or pad the input once on the host.',
  }));
}

function isAsymmetric(pads: readonly number[]): boolean {
  const h = pads.length / 2;
  if (!Number.isInteger(h)) return false;
  for (let i = 0; i < h; i++) if (pads[i] !== pads[i + h]) return true;
  return false;
}
