import type { GraphView } from '../../src/core/graph/view';

/**
 * The graph as the UI thread holds it: columns of typed arrays and strings that the layout
 * worker builds from the graph it parsed, so the UI thread never parses or walks the whole
 * graph's JSON. The typed arrays are transferred (no copy); each string column is one string
 * with the end offsets of its entries, so an entry is a substring taken when it is drawn or
 * looked up, and exact whatever characters a name holds.
 */

export interface StringColumn {
  text: string;
  /** Entry i is text.slice(ends[i - 1] ?? 0, ends[i]). */
  ends: Uint32Array;
}

export interface PackedView {
  kind: GraphView['kind'];
  name: string;
  nodeId: StringColumn;
  nodeOp: StringColumn;
  nodeShape: StringColumn;
  nodeGroup: Int32Array;
  /** 1 graph input, 2 graph output, 0 an operator. */
  nodeIo: Uint8Array;
  /** 1 when the node has a Python line. */
  nodeSource: Uint8Array;
  edgeFrom: Uint32Array;
  edgeTo: Uint32Array;
  edgeTensor: StringColumn;
  edgeShape: StringColumn;
  groupId: StringColumn;
  groupLabel: StringColumn;
  groupParent: Int32Array;
  groupSize: Uint32Array;
  groupRepeats: Uint32Array;
  /** -1 when the group is not a later copy of a repeated block. */
  groupRepeatOf: Int32Array;
  /** Children of group g: groupChildren[groupChildStart[g] .. groupChildStart[g + 1]), in view order. */
  groupChildStart: Uint32Array;
  groupChildren: Uint32Array;
  /** Direct nodes of group g, likewise. */
  groupNodeStart: Uint32Array;
  groupNodes: Uint32Array;
}

function column(n: number, get: (i: number) => string): StringColumn {
  const parts = new Array<string>(n);
  const ends = new Uint32Array(n);
  let end = 0;
  for (let i = 0; i < n; i++) {
    // a malformed graph (a field of another type) is withdrawn by the worker's schema check right after
    const s = String(get(i) ?? '');
    parts[i] = s;
    end += s.length;
    ends[i] = end;
  }
  return { text: parts.join(''), ends };
}

function csr(lists: number[][]): { start: Uint32Array; items: Uint32Array } {
  const start = new Uint32Array(lists.length + 1);
  let n = 0;
  lists.forEach((l, i) => {
    start[i] = n;
    n += l.length;
  });
  start[lists.length] = n;
  const items = new Uint32Array(n);
  lists.forEach((l, i) => items.set(l, start[i]!));
  return { start, items };
}

/** Columns of a graph view (in the layout worker). */
export function packView(v: GraphView): PackedView {
  const nn = v.nodes.length;
  const ne = v.edges.length;
  const ng = v.groups.length;
  const nodeGroup = new Int32Array(nn);
  const nodeIo = new Uint8Array(nn);
  const nodeSource = new Uint8Array(nn);
  v.nodes.forEach((n, i) => {
    nodeGroup[i] = n.group;
    nodeIo[i] = n.io === 'input' ? 1 : n.io === 'output' ? 2 : 0;
    nodeSource[i] = n.source ? 1 : 0;
  });
  const edgeFrom = new Uint32Array(ne);
  const edgeTo = new Uint32Array(ne);
  v.edges.forEach((e, i) => {
    edgeFrom[i] = e.from;
    edgeTo[i] = e.to;
  });
  const groupParent = new Int32Array(ng);
  const groupSize = new Uint32Array(ng);
  const groupRepeats = new Uint32Array(ng);
  const groupRepeatOf = new Int32Array(ng);
  v.groups.forEach((g, i) => {
    groupParent[i] = g.parent;
    groupSize[i] = g.size;
    groupRepeats[i] = g.repeats;
    groupRepeatOf[i] = g.repeatOf ?? -1;
  });
  const children = csr(v.groups.map((g) => g.groups));
  const direct = csr(v.groups.map((g) => g.nodes));
  return {
    kind: v.kind,
    name: v.name,
    nodeId: column(nn, (i) => v.nodes[i]!.id),
    nodeOp: column(nn, (i) => v.nodes[i]!.op),
    nodeShape: column(nn, (i) => v.nodes[i]!.shape),
    nodeGroup,
    nodeIo,
    nodeSource,
    edgeFrom,
    edgeTo,
    edgeTensor: column(ne, (i) => v.edges[i]!.tensor),
    edgeShape: column(ne, (i) => v.edges[i]!.shape),
    groupId: column(ng, (i) => v.groups[i]!.id),
    groupLabel: column(ng, (i) => v.groups[i]!.label),
    groupParent,
    groupSize,
    groupRepeats,
    groupRepeatOf,
    groupChildStart: children.start,
    groupChildren: children.items,
    groupNodeStart: direct.start,
    groupNodes: direct.items,
  };
}

