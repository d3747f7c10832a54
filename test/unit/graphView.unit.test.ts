import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GraphLayout, ancestors, defaultExpanded, type Layout, type LayoutBox } from '../../src/core/graph/layout';
import type { GraphModel } from '../../src/core/graph/model';
import { buildGraphView, counterparts, nodeDetails, scopeSegments, type GraphView } from '../../src/core/graph/view';
import { openOnnx } from '../../src/core/onnx';
import { GraphViewSchema, checkGraphIndexes } from '../../src/core/protocol/graph';
import { WHISPER_SIZES, writeWhisper } from '../fixtures/onnx/gen';

function inside(a: LayoutBox, b: LayoutBox): boolean {
  return a.x >= b.x - 0.01 && a.y >= b.y - 0.01 && a.x + a.w <= b.x + b.w + 0.01 && a.y + a.h <= b.y + b.h + 0.01;
}
function overlap(a: LayoutBox, b: LayoutBox): boolean {
  return a.x < b.x + b.w - 0.01 && b.x < a.x + a.w - 0.01 && a.y < b.y + b.h - 0.01 && b.y < a.y + a.h - 0.01;
}
function group(v: GraphView, id: string): number {
  const i = v.groups.findIndex((g) => g.id === id);
  assert.ok(i > 0, `group ${id} exists`);
  return i;
}

