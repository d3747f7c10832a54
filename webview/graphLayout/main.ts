import { GraphLayout, defaultExpanded, type Layout } from '../../src/core/graph/layout';
import type { GraphView } from '../../src/core/graph/view';
import { GraphViewSchema, checkGraphIndexes } from '../../src/core/protocol/graph';
import { packLayout, type FromWorker, type ToWorker } from '../graph/packed';
import { packView, viewTransfers } from '../graph/viewData';

/**
 * The graph view's layout worker: parses a graph (JSON text), checks its indexes, lays out what
 * is open and answers with that layout and the graph as columns (webview/graph/viewData.ts: the
 * UI thread draws and looks up from those, never parsing the graph); then validates every field with zod (off the UI thread) and withdraws the
 * graph if that fails. Later requests lay out the expanded part. The UI thread cancels a long
 * layout by terminating this worker.
 */

const layouts = new Map<string, GraphLayout>();
const post = (m: FromWorker, transfer: Transferable[] = []) =>
  (self as unknown as { postMessage(m: unknown, t: Transferable[]): void }).postMessage(m, transfer);

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  try {
    if (m.type === 'init') {
      const t0 = performance.now();
      layouts.delete(m.key);
      let view: unknown;
      try {
        view = JSON.parse(m.text);
      } catch (e) {
        post({ type: 'invalid', key: m.key, requestId: m.requestId, message: `not JSON (${e instanceof Error ? e.message : String(e)})` });
        return;
      }
      const bad = checkGraphIndexes(view);
      if (bad) {
        post({ type: 'invalid', key: m.key, requestId: m.requestId, message: bad });
        return;
      }
      const v = view as GraphView;
      const l = new GraphLayout(v);
      layouts.set(m.key, l);
      const byId = new Map(v.groups.map((g, i) => [g.id, i]));
      const expanded = m.expanded ? m.expanded.map((id) => byId.get(id)).filter((x): x is number => x !== undefined && x > 0) : defaultExpanded(v);
      const packed = packLayout(l.layout(expanded, { ...(m.flat ? { flat: true } : {}) })!);
      const columns = packView(v);
      post({ type: 'ready', key: m.key, requestId: m.requestId, ms: performance.now() - t0, expanded, layout: packed, view: columns }, [
        ...transfers(packed),
        ...viewTransfers(columns),
      ]);
      // every field, once the first layout is on its way
      setTimeout(() => {
        const r = GraphViewSchema.safeParse(view);
        if (r.success) return;
        layouts.delete(m.key);
        const issue = r.error.issues[0];
        post({ type: 'invalid', key: m.key, requestId: m.requestId, message: `${issue?.path.join('.') || 'graph'}: ${issue?.message ?? 'invalid'}` });
      }, 0);
    } else if (m.type === 'layout') {
      const l = layouts.get(m.key);
      if (!l) throw new Error(`no graph '${m.key}' in the layout worker`);
      const out: Layout = l.layout(m.expanded, { ...(m.flat ? { flat: true } : {}) })!;
      const packed = packLayout(out);
      post({ type: 'layout', key: m.key, requestId: m.requestId, layout: packed }, transfers(packed));
    }
  } catch (e) {
    post({ type: 'failed', key: m.key, requestId: m.requestId, message: e instanceof Error ? e.message : String(e) });
  }
};

function transfers(p: ReturnType<typeof packLayout>): Transferable[] {
  return [p.boxes.buffer, p.edgeStart.buffer, p.pts.buffer, p.edgeRefStart.buffer, p.edgeRefs.buffer, p.edgeCount.buffer];
}
