import type { GraphView } from './view';

/**
 * Layered (Sugiyama-style) layout of the expanded part of a graph view, one scope level at a
 * time: a collapsed group is one box, an expanded group is laid out inside its own box and then
 * placed as one item of its parent's level. Each level is small (a block's children, the 12
 * blocks of an encoder), so expanding a block lays out that block and the levels above it, and
 * levels not touched come from the cache. `flat: true` lays out every node in one level (the
 * bench's baseline). Plain computation, no DOM: it runs in the webview's layout worker.
 */

export interface LayoutBox {
  kind: 'node' | 'group';
  /** View node or group index. */
  index: number;
  x: number;
  y: number;
  w: number;
  h: number;
  /** Group boxes: drawn open (a container) or closed (one box). */
  open?: boolean;
  depth: number;
}

export interface LayoutEdge {
  /** Polyline, absolute: x0, y0, x1, y1, ... */
  points: number[];
  /** Up to 8 view edge indices this drawn edge stands for, and how many in all. */
  edges: number[];
  count: number;
}

export interface Layout {
  boxes: LayoutBox[];
  edges: LayoutEdge[];
  width: number;
  height: number;
  /** Levels laid out now and levels taken from the cache. */
  stats: { levels: number; cached: number; items: number; ms: number };
}

export const NODE_H = 34;
const GROUP_H = 44;
const PAD = 14;
const HEADER = 24;
const GAP_X = 22;
const GAP_Y = 34;
const DUMMY_W = 8;

export function nodeWidth(op: string, shape: string): number {
  return Math.min(240, Math.max(84, Math.max(op.length * 7.2, shape.length * 6.2) + 22));
}

export function groupWidth(label: string, size: number): number {
  return Math.min(320, Math.max(150, Math.max(label.length * 7.6, `${size} nodes`.length * 6.4 + 56) + 28));
}

interface Sub {
  w: number;
  h: number;
  boxes: LayoutBox[];
  edges: LayoutEdge[];
  levels: number;
  cached: number;
  items: number;
}

interface Item {
  kind: 'node' | 'group' | 'dummy';
  index: number;
  key: number;
  w: number;
  h: number;
  sub?: Sub;
  layer: number;
  x: number;
  y: number;
  order: number;
  preds: number[];
  succs: number[];
}

export class GraphLayout {
  private readonly out: number[][];
  /** Smallest node index under each group (nodes come in graph order). */
  private readonly minIdx: number[];
  private readonly cache = new Map<string, Sub>();

  constructor(private readonly view: GraphView) {
    this.out = view.nodes.map(() => []);
    view.edges.forEach((e, i) => this.out[e.from]!.push(i));
    this.minIdx = view.groups.map(() => Number.MAX_SAFE_INTEGER);
    view.nodes.forEach((n, i) => {
      for (let g = n.group; g >= 0; g = view.groups[g]!.parent) {
        if (this.minIdx[g]! <= i) break;
        this.minIdx[g] = i;
      }
    });
  }

  /** Lay out the expanded groups (the root always is); `shouldStop` is polled between levels. */
  layout(expanded: Iterable<number>, opts: { flat?: boolean; shouldStop?: () => boolean } = {}): Layout | undefined {
    const t0 = performance.now();
    const open = new Set(expanded);
    open.add(0);
    let sub: Sub | undefined;
    if (opts.flat) sub = this.level(-1, open, opts.shouldStop);
    else sub = this.group(0, open, opts.shouldStop);
    if (!sub) return undefined;
    return {
      boxes: sub.boxes,
      edges: sub.edges,
      width: sub.w,
      height: sub.h,
      stats: { levels: sub.levels, cached: sub.cached, items: sub.items, ms: performance.now() - t0 },
    };
  }

  private key(gi: number, open: Set<number>): string {
    const parts: number[] = [];
    const walk = (g: number) => {
      for (const c of this.view.groups[g]!.groups) {
        if (open.has(c)) {
          parts.push(c);
          walk(c);
        }
      }
    };
    walk(gi);
    return `${gi}:${parts.join(',')}`;
  }

  private group(gi: number, open: Set<number>, stop?: () => boolean): Sub | undefined {
    const k = this.key(gi, open);
    const hit = this.cache.get(k);
    if (hit) return { ...hit, levels: 0, cached: 1 };
    const sub = this.level(gi, open, stop);
    if (sub) this.cache.set(k, sub);
    return sub;
  }

