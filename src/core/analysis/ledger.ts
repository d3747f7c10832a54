import { indexGraph, type Dim, type GraphIndex, type GraphModel, type GraphNode, type SourceLocation } from '../graph/model';
import { interpretLayerName, isCompilerGenerated, unscoped, type GeneratedKind, type GeneratedName } from '../hailo/generatedNames';
import type { DfcLogSummary } from '../hailo/dfcLog';
import { compileLogFacts, contextsFromModelScript, dfcLogSummaryOf, parseLogFacts, type CompileLogSummary, type ParseLogSummary } from './ledgerLogFacts';

/**
 * The rewrite ledger: what the Hailo Dataflow Compiler did to the user's ONNX graph. Every ONNX
 * node and every HN layer ends up in exactly one entry, classified as
 *
 * - kept        one ONNX node became one HN layer
 * - fused       several ONNX nodes became one HN layer
 * - decomposed  one ONNX node became several HN layers (or compiler pieces)
 * - removed     an ONNX node has no HN layer and the HN connects its neighbours directly
 * - added       an HN layer (or compiler layer) with no ONNX node
 * - layout      kept, but its tensor's shape or layout changed in a way the user must know
 * - host        the ONNX node lies outside the part that was parsed (before the start nodes or
 *               after the end nodes): it runs on the host, not in the HEF
 * - unmatched   nothing links it; nothing is assumed
 *
 * Links come, in order of trust, from the HN's `original_names`, the parse log's start/end node
 * mappings, compiler-generated names (suffixes and prefixes that name their base layer) and, last,
 * graph structure; entries found by structure alone are flagged `structural`.
 */

export type LedgerKind = 'kept' | 'fused' | 'decomposed' | 'removed' | 'added' | 'layout' | 'host' | 'unmatched';
export const LEDGER_KINDS: readonly LedgerKind[] = ['decomposed', 'fused', 'removed', 'added', 'layout', 'host', 'unmatched', 'kept'];
export type LedgerStage = 'parse' | 'optimize' | 'compile';
export type Evidence = 'original_names' | 'parse_log' | 'compile_log' | 'model_script' | 'generated_name' | 'structural' | 'graph_io';

export interface ShapeChange {
  kind: 'rank' | 'permute' | 'elements' | 'padding' | 'kernel';
  from: Dim[] | string;
  to: Dim[] | string;
  /** The expected consequence of translation (NCHW -> NHWC, [B,S,C] -> [B,1,S,C]); informational. */
  canonical: boolean;
  message: string;
}

export interface CompilerPiece {
  name: string;
  kind: GeneratedKind;
  part?: string;
  line?: number;
  context?: number;
}

export interface LedgerEntry {
  /** Stable within one ledger: "e12". */
  id: string;
  kind: LedgerKind;
  onnxNodes: string[];
  onnxOps: string[];
  /** ONNX graph input/output tensors (for input/output layers). */
  onnxTensors: string[];
  hnLayers: string[];
  hnTypes: string[];
  /** Compiler layers made from this entry's HN layers (compile log / compiled HAR). */
  compilerLayers: CompilerPiece[];
  evidence: Evidence[];
  /** Matched by graph structure only: an interpretation, not a recorded link. */
  structural: boolean;
  changes: ShapeChange[];
  /** Contexts its layers landed in (compile). */
  contexts: number[];
  /** Module scope of the ONNX nodes ("blocks.0.attn"), or of the HN layer's original names. */
  scope: string;
  source?: SourceLocation;
  /** The entry another (added) entry was made for, if any. */
  relatedEntry?: string;
  /** What happened, in one sentence. */
  note: string;
}

export interface Ledger {
  version: 1;
  stage: LedgerStage;
  dfcVersion?: string;
  onnxName: string;
  hnName: string;
  entries: LedgerEntry[];
  counts: Record<LedgerKind, number>;
  /** Per ONNX node / HN layer: the entry id holding it. */
  onnxIndex: Record<string, string>;
  hnIndex: Record<string, string>;
  contexts?: { count?: number; boundaries: { from: number; to: number; name: string; line?: number }[]; assigned: number };
  /** Compiler layer names whose base layer is not in the HN (reported, not guessed). */
  unattributedCompilerLayers: CompilerPiece[];
  /** End nodes used for the host split, and where they came from. */
  hefRegion?: { endNodes: string[]; startTensors: string[]; from: 'parse_log' | 'hn_outputs' };
  warnings: string[];
  stats: { onnxNodes: number; hnLayers: number; structuralMatches: number; ms: number };
}

export interface LedgerOptions {
  stage: LedgerStage;
  dfcVersion?: string;
  /** The parse log, as text or as the DFC log parser's summary (src/core/hailo/dfcLog.ts). */
  parseLog?: string | DfcLogSummary;
  /** The compile log, likewise (one pipeline log may be given as both). */
  compileLog?: string | DfcLogSummary;
  /** Model script text (the compiled HAR's auto script) with `context_N = context([...])` lines. */
  modelScript?: string;
  sourceMap?: { lookup(node: string): SourceLocation | undefined };
  /** Clock for the stats; defaults to performance.now. */
  now?: () => number;
}

/** ONNX ops that only move or reinterpret data; their removal is a layout matter, not a numeric one. */
const LAYOUT_OPS = new Set([
  'Reshape',
  'Transpose',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Identity',
  'Cast',
  'Dropout',
  'Expand',
  'Shape',
  'Gather',
  'Constant',
  'ConstantOfShape',
  'Slice',
  'Concat',
]);
/** HN layer types the parser creates for layout and constants. */
const HN_LAYOUT_TYPES = new Set([
  'format_conversion',
  'reshape',
  'const_input',
  'feature_splitter',
  'shortcut',
  'portal',
  'transpose',
  'space_to_depth',
  'depth_to_space',
]);

/** Unlinked HN layers the structural fallback walks through to find a layer's linked neighbours. */
export const MAX_STRUCTURAL_WALK = 32;

