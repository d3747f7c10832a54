import type { Dim, GraphBody, GraphModel, GraphNode, SourceLocation } from './model';

/**
 * What the graph view draws: the graph model with explicit edges, stable node ids, a scope tree
 * (module scopes as nested groups) and repeated blocks recognised. Plain data, indexed by number
 * so a 10,000-node model posts to the webview and its layout worker without copying strings twice.
 */

export interface ViewNode {
  /** Stable across re-exports: the node name, else `op:firstOutput` (see `stableNodeId` in model.ts). */
  id: string;
  op: string;
  /** Output shape text ("1x1500x384"), "" when unknown. */
  shape: string;
  /** Index of the innermost group holding the node (0 = the root). */
  group: number;
  /** Where the node came from in the user's Python (attributes and the rest come on request). */
  source?: SourceLocation;
  /** HN: the ONNX names this layer stands for. */
  originalNames?: string[];
  /** Graph input or output pseudo-node (drawn as a terminal). */
  io?: 'input' | 'output';
  /** Inside an If/Loop/Scan body: the owning node's id and attribute ("/If_3.then_branch"). */
  body?: string;
}

export interface ViewEdge {
  from: number;
  to: number;
  tensor: string;
  shape: string;
}

export interface ViewGroup {
  /** The scope path ("blocks.3.attn"), "" for the root. */
  id: string;
  /** The last segment ("attn", "blocks.3"). */
  label: string;
  parent: number;
  groups: number[];
  nodes: number[];
  /** Nodes in this group and below. */
  size: number;
  /** Same structure as this earlier group (a repeated block), when there is one. */
  repeatOf?: number;
  /** An If/Loop/Scan body: the owning node's id (the group is kept even with one node). */
  body?: string;
  /** The number of groups sharing this structure (1 when unique). */
  repeats: number;
}

export interface GraphView {
  kind: GraphModel['kind'];
  name: string;
  nodes: ViewNode[];
  edges: ViewEdge[];
  groups: ViewGroup[];
}

export const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  uint64: 8,
  bool: 1,
};

export function shapeText(shape: Dim[] | undefined): string {
  return shape ? shape.join('×') || 'scalar' : '';
}

/**
 * Scope segments: a dotted scope split on dots, with numeric segments kept on the name before
 * them, so "blocks.3.attn" is blocks.3 > attn and a 12-block encoder shows 12 boxes.
 */
export function scopeSegments(scope: string): string[] {
  if (!scope) return [];
  const out: string[] = [];
  for (const p of scope.split('.')) {
    if (/^\d+$/.test(p) && out.length) out[out.length - 1] += `.${p}`;
    else out.push(p);
  }
  return out;
}

export interface BuildViewOptions {
  /** Source location by node id (the source map sidecar). */
  source?: (id: string) => SourceLocation | undefined;
  /** If/Loop/Scan bodies as nested graphs (default: the model's own `bodies`): each becomes a group under its owner's scope. */
  bodies?: Pick<GraphBody, 'owner' | 'attribute' | 'graph'>[];
}