describe('graph view: scopes, edges, repeated blocks', () => {
  let dir: string;
  let g: GraphModel;
  let v: GraphView;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-view-'));
    const w = writeWhisper(path.join(dir, 'toy.onnx'), { ...WHISPER_SIZES.tiny, layers: 4, opset: 13 });
    g = (await openOnnx(w.file)).graph;
    v = buildGraphView(g, { source: (id) => (id === '/conv1/Conv' ? { file: '/src/enc.py', line: 12, module: 'conv1' } : undefined) });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('splits dotted scopes keeping indexes on their names', () => {
    assert.deepEqual(scopeSegments('blocks.3.attn.query'), ['blocks.3', 'attn', 'query']);
    assert.deepEqual(scopeSegments('blocks.0.mlp.mlp.1'), ['blocks.0', 'mlp', 'mlp.1']);
    assert.deepEqual(scopeSegments(''), []);
  });

  it('has every node once, graph inputs and outputs as terminals, and one edge per producer-consumer tensor', () => {
    assert.equal(v.nodes.length, g.nodes.length + g.inputs.length + g.outputs.length);
    assert.equal(v.nodes[0]!.io, 'input');
    assert.equal(v.nodes.at(-1)!.io, 'output');
    const produced = new Set(g.nodes.flatMap((n) => n.outputs).concat(g.inputs.map((i) => i.name)));
    let expected = g.outputs.length;
    for (const n of g.nodes) expected += new Set(n.inputs.filter((i) => i && produced.has(i))).size;
    assert.equal(v.edges.length, expected);
    const conv = v.nodes.findIndex((n) => n.id === '/conv1/Conv');
    assert.ok(v.edges.some((e) => e.from === 0 && e.to === conv && e.tensor === 'mel' && e.shape === '1×80×3000'));
    assert.deepEqual(v.nodes[conv]!.source, { file: '/src/enc.py', line: 12, module: 'conv1' });
    assert.equal(v.nodes[conv]!.shape, '1×384×3000');
  });

  it('groups by module scope: the four blocks at the top, one-node scopes drawn as their node', () => {
    const top = v.groups[0]!.groups.map((c) => v.groups[c]!.id);
    for (let i = 0; i < 4; i++) assert.ok(top.includes(`blocks.${i}`), `blocks.${i} at the top: ${top.join(', ')}`);
    // conv1 holds a single Conv: no group of its own
    assert.equal(
      v.groups.some((x) => x.id === 'conv1'),
      false,
    );
    assert.equal(v.nodes.find((n) => n.id === '/conv1/Conv')!.group, 0);
    const b0 = v.groups[group(v, 'blocks.0')]!;
    assert.equal(b0.size, v.nodes.filter((n) => n.id.startsWith('/blocks.0/')).length);
    assert.deepEqual(b0.groups.map((c) => v.groups[c]!.label).sort(), ['attn', 'attn_ln', 'mlp', 'mlp_ln']);
  });

  it('recognises the repeated blocks and maps a node to its counterparts in each', () => {
    const ids = [0, 1, 2, 3].map((i) => group(v, `blocks.${i}`));
    assert.deepEqual(
      ids.map((i) => v.groups[i]!.repeats),
      [4, 4, 4, 4],
    );
    assert.equal(v.groups[ids[0]!]!.repeatOf, undefined);
    assert.deepEqual(
      ids.slice(1).map((i) => v.groups[i]!.repeatOf),
      [ids[0], ids[0], ids[0]],
    );
    const soft = v.nodes.findIndex((n) => n.id === '/blocks.2/attn/Softmax');
    const all = counterparts(v, soft).map((n) => v.nodes[n]!.id);
    assert.deepEqual(
      all,
      [0, 1, 2, 3].map((i) => `/blocks.${i}/attn/Softmax`),
    );
    assert.deepEqual(counterparts(v, 0), [0]);
  });

  it('is valid for the protocol schema, which rejects a broken one', () => {
    assert.ok(GraphViewSchema.safeParse(v).success);
    const bad = { ...v, edges: [...v.edges, { from: 0, to: v.nodes.length + 5, tensor: 'x', shape: '' }] };
    const r = GraphViewSchema.safeParse(bad);
    assert.equal(r.success, false);
    assert.match(r.error!.issues[0]!.message, /edge points past/);
    const cyclic = { ...v, groups: v.groups.map((x, i) => (i === 1 ? { ...x, parent: 5 } : x)) };
    assert.equal(GraphViewSchema.safeParse(cyclic).success, false);
  });

  it('the index check before the first layout passes the view and names what is broken', () => {
    assert.equal(checkGraphIndexes(v), undefined);
    assert.match(checkGraphIndexes({ ...v, edges: [{ from: 0, to: -1, tensor: 'x', shape: '' }] })!, /edge points past/);
    assert.match(checkGraphIndexes({ ...v, nodes: [...v.nodes, { ...v.nodes[0]!, group: v.groups.length }] })!, /node points past/);
    assert.match(checkGraphIndexes({ ...v, groups: v.groups.map((x, i) => (i === 2 ? { ...x, parent: 7 } : x)) })!, /group tree/);
    assert.match(checkGraphIndexes({ ...v, groups: v.groups.map((x, i) => (i === 0 ? { ...x, groups: [0] } : x)) })!, /group tree/);
    assert.match(checkGraphIndexes(null)!, /required/);
    assert.match(checkGraphIndexes({ nodes: [], edges: [], groups: [] })!, /required/);
  });

  it('details: attributes, input tensors with weight sizes, source line and scope', () => {
    const d = nodeDetails(g, '/conv1/Conv', (id) => (id === '/conv1/Conv' ? { file: '/src/enc.py', line: 12 } : undefined))!;
    assert.equal(d.op, 'Conv');
    assert.equal(d.scope, 'conv1');
    assert.deepEqual(d.source, { file: '/src/enc.py', line: 12 });
    assert.deepEqual(
      d.attrs.find((a) => a.name === 'strides'),
      { name: 'strides', value: '[1]' },
    );
    const w = d.inputs.find((i) => i.name === 'conv1.weight')!;
    assert.deepEqual(w, { name: 'conv1.weight', shape: '384×80×3', dtype: 'float32', initializer: true, bytes: 384 * 80 * 3 * 4 });
    assert.equal(d.inputs[0]!.initializer, false);
    assert.equal(nodeDetails(g, 'no such node'), undefined);
    assert.equal(nodeDetails(g, 'mel')!.op, 'Input');
  });
});