/** Which HN layer types an ONNX op may turn into (structural fallback only). */
const OP_COMPAT: Record<string, string[]> = {
  Conv: ['conv', 'dw', 'deconv'],
  ConvTranspose: ['deconv'],
  MatMul: ['matmul', 'conv', 'fc', 'dense'],
  Gemm: ['conv', 'fc', 'dense'],
  Add: ['ew_add', 'bias_add'],
  Sub: ['ew_sub'],
  Mul: ['ew_mult'],
  Div: ['ew_div', 'ew_mult'],
  Softmax: ['softmax', 'reduce_max', 'ew_sub', 'reduce_sum', 'ew_mult', 'activation'],
  LayerNormalization: ['normalization', 'layer_normalization'],
  BatchNormalization: ['batch_norm', 'normalization'],
  Relu: ['activation'],
  Sigmoid: ['activation'],
  Gelu: ['activation'],
  Tanh: ['activation'],
  Concat: ['concat'],
  MaxPool: ['maxpool'],
  AveragePool: ['avgpool'],
  GlobalAveragePool: ['avgpool', 'global_avg_pool'],
  Resize: ['resize'],
  ReduceMax: ['reduce_max'],
  ReduceSum: ['reduce_sum'],
  ReduceMean: ['reduce_mean', 'normalization', 'avgpool'],
  Slice: ['slice'],
};

function uniq<T>(a: T[]): T[] {
  return [...new Set(a)];
}

class UnionFind {
  parent = new Map<string, string>();
  find(x: string): string {
    let root = x;
    for (let p = this.parent.get(root); p !== undefined && p !== root; p = this.parent.get(root)) root = p;
    if (!this.parent.has(x)) this.parent.set(x, x);
    // path compression
    for (let cur = x; cur !== root;) {
      const next: string = this.parent.get(cur)!;
      this.parent.set(cur, root);
      cur = next;
    }
    return root;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
}

const O = (id: string) => `o:${id}`;
const H = (id: string) => `h:${id}`;

interface Run {
  nodes: GraphNode[];
  upHn: Set<string>;
  downHn: Set<string>;
}

type NewEntry = Omit<LedgerEntry, 'id' | 'compilerLayers' | 'changes' | 'contexts' | 'scope' | 'onnxOps' | 'hnTypes' | 'onnxTensors'> &
  Partial<Pick<LedgerEntry, 'changes' | 'onnxTensors'>>;

/**
 * What the phases of computeLedger share: the two graphs and their indexes, what the logs say, the
 * links found so far (a union-find over `o:<node>` / `h:<layer>` items, with the evidence of each
 * item), the HEF region, and the entries made.
 */
class LedgerBuilder {
  readonly warnings: string[] = [];
  readonly oi: GraphIndex;
  readonly hi: GraphIndex;
  readonly parse: ParseLogSummary | undefined;
  readonly compile: CompileLogSummary | undefined;
  /** unscoped name -> layer */
  readonly hnNames = new Map<string, GraphNode>();
  readonly known: Set<string>;
  readonly graphInputs: Set<string>;
  readonly graphOutputs: Set<string>;
  readonly uf = new UnionFind();
  /** Per item (root-independent). */
  readonly evidence = new Map<string, Set<Evidence>>();
  readonly linkedHn = new Set<string>();
  readonly linkedOnnx = new Set<string>();
  /** HN io layer -> ONNX tensors */
  readonly ioTensors = new Map<string, string[]>();
  readonly genOf = new Map<string, GeneratedName>();
  endNodes: string[] = [];
  regionFrom: 'parse_log' | 'hn_outputs' | undefined;
  startTensors: string[] = [];
  readonly inRegion = new Set<string>();
  /** union-find root -> items */
  readonly entryItems = new Map<string, string[]>();
  runList: Run[] = [];
  structuralMatches = 0;
  readonly entries: LedgerEntry[] = [];
  readonly entryById = new Map<string, LedgerEntry>();
  readonly onnxIndex: Record<string, string> = {};
  readonly hnIndex: Record<string, string> = {};

  constructor(
    readonly onnx: GraphModel,
    readonly hn: GraphModel,
    readonly opts: LedgerOptions,
  ) {
    this.oi = indexGraph(onnx);
    this.hi = indexGraph(hn);
    this.parse = opts.parseLog !== undefined ? parseLogFacts(dfcLogSummaryOf(opts.parseLog)) : undefined;
    this.compile = opts.compileLog !== undefined ? compileLogFacts(dfcLogSummaryOf(opts.compileLog)) : undefined;
    for (const l of hn.nodes) this.hnNames.set(unscoped(l.id), l);
    this.known = new Set(this.hnNames.keys());
    this.graphInputs = new Set(onnx.inputs.map((t) => t.name));
    this.graphOutputs = new Set(onnx.outputs.map((t) => t.name));
  }

  isIoLayer(l: GraphNode): boolean {
    return l.op === 'input_layer' || l.op === 'output_layer';
  }

  addEv(item: string, e: Evidence): void {
    let s = this.evidence.get(item);
    if (!s) this.evidence.set(item, (s = new Set()));
    s.add(e);
  }

  isHost(id: string): boolean {
    return this.endNodes.length > 0 && !this.inRegion.has(id);
  }

  /** Group the linked items by their union-find root (again after new links). */
  collect(): void {
    this.entryItems.clear();
    const push = (root: string, item: string) => {
      const a = this.entryItems.get(root);
      if (a) a.push(item);
      else this.entryItems.set(root, [item]);
    };
    for (const n of this.onnx.nodes) if (this.linkedOnnx.has(n.id)) push(this.uf.find(O(n.id)), O(n.id));
    for (const l of this.hn.nodes) if (this.linkedHn.has(l.id) && !this.isIoLayer(l)) push(this.uf.find(H(l.id)), H(l.id));
  }

  newEntry(e: NewEntry): LedgerEntry {
    const { oi, hi } = this;
    const entry: LedgerEntry = {
      id: `e${this.entries.length + 1}`,
      compilerLayers: [],
      contexts: [],
      scope: '',
      onnxOps: e.onnxNodes.map((n) => oi.byId.get(n)!.op),
      hnTypes: e.hnLayers.map((h) => hi.byId.get(h)!.op),
      changes: [],
      onnxTensors: [],
      ...e,
    };
    entry.scope = scopeOfEntry(entry, oi.byId, hi.byId);
    const src = sourceOf(entry.onnxNodes, oi.byId, this.opts.sourceMap);
    if (src) entry.source = src;
    this.entries.push(entry);
    this.entryById.set(entry.id, entry);
    for (const n of entry.onnxNodes) this.onnxIndex[n] = entry.id;
    for (const h of entry.hnLayers) this.hnIndex[h] = entry.id;
    return entry;
  }

