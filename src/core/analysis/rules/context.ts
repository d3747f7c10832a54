import { indexGraph, type Dim, type GraphIndex, type GraphModel, type GraphNode, type SourceLocation } from '../../graph/model';
import type { Finding, Severity } from '../../finding';
import { Folder } from './fold';

/**
 * The part of an `OnnxModel` (src/core/onnx) that the lint reads. Declared structurally so the
 * lint also runs on graphs built in memory (tests, HN-derived graphs) and does not pull the
 * protobuf reader into every consumer.
 */
export interface LintableModel {
  file: string;
  defaultOpset: number | undefined;
  opsetImports: { domain: string; version: number }[];
  unknownDomains: string[];
  graph: GraphModel;
  initializers: ReadonlyMap<string, { dims: number[]; dtype: string }>;
  paramCount: number;
  paramBytes: number;
  subgraphs?: { node: string; op: string; attribute: string; nodeCount: number }[];
  warnings?: string[];
}

/** What hailo.json says about the model (a project `Model` entry fits). */
export interface ExpectedModel {
  name?: string;
  inputs?: { name: string; shape: number[] }[];
  outputs?: { name: string; shape?: number[] | undefined }[];
  /** Parser start/end node names (`--start-node-names`/`--end-node-names`): ONNX node names. */
  startNodes?: string[] | undefined;
  endNodes?: string[] | undefined;
}

export interface LintSourceMap {
  lookup(nodeName: string): SourceLocation | undefined;
}

export interface LintOptions {
  /** `--hw-arch` value: hailo8l (Raspberry Pi AI Kit), hailo8, ... */
  hwArch: string;
  expected?: ExpectedModel;
  sourceMap?: LintSourceMap;
  /**
   * Values of small constant tensors (Pad pads, Reshape shapes, reduction axes, Gather indices),
   * by value name. `readLintConstants` collects them from a model; without them the rules that
   * need values say so instead of guessing.
   */
  constants?: ReadonlyMap<string, readonly number[]>;
  /** The project file, so contract findings can point at the expected shape's line. */
  projectFile?: { file: string; text: string };
}

export class LintContext {
  readonly g: GraphModel;
  readonly idx: GraphIndex;
  readonly out: Finding[] = [];
  /** Nodes already explained by a pattern rule (a decomposed LayerNorm), skipped by per-op rules. */
  readonly claimed = new Set<string>();
  private readonly constValues: Set<string>;
  private readonly folder: Folder;

  constructor(
    readonly model: LintableModel,
    readonly opts: LintOptions,
  ) {
    this.g = model.graph;
    this.idx = indexGraph(model.graph);
    this.constValues = this.computeConstValues();
    this.folder = new Folder({
      known: (name) => {
        const data = this.opts.constants?.get(name);
        if (!data) return undefined;
        const dims = this.staticShape(name);
        return { dims: dims && dims.reduce((a, b) => a * b, 1) === data.length ? dims : [data.length], data: [...data] };
      },
      producer: (name) => this.idx.producer.get(name),
      staticShape: (name) => this.staticShape(name),
      opset: this.opset,
    });
  }

  get opset(): number {
    return this.model.defaultOpset ?? 13;
  }

  shape(name: string | undefined): Dim[] | undefined {
    if (!name) return undefined;
    return this.g.values[name]?.shape ?? (this.model.initializers.get(name)?.dims as Dim[] | undefined);
  }

  staticShape(name: string | undefined): number[] | undefined {
    const s = this.shape(name);
    return s && s.every((d): d is number => typeof d === 'number') ? s : undefined;
  }

  isInitializer(name: string | undefined): boolean {
    if (!name) return false;
    return this.model.initializers.has(name) || this.g.values[name]?.initializer === true;
  }

  /**
   * True when a value does not depend on the model's inputs: an initializer, a Constant, or an op
   * over constants only (Cast/Unsqueeze of a constant, a Shape of a statically shaped tensor).
   */
  isConst(name: string | undefined): boolean {
    if (!name) return true;
    return this.isInitializer(name) || this.constValues.has(name);
  }

  /** Values computed from constants only, found by passes in node order (no recursion, so any depth). */
  private computeConstValues(): Set<string> {
    const out = new Set<string>();
    const known = (v: string) => !v || this.isInitializer(v) || out.has(v);
    for (let pass = 0, changed = true; changed && pass < 8; pass++) {
      changed = false;
      for (const n of this.g.nodes) {
        if (n.outputs.every((o) => !o || out.has(o))) continue;
        let c = false;
        if (n.op === 'Constant') c = true;
        else if (n.op === 'Shape' || n.op === 'Size') c = this.staticShape(n.inputs[0]) !== undefined;
        else if (n.op === 'RandomNormalLike' || n.op === 'RandomUniformLike' || n.op === 'RandomNormal' || n.op === 'RandomUniform') c = false;
        else c = n.inputs.some(Boolean) && n.inputs.every(known);
        if (!c) continue;
        for (const o of n.outputs) if (o) out.add(o);
        changed = true;
      }
    }
    return out;
  }

