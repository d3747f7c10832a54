import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildGraphView, counterparts, type GraphView } from '../../src/core/graph/view';
import { openOnnx } from '../../src/core/onnx';
import { ViewData, packView, viewTransfers } from '../../webview/graph/viewData';
import { WHISPER_SIZES, writeWhisper } from '../fixtures/onnx/gen';

// The graph as the webview's UI thread holds it: columns the layout worker makes of the graph view.
describe('graph view columns (what the UI thread reads instead of the graph JSON)', () => {
  let dir: string;
  let v: GraphView;
  let d: ViewData;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-columns-'));
    const w = writeWhisper(path.join(dir, 'toy.onnx'), { ...WHISPER_SIZES.tiny, layers: 3, opset: 13 });
    const g = (await openOnnx(w.file)).graph;
    v = buildGraphView(g, { source: (id) => (id === '/conv1/Conv' ? { file: '/src/enc.py', line: 12 } : undefined) });
    // through a structured clone with its buffers transferred, as the worker posts it
    const p = packView(v);
    d = new ViewData(structuredClone(p, { transfer: viewTransfers(p) }));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives back every node, edge and group field the view has', () => {
    assert.equal(d.nodeCount, v.nodes.length);
    assert.equal(d.edgeCount, v.edges.length);
    assert.equal(d.groupCount, v.groups.length);
    v.nodes.forEach((n, i) => {
      assert.equal(d.nodeId(i), n.id);
      assert.equal(d.nodeOp(i), n.op);
      assert.equal(d.nodeShape(i), n.shape);
      assert.equal(d.nodeGroup(i), n.group);
      assert.equal(d.nodeIo(i), !!n.io);
      assert.equal(d.nodeHasSource(i), !!n.source);
      assert.equal(d.nodeIndex(n.id), i);
    });
    v.edges.forEach((e, i) => {
      assert.equal(d.edgeTensor(i), e.tensor);
      assert.equal(d.edgeShape(i), e.shape);
    });
    v.groups.forEach((g, i) => {
      assert.equal(d.groupId(i), g.id);
      assert.equal(d.groupLabel(i), g.label);
      assert.equal(d.groupParent(i), g.parent);
      assert.equal(d.groupSize(i), g.size);
      assert.equal(d.groupRepeats(i), g.repeats);
      assert.equal(d.groupRepeatOf(i), g.repeatOf);
      assert.deepEqual([...d.groupChildren(i)], g.groups);
      assert.deepEqual([...d.groupNodes(i)], g.nodes);
      assert.equal(d.groupIndex(g.id), i);
    });
    assert.equal(d.nodeHasSource(d.nodeIndex('/conv1/Conv')!), true);
    assert.equal(d.nodeIndex('no such node'), undefined);
  });

  it('keeps names exact whatever characters they hold (no separator to collide with)', () => {
    const odd: GraphView = {
      kind: 'onnx',
      name: 'odd',
      nodes: [
        { id: 'a\nb\u0000c', op: 'Relu', shape: '', group: 0 },
        { id: '', op: 'Add', shape: '1×2', group: 0 },
        { id: 'ü/😀', op: '', shape: 'x', group: 0 },
      ],
      edges: [{ from: 0, to: 2, tensor: 't,\n', shape: '' }],
      groups: [{ id: '', label: 'odd', parent: -1, groups: [], nodes: [0, 1, 2], size: 3, repeats: 1 }],
    };
    const o = new ViewData(packView(odd));
    assert.deepEqual(
      [0, 1, 2].map((i) => o.nodeId(i)),
      ['a\nb\u0000c', '', 'ü/😀'],
    );
    assert.deepEqual(
      [0, 1, 2].map((i) => o.nodeOp(i)),
      ['Relu', 'Add', ''],
    );
    assert.equal(o.edgeTensor(0), 't,\n');
    assert.equal(o.nodeIndex('ü/😀'), 2);
  });

  it('finds the counterparts of a node in each repeated block as the view does', () => {
    const soft = v.nodes.findIndex((n) => n.id === '/blocks.1/attn/Softmax');
    assert.ok(soft > 0);
    assert.deepEqual(d.counterparts(soft), counterparts(v, soft));
    assert.equal(d.counterparts(soft).length, 3);
    assert.deepEqual(d.counterparts(0), [0]);
    const b1 = v.groups.findIndex((g) => g.id === 'blocks.1');
    assert.equal(d.repeatedAncestor(soft), b1);
    assert.equal(d.nodeIn(soft, b1), true);
    assert.equal(
      d.nodeIn(
        soft,
        v.groups.findIndex((g) => g.id === 'blocks.0'),
      ),
      false,
    );
  });
});
