import type { Layout } from '../../src/core/graph/layout';
import type { PackedView } from './viewData';

/**
 * A layout as typed arrays, so the worker transfers it to the UI thread without copying and the
 * renderer walks it without allocating. Box i: kind (0 node, 1 closed group, 2 open group),
 * index, x, y, w, h, depth at boxes[i*BOX .. i*BOX+6].
 */
export const BOX = 7;
export const KIND_NODE = 0;
export const KIND_GROUP = 1;
export const KIND_OPEN = 2;

export interface PackedLayout {
  boxes: Float64Array;
  /** Edge e's points are pts[edgeStart[e] .. edgeStart[e+1]) (x, y pairs). */
  edgeStart: Uint32Array;
  pts: Float32Array;
  /** Edge e stands for view edges edgeRefs[edgeRefStart[e] ..) and edgeCount[e] in all. */
  edgeRefStart: Uint32Array;
  edgeRefs: Uint32Array;
  edgeCount: Uint32Array;
  width: number;
  height: number;
  stats: Layout['stats'];
}

export function packLayout(l: Layout): PackedLayout {
  const boxes = new Float64Array(l.boxes.length * BOX);
  l.boxes.forEach((b, i) => {
    boxes.set([b.kind === 'node' ? KIND_NODE : b.open ? KIND_OPEN : KIND_GROUP, b.index, b.x, b.y, b.w, b.h, b.depth], i * BOX);
  });
  let np = 0;
  let nr = 0;
  for (const e of l.edges) {
    np += e.points.length;
    nr += e.edges.length;
  }
  const edgeStart = new Uint32Array(l.edges.length + 1);
  const pts = new Float32Array(np);
  const edgeRefStart = new Uint32Array(l.edges.length + 1);
  const edgeRefs = new Uint32Array(nr);
  const edgeCount = new Uint32Array(l.edges.length);
  let p = 0;
  let r = 0;
  l.edges.forEach((e, i) => {
    edgeStart[i] = p;
    pts.set(e.points, p);
    p += e.points.length;
    edgeRefStart[i] = r;
    edgeRefs.set(e.edges, r);
    r += e.edges.length;
    edgeCount[i] = e.count;
  });
  edgeStart[l.edges.length] = p;
  edgeRefStart[l.edges.length] = r;
  return { boxes, edgeStart, pts, edgeRefStart, edgeRefs, edgeCount, width: l.width, height: l.height, stats: l.stats };
}

/** Messages between the UI thread and the layout worker (internal to the webview). */
export type ToWorker =
  /** A graph (JSON text) and what to lay out first: the groups open before (ids), else the defaults. */
  | { type: 'init'; key: string; requestId: number; text: string; expanded?: string[]; flat?: boolean }
  | { type: 'layout'; key: string; requestId: number; expanded: number[]; flat?: boolean };

export type FromWorker =
  /** The first layout, with the graph as columns (the UI thread never parses the graph itself). */
  | { type: 'ready'; key: string; requestId: number; ms: number; expanded: number[]; layout: PackedLayout; view: PackedView }
  | { type: 'invalid'; key: string; requestId: number; message: string }
  | { type: 'layout'; key: string; requestId: number; layout: PackedLayout }
  | { type: 'failed'; key: string; requestId: number; message: string };