describe('graph layout: the expanded part, one level at a time', () => {
  let dir: string;
  let v: GraphView;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-layout-'));
    const w = writeWhisper(path.join(dir, 'small.onnx'), { ...WHISPER_SIZES.small, opset: 13 });
    v = buildGraphView((await openOnnx(w.file)).graph);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const check = (l: Layout) => {
    const closed = l.boxes.filter((b) => !b.open);
    const open = l.boxes.filter((b) => b.open);
    // a box lies inside the open box of its group and overlaps no other closed box
    for (const b of closed) {
      const gi = b.kind === 'node' ? v.nodes[b.index]!.group : v.groups[b.index]!.parent;
      if (gi > 0 && open.length)
        assert.ok(
          inside(
            b,
            open.find((o) => o.index === gi)!,
          ),
          `box inside its group ${v.groups[gi]!.id}`,
        );
    }
    const sorted = [...closed].sort((a, b) => a.y - b.y);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length && sorted[j]!.y < sorted[i]!.y + sorted[i]!.h; j++)
        assert.ok(!overlap(sorted[i]!, sorted[j]!), 'boxes do not overlap');
    }
    for (const e of l.edges) assert.ok(e.points.length >= 4 && e.count >= e.edges.length && e.edges.length > 0);
  };

  it('collapsed by default: the front end and 12 closed blocks', () => {
    assert.deepEqual(defaultExpanded(v), []);
    const l = new GraphLayout(v).layout([])!;
    const blocks = l.boxes.filter((b) => b.kind === 'group' && /^blocks\.\d+$/.test(v.groups[b.index]!.id));
    assert.equal(blocks.length, 12);
    assert.ok(blocks.every((b) => !b.open));
    assert.ok(l.boxes.length < 60, `${l.boxes.length} boxes`);
    // blocks follow each other down the page, in order
    for (let i = 1; i < 12; i++)
      assert.ok(blocks.find((b) => v.groups[b.index]!.id === `blocks.${i}`)!.y > blocks.find((b) => v.groups[b.index]!.id === `blocks.${i - 1}`)!.y);
    check(l);
  });

  it('expanding a block lays out that block and the top again; the rest comes from the cache', () => {
    const L = new GraphLayout(v);
    L.layout([]);
    const b3 = group(v, 'blocks.3');
    const attn = group(v, 'blocks.3.attn');
    const l = L.layout([b3, attn])!;
    assert.equal(l.stats.levels, 3);
    const inBlock = l.boxes.filter((b) => b.kind === 'node' && ancestors(v, b.index).includes(b3));
    assert.ok(inBlock.length > 30, `${inBlock.length} nodes of blocks.3 drawn`);
    check(l);
    const again = L.layout([b3])!;
    const back = L.layout([b3, attn])!;
    assert.equal(back.stats.cached >= 1, true);
    assert.equal(back.stats.levels, 0);
    assert.deepEqual(back.boxes, l.boxes);
    assert.ok(again.boxes.length < l.boxes.length);
  });

  it('a flat layout draws every node in one level, edges from producer to consumer', () => {
    const l = new GraphLayout(v).layout([], { flat: true })!;
    assert.equal(l.boxes.length, v.nodes.length);
    assert.equal(
      l.boxes.every((b) => b.kind === 'node'),
      true,
    );
    check(l);
    const at = new Map(l.boxes.map((b) => [b.index, b]));
    for (const e of l.edges) {
      const ve = v.edges[e.edges[0]!]!;
      const a = at.get(ve.from)!;
      const b = at.get(ve.to)!;
      assert.ok(Math.abs(e.points[1]! - (a.y + a.h)) < 0.01 && Math.abs(e.points.at(-1)! - b.y) < 0.01, 'edge from the producer bottom to the consumer top');
      assert.ok(b.y > a.y, 'consumers below producers');
    }
  });

  it('stops between levels when asked', () => {
    let polls = 0;
    const r = new GraphLayout(v).layout(
      v.groups.map((_, i) => i),
      { shouldStop: () => ++polls > 3 },
    );
    assert.equal(r, undefined);
  });
});
