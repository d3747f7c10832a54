import * as path from 'node:path';
import * as jsonc from 'jsonc-parser';
import { formatBytes } from '../../format';
import { checkNodeNames } from '../nodeNames';
import { estimateMemory, ON_CHIP_MEMORY, WEIGHTS_UTILIZATION } from '../../hailo/memory';
import type { GraphNode } from '../../graph/model';
import type { Finding } from '../../finding';
import { fmtShape, type LintContext } from './context';

/** HW021: inputs and outputs against the shapes promised in hailo.json (the 1500-step contract). */
export function contract(ctx: LintContext): void {
  const exp = ctx.opts.expected;
  if (!exp) return;
  const modelName = exp.name;
  const where = (kind: 'inputs' | 'outputs', i: number, key: 'shape' | 'name') => projectLine(ctx, modelName, [kind, i, key]);
  const related = (kind: 'inputs' | 'outputs', i: number, key: 'shape' | 'name'): Finding['related'] => {
    const line = where(kind, i, key);
    return line !== undefined && ctx.opts.projectFile
      ? [{ message: `expected ${kind.slice(0, -1)} in ${modelName ?? 'the project file'}`, file: ctx.opts.projectFile.file, line }]
      : undefined;
  };
  const check = (kind: 'inputs' | 'outputs', list: { name: string; shape?: number[] | undefined }[]) => {
    const actual = kind === 'inputs' ? ctx.g.inputs : ctx.g.outputs;
    list.forEach((e, i) => {
      const t = actual.find((a) => a.name === e.name);
      const nodes = t ? (kind === 'inputs' ? ctx.consumers(t.name).map((n) => n.id) : [ctx.producer(t.name)?.id].filter((x): x is string => !!x)) : [];
      const kindWord = kind.slice(0, -1);
      if (!t) {
        const rel = related(kind, i, 'name');
        ctx.push({
          code: 'HW021',
          severity: 'error',
          message: `hailo.json expects ${kindWord} "${e.name}" but the model has no such ${kindWord} (it has ${actual.map((a) => `"${a.name}"`).join(', ') || 'none'}).`,
          nodes: [],
          fix: `Name the ${kindWord} "${e.name}" at export (input_names/output_names), or correct hailo.json.`,
          ...(rel ? { related: rel } : {}),
        });
        return;
      }
      if (!e.shape) return;
      const got = t.shape;
      const same = got && got.length === e.shape.length && got.every((d, k) => d === e.shape![k]);
      if (same) return;
      const diffs =
        got && got.length === e.shape.length
          ? got
              .map((d, k) => (d !== e.shape![k] ? `axis ${k}: ${d} instead of ${e.shape![k]}` : ''))
              .filter(Boolean)
              .join(', ')
          : got
            ? `rank ${got.length} instead of ${e.shape.length}`
            : 'shape unknown';
      const rel = related(kind, i, 'shape');
      ctx.push({
        code: 'HW021',
        severity: 'error',
        message: `The model's ${kindWord} "${e.name}" is ${fmtShape(got)} but hailo.json expects ${fmtShape(e.shape)} (${diffs}). Everything downstream (the decoder, calibration data, the device pipeline) is built for the expected shape.`,
        nodes: nodes.slice(0, 8),
        fix:
          kind === 'outputs'
            ? 'Restore the time length in the model (strides/pooling of the front convolutions), or update hailo.json if the contract really changed.'
            : 'Export with the input shape from hailo.json.',
        ...(rel ? { related: rel } : {}),
      });
    });
  };
  check('inputs', exp.inputs ?? []);
  check('outputs', exp.outputs ?? []);
  nodeNames(ctx, 'startNodes', exp.startNodes ?? []);
  nodeNames(ctx, 'endNodes', exp.endNodes ?? []);
}

/** HW021: `startNodes`/`endNodes` of hailo.json must be node names of this ONNX. */
function nodeNames(ctx: LintContext, key: 'startNodes' | 'endNodes', names: readonly string[]): void {
  if (!names.length) return;
  const modelName = ctx.opts.expected?.name;
  const file = path.basename(ctx.model.file);
  const option = key === 'startNodes' ? '--start-node-names' : '--end-node-names';
  checkNodeNames(names, ctx.g).forEach((c, i) => {
    if (c.status === 'ok') return;
    const line = projectLine(ctx, modelName, [key, i]);
    const related =
      line !== undefined && ctx.opts.projectFile
        ? [{ message: `${key}[${i}] in ${modelName ?? 'the project file'}`, file: ctx.opts.projectFile.file, line }]
        : undefined;
    if (c.status === 'missing') {
      ctx.push({
        code: 'HW021',
        severity: 'error',
        message: `hailo.json gives ${key}[${i}] "${c.name}", but ${c.why.replace('no node of the ONNX model', `no node of ${file}`)}. The parser gets it as ${option} and fails on a name the model does not have.`,
        nodes: c.suggestions.slice(0, 1),
        fix: c.suggestions.length
          ? `Use the ONNX node name "${c.suggestions[0]}" (or another node of the model).`
          : `Use a node name of ${file} (the model editor lists them), or remove it from ${key}.`,
        ...(related ? { related } : {}),
      });
    } else {
      ctx.push({
        code: 'HW021',
        severity: 'info',
        message: `hailo.json gives ${key}[${i}] "${c.name}", which is not a node name of ${file} as written; it matches node "${c.node}" (${c.how}). The parser compares node names, so it may not find "${c.name}".`,
        nodes: [c.node],
        fix: `Write "${c.node}".`,
        ...(related ? { related } : {}),
      });
    }
  });
}

