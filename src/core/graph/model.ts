/**
 * The one graph model shared by ONNX and Hailo HN graphs. The custom editor renders it, the
 * rewrite ledger compares two of them, and it is plain data (structured-clone safe) so it can be
 * posted to a webview or a layout worker as-is.
 */
export type Dim = number | string; // a string is a symbolic dimension ("batch", "?")

export interface TensorInfo {
  name: string;
  /** Undefined when the shape is not known. */
  shape: Dim[] | undefined;
  dtype: string | undefined;
}

export interface GraphNode {
  /** Unique within the graph (ONNX node name, or a generated one when the node has none; HN layer key). */
  id: string;
  /** Operator or layer type: "Conv", "MatMul" for ONNX; "conv", "normalization" for HN. */
  op: string;
  /** Operator domain for ONNX ("" = ai.onnx); undefined for HN. */
  domain?: string;
  /** Module scope, dotted: "encoder.blocks.3.attn"; "" at top level. */
  scope: string;
  /** Value names consumed and produced, in order. */
  inputs: string[];
  outputs: string[];
  /** Small attributes as plain JSON values (large tensors are summarised, never inlined). */
  attrs: Record<string, unknown>;
  /** Where the node came from in the user's source, when known. */
  source?: SourceLocation;
  /** Names in the original model this node stands for (HN `original_names`). */
  originalNames?: string[];
}

export interface SourceLocation {
  file: string;
  line: number;
  /** Module path of the code that produced the node, e.g. "encoder.blocks.0.attn". */
  module?: string;
}

export interface GraphModel {
  kind: 'onnx' | 'hn';
  name: string;
  nodes: GraphNode[];
  /** Graph inputs and outputs (activations only, never initializers). */
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Every known value (activations and initializers) by name. */
  values: Record<string, TensorInfo & { initializer?: boolean }>;
  /**
   * ONNX If/Loop/Scan bodies as nested graphs, all nesting levels in one flat list (an owner is a
   * node of `nodes` or of another body). Their nodes are not in `nodes`: rules and the ledger that
   * walk `nodes` see the owning If/Loop node only.
   */
  bodies?: GraphBody[];
}

export interface GraphBody {
  /** Id of the node that owns the body. */
  owner: string;
  /** The attribute holding it: "then_branch", "else_branch", "body" (a GRAPHS list: "name[i]"). */
  attribute: string;
  /** The body; its node ids are `<owner>/<attribute>/<inner name>` (see `bodyNodeId`). */
  graph: GraphModel;
  /** Values of enclosing scopes the body reads (implicit inputs), in first-use order. */
  implicitInputs: string[];
}

/** A body node's id: its owner's id, the attribute and the inner node's own stable id (never a running index). */
export function bodyNodeId(owner: string, attribute: string, inner: string): string {
  return `${owner}/${attribute}/${inner}`;
}

/** Producer and consumer indexes over a graph; computed, never stored in the model. */
export interface GraphIndex {
  producer: Map<string, GraphNode>;
  consumers: Map<string, GraphNode[]>;
  byId: Map<string, GraphNode>;
}

export function indexGraph(g: GraphModel): GraphIndex {
  const producer = new Map<string, GraphNode>();
  const consumers = new Map<string, GraphNode[]>();
  const byId = new Map<string, GraphNode>();
  for (const n of g.nodes) {
    byId.set(n.id, n);
    for (const o of n.outputs) if (o) producer.set(o, n);
    for (const i of n.inputs) {
      if (!i) continue;
      let list = consumers.get(i);
      if (!list) consumers.set(i, (list = []));
      list.push(n);
    }
  }
  return { producer, consumers, byId };
}

/**
 * Module scope from a PyTorch-style ONNX node name:
 * "/encoder/blocks.3/attn/MatMul" -> "encoder.blocks.3.attn"; "MatMul_12" -> "".
 */
export function scopeFromNodeName(name: string): string {
  if (!name.startsWith('/')) return '';
  const parts = name.split('/').filter(Boolean);
  parts.pop(); // the op's own name
  return parts.join('.');
}

/** A node id that survives a re-export: its name, else its op and first output (never a running index). */
export function stableNodeId(name: string, op: string, outputs: string[], fallback: string): string {
  if (name) return name;
  const out = outputs.find(Boolean);
  return out ? `${op}:${out}` : fallback;
}
