import { GraphLayout } from '../../src/core/graph/layout';
import type { GraphView } from '../../src/core/graph/view';
import { GraphViewSchema } from '../../src/core/protocol/graph';
import { packLayout, type FromWorker, type ToWorker } from '../graph/packed';

/**
 * The graph view's layout worker: validates a graph payload (zod, off the UI thread) and lays out
 * its expanded part on request. The UI thread cancels a long layout by terminating this worker.
 */

const layouts = new Map<string, GraphLayout>();
const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as { postMessage(m: unknown, t: Transferable[]): void }).postMessage(m, transfer);

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  try {
    if (m.type === 'init') {
      const t0 = performance.now();
      const r = GraphViewSchema.safeParse(m.view);
      if (!r.success) {
        const issue = r.error.issues[0];
        post({ type: 'invalid', key: m.key, requestId: m.requestId, message: `${issue?.path.join('.') || 'graph'}: ${issue?.message ?? 'invalid'}` });
        return;
      }
      layouts.set(m.key, new GraphLayout(r.data as GraphView));
      post({ type: 'ready', key: m.key, requestId: m.requestId, ms: performance.now() - t0 });
    } else if (m.type === 'layout') {
      const l = layouts.get(m.key);
      if (!l) throw new Error(`no graph '${m.key}' in the layout worker`);
      const out = l.layout(m.expanded, { ...(m.flat ? { flat: true } : {}) })!;
      const packed = packLayout(out);
      post({ type: 'layout', key: m.key, requestId: m.requestId, layout: packed }, [packed.boxes.buffer, packed.edgeStart.buffer, packed.pts.buffer, packed.edgeRefStart.buffer, packed.edgeRefs.buffer, packed.edgeCount.buffer]);
    }
  } catch (e) {
    post({ type: 'failed', key: m.key, requestId: m.requestId, message: e instanceof Error ? e.message : String(e) });
  }
};