/** 1-based line of a JSON path under the named model in hailo.json, when the project text is known. */
function projectLine(ctx: LintContext, modelName: string | undefined, sub: (string | number)[]): number | undefined {
  const pf = ctx.opts.projectFile;
  if (!pf || !modelName) return undefined;
  const root = jsonc.parseTree(pf.text, [], { allowTrailingComma: true });
  const models = root ? jsonc.findNodeAtLocation(root, ['models']) : undefined;
  const idx = models?.children?.findIndex((m) => jsonc.findNodeAtLocation(m, ['name'])?.value === modelName) ?? -1;
  if (!root || idx < 0) return undefined;
  const node = jsonc.findNodeAtLocation(root, ['models', idx, ...sub]) ?? jsonc.findNodeAtLocation(root, ['models', idx]);
  if (!node) return undefined;
  let line = 1;
  for (let i = 0; i < node.offset; i++) if (pf.text.charCodeAt(i) === 10) line++;
  return line;
}

/** HW030: the on-chip memory estimate and the single/multi-context forecast. */
export function memory(ctx: LintContext): void {
  const est = estimateMemory(ctx.model, ctx.opts.hwArch);
  const act = est.largestActivation;
  const parts = [
    `Estimate, not a compiler result: weights ≈ ${formatBytes(est.weightBytes)} at 8 bits (${est.paramCount.toLocaleString('en-US')} parameter${est.paramCount === 1 ? '' : 's'})`,
    act ? `largest activation "${act.name}" ${fmtShape(act.shape)} ≈ ${formatBytes(act.bytes)} at 8 bits` : 'largest activation unknown (shapes not inferred)',
  ];
  let message: string;
  let severity: 'info' | 'warning' = 'info';
  let fix: string | undefined;
  if (!est.memory || est.budgetBytes === undefined) {
    message = `${parts.join('; ')}. No on-chip memory figure is known for ${ctx.opts.hwArch}, so no context forecast.`;
  } else {
    const sram = est.memory.sramBytes;
    const attention = ctx.opts.hwArch === 'hailo8l' && ctx.g.nodes.some((n) => n.op === 'MatMul' && !ctx.isConst(n.inputs[0]) && !ctx.isConst(n.inputs[1]));
    const actTooBig = !!act && act.bytes > sram;
    // one forecast, with every reason for it, so the sentence never contradicts itself
    const reasons: string[] = [];
    if ((est.minContexts ?? 1) > 1)
      reasons.push(`the weights alone need at least ${est.minContexts} contexts (${formatBytes(est.budgetBytes)} of weights per context)`);
    if (actTooBig) reasons.push(`the largest activation alone (${formatBytes(act.bytes)}) is larger than the whole on-chip memory (${formatBytes(sram)})`);
    else if (est.forecast === 'multi-context' && (est.minContexts ?? 1) === 1)
      reasons.push('weights plus the largest activation (in and out) exceed on-chip memory');
    if (attention)
      reasons.push(
        'attention blocks go multi-context on Hailo-8L whatever the memory says (the Whisper-tiny encoder, ≈8 M parameters, compiled to 9 contexts)',
      );
    const forecast = reasons.length ? 'multi-context' : 'single-context';
    message = `${parts.join('; ')}. ${est.memory.basis}. Forecast: ${forecast}${reasons.length ? `, because ${reasons.join('; and ')}` : ` (the weights fit the ${formatBytes(est.budgetBytes)} a context holds for weights, and the largest activation fits beside them)`}.`;
    message += ` Assumptions: ${est.assumptions.slice(1).join('; ')}.`;
    if (actTooBig) {
      severity = 'warning';
      fix = `Shrink the largest activation ("${act.name}"): fewer heads or a shorter sequence per attention matrix (split the time axis), or keep that part on the host; the compiler may fail to allocate it or split it over many contexts (uncertain).`;
    } else if (forecast === 'multi-context') {
      fix =
        'Multi-context compiles work but pass tensors between contexts through DRAM (slower, longer compiles); to stay single-context reduce width/depth or compress weights (model_optimization_flavor(compression_level=...)).';
    }
  }
  ctx.push({
    code: 'HW030',
    severity,
    message,
    // a whole-model estimate: not tied to a node or a Python line
    nodes: [],
    ...(fix ? { fix } : {}),
  });
}

/** HW022: one layer whose weights alone exceed what a context holds (a vocabulary projection). */
export function largeLayers(ctx: LintContext): void {
  const mem = ON_CHIP_MEMORY[ctx.opts.hwArch];
  if (!mem) return;
  const budget = mem.sramBytes * WEIGHTS_UTILIZATION;
  const big: { node: GraphNode; params: number }[] = [];
  for (const n of ctx.g.nodes) {
    if (n.op !== 'MatMul' && n.op !== 'Gemm' && n.op !== 'Conv' && n.op !== 'ConvTranspose') continue;
    const w = n.inputs[1];
    if (!w || !ctx.isInitializer(w)) continue;
    const dims = ctx.model.initializers.get(w)?.dims ?? ctx.staticShape(w);
    if (!dims) continue;
    const params = dims.reduce((a, b) => a * b, 1);
    if (params > budget) big.push({ node: n, params });
  }
  for (const { node, params } of big) {
    ctx.push({
      code: 'HW022',
      severity: 'warning',
      message: `${node.op} ${node.id} has ${params.toLocaleString('en-US')} weights (≈ ${formatBytes(params)} at 8 bits), more than the ≈ ${formatBytes(budget)} a context holds for weights on ${ctx.opts.hwArch} (estimate; ${mem.basis}). Hailo split Whisper's 384 x 51865 vocabulary projection into 4 chunks because the original was "too big to be supported on Hailo-8"; a layer this size may fail to allocate (uncertain).`,
      nodes: [node.id],
      fix: 'Split the projection into several smaller layers with separate outputs (as Hailo does for Whisper and Qwen heads), or keep it on the host.',
    });
  }
}