  evidenceOf(items: string[]): Evidence[] {
    return uniq(items.flatMap((i) => [...(this.evidence.get(i) ?? [])]));
  }
}

/**
 * Compute the ledger of one ONNX graph against one HN graph: the phases below, in order, over one
 * LedgerBuilder. A new kind of link or entry is one phase function (or a step in one).
 */
export function computeLedger(onnx: GraphModel, hn: GraphModel, opts: LedgerOptions): Ledger {
  const now = opts.now ?? (() => performance.now());
  const t0 = now();
  const b = new LedgerBuilder(onnx, hn, opts);
  linkOriginalNames(b);
  joinGeneratedGroups(b);
  hefRegion(b);
  unlinkedRuns(b);
  structuralFallback(b);
  linkedEntries(b);
  ioEntries(b);
  unlinkedLayerEntries(b);
  remainingOnnxEntries(b);
  return compilerLayersAndResult(b, now, t0);
}

/** 1. Links from the HN's `original_names`, and the parse log's start nodes for input layers. */
function linkOriginalNames(b: LedgerBuilder): void {
  const { hn, warnings, oi, parse, hnNames, graphInputs, graphOutputs, uf, linkedHn, linkedOnnx, ioTensors } = b;
  /** An original name -> ONNX node id, or an ONNX graph tensor. */
  const resolve = (name: string): { node?: string; tensor?: string } | undefined => {
    if (oi.byId.has(name)) return { node: name };
    if (graphInputs.has(name) || graphOutputs.has(name)) return { tensor: name };
    const p = oi.producer.get(name);
    if (p) return { node: p.id };
    return undefined;
  };

  const unresolvedNames: string[] = [];
  for (const l of hn.nodes) {
    for (const name of l.originalNames ?? []) {
      const r = resolve(name);
      if (!r) {
        unresolvedNames.push(`${l.id}: "${name}"`);
        continue;
      }
      if (b.isIoLayer(l)) {
        const t = r.tensor ?? (r.node ? (oi.byId.get(r.node)!.outputs.find((o) => graphOutputs.has(o)) ?? name) : name);
        ioTensors.set(l.id, uniq([...(ioTensors.get(l.id) ?? []), t]));
        linkedHn.add(l.id);
        b.addEv(H(l.id), 'original_names');
        continue;
      }
      if (r.node) {
        uf.union(O(r.node), H(l.id));
        linkedHn.add(l.id);
        linkedOnnx.add(r.node);
        b.addEv(H(l.id), 'original_names');
        b.addEv(O(r.node), 'original_names');
      } else if (r.tensor) {
        // a non-io layer naming a graph tensor: link to its producer when there is one
        const p = oi.producer.get(r.tensor);
        if (p) {
          uf.union(O(p.id), H(l.id));
          linkedHn.add(l.id);
          linkedOnnx.add(p.id);
          b.addEv(H(l.id), 'original_names');
        }
      }
    }
  }
  if (unresolvedNames.length)
    warnings.push(`${unresolvedNames.length} original name(s) not found in the ONNX graph (e.g. ${unresolvedNames.slice(0, 3).join('; ')})`);
  for (const s of parse?.startNodes ?? []) {
    const layer = hn.nodes.find((l) => l.id === s.hn) ?? hnNames.get(unscoped(s.hn));
    if (!layer) {
      warnings.push(`parse log maps '${s.onnx}' to '${s.hn}', which is not in the HN`);
      continue;
    }
    ioTensors.set(layer.id, uniq([...(ioTensors.get(layer.id) ?? []), s.onnx]));
    linkedHn.add(layer.id);
    b.addEv(H(layer.id), 'parse_log');
  }
}

/** 2. Softmax parts and other generated-name layers without original names join their group. */
function joinGeneratedGroups(b: LedgerBuilder): void {
  const { hn, known, uf, linkedHn, genOf } = b;
  for (const l of hn.nodes) genOf.set(l.id, interpretLayerName(l.id, known));
  const groups = new Map<string, string[]>();
  for (const l of hn.nodes) {
    const g = genOf.get(l.id)!;
    if (!g.group) continue;
    const members = groups.get(g.group);
    if (members) members.push(l.id);
    else groups.set(g.group, [l.id]);
  }
  for (const members of groups.values()) {
    const anchor = members.find((m) => linkedHn.has(m));
    if (!anchor) continue;
    for (const m of members) {
      if (linkedHn.has(m)) continue;
      uf.union(H(m), H(anchor));
      linkedHn.add(m);
      b.addEv(H(m), 'generated_name');
    }
  }
}

/** 3. The HEF region: host nodes are outside start tensors .. end nodes. */
function hefRegion(b: LedgerBuilder): void {
  const { onnx, hn, warnings, oi, hi, parse, ioTensors, inRegion } = b;
  let endNodes: string[] = [];
  let regionFrom: LedgerBuilder['regionFrom'];
  if (parse?.endNodes.length) {
    endNodes = parse.endNodes
      .map((e) => e.onnx)
      .filter((n) => oi.byId.has(n) || oi.producer.has(n))
      .map((n) => (oi.byId.has(n) ? n : oi.producer.get(n)!.id));
    const missing = parse.endNodes.filter((e) => !oi.byId.has(e.onnx) && !oi.producer.has(e.onnx));
    if (missing.length) warnings.push(`parse log end node(s) not in the ONNX graph: ${missing.map((m) => m.onnx).join(', ')}`);
    regionFrom = 'parse_log';
  }
  if (!endNodes.length) {
    // the HN's output layers name the ONNX outputs they stand for
    for (const l of hn.nodes) {
      if (l.op !== 'output_layer') continue;
      for (const t of ioTensors.get(l.id) ?? []) {
        const p = oi.producer.get(t) ?? oi.byId.get(t);
        if (p) endNodes.push(p.id);
      }
    }
    if (endNodes.length) regionFrom = 'hn_outputs';
  }
  const startTensors = parse?.startNodes.length
    ? parse.startNodes.map((s) => s.onnx)
    : [...ioTensors.entries()].filter(([id]) => hi.byId.get(id)?.op === 'input_layer').flatMap(([, t]) => t);
  if (endNodes.length) {
    // ancestors of the end nodes ...
    const up = new Set<string>();
    const stack = [...endNodes];
    const starts = new Set(startTensors);
    while (stack.length) {
      const id = stack.pop()!;
      if (up.has(id)) continue;
      up.add(id);
      for (const i of oi.byId.get(id)!.inputs) {
        if (starts.has(i)) continue;
        const p = oi.producer.get(i);
        if (p) stack.push(p.id);
      }
    }
    // ... that are reachable from a start tensor (or are constants feeding them)
    const down = new Set<string>();
    const q: string[] = [];
    for (const t of startTensors.length ? startTensors : onnx.inputs.map((x) => x.name)) for (const c of oi.consumers.get(t) ?? []) q.push(c.id);
    while (q.length) {
      const id = q.pop()!;
      if (down.has(id) || !up.has(id)) continue;
      down.add(id);
      for (const o of oi.byId.get(id)!.outputs) for (const c of oi.consumers.get(o) ?? []) q.push(c.id);
    }
    // in graph order (ONNX graphs are topologically sorted), so a constant chain is seen source first
    for (const n of onnx.nodes) {
      const id = n.id;
      if (!up.has(id)) continue;
      const fromActivation = down.has(id);
      const constantFeeder =
        !fromActivation &&
        n.inputs.every((i) => !i || !oi.producer.has(i) || inRegion.has(oi.producer.get(i)!.id)) &&
        n.outputs.some((o) => (oi.consumers.get(o) ?? []).some((c) => down.has(c.id)));
      if (fromActivation || constantFeeder || n.op === 'Constant') inRegion.add(id);
    }
  }
  b.endNodes = endNodes;
  b.regionFrom = regionFrom;
  b.startTensors = startTensors;
}

/** 4. Unlinked ONNX nodes, grouped into connected runs with the linked HN layers around them. */
function unlinkedRuns(b: LedgerBuilder): void {
  const { onnx, oi, graphInputs, graphOutputs, uf, linkedOnnx, ioTensors, entryItems } = b;
  b.collect();
  const hnOfOnnx = (id: string): string[] => (entryItems.get(uf.find(O(id))) ?? []).filter((x) => x.startsWith('h:')).map((x) => x.slice(2));

  const free = onnx.nodes.filter((n) => !linkedOnnx.has(n.id) && !b.isHost(n.id));
  const freeSet = new Set(free.map((n) => n.id));
  const runs = new UnionFind();
  for (const n of free) {
    runs.find(n.id);
    for (const i of n.inputs) {
      const p = oi.producer.get(i);
      if (p && freeSet.has(p.id)) runs.union(p.id, n.id);
    }
  }
  const runMembers = new Map<string, GraphNode[]>();
  for (const n of free) {
    const r = runs.find(n.id);
    const members = runMembers.get(r);
    if (members) members.push(n);
    else runMembers.set(r, [n]);
  }
  const runList: Run[] = [];
  for (const nodes of runMembers.values()) {
    const ids = new Set(nodes.map((n) => n.id));
    const upHn = new Set<string>();
    const downHn = new Set<string>();
    for (const n of nodes) {
      for (const i of n.inputs) {
        const p = oi.producer.get(i);
        if (p && !ids.has(p.id)) for (const h of hnOfOnnx(p.id)) upHn.add(h);
        if (!p && graphInputs.has(i)) for (const [id, ts] of ioTensors) if (ts.includes(i)) upHn.add(id);
      }
      for (const o of n.outputs) {
        for (const c of oi.consumers.get(o) ?? []) if (!ids.has(c.id)) for (const h of hnOfOnnx(c.id)) downHn.add(h);
        if (graphOutputs.has(o)) for (const [id, ts] of ioTensors) if (ts.includes(o)) downHn.add(id);
      }
    }
    runList.push({ nodes, upHn, downHn });
  }
  b.runList = runList;
}

/** 4b. An unlinked HN compute layer between the same neighbours as a run, with a compatible type, is linked by structure (flagged). */
function structuralFallback(b: LedgerBuilder): void {
  const { hn, hi, uf, linkedHn, linkedOnnx, genOf, runList } = b;
  const unlinkedCompute = hn.nodes.filter(
    (l) => !linkedHn.has(l.id) && !b.isIoLayer(l) && !HN_LAYOUT_TYPES.has(l.op) && !isCompilerGenerated(genOf.get(l.id)!.kind),
  );
  const nearLinked = (start: string, dir: 'up' | 'down'): Set<string> => {
    // nearest linked (or io) layers, walking through at most MAX_STRUCTURAL_WALK unlinked layers:
    // a neighbour further away is no evidence, and the bound keeps long unlinked chains linear
    const out = new Set<string>();
    const seen = new Set<string>();
    const stack = [start];
    let walked = 0;
    while (stack.length && walked++ <= MAX_STRUCTURAL_WALK) {
      const id = stack.pop()!;
      const l = hi.byId.get(id);
      if (!l) continue;
      const next = dir === 'up' ? l.inputs : (hi.consumers.get(id) ?? []).map((c) => c.id);
      for (const n of next) {
        if (seen.has(n)) continue;
        seen.add(n);
        if (linkedHn.has(n)) out.add(n);
        else stack.push(n);
      }
    }
    return out;
  };
  // runs by the linked layers above them, and per run its nodes by the HN types they may become,
  // so each unlinked layer looks only at the runs next to it
  const runsByUp = new Map<string, number[]>();
  runList.forEach((r, i) => {
    for (const h of r.upHn) {
      const list = runsByUp.get(h);
      if (list) list.push(i);
      else runsByUp.set(h, [i]);
    }
  });
  const taken = new Set<GraphNode>();
  const byType = new Map<Run, { nodes: Map<string, GraphNode[]>; next: Map<string, number> }>();
  /** The first node of the run (in run order) not yet matched whose op may become an HN `type`. */
  const firstCompatible = (run: Run, type: string): GraphNode | undefined => {
    let idx = byType.get(run);
    if (!idx) {
      idx = { nodes: new Map(), next: new Map() };
      for (const n of run.nodes) {
        for (const t of OP_COMPAT[n.op] ?? []) {
          const list = idx.nodes.get(t);
          if (list) list.push(n);
          else idx.nodes.set(t, [n]);
        }
      }
      byType.set(run, idx);
    }
    const list = idx.nodes.get(type);
    if (!list) return undefined;
    let i = idx.next.get(type) ?? 0;
    while (i < list.length && taken.has(list[i]!)) i++;
    idx.next.set(type, i);
    return list[i];
  };
  for (const layer of unlinkedCompute) {
    const ups = nearLinked(layer.id, 'up');
    const downs = nearLinked(layer.id, 'down');
    const candidates = [...new Set([...ups].flatMap((h) => runsByUp.get(h) ?? []))].sort((a, b) => a - b);
    let run: Run | undefined;
    let node: GraphNode | undefined;
    for (const i of candidates) {
      const r = runList[i]!;
      const n = firstCompatible(r, layer.op);
      if (n && [...r.downHn].some((h) => downs.has(h))) {
        run = r;
        node = n;
        break;
      }
    }
    if (!run || !node) continue;
    uf.union(O(node.id), H(layer.id));
    linkedHn.add(layer.id);
    linkedOnnx.add(node.id);
    b.addEv(H(layer.id), 'structural');
    b.addEv(O(node.id), 'structural');
    taken.add(node);
    b.structuralMatches++;
  }
  for (const r of runList) if (taken.size) r.nodes = r.nodes.filter((n) => !taken.has(n));
  b.collect();
}

/** 5. One entry per group of linked nodes and layers: kept, fused, decomposed, layout. */
function linkedEntries(b: LedgerBuilder): void {
  const { onnx, hn, oi, hi, entryItems } = b;
  const topo = new Map(onnx.nodes.map((n, i) => [n.id, i]));
  const hnOrder = new Map(hn.nodes.map((n, i) => [n.id, i]));

  for (const items of [...entryItems.values()].sort((a, b) => firstIndex(a, topo, hnOrder) - firstIndex(b, topo, hnOrder))) {
    const onnxNodes = items
      .filter((x) => x.startsWith('o:'))
      .map((x) => x.slice(2))
      .sort((a, b) => topo.get(a)! - topo.get(b)!);
    const hnLayers = items
      .filter((x) => x.startsWith('h:'))
      .map((x) => x.slice(2))
      .sort((a, b) => hnOrder.get(a)! - hnOrder.get(b)!);
    const ev = b.evidenceOf(items);
    const structural = ev.length > 0 && ev.every((e) => e === 'structural');
    let kind: LedgerKind;
    if (!hnLayers.length) kind = 'unmatched';
    else if (!onnxNodes.length) kind = 'added';
    else if (onnxNodes.length === 1 && hnLayers.length === 1) kind = 'kept';
    else if (hnLayers.length === 1) kind = 'fused';
    else kind = 'decomposed';
    const entry = b.newEntry({ kind, onnxNodes, hnLayers, evidence: ev, structural, note: '' });
    entry.changes = shapeChanges(entry, onnx, hn, oi.byId, hi);
    if (entry.kind === 'kept' && entry.changes.some((c) => !c.canonical || c.kind === 'kernel')) entry.kind = 'layout';
  }
}

/** 5b. Input and output layers, with the ONNX tensors they stand for. */
function ioEntries(b: LedgerBuilder): void {
  const { onnx, hn, opts, oi, ioTensors } = b;
  for (const l of hn.nodes) {
    if (!b.isIoLayer(l)) continue;
    const tensors = ioTensors.get(l.id) ?? [];
    const ev = b.evidenceOf([H(l.id)]);
    const entry = b.newEntry({
      kind: tensors.length ? 'kept' : 'unmatched',
      onnxNodes: [],
      hnLayers: [l.id],
      onnxTensors: tensors,
      evidence: tensors.length ? ev : [],
      structural: false,
      note: '',
    });
    if (tensors.length) {
      const t = tensors[0]!;
      const os = onnx.values[t]?.shape ?? onnx.inputs.find((x) => x.name === t)?.shape ?? onnx.outputs.find((x) => x.name === t)?.shape;
      const hs = hn.values[l.id]?.shape;
      const ch = os && hs ? compareShapes(os, hs) : [];
      entry.changes = ch;
      if (ch.length) entry.kind = 'layout';
      // the ONNX node producing a graph output keeps its own entry; point at it for the source line
      const p = oi.producer.get(t);
      if (p && !entry.source) {
        const src = sourceOf([p.id], oi.byId, opts.sourceMap);
        if (src) entry.source = src;
      }
    }
  }
}

/** 5c. Unlinked HN layers: added (parser or compiler made them) or unmatched. */
function unlinkedLayerEntries(b: LedgerBuilder): void {
  const { hn, hi, hnNames, linkedHn, genOf, entryById, hnIndex } = b;
  for (const l of hn.nodes) {
    if (linkedHn.has(l.id) || b.isIoLayer(l)) continue;
    const g = genOf.get(l.id)!;
    // layout and constant layers, and generated names, are the DFC's own; an unlinked compute layer is not guessed
    const added = HN_LAYOUT_TYPES.has(l.op) || isCompilerGenerated(g.kind);
    const entry = b.newEntry({
      kind: added ? 'added' : 'unmatched',
      onnxNodes: [],
      hnLayers: [l.id],
      evidence: g.kind !== 'layer' ? ['generated_name'] : [],
      structural: false,
      note: '',
    });
    // point an added layer at a neighbour the user knows
    const base = g.base ? hnNames.get(g.base) : undefined;
    const neighbour =
      base ?? (hi.consumers.get(l.id) ?? []).find((c) => linkedHn.has(c.id)) ?? l.inputs.map((i) => hi.byId.get(i)).find((p) => p && linkedHn.has(p.id));
    if (neighbour) {
      const nEntry = hnIndex[neighbour.id];
      if (nEntry) {
        entry.relatedEntry = nEntry;
        const ne = entryById.get(nEntry)!;
        if (ne.source && !entry.source) entry.source = ne.source;
        if (!entry.scope) entry.scope = ne.scope;
      }
    }
  }
}

/** 5d. Remaining ONNX nodes: host, removed (the HN joins their neighbours), or unmatched. */
function remainingOnnxEntries(b: LedgerBuilder): void {
  const { onnx, oi, hi, graphInputs, linkedHn, genOf, runList, onnxIndex, hnIndex, regionFrom } = b;
  for (const n of onnx.nodes) {
    if (onnxIndex[n.id] || !b.isHost(n.id)) continue;
    b.newEntry({
      kind: 'host',
      onnxNodes: [n.id],
      hnLayers: [],
      evidence: regionFrom === 'parse_log' ? ['parse_log'] : ['graph_io'],
      structural: false,
      note: '',
    });
  }
  const folded: GraphNode[] = [];
  for (const run of runList) {
    const nodes = run.nodes.filter((n) => !onnxIndex[n.id]);
    if (!nodes.length) continue;
    if (nodes.every((n) => n.op === 'Constant')) {
      folded.push(...nodes);
      continue;
    }
    const passable = (id: string) =>
      !linkedHn.has(id) && (HN_LAYOUT_TYPES.has(hi.byId.get(id)?.op ?? '') || isCompilerGenerated(genOf.get(id)?.kind ?? 'layer'));
    const joined = hnJoins(run.upHn, run.downHn, hi, passable);
    const allConst = nodes.every(
      (n) => n.op === 'Constant' || n.inputs.every((i) => !i || onnx.values[i]?.initializer || (!oi.producer.has(i) && !graphInputs.has(i))),
    );
    const kind: LedgerKind = joined || allConst ? 'removed' : 'unmatched';
    // "removed" is not a match: no original name mentions these nodes (a fact of the HN); the graph
    // structure only confirms that the HN joins their neighbours
    const entry = b.newEntry({
      kind,
      onnxNodes: nodes.map((n) => n.id),
      hnLayers: [],
      evidence: kind === 'removed' ? ['structural'] : [],
      structural: false,
      note: '',
    });
    if (kind === 'removed') {
      const down = [...run.downHn].map((h) => hi.byId.get(h)!).filter(Boolean);
      const pad = nodes.find((x) => x.op === 'Pad');
      if (pad && down[0]) entry.changes.push(padChange(pad, down[0], onnx));
      if (down[0]) entry.relatedEntry = hnIndex[down[0].id];
    }
  }

  // standalone Constant nodes: one entry for all of them
  if (folded.length) b.newEntry({ kind: 'removed', onnxNodes: folded.map((n) => n.id), hnLayers: [], evidence: ['structural'], structural: false, note: '' });
}

/** 6. The compiler's layers and contexts, then the ledger. */
function compilerLayersAndResult(b: LedgerBuilder, now: () => number, t0: number): Ledger {
  const { onnx, hn, opts, warnings, hi, parse, compile, hnNames, known, entries, entryById, onnxIndex, hnIndex, endNodes, regionFrom, startTensors } = b;
  const unattributed: CompilerPiece[] = [];
  const boundaries: { from: number; to: number; name: string; line?: number }[] = [];
  const contextOf = new Map<string, number>(compile?.contextOf ?? []);
  if (opts.modelScript) for (const [k, v] of contextsFromModelScript(opts.modelScript)) contextOf.set(k, v);
  if (compile) {
    const compiledNames = new Set(compile.layers.map((l) => l.name));
    for (const cl of compile.layers) {
      const g = interpretLayerName(cl.name, known);
      const ctx = contextOf.get(cl.name);
      const piece: CompilerPiece = {
        name: cl.name,
        kind: g.kind,
        ...(g.part ? { part: g.part } : {}),
        line: cl.line,
        ...(ctx !== undefined ? { context: ctx } : {}),
      };
      if (g.kind === 'context-boundary' && g.context) {
        boundaries.push({ from: g.context.from, to: g.context.to, name: cl.name, line: cl.line });
        continue;
      }
      const isLayer = g.kind === 'layer' || hnNames.has(cl.name);
      const baseName = isLayer ? cl.name : g.base;
      const base = baseName ? hnNames.get(baseName) : undefined;
      if (!base) {
        unattributed.push(piece);
        continue;
      }
      const e = entryById.get(hnIndex[base.id]!);
      if (!e) continue;
      if (!isLayer) {
        e.compilerLayers.push(piece);
        addEvidence(e, 'compile_log');
      } else if (ctx !== undefined) {
        e.contexts = uniq([...e.contexts, ctx]);
      }
    }
    // an HN layer the compiler replaced by pieces (conv1 -> conv1_sd0.. conv1_sdc) is decomposed
    for (const e of entries) {
      if (!e.compilerLayers.length) continue;
      const replaced = e.hnLayers.some(
        (h) => !compiledNames.has(unscoped(h)) && e.compilerLayers.some((p) => interpretLayerName(p.name, known).base === unscoped(h)),
      );
      if (e.kind === 'kept' || e.kind === 'layout' || (e.kind === 'fused' && replaced)) {
        if (replaced || e.compilerLayers.some((p) => p.kind === 'spatial-defuse' || p.kind === 'defuse' || p.kind === 'defuse-primitive'))
          e.kind = 'decomposed';
      }
    }
  }
  for (const e of entries) {
    for (const h of e.hnLayers) {
      const c = contextOf.get(unscoped(h));
      if (c !== undefined) e.contexts.push(c);
    }
    for (const p of e.compilerLayers) if (p.context !== undefined) e.contexts.push(p.context);
    e.contexts = uniq(e.contexts).sort((a, b) => a - b);
  }
  if (contextOf.size)
    addAll(
      entries.filter((e) => e.contexts.length),
      'model_script',
      opts.modelScript !== undefined,
    );

  for (const e of entries) e.note = describe(e, hi.byId, entryById);

  const counts = Object.fromEntries(LEDGER_KINDS.map((k) => [k, 0])) as Record<LedgerKind, number>;
  for (const e of entries) counts[e.kind]++;
  const missingOnnx = onnx.nodes.filter((n) => !onnxIndex[n.id]);
  const missingHn = hn.nodes.filter((l) => !hnIndex[l.id]);
  if (missingOnnx.length || missingHn.length)
    warnings.push(`internal: ${missingOnnx.length} ONNX node(s) and ${missingHn.length} HN layer(s) left unclassified`);

  const dfcVersion = opts.dfcVersion ?? compile?.dfcVersion ?? parse?.dfcVersion;
  const contextCount = compile?.contexts ?? (contextOf.size ? Math.max(...contextOf.values()) + 1 : undefined);
  return {
    version: 1,
    stage: opts.stage,
    ...(dfcVersion ? { dfcVersion } : {}),
    onnxName: onnx.name,
    hnName: hn.name,
    entries,
    counts,
    onnxIndex,
    hnIndex,
    ...(compile || contextOf.size
      ? { contexts: { ...(contextCount !== undefined ? { count: contextCount } : {}), boundaries, assigned: contextOf.size } }
      : {}),
    unattributedCompilerLayers: unattributed,
    ...(endNodes.length ? { hefRegion: { endNodes: uniq(endNodes), startTensors: uniq(startTensors), from: regionFrom! } } : {}),
    warnings,
    stats: { onnxNodes: onnx.nodes.length, hnLayers: hn.nodes.length, structuralMatches: b.structuralMatches, ms: now() - t0 },
  };
}

/** Group key of a module scope for the Rewrites view: up to the first list index ("blocks.3"), else its first part. */
export function scopeGroup(scope: string): string {
  if (!scope) return '';
  const parts = scope.split('.');
  const i = parts.findIndex((p) => /^\d+$/.test(p));
  return i > 0 ? parts.slice(0, i + 1).join('.') : parts[0]!;
}

function addEvidence(e: LedgerEntry, ev: Evidence): void {
  if (!e.evidence.includes(ev)) e.evidence.push(ev);
}
function addAll(es: LedgerEntry[], ev: Evidence, when: boolean): void {
  if (when) for (const e of es) addEvidence(e, ev);
}

function firstIndex(items: string[], topo: Map<string, number>, hnOrder: Map<string, number>): number {
  let best = Infinity;
  for (const x of items) if (x.startsWith('o:')) best = Math.min(best, topo.get(x.slice(2)) ?? Infinity);
  if (best === Infinity) for (const x of items) best = Math.min(best, 1e9 + (hnOrder.get(x.slice(2)) ?? 0));
  return best;
}

/** Does the HN connect a layer of `up` to a layer of `down` directly or through unlinked layout layers only? */
function hnJoins(up: Set<string>, down: Set<string>, hi: ReturnType<typeof indexGraph>, passable: (id: string) => boolean): boolean {
  if (!up.size || !down.size) return false;
  for (const d of down) {
    const seen = new Set<string>();
    const stack = [d];
    let depth = 0;
    while (stack.length && depth++ < 64) {
      const id = stack.pop()!;
      for (const p of hi.byId.get(id)?.inputs ?? []) {
        if (up.has(p)) return true;
        if (seen.has(p)) continue;
        seen.add(p);
        if (passable(p)) stack.push(p);
      }
    }
  }
  return false;
}

function scopeOfEntry(e: LedgerEntry, onnxById: Map<string, GraphNode>, hnById: Map<string, GraphNode>): string {
  const scopes = e.onnxNodes.map((n) => onnxById.get(n)!.scope);
  if (!scopes.length) for (const h of e.hnLayers) scopes.push(hnById.get(h)!.scope);
  const nonEmpty = scopes.filter((s) => s);
  if (!nonEmpty.length) return '';
  let prefix = nonEmpty[0]!.split('.');
  for (const s of nonEmpty.slice(1)) {
    const p = s.split('.');
    let i = 0;
    while (i < prefix.length && i < p.length && prefix[i] === p[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix.join('.');
}

/** Prefer the node whose op gives the entry its meaning (LayerNormalization over its Add). */
function sourceOf(nodes: string[], byId: Map<string, GraphNode>, map?: { lookup(node: string): SourceLocation | undefined }): SourceLocation | undefined {
  const ordered = [...nodes].sort((a, b) => weight(byId.get(b)!.op) - weight(byId.get(a)!.op));
  for (const n of ordered) {
    const s = map?.lookup(n) ?? byId.get(n)?.source;
    if (s) return s;
  }
  return undefined;
}
function weight(op: string): number {
  if (/Norm|Softmax|Conv|MatMul|Gemm/.test(op)) return 3;
  if (LAYOUT_OPS.has(op)) return 0;
  return 1;
}

// ---- shapes

function stripBatch(s: Dim[]): Dim[] {
  return s.length > 1 && (s[0] === 1 || s[0] === -1 || typeof s[0] === 'string') ? s.slice(1) : [...s];
}
function product(s: Dim[]): number | undefined {
  let p = 1;
  for (const d of s) {
    if (typeof d !== 'number' || d < 0) return undefined;
    p *= d;
  }
  return p;
}
const fmt = (s: Dim[]) => `[${s.join(', ')}]`;

/** Changes between an ONNX shape and the HN shape of the same tensor (HN: channels-last, batch -1). */
export function compareShapes(onnxShape: Dim[], hnShape: Dim[]): ShapeChange[] {
  const os = stripBatch(onnxShape);
  const hs = stripBatch(hnShape);
  const out: ShapeChange[] = [];
  const po = product(os);
  const ph = product(hs);
  if (po !== undefined && ph !== undefined && po !== ph) {
    out.push({
      kind: 'elements',
      from: onnxShape,
      to: hnShape,
      canonical: false,
      message: `shape ${fmt(onnxShape)} became ${fmt(hnShape)} (${po} vs ${ph} elements)`,
    });
    return out;
  }
  const no1o = os.filter((d) => d !== 1);
  const no1h = hs.filter((d) => d !== 1);
  const sameOrder = no1o.length === no1h.length && no1o.every((d, i) => d === no1h[i]);
  if (os.length !== hs.length) {
    out.push({
      kind: 'rank',
      from: onnxShape,
      to: hnShape,
      canonical: sameOrder || isChannelsLast(os, hs),
      message: `rank ${onnxShape.length} -> ${hnShape.length}: ${fmt(onnxShape)} is carried as ${fmt(hnShape)}`,
    });
  }
  if (!sameOrder) {
    const canonical = isChannelsLast(os, hs);
    out.push({
      kind: 'permute',
      from: onnxShape,
      to: hnShape,
      canonical,
      message: canonical
        ? `channels moved last: ${fmt(onnxShape)} -> ${fmt(hnShape)} (NHWC)`
        : `axes permuted: ${fmt(onnxShape)} -> ${fmt(hnShape)}; do not assume which ONNX axis is which in the HEF`,
    });
  }
  return out;
}

/** [C, H, W] -> [H, W, C], [C, W] -> [1, W, C]: the translation's channels-last move. */
function isChannelsLast(os: Dim[], hs: Dim[]): boolean {
  if (!os.length) return false;
  const moved = [...os.slice(1), os[0]!].filter((d) => d !== 1);
  const h = hs.filter((d) => d !== 1);
  return moved.length === h.length && moved.every((d, i) => d === h[i]);
}

function outputOf(entryNodes: string[], byId: Map<string, GraphNode>): string | undefined {
  const inside = new Set(entryNodes.flatMap((n) => byId.get(n)!.outputs));
  // the last node's output that leaves the entry
  for (let i = entryNodes.length - 1; i >= 0; i--) {
    const n = byId.get(entryNodes[i]!)!;
    const o = n.outputs[0];
    if (o) return o;
  }
  return [...inside][0];
}

function shapeChanges(e: LedgerEntry, onnx: GraphModel, hn: GraphModel, byId: Map<string, GraphNode>, hi: ReturnType<typeof indexGraph>): ShapeChange[] {
  const out: ShapeChange[] = [];
  if (!e.onnxNodes.length || !e.hnLayers.length) return out;
  const o = outputOf(e.onnxNodes, byId);
  // the entry's last layer (no consumer inside the entry)
  const inEntry = new Set(e.hnLayers);
  const last = [...e.hnLayers].reverse().find((h) => !(hi.consumers.get(h) ?? []).some((c) => inEntry.has(c.id))) ?? e.hnLayers[e.hnLayers.length - 1]!;
  const os = o ? onnx.values[o]?.shape : undefined;
  const hs = hn.values[last]?.shape;
  if (os && hs) out.push(...compareShapes(os, hs));
  // Conv1d -> conv with a (1, k) kernel
  for (const n of e.onnxNodes) {
    const node = byId.get(n)!;
    if (node.op !== 'Conv') continue;
    const ks = node.attrs.kernel_shape;
    const layer = e.hnLayers.map((h) => hi.byId.get(h)!).find((l) => l.op === 'conv' || l.op === 'dw');
    const hk = layer?.attrs.kernel_shape;
    if (Array.isArray(ks) && ks.length === 1 && Array.isArray(hk)) {
      out.push({
        kind: 'kernel',
        from: `Conv1d k=${String(ks[0])}`,
        to: `conv (${String(hk[0])}, ${String(hk[1])})`,
        canonical: true,
        message: `Conv1d (kernel ${String(ks[0])}) became a 2-D conv with a (${String(hk[0])}, ${String(hk[1])}) kernel; its tensors are carried as [1, 1, T, C]`,
      });
    }
  }
  return out;
}

function padChange(pad: GraphNode, consumer: GraphNode, onnx: GraphModel): ShapeChange {
  const inShape = onnx.values[pad.inputs[0] ?? '']?.shape;
  const outShape = onnx.values[pad.outputs[0] ?? '']?.shape;
  const padding = String(consumer.attrs.padding ?? '').toUpperCase();
  const dropped = padding === 'VALID';
  const from = outShape ?? 'padded';
  const to = inShape ?? 'unpadded';
  return dropped
    ? {
        kind: 'padding',
        from,
        to,
        canonical: false,
        message: `the padding of ${pad.id} was dropped: ${unscoped(consumer.id)} uses VALID padding on the unpadded input`,
      }
    : {
        kind: 'padding',
        from,
        to,
        canonical: true,
        message: `the padding of ${pad.id} was merged into ${unscoped(consumer.id)}${padding ? ` (padding ${padding})` : ''}`,
      };
}

// ---- words

function list(names: string[], max = 4): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

function describe(e: LedgerEntry, hnById: Map<string, GraphNode>, entryById: Map<string, LedgerEntry>): string {
  const layers = e.hnLayers.map(unscoped);
  const main = e.onnxNodes.length === 1 ? `${e.onnxOps[0]} ${e.onnxNodes[0]}` : `${e.onnxNodes.length} ONNX nodes (${list(uniq(e.onnxOps))})`;
  const by = e.structural ? ' (matched by graph structure only)' : '';
  const ctx = e.contexts.length ? `; context${e.contexts.length > 1 ? 's' : ''} ${e.contexts.join(', ')}` : '';
  const pieces = e.compilerLayers.length ? `; the compiler split it into ${list(e.compilerLayers.map((p) => p.name))}` : '';
  const changes = e.changes.filter((c) => !c.canonical || c.kind === 'padding' || c.kind === 'kernel' || e.onnxTensors.length).map((c) => c.message);
  const ch = changes.length ? `; ${changes.join('; ')}` : '';
  switch (e.kind) {
    case 'kept':
    case 'layout':
      if (e.onnxTensors.length)
        return `${hnById.get(e.hnLayers[0]!)!.op === 'input_layer' ? 'input' : 'output'} ${e.onnxTensors.join(', ')} is HN layer ${layers[0]}${ch}${pieces.replace('split it into', 'added')}${ctx}`;
      return `${main} kept as ${layers[0]} (${e.hnTypes[0]})${by}${ch}${pieces}${ctx}`;
    case 'fused': {
      const act = hnById.get(e.hnLayers[0]!)!.attrs.activation;
      return `${main} became one layer ${layers[0]} (${e.hnTypes[0]}${act && act !== 'linear' ? `, activation ${String(act)}` : ''})${by}${ch}${pieces}${ctx}`;
    }
    case 'decomposed': {
      if (!e.hnLayers.length) return `${main} was split by the compiler into ${list(e.compilerLayers.map((p) => p.name))}${ctx}`;
      const core = e.hnLayers.filter((h) => !HN_LAYOUT_TYPES.has(hnById.get(h)!.op)).map(unscoped);
      const layout = e.hnLayers.filter((h) => HN_LAYOUT_TYPES.has(hnById.get(h)!.op)).map(unscoped);
      const parts = layout.length ? `${list(core)} plus ${layout.length === 1 ? 'a reshape' : `${layout.length} reshapes`} (${list(layout)})` : list(core, 6);
      return `${main} became ${e.hnLayers.length > 1 ? parts : layers[0]}${by}${ch}${pieces}${ctx}`;
    }
    case 'removed': {
      const rel = e.relatedEntry ? entryById.get(e.relatedEntry) : undefined;
      const into = rel?.hnLayers.length ? `; in the HN, ${unscoped(rel.hnLayers[0]!)} takes that input directly` : '';
      const allConst = e.onnxOps.every((o) => o === 'Constant');
      return allConst
        ? `${e.onnxNodes.length === 1 ? main : `${e.onnxNodes.length} Constant nodes`}: folded into the layers that use them`
        : `${main} ${e.onnxNodes.length > 1 ? 'have' : 'has'} no HN layer${into}${ch}`;
    }
    case 'added': {
      const g = interpretLayerName(e.hnLayers[0]!);
      const rel = e.relatedEntry ? entryById.get(e.relatedEntry) : undefined;
      const near = rel ? ` next to ${rel.onnxNodes[0] ?? unscoped(rel.hnLayers[0] ?? '')}` : '';
      return `${layers[0]} (${e.hnTypes[0]}) was added by the DFC with no ONNX counterpart${g.kind !== 'layer' && g.kind !== 'unknown' ? ` (${g.kind})` : ''}${near}${ctx}`;
    }
    case 'host':
      return `${main} is outside the parsed network (after the end nodes or before the start nodes): it runs on the host, not in the HEF`;
    case 'unmatched':
      if (e.hnLayers.length) return `HN layer ${layers[0]} (${e.hnTypes[0]}) could not be matched to an ONNX node`;
      return `${main} could not be matched to an HN layer`;
  }
}
