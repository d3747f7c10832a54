import type { GraphNode } from '../graph/model';
import { sortFindings, type Finding } from '../finding';
import { attrInts, LintContext, type LintableModel, type LintOptions } from './rules/context';
import { batchSize, dynamicDims, opset, operators, rankAbove4, shapeDriven } from './rules/graphRules';
import { contract, largeLayers, memory } from './rules/projectRules';
import {
  activationMatMul,
  broadcast,
  conv1d,
  decomposedLayerNorm,
  gather,
  gelu,
  layerNorm,
  layoutChanges,
  padding,
  reductions,
  softmax,
} from './rules/rewriteRules';

export type { ExpectedModel, LintableModel, LintOptions, LintSourceMap } from './rules/context';
export { RULES, RULES_BY_CODE, ruleHelpUri, ruleAnchor, type RuleInfo } from './lintRules';

/** Rules in the order they run; pattern rules first, so per-op rules can skip what they explain. */
const RULE_FNS: ((ctx: LintContext) => void)[] = [
  dynamicDims,
  batchSize,
  rankAbove4,
  operators,
  shapeDriven,
  opset,
  decomposedLayerNorm,
  layerNorm,
  softmax,
  activationMatMul,
  layoutChanges,
  broadcast,
  reductions,
  gelu,
  gather,
  conv1d,
  padding,
  contract,
  largeLayers,
  memory,
];

/**
 * The Hailo pre-flight lint: everything the Hailo Dataflow Compiler is known to reject or
 * rewrite in an ONNX model, with a fix. Pure and synchronous; `readLintConstants` supplies the
 * few constant values some rules need (Pad pads, reduction axes).
 */
export function lintModel(model: LintableModel, opts: LintOptions): Finding[] {
  const ctx = new LintContext(model, opts);
  for (const rule of RULE_FNS) rule(ctx);
  return sortFindings(ctx.out);
}

/**
 * Initializers whose values the rules may need: those feeding Pad pads/fill and reduction axes,
 * directly or through a short chain of small ops (folded by the lint).
 */
export function constantInputsNeeded(model: LintableModel): string[] {
  const roots: string[] = [];
  for (const n of model.graph.nodes) {
    if (n.op === 'Pad') roots.push(...n.inputs.slice(1).filter(Boolean));
    else if (n.op.startsWith('Reduce') && n.inputs[1] && !attrInts(n, 'axes')) roots.push(n.inputs[1]);
  }
  const producer = new Map<string, GraphNode>();
  for (const n of model.graph.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const out = new Set<string>();
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length && seen.size < 2000) {
    const name = stack.pop()!;
    if (!name || seen.has(name)) continue;
    seen.add(name);
    if (model.initializers.has(name)) {
      out.add(name);
      continue;
    }
    const p = producer.get(name);
    if (!p) continue;
    if (p.op === 'Constant')
      out.add(name); // readable through readTensor as well
    else if (p.op !== 'Shape' && p.op !== 'Size') stack.push(...p.inputs); // shapes come from inference, not data
  }
  return [...out];
}

type TensorValues = ArrayLike<number | bigint>;

/**
 * Read the small constants the lint needs (at most 4 KB each). Tensors that cannot be read are
 * left out; the rule then says the value was not checked.
 */
export async function readLintConstants(
  model: LintableModel & { readTensor?(name: string, opts?: { maxBytes?: number }): Promise<TensorValues> },
): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  if (!model.readTensor) return out;
  for (const name of constantInputsNeeded(model)) {
    try {
      const v = await model.readTensor(name, { maxBytes: 4096 });
      out.set(
        name,
        Array.from(v as ArrayLike<number | bigint>, (x) => Number(x)),
      );
    } catch {
      // unreadable constant: the rule reports that it could not check the value
    }
  }
  return out;
}