  /**
   * A constant tensor's values, when known: read constants (`opts.constants`), Constant nodes, and
   * small chains over them folded (torch writes F.pad's pads as such a chain).
   */
  constValue(name: string | undefined): readonly number[] | undefined {
    return this.folder.value(name)?.data;
  }

  consumers(name: string): GraphNode[] {
    return this.idx.consumers.get(name) ?? [];
  }

  producer(name: string | undefined): GraphNode | undefined {
    return name ? this.idx.producer.get(name) : undefined;
  }

  sourceOf(node: string): SourceLocation | undefined {
    return this.opts.sourceMap?.lookup(node) ?? this.idx.byId.get(node)?.source;
  }

  /**
   * Report one finding per group and per scope pattern, so a 12-block encoder gives one finding
   * "in 12 blocks" rather than twelve. `groupKey` splits findings further (op type, axis...).
   */
  report(code: string, severity: Severity, nodes: GraphNode[], build: (a: Aggregate) => { message: string; fix?: string }, groupKey = ''): void {
    const groups = new Map<string, GraphNode[]>();
    for (const n of nodes) {
      const key = `${groupKey}\u0000${scopePattern(n.scope)}`;
      let list = groups.get(key);
      if (!list) groups.set(key, (list = []));
      list.push(n);
    }
    for (const list of groups.values()) {
      const agg = aggregate(list);
      const { message, fix } = build(agg);
      this.push({ code, severity, message, nodes: list.map((n) => n.id), ...(fix ? { fix } : {}) });
    }
  }

  /** Add a finding, attaching the source of its first mapped node and the others as related. */
  push(f: Finding): void {
    if (!f.source) {
      const located: { node: string; loc: SourceLocation }[] = [];
      for (const n of f.nodes) {
        const loc = this.sourceOf(n);
        if (loc) located.push({ node: n, loc });
      }
      if (located.length) {
        f.source = located[0]!.loc;
        const seen = new Set([`${located[0]!.loc.file}:${located[0]!.loc.line}`]);
        const related = f.related ? [...f.related] : [];
        for (const { node, loc } of located.slice(1)) {
          const key = `${loc.file}:${loc.line}`;
          if (seen.has(key) || related.length >= 24) continue;
          seen.add(key);
          related.push({ message: `also ${node}`, file: loc.file, line: loc.line, node });
        }
        if (related.length) f.related = related;
      }
    }
    this.out.push(f);
  }
}

export interface Aggregate {
  nodes: GraphNode[];
  count: number;
  /** " in 12 blocks (encoder.blocks.*.attn)", " in encoder.conv1", "" at top level. */
  where: string;
  /** Number of distinct blocks (scopes) the nodes sit in. */
  blocks: number;
}

/** Scope with numeric segments (block indices) replaced by `*`: encoder.blocks.3.attn -> encoder.blocks.*.attn */
export function scopePattern(scope: string): string {
  if (!scope) return '';
  return scope
    .split('.')
    .map((s) => (/^\d+$/.test(s) ? '*' : s.replace(/_\d+$/, '_*')))
    .join('.');
}

export function aggregate(nodes: GraphNode[]): Aggregate {
  const scopes = new Set(nodes.map((n) => n.scope));
  const pattern = scopePattern(nodes[0]?.scope ?? '');
  let where = '';
  if (scopes.size > 1) where = ` in ${scopes.size} blocks (${pattern})`;
  else if (pattern) where = ` in ${nodes[0]!.scope}`;
  return { nodes, count: nodes.length, where, blocks: scopes.size };
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

export function fmtShape(s: readonly Dim[] | undefined): string {
  return s ? `[${s.join(', ')}]` : '[?]';
}

/** Attribute as a string (the reader may keep ONNX STRING attributes as text or as bytes). */
export function attrString(n: GraphNode, key: string): string | undefined {
  const v = n.attrs[key];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return String.fromCharCode(...(v as number[]));
  return undefined;
}

export function attrInt(n: GraphNode, key: string): number | undefined {
  const v = n.attrs[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

export function attrInts(n: GraphNode, key: string): number[] | undefined {
  const v = n.attrs[key];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number' || typeof x === 'bigint')) return v.map(Number);
  return undefined;
}

/** Normalise a possibly negative axis; undefined when the rank is unknown and the axis negative. */
export function normAxis(axis: number, rank: number | undefined): number | undefined {
  if (axis >= 0) return axis;
  return rank === undefined ? undefined : axis + rank;
}

export function isOnnxDomain(d: string | undefined): boolean {
  return d === undefined || d === '' || d === 'ai.onnx';
}
