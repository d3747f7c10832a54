import type { Dim, GraphNode, TensorInfo } from '../graph/model';
import { dtypeOf, isIntLike, MAX_FOLD, ShapeContext, Skip, UNKNOWN, type Folded, type OpResult, type ShapeInput } from './shapes/context';
import { SHAPE_RULES } from './shapes/index';

/**
 * Static shape inference over a topologically ordered ONNX graph. Small integer tensors (shape
 * vectors) are folded through Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains as torch
 * exports them, symbolic dims stay strings, and whatever cannot be inferred is reported (node
 * and op), never guessed. The per-op shape functions live in ./shapes/, one file per op family.
 * A malformed node (too few inputs, impossible attributes) is a warning on that node; nothing a
 * node holds can end the inference of the others.
 */
export type { ShapeInput } from './shapes/context';
export { broadcastShapes } from './shapes/context';

export function inferShapes(inp: ShapeInput): string[] {
  const warnings: string[] = [];
  const unsupported = new Map<string, string[]>();
  const opset = inp.opset ?? 21;
  const folded = new Map<string, Folded>();
  for (const [name, c] of inp.consts) if (c.data.length <= MAX_FOLD && isIntLike(c.dtype)) folded.set(name, { dims: c.dims, data: c.data });
  for (const i of Object.values(inp.values)) {
    if (!i.initializer && !i.shape) warnings.push(`graph input '${i.name}' has no shape`);
  }

  for (const node of inp.nodes) {
    if (node.domain && node.domain !== 'ai.onnx') {
      markUnknown(inp, node);
      const list = unsupported.get(`${node.domain}.${node.op}`) ?? [];
      list.push(node.id);
      unsupported.set(`${node.domain}.${node.op}`, list);
      continue;
    }
    let res: OpResult | undefined;
    const r = SHAPE_RULES.get(node.op);
    if (!r) {
      const list = unsupported.get(node.op) ?? [];
      list.push(node.id);
      unsupported.set(node.op, list);
    } else if (node.inputs.length < r.minInputs) {
      warnings.push(`${node.id} (${node.op}): ${node.op} has ${node.inputs.length} input${node.inputs.length === 1 ? '' : 's'}, needs ${r.minInputs}`);
    } else {
      try {
        res = r.infer(new ShapeContext(node, inp, opset, folded));
      } catch (e) {
        if (!(e instanceof Skip)) warnings.push(`${node.id} (${node.op}): shape inference failed on this node (${e instanceof Error ? e.message : String(e)})`);
        else if (!e.silent) warnings.push(`${node.id} (${node.op}): ${e.message}`);
      }
    }
    node.outputs.forEach((out, k) => {
      if (!out) return;
      let shape = res?.shapes[k];
      const dtype = res?.dtypes?.[k] ?? (res ? (res.dtypes ? undefined : dtypeOf(inp, node.inputs[0])) : undefined);
      const decl = inp.declared.get(out);
      if (shape && decl?.shape) {
        const merged = mergeDeclared(shape, decl.shape);
        if (!merged)
          warnings.push(
            `${node.id} (${node.op}): output '${out}' is declared as [${decl.shape.join(', ')}] but inferred as [${shape.join(', ')}]; using the inferred shape`,
          );
        else shape = merged;
      }
      if (!shape && decl?.shape) shape = decl.shape;
      if (!shape && res) warnings.push(`${node.id} (${node.op}): shape of output ${k} '${out}' is not inferred`);
      const prev = inp.values[out];
      inp.values[out] = { name: out, shape: shape ?? prev?.shape, dtype: dtype ?? decl?.dtype ?? prev?.dtype };
      const f = res?.folded?.[k];
      if (f && f.data.length <= MAX_FOLD) folded.set(out, f);
    });
  }
  const byId = new Map(inp.nodes.map((n) => [n.id, n]));
  for (const [op, ids] of unsupported) {
    // declared shapes (value_info) fill the gap: only nodes left without one are reported
    const missing = ids.filter((id) => !byId.get(id)?.outputs.every((o) => !o || inp.values[o]?.shape));
    if (missing.length)
      warnings.push(
        `no shape inference for ${op} (${missing.length} node(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}); their output shapes are unknown unless declared`,
      );
  }
  return warnings;
}

function markUnknown(inp: ShapeInput, node: GraphNode): void {
  for (const o of node.outputs) if (o) inp.values[o] = { name: o, shape: inp.declared.get(o)?.shape, dtype: inp.declared.get(o)?.dtype };
}

function mergeDeclared(inferred: Dim[], declared: Dim[]): Dim[] | undefined {
  if (inferred.length !== declared.length) return undefined;
  const out: Dim[] = [];
  for (let i = 0; i < inferred.length; i++) {
    const a = inferred[i]!;
    const b = declared[i]!;
    if (typeof a === 'number' && typeof b === 'number' && a !== b) return undefined;
    // inferred numbers and symbols (traced from the inputs' dim names) win; a declared dim fills an unknown one
    out.push(typeof a === 'number' || (a !== UNKNOWN && typeof b !== 'number') ? a : b);
  }
  return out;
}

export type { TensorInfo };