/** The buffers of a packed view, to transfer rather than copy. */
export function viewTransfers(p: PackedView): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const v of Object.values(p) as unknown[]) {
    if (ArrayBuffer.isView(v)) out.push(v.buffer as ArrayBuffer);
    else if (v && typeof v === 'object' && 'ends' in v) out.push((v as StringColumn).ends.buffer as ArrayBuffer);
  }
  return out;
}

function entry(c: StringColumn, i: number): string {
  return c.text.slice(i > 0 ? c.ends[i - 1]! : 0, c.ends[i]);
}

/** Read access to a packed view on the UI thread; indexes by id are built on first use. */
export class ViewData {
  readonly nodeCount: number;
  readonly edgeCount: number;
  readonly groupCount: number;
  private ids: Map<string, number> | undefined;
  private groupIds: Map<string, number> | undefined;

  constructor(readonly p: PackedView) {
    this.nodeCount = p.nodeGroup.length;
    this.edgeCount = p.edgeFrom.length;
    this.groupCount = p.groupParent.length;
  }

  get kind(): GraphView['kind'] {
    return this.p.kind;
  }
  nodeId(i: number): string {
    return entry(this.p.nodeId, i);
  }
  nodeOp(i: number): string {
    return entry(this.p.nodeOp, i);
  }
  nodeShape(i: number): string {
    return entry(this.p.nodeShape, i);
  }
  nodeGroup(i: number): number {
    return this.p.nodeGroup[i]!;
  }
  nodeIo(i: number): boolean {
    return this.p.nodeIo[i] !== 0;
  }
  nodeHasSource(i: number): boolean {
    return this.p.nodeSource[i] === 1;
  }
  edgeTensor(e: number): string {
    return entry(this.p.edgeTensor, e);
  }
  edgeShape(e: number): string {
    return entry(this.p.edgeShape, e);
  }
  groupId(g: number): string {
    return entry(this.p.groupId, g);
  }
  groupLabel(g: number): string {
    return entry(this.p.groupLabel, g);
  }
  groupParent(g: number): number {
    return this.p.groupParent[g]!;
  }
  groupSize(g: number): number {
    return this.p.groupSize[g]!;
  }
  groupRepeats(g: number): number {
    return this.p.groupRepeats[g]!;
  }
  /** The first copy of the repeated block `g` is a later copy of, or undefined. */
  groupRepeatOf(g: number): number | undefined {
    const r = this.p.groupRepeatOf[g]!;
    return r < 0 ? undefined : r;
  }
  groupChildren(g: number): Uint32Array {
    return this.p.groupChildren.subarray(this.p.groupChildStart[g], this.p.groupChildStart[g + 1]);
  }
  groupNodes(g: number): Uint32Array {
    return this.p.groupNodes.subarray(this.p.groupNodeStart[g], this.p.groupNodeStart[g + 1]);
  }

  /** Node index by id. */
  nodeIndex(id: string): number | undefined {
    if (!this.ids) {
      const m = new Map<string, number>();
      const c = this.p.nodeId;
      let start = 0;
      for (let i = 0; i < this.nodeCount; i++) {
        const end = c.ends[i]!;
        m.set(c.text.slice(start, end), i);
        start = end;
      }
      this.ids = m;
    }
    return this.ids.get(id);
  }

  groupIndex(id: string): number | undefined {
    if (!this.groupIds) {
      const m = new Map<string, number>();
      for (let g = 0; g < this.groupCount; g++) m.set(this.groupId(g), g);
      this.groupIds = m;
    }
    return this.groupIds.get(id);
  }

  /** Is node `n` inside group `g` (at any depth)? */
  nodeIn(n: number, g: number): boolean {
    for (let x = this.nodeGroup(n); x >= 0; x = this.groupParent(x)) if (x === g) return true;
    return false;
  }

  /** The outermost repeated block holding node `n`, or -1. */
  repeatedAncestor(n: number): number {
    let block = -1;
    for (let g = this.nodeGroup(n); g > 0; g = this.groupParent(g)) if (this.groupRepeats(g) > 1) block = g;
    return block;
  }

  /** The nodes at the same place in each copy of node `n`'s repeated block (itself included), or just `n`. */
  counterparts(n: number): number[] {
    const block = this.repeatedAncestor(n);
    if (block < 0) return [n];
    const head = this.groupRepeatOf(block) ?? block;
    const ordered = (g0: number): number[] => {
      const out: number[] = [];
      const walk = (g: number) => {
        for (const x of this.groupNodes(g)) out.push(x);
        for (const c of this.groupChildren(g)) walk(c);
      };
      walk(g0);
      return out;
    };
    const pos = ordered(block).indexOf(n);
    if (pos < 0) return [n];
    const out: number[] = [];
    for (let g = 0; g < this.groupCount; g++) {
      if (g !== head && this.groupRepeatOf(g) !== head) continue;
      const x = ordered(g)[pos];
      if (x !== undefined) out.push(x);
    }
    return out;
  }
}
