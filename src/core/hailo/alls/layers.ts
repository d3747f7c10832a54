import type { GraphModel, SourceLocation } from '../../graph/model';
import { suggest } from './suggest';

/**
 * The layers a model script may name, taken from the model's HN. A model script can name a layer
 * scoped (`whisper/conv6`) or unscoped (`conv6`); scripts of several networks use several scopes.
 */
export interface CatalogLayer {
  /** Unscoped name: `conv6`. */
  name: string;
  /** `net/conv6`, or the bare name when the HN has no scopes. */
  scopedName: string;
  scope: string | undefined;
  /** HN layer type: `conv`, `ew_add`, `input_layer`... */
  type: string;
  /** ONNX node names this layer was translated from. */
  originalNames: string[];
  /** The Python line that produced it, when the model has a source map. */
  source?: SourceLocation;
}

export interface LayerCatalog {
  /** The network name (the default scope). */
  netName?: string;
  /** Every scope of the HN (`net_scopes`); several after joining networks. */
  scopes: string[];
  layers: CatalogLayer[];
  /** Where the catalog came from (the HAR), for messages. */
  origin?: string;
  /** The ONNX file the HN was parsed from, for go-to-definition without a source map. */
  onnxFile?: string;
  /** The DFC version that wrote the HN or HAR, when it says (the target's DFC). */
  dfcVersion?: string;
}

/** Looks up a source location by ONNX node name (the export's source map). */
export interface SourceLookup {
  lookup(nodeName: string): SourceLocation | undefined;
}

/**
 * Build a catalog from an HN graph (kind 'hn'): node.id is the layer name, scoped or not,
 * node.op its type, node.originalNames the ONNX nodes. A source map fills in node.source when the
 * reader did not.
 */
export function layerCatalogFromGraph(
  g: GraphModel,
  opts: { sourceMap?: SourceLookup; origin?: string; onnxFile?: string; scopes?: string[] } = {},
): LayerCatalog {
  const scopes = new Set<string>(opts.scopes ?? []);
  const layers: CatalogLayer[] = [];
  for (const n of g.nodes) {
    const slash = n.id.lastIndexOf('/');
    const scope = slash > 0 ? n.id.slice(0, slash) : undefined;
    const name = slash > 0 ? n.id.slice(slash + 1) : n.id;
    if (!name) continue;
    if (scope) scopes.add(scope);
    const originalNames = n.originalNames ?? [];
    let source = n.source;
    if (!source && opts.sourceMap) {
      for (const o of originalNames) {
        source = opts.sourceMap.lookup(o);
        if (source) break;
      }
    }
    layers.push({ name, scopedName: scope ? `${scope}/${name}` : name, scope, type: n.op, originalNames, ...(source ? { source } : {}) });
  }
  const netName = g.name || [...scopes][0];
  if (!scopes.size && netName) scopes.add(netName);
  return {
    ...(netName ? { netName } : {}),
    scopes: [...scopes],
    layers,
    ...(opts.origin ? { origin: opts.origin } : {}),
    ...(opts.onnxFile ? { onnxFile: opts.onnxFile } : {}),
  };
}

export type LayerResolution =
  | { kind: 'found'; layers: CatalogLayer[] }
  | { kind: 'unknown'; suggestions: string[] }
  | { kind: 'bad-scope'; scope: string; scopes: string[]; layers: CatalogLayer[] };

/** Fast lookups over a catalog: by unscoped name, by scoped name, by glob pattern. */
export class LayerIndex {
  private readonly byName = new Map<string, CatalogLayer[]>();
  private readonly byScoped = new Map<string, CatalogLayer>();
  readonly scopes: Set<string>;

  constructor(readonly catalog: LayerCatalog) {
    for (const l of catalog.layers) {
      let list = this.byName.get(l.name);
      if (!list) this.byName.set(l.name, (list = []));
      list.push(l);
      this.byScoped.set(l.scopedName, l);
    }
    this.scopes = new Set(catalog.scopes);
  }