  /** The item of level `gi` holding node `n` (a direct node or the child group it lies in), or -1 when outside. */
  private itemOf(n: number, gi: number, groupItem: Map<number, number>, nodeItem: Map<number, number>): number {
    const direct = nodeItem.get(n);
    if (direct !== undefined) return direct;
    if (gi < 0) return -1;
    for (let g = this.view.nodes[n]!.group; g > 0; g = this.view.groups[g]!.parent) {
      if (this.view.groups[g]!.parent === gi) return groupItem.get(g) ?? -1;
    }
    return -1;
  }

  /** Lay out one level: `gi`'s direct nodes and child groups (gi = -1: every node, flat). */
  private level(gi: number, open: Set<number>, stop?: () => boolean): Sub | undefined {
    const v = this.view;
    const items: Item[] = [];
    const groupItem = new Map<number, number>();
    const nodeItem = new Map<number, number>();
    let levels = 1;
    let cached = 0;
    let count = 0;
    const mk = (kind: Item['kind'], index: number, key: number, w: number, h: number, sub?: Sub): number => {
      items.push({ kind, index, key, w, h, ...(sub ? { sub } : {}), layer: 0, x: 0, y: 0, order: 0, preds: [], succs: [] });
      return items.length - 1;
    };
    const nodeList = gi < 0 ? v.nodes.map((_, i) => i) : v.groups[gi]!.nodes;
    for (const n of nodeList) {
      const node = v.nodes[n]!;
      nodeItem.set(n, mk('node', n, n, nodeWidth(node.op, node.shape), node.io ? NODE_H - 6 : NODE_H));
    }
    if (gi >= 0) {
      for (const c of v.groups[gi]!.groups) {
        const cg = v.groups[c]!;
        if (open.has(c)) {
          if (stop?.()) return undefined;
          const sub = this.group(c, open, stop);
          if (!sub) return undefined;
          levels += sub.levels;
          cached += sub.cached;
          count += sub.items;
          groupItem.set(c, mk('group', c, this.minIdx[c]!, sub.w, sub.h, sub));
        } else {
          groupItem.set(c, mk('group', c, this.minIdx[c]!, groupWidth(cg.label, cg.size), GROUP_H));
        }
      }
    }
    count += items.length;
    // level edges: between distinct items of this level, both ends inside it
    const pairEdges = new Map<string, { a: number; b: number; edges: number[]; count: number }>();
    const subtreeNodes = gi < 0 ? nodeList : this.subtreeNodes(gi);
    for (const n of subtreeNodes) {
      const a = this.itemOf(n, gi, groupItem, nodeItem);
      if (a < 0) continue;
      for (const ei of this.out[n]!) {
        const b = this.itemOf(v.edges[ei]!.to, gi, groupItem, nodeItem);
        if (b < 0 || b === a) continue;
        const k = `${a},${b}`;
        const pe = pairEdges.get(k);
        if (pe) {
          pe.count++;
          if (pe.edges.length < 8) pe.edges.push(ei);
        } else pairEdges.set(k, { a, b, edges: [ei], count: 1 });
      }
    }
    const real = items.length;
    // a topological order of this level (Kahn's, earliest first node first); where the level's
    // edges form a cycle, the earliest item left goes next and its incoming edges are reversed
    const succ0: number[][] = items.map(() => []);
    const indeg = new Array<number>(real).fill(0);
    for (const pe of pairEdges.values()) {
      succ0[pe.a]!.push(pe.b);
      indeg[pe.b]!++;
    }
    const heap = new MinHeap((x: number) => items[x]!.key);
    for (let i = 0; i < real; i++) if (!indeg[i]) heap.push(i);
    const byKey: number[] = [];
    const done = new Uint8Array(real);
    const rest = items.map((_, i) => i).sort((x, y) => items[x]!.key - items[y]!.key);
    let restAt = 0;
    while (byKey.length < real) {
      let it = heap.pop();
      if (it === undefined) {
        while (done[rest[restAt]!]) restAt++;
        it = rest[restAt]!;
      }
      if (done[it]) continue;
      done[it] = 1;
      byKey.push(it);
      for (const b of succ0[it]!) if (--indeg[b]! === 0 && !done[b]) heap.push(b);
    }
    const rank = new Array<number>(real);
    byKey.forEach((it, r) => (rank[it] = r));
    const links: { a: number; b: number; rev: boolean; pe: { edges: number[]; count: number } }[] = [];
    for (const pe of pairEdges.values()) {
      const rev = rank[pe.a]! > rank[pe.b]!;
      const a = rev ? pe.b : pe.a;
      const b = rev ? pe.a : pe.b;
      items[a]!.succs.push(b);
      items[b]!.preds.push(a);
      links.push({ a, b, rev, pe });
    }
    for (const it of byKey) {
      const item = items[it]!;
      let l = 0;
      for (const p of item.preds) l = Math.max(l, items[p]!.layer + 1);
      item.layer = l;
    }
    // pull each item down next to its nearest successor (constants and side inputs would otherwise sit in layer 0 with a long edge down)
    for (let r = byKey.length - 1; r >= 0; r--) {
      const item = items[byKey[r]!]!;
      if (!item.succs.length) continue;
      let m = Infinity;
      for (const s of item.succs) m = Math.min(m, items[s]!.layer);
      if (m - 1 > item.layer) item.layer = m - 1;
    }
    // long edges get one dummy per layer crossed
    const chains: number[][] = [];
    for (const ln of links) {
      const chain = [ln.a];
      const la = items[ln.a]!.layer;
      const lb = items[ln.b]!.layer;
      for (let l = la + 1; l < lb; l++) {
        const d = mk('dummy', -1, 0, DUMMY_W, 0);
        items[d]!.layer = l;
        chain.push(d);
      }
      chain.push(ln.b);
      chains.push(chain);
    }
    // rebuild adjacency along chains for ordering
    for (const it of items) {
      it.preds = [];
      it.succs = [];
    }
    for (const ch of chains) {
      for (let i = 0; i + 1 < ch.length; i++) {
        items[ch[i]!]!.succs.push(ch[i + 1]!);
        items[ch[i + 1]!]!.preds.push(ch[i]!);
      }
    }
    const layers: number[][] = [];
    for (const it of byKey) (layers[items[it]!.layer] ??= []).push(it);
    for (let i = real; i < items.length; i++) (layers[items[i]!.layer] ??= []).push(i);
    for (let l = 0; l < layers.length; l++) layers[l] ??= [];
    const setOrder = (layer: number[]) => layer.forEach((it, o) => (items[it]!.order = o));
    layers.forEach(setOrder);
    // barycentre sweeps
    const bary = (it: number, side: 'preds' | 'succs') => {
      const ns = items[it]![side];
      if (!ns.length) return items[it]!.order;
      let s = 0;
      for (const p of ns) s += items[p]!.order;
      return s / ns.length;
    };
    for (let sweep = 0; sweep < 2; sweep++) {
      for (let l = 1; l < layers.length; l++) {
        const layer = layers[l]!;
        const bc = new Map(layer.map((it) => [it, bary(it, 'preds')]));
        layer.sort((x, y) => bc.get(x)! - bc.get(y)! || items[x]!.key - items[y]!.key);
        setOrder(layer);
      }
      for (let l = layers.length - 2; l >= 0; l--) {
        const layer = layers[l]!;
        const bc = new Map(layer.map((it) => [it, bary(it, 'succs')]));
        layer.sort((x, y) => bc.get(x)! - bc.get(y)! || items[x]!.key - items[y]!.key);
        setOrder(layer);
      }
    }
    // coordinates: y by layer; x packed, then pulled toward the neighbours' centres
    let y = 0;
    for (const layer of layers) {
      let lh = 0;
      for (const it of layer) lh = Math.max(lh, items[it]!.h);
      for (const it of layer) items[it]!.y = y + (lh - items[it]!.h) / 2;
      y += lh + GAP_Y;
      let x = 0;
      for (const it of layer) {
        items[it]!.x = x + items[it]!.w / 2; // centre
        x += items[it]!.w + GAP_X;
      }
      const shift = (x - GAP_X) / 2;
      for (const it of layer) items[it]!.x -= shift;
    }
    const place = (layer: number[], side: 'preds' | 'succs') => {
      const want = layer.map((it) => {
        const ns = items[it]![side];
        if (!ns.length) return items[it]!.x;
        let s = 0;
        for (const p of ns) s += items[p]!.x;
        return s / ns.length;
      });
      const xs = [...want];
      const gap = (i: number) => (items[layer[i - 1]!]!.w + items[layer[i]!]!.w) / 2 + GAP_X;
      for (let i = 1; i < xs.length; i++) xs[i] = Math.max(xs[i]!, xs[i - 1]! + gap(i));
      for (let i = xs.length - 2; i >= 0; i--) xs[i] = Math.min(xs[i]!, xs[i + 1]! - gap(i + 1));
      // the two passes can only have moved items apart; keep the layer's mean where it wanted to be
      let d = 0;
      for (let i = 0; i < xs.length; i++) d += want[i]! - xs[i]!;
      d /= xs.length || 1;
      layer.forEach((it, i) => (items[it]!.x = xs[i]! + d));
    };
    for (let pass = 0; pass < 3; pass++) {
      for (let l = 1; l < layers.length; l++) place(layers[l]!, 'preds');
      for (let l = layers.length - 2; l >= 0; l--) place(layers[l]!, 'succs');
    }
    let minX = Infinity;
    let maxX = -Infinity;
    for (const it of items) {
      minX = Math.min(minX, it.x - it.w / 2);
      maxX = Math.max(maxX, it.x + it.w / 2);
    }
    if (!items.length) minX = maxX = 0;
    const inset = gi > 0 ? PAD : 0;
    const top = gi > 0 ? HEADER : 0;
    const ox = inset - minX;
    const oy = top + (gi > 0 ? PAD / 2 : 0);
    const boxes: LayoutBox[] = [];
    const depth = gi > 0 ? this.depth(gi) : 0;
    const w = maxX - minX + 2 * inset;
    const h = Math.max(0, y - GAP_Y) + oy + (gi > 0 ? PAD : 0);
    if (gi > 0) boxes.push({ kind: 'group', index: gi, x: 0, y: 0, w, h, open: true, depth: depth });
    const edges: LayoutEdge[] = [];
    for (let i = 0; i < real; i++) {
      const it = items[i]!;
      const bx = it.x - it.w / 2 + ox;
      const by = it.y + oy;
      if (it.kind === 'node') boxes.push({ kind: 'node', index: it.index, x: bx, y: by, w: it.w, h: it.h, depth: depth + 1 });
      else if (it.sub) {
        for (const b of it.sub.boxes) boxes.push({ ...b, x: b.x + bx, y: b.y + by });
        for (const e of it.sub.edges) edges.push({ ...e, points: e.points.map((p, k) => p + (k % 2 ? by : bx)) });
      } else boxes.push({ kind: 'group', index: it.index, x: bx, y: by, w: it.w, h: it.h, open: false, depth: depth + 1 });
    }
    links.forEach((ln, li) => {
      const ch = chains[li]!;
      const pts: number[] = [];
      const a = items[ch[0]!]!;
      pts.push(a.x + ox, a.y + a.h + oy);
      for (let k = 1; k + 1 < ch.length; k++) {
        const d = items[ch[k]!]!;
        pts.push(d.x + ox, d.y + oy);
      }
      const b = items[ch[ch.length - 1]!]!;
      pts.push(b.x + ox, b.y + oy);
      if (ln.rev) {
        const r: number[] = [];
        for (let k = pts.length - 2; k >= 0; k -= 2) r.push(pts[k]!, pts[k + 1]!);
        edges.push({ points: r, edges: ln.pe.edges, count: ln.pe.count });
      } else edges.push({ points: pts, edges: ln.pe.edges, count: ln.pe.count });
    });
    return { w, h, boxes, edges, levels, cached, items: count };
  }