export function buildGraphView(g: GraphModel, opts: BuildViewOptions = {}): GraphView {
  const groups: ViewGroup[] = [{ id: '', label: g.name || 'graph', parent: -1, groups: [], nodes: [], size: 0, repeats: 1 }];
  const groupByPath = new Map<string, number>([['', 0]]);
  /** Group path segments that open a body, with the body's owner. */
  const bodySegs = new Map<string, string>();
  const groupFor = (segs: string[]): number => {
    let cur = 0;
    let p = '';
    for (const s of segs) {
      p = p ? `${p}.${s}` : s;
      let gi = groupByPath.get(p);
      if (gi === undefined) {
        gi = groups.length;
        const owner = bodySegs.get(p);
        groups.push({ id: p, label: s, parent: cur, groups: [], nodes: [], size: 0, repeats: 1, ...(owner !== undefined ? { body: owner } : {}) });
        groups[cur]!.groups.push(gi);
        groupByPath.set(p, gi);
      }
      cur = gi;
    }
    return cur;
  };
  const nodes: ViewNode[] = [];
  const edges: ViewEdge[] = [];
  const producer = new Map<string, number>();
  // body values are looked up after the main graph's (a body may not shadow an outer name)
  const bodyValues = new Map<string, GraphModel['values'][string]>();
  const val = (name: string) => g.values[name] ?? bodyValues.get(name);
  // tensor names stay here: edges carry them, node details come from the graph model on request
  const nodeInputs: string[][] = [];
  const addNode = (n: ViewNode, inputs: string[], outputs: string[]) => {
    const i = nodes.length;
    nodes.push(n);
    nodeInputs.push(inputs);
    groups[n.group]!.nodes.push(i);
    for (const o of outputs) if (o) producer.set(o, i);
    return i;
  };
  for (const t of g.inputs) addNode({ id: t.name, op: 'Input', shape: shapeText(t.shape), group: 0, io: 'input' }, [], [t.name]);
  const bodiesByOwner = new Map<string, NonNullable<BuildViewOptions['bodies']>>();
  for (const b of opts.bodies ?? g.bodies ?? []) {
    for (const [k, v] of Object.entries(b.graph.values)) if (!bodyValues.has(k)) bodyValues.set(k, v);
    const list = bodiesByOwner.get(b.owner) ?? [];
    list.push(b);
    bodiesByOwner.set(b.owner, list);
  }
  const seen = new Set<string>();
  const pushGraphNodes = (gm: GraphModel, baseSegs: string[] | undefined, body: string | undefined, ownerScope = '') => {
    for (const n of gm.nodes) {
      // a body node nests below its body by the part of its scope under its owner's; a scope elsewhere is not repeated
      const below = ownerScope && n.scope.startsWith(`${ownerScope}.`) ? n.scope.slice(ownerScope.length + 1) : '';
      const segs = baseSegs ? [...baseSegs, ...scopeSegments(below)] : scopeSegments(n.scope);
      let id = n.id;
      for (let k = 1; seen.has(id); k++) id = `${n.id}#${k}`;
      seen.add(id);
      const first = n.outputs.find(Boolean);
      const src = opts.source?.(n.id);
      const node: ViewNode = {
        id,
        op: n.domain ? `${n.domain}::${n.op}` : n.op,
        shape: first ? shapeText((gm.values[first] ?? val(first))?.shape) : '',
        group: groupFor(segs),
        ...(src ? { source: src } : n.source ? { source: n.source } : {}),
        ...(n.originalNames ? { originalNames: n.originalNames } : {}),
        ...(body ? { body } : {}),
      };
      addNode(node, n.inputs, n.outputs);
      for (const b of bodiesByOwner.get(n.id) ?? []) {
        const label = `${bodyLabel(n)}.${b.attribute}`;
        const bsegs = [...segs, label];
        bodySegs.set(bsegs.join('.'), n.id);
        pushGraphNodes(b.graph, bsegs, `${n.id}.${b.attribute}`, n.scope);
        // what the body hands back goes to its owner
        for (const o of b.graph.outputs) if (o.name) bodyResults.push({ tensor: o.name, owner: id });
      }
    }
  };
  const bodyResults: { tensor: string; owner: string }[] = [];
  pushGraphNodes(g, undefined, undefined);
  for (const t of g.outputs) addNode({ id: `output:${t.name}`, op: 'Output', shape: shapeText(t.shape), group: 0, io: 'output' }, [t.name], []);
  const indexOf = new Map(nodes.map((n, i) => [n.id, i]));
  for (const r of bodyResults) {
    const to = indexOf.get(r.owner);
    if (to !== undefined) nodeInputs[to]!.push(r.tensor);
  }
  nodeInputs.forEach((inputs, to) => {
    const seenIn = new Set<string>();
    for (const t of inputs) {
      if (!t || seenIn.has(t)) continue;
      seenIn.add(t);
      const from = producer.get(t);
      if (from === undefined || from === to) continue;
      edges.push({ from, to, tensor: t, shape: shapeText(val(t)?.shape) });
    }
  });
  // sizes, bottom-up (children always come after their parent)
  for (let i = groups.length - 1; i >= 0; i--) {
    const gr = groups[i]!;
    gr.size += gr.nodes.length;
    if (gr.parent >= 0) groups[gr.parent]!.size += gr.size;
  }
  const compact = dropSingletons(groups, nodes);
  markRepeats(compact, nodes);
  return { kind: g.kind, name: g.name, nodes, edges, groups: compact };
}

/** A body's group label from its owner: "/encoder/If" -> "If" (dots would split the scope path). */
function bodyLabel(n: GraphNode): string {
  const last = n.id.slice(n.id.lastIndexOf('/') + 1) || n.op;
  return last.replace(/\./g, '_');
}

/** A group holding one node and nothing else is drawn as that node: its node moves up, the group goes. */
function dropSingletons(groups: ViewGroup[], nodes: ViewNode[]): ViewGroup[] {
  // a body group stays even with one node: it is what a click on its owner opens
  const keep = groups.map((g, i) => i === 0 || g.size > 1 || g.body !== undefined);
  // a group kept needs its parent kept; sizes > 1 are monotone up the tree, and a body's parent
  // holds its owner as well, so that holds
  const newIndex = new Array<number>(groups.length).fill(-1);
  const out: ViewGroup[] = [];
  groups.forEach((g, i) => {
    if (!keep[i]) return;
    newIndex[i] = out.length;
    out.push({ ...g, groups: [], nodes: [] });
  });
  const home = (i: number): number => {
    let g = i;
    while (!keep[g]) g = groups[g]!.parent;
    return newIndex[g]!;
  };
  groups.forEach((g, i) => {
    if (!keep[i]) return;
    const me = out[newIndex[i]!]!;
    if (g.parent >= 0) me.parent = newIndex[g.parent]!;
    me.groups = g.groups.filter((c) => keep[c]).map((c) => newIndex[c]!);
  });
  nodes.forEach((n, i) => {
    const h = home(n.group);
    n.group = h;
    out[h]!.nodes.push(i);
  });
  return out;
}