  get size(): number {
    return this.catalog.layers.length;
  }

  /** A layer reference as written in a script: `conv6` or `net/conv6`. */
  resolve(ref: string, extraScopes: Iterable<string> = []): LayerResolution {
    const slash = ref.lastIndexOf('/');
    if (slash > 0) {
      const scope = ref.slice(0, slash);
      const name = ref.slice(slash + 1);
      const l = this.byScoped.get(ref);
      if (l) return { kind: 'found', layers: [l] };
      const inOtherScope = this.byName.get(name) ?? [];
      const scopes = new Set([...this.scopes, ...extraScopes]);
      if (!scopes.has(scope)) return { kind: 'bad-scope', scope, scopes: [...this.scopes], layers: inOtherScope };
      // an HN without scopes in its keys: accept the net name as scope
      if (!this.catalog.layers.some((x) => x.scope) && inOtherScope.length) return { kind: 'found', layers: inOtherScope };
      return { kind: 'unknown', suggestions: suggest(name, this.byName.keys()).map((s) => `${scope}/${s}`) };
    }
    const list = this.byName.get(ref);
    if (list?.length) return { kind: 'found', layers: list };
    return { kind: 'unknown', suggestions: suggest(ref, this.byName.keys()) };
  }

  /** Layers matching a `{pattern}` body (glob: `*`, `?`, `[0-9]` classes); scoped patterns match scoped names. */
  match(pattern: string): CatalogLayer[] {
    const re = compileGlob(pattern);
    const scoped = pattern.includes('/');
    const names = scoped
      ? (this.sortedScoped ??= new SortedNames(this.catalog.layers.map((l) => l.scopedName)))
      : (this.sortedNames ??= new SortedNames(this.catalog.layers.map((l) => l.name)));
    const hits = new Set(names.withPrefix(re.prefix).filter((n) => re.test(n)));
    return this.catalog.layers.filter((l) => hits.has(scoped ? l.scopedName : l.name));
  }

  /** Whether any layer matches, comparing only names that share the pattern's literal prefix. */
  matchesAny(glob: Glob, scoped: boolean): { any: boolean; compared: number } {
    const names = scoped
      ? (this.sortedScoped ??= new SortedNames(this.catalog.layers.map((l) => l.scopedName)))
      : (this.sortedNames ??= new SortedNames(this.catalog.layers.map((l) => l.name)));
    const candidates = names.withPrefix(glob.prefix);
    return { any: candidates.some((n) => glob.test(n)), compared: candidates.length };
  }

  private sortedNames: SortedNames | undefined;
  private sortedScoped: SortedNames | undefined;

  /** The layer a reference names, without suggestions (cheap: for completion and hover). */
  get(ref: string): CatalogLayer | undefined {
    const direct = this.byScoped.get(ref);
    if (direct) return direct;
    const slash = ref.lastIndexOf('/');
    if (slash < 0) return this.byName.get(ref)?.[0];
    // an HN without scopes in its keys accepts the net name as scope
    if (!this.catalog.layers.some((x) => x.scope) && this.scopes.has(ref.slice(0, slash))) return this.byName.get(ref.slice(slash + 1))?.[0];
    return undefined;
  }
}

type GlobPart = { kind: 'char'; c: string } | { kind: 'any' } | { kind: 'star' } | { kind: 'class'; negated: boolean; ranges: [number, number][] };