  private depth(gi: number): number {
    let d = 0;
    for (let g = gi; g > 0; g = this.view.groups[g]!.parent) d++;
    return d - 1;
  }

  private subtreeNodes(gi: number): number[] {
    const out: number[] = [];
    const walk = (g: number) => {
      out.push(...this.view.groups[g]!.nodes);
      for (const c of this.view.groups[g]!.groups) walk(c);
    };
    walk(gi);
    return out;
  }
}

/** The groups expanded by default: the root, and while a level holds a single group and almost nothing else, that group too. */
export function defaultExpanded(view: GraphView): number[] {
  const out: number[] = [];
  let g = 0;
  for (;;) {
    const gr = view.groups[g]!;
    const real = gr.nodes.filter((n) => !view.nodes[n]!.io).length;
    if (gr.groups.length === 1 && real <= 3) {
      g = gr.groups[0]!;
      out.push(g);
    } else return out;
  }
}

/** Every group that holds node `n` (innermost last), excluding the root. */
export function ancestors(view: GraphView, n: number): number[] {
  const out: number[] = [];
  for (let g = view.nodes[n]!.group; g > 0; g = view.groups[g]!.parent) out.unshift(g);
  return out;
}

class MinHeap {
  private a: number[] = [];
  constructor(private readonly key: (x: number) => number) {}
  push(x: number): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.key(a[p]!) <= this.key(a[i]!)) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): number | undefined {
    const a = this.a;
    if (!a.length) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.key(a[l]!) < this.key(a[m]!)) m = l;
        if (r < a.length && this.key(a[r]!) < this.key(a[m]!)) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