/**
 * Repeated blocks: groups with the same structure (the ops of their nodes, in graph order, with
 * their relative scopes) and at least two nodes. Each later copy points at the first.
 */
function markRepeats(groups: ViewGroup[], nodes: ViewNode[]): void {
  const sig = new Map<number, string>();
  const signature = (gi: number): string => {
    const cached = sig.get(gi);
    if (cached !== undefined) return cached;
    const gr = groups[gi]!;
    const s = `${gr.nodes.map((n) => nodes[n]!.op).join(',')}|${gr.groups.map((c) => `${groups[c]!.label.replace(/\.\d+$/, '.#')}{${signature(c)}}`).join(';')}`;
    sig.set(gi, s);
    return s;
  };
  const first = new Map<string, number>();
  const members = new Map<number, number[]>();
  for (let gi = 1; gi < groups.length; gi++) {
    if (groups[gi]!.size < 2) continue;
    const s = `${groups[gi]!.label.replace(/\.\d+$/, '.#')}:${signature(gi)}`;
    const f = first.get(s);
    if (f === undefined) {
      first.set(s, gi);
      members.set(gi, [gi]);
    } else {
      groups[gi]!.repeatOf = f;
      members.get(f)!.push(gi);
    }
  }
  for (const list of members.values()) for (const gi of list) groups[gi]!.repeats = list.length;
}

/** The nodes at the same place in each copy of a repeated block (itself included), or just the node. */
export function counterparts(view: GraphView, node: number): number[] {
  // the outermost repeated ancestor decides
  let gi = view.nodes[node]!.group;
  let block = -1;
  while (gi > 0) {
    if (view.groups[gi]!.repeats > 1) block = gi;
    gi = view.groups[gi]!.parent;
  }
  if (block < 0) return [node];
  const head = view.groups[block]!.repeatOf ?? block;
  const copies = view.groups.map((_, i) => i).filter((i) => i === head || view.groups[i]!.repeatOf === head);
  const ordered = (g0: number): number[] => {
    const out: number[] = [];
    const walk = (g: number) => {
      out.push(...view.groups[g]!.nodes);
      for (const c of view.groups[g]!.groups) walk(c);
    };
    walk(g0);
    return out;
  };
  const pos = ordered(block).indexOf(node);
  if (pos < 0) return [node];
  return copies.map((c) => ordered(c)[pos]).filter((n): n is number => n !== undefined);
}

export interface NodeDetails {
  id: string;
  op: string;
  /** Module path ("blocks.3.attn"), "" at top level. */
  scope: string;
  attrs: { name: string; value: string }[];
  inputs: { name: string; shape: string; dtype: string; initializer: boolean; bytes?: number }[];
  outputs: { name: string; shape: string; dtype: string }[];
  source?: SourceLocation;
  originalNames?: string[];
}

function attrText(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 400 ? `${s.slice(0, 400)}…` : s;
}

/** The details panel's content for one node of a graph model (the view itself carries no attributes). */
export function nodeDetails(g: GraphModel, id: string, source?: (id: string) => SourceLocation | undefined): NodeDetails | undefined {
  const io = g.inputs.find((t) => t.name === id) ?? g.outputs.find((t) => `output:${t.name}` === id);
  if (io)
    return {
      id,
      op: g.inputs.includes(io) ? 'Input' : 'Output',
      scope: '',
      attrs: [],
      inputs: [],
      outputs: [{ name: io.name, shape: shapeText(io.shape), dtype: io.dtype ?? '?' }],
    };
  let n = g.nodes.find((x) => x.id === id);
  let values = g.values;
  // a node of an If/Loop/Scan body: its values are the body's, then the enclosing graph's
  for (const b of n ? [] : (g.bodies ?? [])) {
    n = b.graph.nodes.find((x) => x.id === id);
    if (n) {
      values = { ...g.values, ...b.graph.values };
      break;
    }
  }
  if (!n) return undefined;
  const value = (name: string) => {
    const v = values[name];
    const count = (v?.shape ?? []).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
    return {
      name,
      shape: shapeText(v?.shape),
      dtype: v?.dtype ?? '?',
      initializer: !!v?.initializer,
      ...(v?.initializer ? { bytes: count * (DTYPE_BYTES[v.dtype ?? ''] ?? 4) } : {}),
    };
  };
  const src = source?.(n.id) ?? n.source;
  return {
    id: n.id,
    op: n.domain ? `${n.domain}::${n.op}` : n.op,
    scope: n.scope,
    attrs: Object.entries(n.attrs).map(([name, v]) => ({ name, value: attrText(v) })),
    inputs: n.inputs.filter(Boolean).map(value),
    outputs: n.outputs.filter(Boolean).map((o) => {
      const v = value(o);
      return { name: v.name, shape: v.shape, dtype: v.dtype };
    }),
    ...(src ? { source: src } : {}),
    ...(n.originalNames ? { originalNames: n.originalNames } : {}),
  };
}