/** Names kept sorted, so the names with a given prefix are one binary search away. */
export class SortedNames {
  private readonly names: string[];
  constructor(names: Iterable<string>) {
    this.names = [...new Set(names)].sort();
  }
  /** The names starting with `prefix` (all of them for ""). */
  withPrefix(prefix: string): string[] {
    if (!prefix) return this.names;
    let lo = 0;
    let hi = this.names.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.names[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    let end = lo;
    while (end < this.names.length && this.names[end]!.startsWith(prefix)) end++;
    return this.names.slice(lo, end);
  }
}

/** A compiled layer pattern. */
export interface Glob {
  readonly source: string;
  /** The literal text before the first wildcard or class: every match starts with it. */
  readonly prefix: string;
  /** Whether the whole name matches. */
  test(name: string): boolean;
}

/**
 * Compile a layer pattern (`*`, `?`, `[0-9]` and `[!1]` classes; anything else literal). Matching
 * uses no regular expression and never backtracks further than the last `*`: at most
 * O(pattern x name) steps, so a pattern of a thousand `*` against long names stays fast where a
 * backtracking regex would not finish.
 */
export function compileGlob(glob: string): Glob {
  const parts: GlobPart[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (parts[parts.length - 1]?.kind !== 'star') parts.push({ kind: 'star' });
    } else if (c === '?') parts.push({ kind: 'any' });
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) parts.push({ kind: 'char', c });
      else {
        let body = glob.slice(i + 1, close);
        const negated = body.startsWith('!') || body.startsWith('^');
        if (negated) body = body.slice(1);
        const ranges: [number, number][] = [];
        for (let k = 0; k < body.length; k++) {
          const lo = body.charCodeAt(k);
          if (body[k + 1] === '-' && k + 2 < body.length) {
            ranges.push([lo, body.charCodeAt(k + 2)]);
            k += 2;
          } else ranges.push([lo, lo]);
        }
        parts.push({ kind: 'class', negated, ranges });
        i = close;
      }
    } else parts.push({ kind: 'char', c });
  }
  const one = (p: GlobPart, ch: string): boolean => {
    switch (p.kind) {
      case 'char':
        return p.c === ch;
      case 'any':
        return true;
      case 'class': {
        const code = ch.charCodeAt(0);
        const hit = p.ranges.some(([lo, hi]) => code >= lo && code <= hi);
        return hit !== p.negated;
      }
      default:
        return false;
    }
  };
  let prefix = '';
  for (const p of parts) {
    if (p.kind !== 'char') break;
    prefix += p.c;
  }
  return {
    source: glob,
    prefix,
    test(name: string): boolean {
      let p = 0;
      let n = 0;
      let starP = -1;
      let starN = 0;
      while (n < name.length) {
        const part = parts[p];
        if (part && part.kind !== 'star' && one(part, name[n]!)) {
          p++;
          n++;
        } else if (part?.kind === 'star') {
          starP = p++;
          starN = n;
        } else if (starP >= 0) {
          p = starP + 1;
          n = ++starN;
        } else return false;
      }
      while (parts[p]?.kind === 'star') p++;
      return p === parts.length;
    },
  };
}

/** Markdown for a layer hover or completion item: type, ONNX nodes, Python line. */
export function layerMarkdown(l: CatalogLayer, catalog: LayerCatalog): string {
  const lines = [`**${l.scopedName}** — HN layer of type \`${l.type}\``];
  if (l.originalNames.length) {
    const shown = l.originalNames
      .slice(0, 6)
      .map((n) => `\`${n}\``)
      .join(', ');
    lines.push('', `ONNX: ${shown}${l.originalNames.length > 6 ? `, … (${l.originalNames.length} in all)` : ''}`);
  }
  if (l.source) lines.push('', `Python: \`${l.source.file}:${l.source.line}\`${l.source.module ? ` (${l.source.module})` : ''}`);
  if (catalog.origin) lines.push('', `*from ${catalog.origin}*`);
  return lines.join('\n');
}

/** One-line detail for a completion item: "conv · /encoder/conv1/Conv · model.py:42". */
export function layerDetail(l: CatalogLayer): string {
  const parts = [l.type];
  if (l.originalNames.length) parts.push(l.originalNames[0]! + (l.originalNames.length > 1 ? ` +${l.originalNames.length - 1}` : ''));
  if (l.source) parts.push(`${baseName(l.source.file)}:${l.source.line}`);
  return parts.join(' · ');
}

function baseName(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i >= 0 ? p.slice(i + 1) : p;
}
