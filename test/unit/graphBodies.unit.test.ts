// If/Loop bodies kept as nested graphs: the reader keeps them with stable ids and their implicit
// inputs, bounds their nesting, the graph view nests them as groups under their owner with edges
// from the outer values they read, node details find their nodes, and the lint judges the owners.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isHailoError } from '../../src/core/errors';
import { openOnnx } from '../../src/core/onnx';
import { buildGraphView, nodeDetails } from '../../src/core/graph/view';
import { GraphViewSchema } from '../../src/core/protocol/graph';
import { lintOnnxFile } from '../../src/core/analysis/lintFile';
import { summarize } from '../../src/core/summary/summarize';
import { CONTROL_FLOW, controlFlowGraph, writeControlFlow, writeDeepIf } from '../fixtures/onnx/controlFlow';
import { encodeModel } from '../fixtures/onnx/gen';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-bodies-'));
const file = path.join(dir, 'control_flow.onnx');
before(() => writeControlFlow(file));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ONNX reader: If/Loop bodies as nested graphs', () => {
  it('keeps every body, depth first, with ids from the owner, the attribute and the inner name', async () => {
    const m = await openOnnx(file);
    assert.deepEqual(m.graph.nodes.map((n) => n.id).sort(), [...CONTROL_FLOW.mainNodes].sort(), 'the main graph holds the main nodes only');
    const bodies = m.graph.bodies ?? [];
    assert.deepEqual(
      bodies.map((b) => `${b.owner}.${b.attribute}`),
      ['/If.then_branch', '/If.else_branch', '/If/else_branch//else/Loop.body', '/Loop.body'],
    );
    assert.deepEqual(
      bodies[0]!.graph.nodes.map((n) => n.id),
      CONTROL_FLOW.thenNodes,
    );
    assert.deepEqual(
      bodies[1]!.graph.nodes.map((n) => n.id),
      CONTROL_FLOW.elseNodes,
    );
    assert.deepEqual(
      bodies[2]!.graph.nodes.map((n) => n.id),
      CONTROL_FLOW.elseLoopNodes,
    );
    assert.deepEqual(
      bodies[3]!.graph.nodes.map((n) => n.id),
      CONTROL_FLOW.loopNodes,
    );
    // the Loop body's formal inputs are its inputs; its outputs are declared with shapes
    assert.deepEqual(
      bodies[3]!.graph.inputs.map((i) => i.name),
      ['lp_i', 'lp_cond', 'lp_v'],
    );
    assert.deepEqual(bodies[3]!.graph.values['acc_out']?.shape, [1, 4]);
    assert.deepEqual(
      m.subgraphs.map((s) => `${s.node}.${s.attribute}:${s.op}:${s.nodeCount}`),
      ['/If.then_branch:If:2', '/If.else_branch:If:1', '/If/else_branch//else/Loop.body:Loop:2', '/Loop.body:Loop:2'],
    );
    assert.ok(!m.warnings.some((w) => /never produced/.test(w)), m.warnings.join(' | '));
  });

  it('lists the outer values a body reads (implicit inputs), also from two scopes up, and orders the owner after their producers', async () => {
    const m = await openOnnx(file);
    const by = new Map((m.graph.bodies ?? []).map((b) => [`${b.owner}.${b.attribute}`, b.implicitInputs]));
    assert.deepEqual(by.get('/If.then_branch'), ['xs', 'x']);
    // the else branch reads what its Loop's body reads from the main graph (x), plus the Loop's own inputs
    assert.deepEqual(by.get('/If.else_branch'), ['trip', 'yes', 'xs', 'x']);
    assert.deepEqual(by.get('/If/else_branch//else/Loop.body'), ['x']);
    assert.deepEqual(by.get('/Loop.body'), ['xs']);
    const order = m.graph.nodes.map((n) => n.id);
    assert.ok(order.indexOf('/Mul') < order.indexOf('/If'), `the If reads xs in its bodies: ${order.join(', ')}`);
  });

  it('ids do not depend on position: a node added in front of a body leaves the other ids as they were', async () => {
    const g = controlFlowGraph();
    const ifNode = g.node!.find((n) => n.name === '/If')!;
    const then = ifNode.attribute!.find((a) => a.name === 'then_branch')!.g!;
    then.node = [{ opType: 'Identity', input: ['x'], output: ['x_copy'] }, ...then.node!];
    const moved = path.join(dir, 'moved.onnx');
    fs.writeFileSync(moved, encodeModel(g, 13, 8));
    const m = await openOnnx(moved);
    const ids = (m.graph.bodies ?? []).flatMap((b) => b.graph.nodes.map((n) => n.id));
    for (const id of [...CONTROL_FLOW.thenNodes, ...CONTROL_FLOW.elseLoopNodes, ...CONTROL_FLOW.loopNodes]) assert.ok(ids.includes(id), `${id} kept`);
    assert.ok(ids.includes('/If/then_branch/Identity:x_copy'), 'the unnamed newcomer is known by its op and output');
  });

  it('a value read inside a body that nothing produces is a warning naming the owner', async () => {
    const g = controlFlowGraph();
    const loop = g.node!.find((n) => n.name === '/Loop')!;
    loop.attribute![0]!.g!.node![0]!.input = ['lp_v', 'nowhere'];
    const broken = path.join(dir, 'unproduced.onnx');
    fs.writeFileSync(broken, encodeModel(g, 13, 8));
    const m = await openOnnx(broken);
    assert.ok(
      m.warnings.some((w) => w.includes("'nowhere' (read inside the body of /Loop)")),
      m.warnings.join(' | '),
    );
  });

  it('nesting is bounded: 16 levels read, 17 are a clear error naming the file, 2,000 do not overflow the stack', async () => {
    const ok = await openOnnx(writeDeepIf(path.join(dir, 'deep16.onnx'), 16));
    assert.equal(ok.graph.bodies?.length, 32);
    const deepest = Math.max(...ok.graph.bodies!.map((b) => b.owner.split('/then_branch/').length));
    assert.equal(deepest, 16, 'the innermost owner id carries its 15 enclosing owners');
    for (const depth of [17, 2000]) {
      const f = path.join(dir, `deep${depth}.onnx`);
      let bytes: Uint8Array;
      try {
        writeDeepIf(f, depth);
        bytes = fs.readFileSync(f);
      } catch (e) {
        // protobufjs itself cannot encode that deep here: the limit is still checked at 17
        assert.ok(depth > 17, String(e));
        continue;
      }
      assert.ok(bytes.length > 0);
      await assert.rejects(openOnnx(f), (e: unknown) => {
        assert.ok(isHailoError(e), String(e));
        assert.equal(e.code, 'MODEL_INVALID');
        assert.ok(e.message.startsWith(f), e.message);
        assert.match(e.message, /subgraphs nested deeper than 16 levels/);
        return true;
      });
    }
  });

  it('body nodes count toward the node limit: a model over it is a clear error naming the file', async () => {
    // 5 main nodes and 7 in bodies
    assert.equal((await openOnnx(file, { maxNodes: 12 })).graph.nodes.length, 5);
    await assert.rejects(openOnnx(file, { maxNodes: 11 }), (e: unknown) => {
      assert.ok(isHailoError(e), String(e));
      assert.equal(e.code, 'MODEL_INVALID');
      assert.ok(e.message.startsWith(file), e.message);
      assert.match(e.message, /more than 11 nodes in the model/);
      return true;
    });
  });

  it('the generated models are valid ONNX for onnx.checker (full check)', function () {
    const py = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const probe = spawnSync(py, ['-c', 'import onnx'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.log(`      skipped: the Python onnx package is not installed for ${py}`);
      this.skip();
    }
    const deep = writeDeepIf(path.join(dir, 'deep3.onnx'), 3);
    const r = spawnSync(
      py,
      ['-c', 'import onnx, sys\nfor f in sys.argv[1:]: onnx.checker.check_model(onnx.load(f), full_check=True)\nprint("ok")', file, deep],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'ok');
  });
});

describe('graph view: bodies as nested groups', () => {
  it('each body is a group under its owner scope, marked with its owner, kept even with one node; nested bodies nest', async () => {
    const m = await openOnnx(file);
    const v = buildGraphView(m.graph);
    assert.ok(GraphViewSchema.safeParse(JSON.parse(JSON.stringify(v))).success, 'the view is valid for the webview');
    const group = (id: string) => {
      const i = v.groups.findIndex((g) => g.id === id);
      assert.ok(i > 0, `group ${id} in ${v.groups.map((g) => g.id).join(', ')}`);
      return i;
    };
    const thenG = group('If.then_branch');
    const elseG = group('If.else_branch');
    const loopG = group('Loop.body');
    const innerLoopG = group('If.else_branch.Loop.body');
    for (const g of [thenG, elseG, loopG]) assert.equal(v.groups[g]!.parent, 0, 'a top-level owner: its bodies sit at the top');
    assert.equal(v.groups[thenG]!.body, '/If');
    assert.equal(v.groups[loopG]!.body, '/Loop');
    assert.equal(v.groups[innerLoopG]!.body, '/If/else_branch//else/Loop');
    // the inner Loop's body is inside the else branch's group; body nodes sit in their body's group
    // (their own scopes "then", "else/loop" are not under their owner's scope, so they add no level)
    assert.equal(v.groups[innerLoopG]!.parent, elseG);
    assert.deepEqual(
      v.groups[thenG]!.nodes.map((n) => v.nodes[n]!.id),
      CONTROL_FLOW.thenNodes,
    );
    // every body node is in the view, below its body's group
    const under = (node: number, g: number) => {
      for (let x = v.nodes[node]!.group; x >= 0; x = v.groups[x]!.parent) if (x === g) return true;
      return false;
    };
    for (const id of CONTROL_FLOW.thenNodes)
      assert.ok(
        under(
          v.nodes.findIndex((n) => n.id === id),
          thenG,
        ),
        id,
      );
    for (const id of CONTROL_FLOW.loopNodes)
      assert.ok(
        under(
          v.nodes.findIndex((n) => n.id === id),
          loopG,
        ),
        id,
      );
    assert.equal(v.nodes.find((n) => n.id === CONTROL_FLOW.thenNodes[0])!.body, '/If.then_branch');
    // the same model read twice gives the same group and node ids
    const again = buildGraphView((await openOnnx(file)).graph);
    assert.deepEqual(
      again.groups.map((g) => g.id),
      v.groups.map((g) => g.id),
    );
    assert.deepEqual(
      again.nodes.map((n) => n.id),
      v.nodes.map((n) => n.id),
    );
  });

  it("a body node's scope below its owner's nests inside the body; the owner's own path is not repeated", () => {
    const node = (id: string, op: string, scope: string, inputs: string[], outputs: string[]) => ({ id, op, scope, inputs, outputs, attrs: {} });
    const body = {
      kind: 'onnx' as const,
      name: 'then',
      nodes: [
        node('/encoder/If/then_branch//encoder/blocks.0/Add', 'Add', 'encoder.blocks.0', ['x', 'x'], ['t0']),
        node('/encoder/If/then_branch//encoder/blocks.0/Mul', 'Mul', 'encoder.blocks.0', ['t0', 'x'], ['t']),
        node('/encoder/If/then_branch//encoder/Relu', 'Relu', 'encoder', ['t'], ['o']),
      ],
      inputs: [],
      outputs: [{ name: 'o', shape: [1], dtype: 'float32' }],
      values: {},
    };
    const v = buildGraphView({
      kind: 'onnx',
      name: 'g',
      nodes: [node('/encoder/Neg', 'Neg', 'encoder', ['x'], ['c']), node('/encoder/If', 'If', 'encoder', ['c'], ['y'])],
      inputs: [{ name: 'x', shape: [1], dtype: 'float32' }],
      outputs: [{ name: 'y', shape: [1], dtype: 'float32' }],
      values: {},
      bodies: [{ owner: '/encoder/If', attribute: 'then_branch', graph: body, implicitInputs: ['x'] }],
    });
    assert.deepEqual(
      v.groups.map((g) => `${g.id}<${g.parent}`),
      ['<-1', 'encoder<0', 'encoder.If.then_branch<1', 'encoder.If.then_branch.blocks.0<2'],
    );
    const at = (id: string) => v.groups[v.nodes.find((n) => n.id === id)!.group]!.id;
    assert.equal(at('/encoder/If/then_branch//encoder/Relu'), 'encoder.If.then_branch');
    assert.equal(at('/encoder/If/then_branch//encoder/blocks.0/Add'), 'encoder.If.then_branch.blocks.0');
  });

  it('edges: outer values into the body nodes that read them (implicit inputs), body results back to the owner', async () => {
    const v = buildGraphView((await openOnnx(file)).graph);
    const edges = new Set(v.edges.map((e) => `${v.nodes[e.from]!.id} -${e.tensor}-> ${v.nodes[e.to]!.id}`));
    for (const e of [
      '/Mul -xs-> /If/then_branch//then/Add',
      'x -x-> /If/then_branch//then/Add',
      // two scopes up: the main graph's input into the Loop body inside the else branch
      'x -x-> /If/else_branch//else/Loop/body//else/loop/Add',
      '/Mul -xs-> /Loop/body/Add:acc_out',
      '/If/then_branch//then/Relu -then_out-> /If',
      '/If/else_branch//else/Loop -else_out-> /If',
      '/Loop/body/Add:acc_out -acc_out-> /Loop',
      '/If -y-> /Loop',
    ])
      assert.ok(edges.has(e), `${e} in\n${[...edges].join('\n')}`);
    const shape = v.edges.find((e) => e.tensor === 'acc_out')!.shape;
    assert.equal(shape, '1×4', 'a body tensor keeps its declared shape');
  });

  it('node details find a body node, with its body values and the outer values it reads', async () => {
    const m = await openOnnx(file);
    const d = nodeDetails(m.graph, '/Loop/body/Add:acc_out');
    assert.ok(d);
    assert.equal(d.op, 'Add');
    assert.deepEqual(
      d.inputs.map((i) => `${i.name}:${i.shape}`),
      ['lp_v:1×4', 'xs:1×4'],
    );
    assert.deepEqual(
      d.outputs.map((o) => `${o.name}:${o.shape}`),
      ['acc_out:1×4'],
    );
    assert.equal(nodeDetails(m.graph, '/Loop/body/nothing'), undefined);
  });
});

describe('lint and summary on a model with If/Loop', () => {
  it('the owners are rejected (HW004, control flow); rules walk the main graph, so no finding names a body node', async () => {
    const r = await lintOnnxFile(file);
    const hw004 = r.findings.filter((f) => f.code === 'HW004');
    assert.deepEqual(hw004.map((f) => f.nodes.join(',')).sort(), ['/If', '/Loop']);
    assert.ok(hw004.every((f) => f.severity === 'error' && /control flow/.test(f.message)));
    const bodyIds = new Set([...CONTROL_FLOW.thenNodes, ...CONTROL_FLOW.elseNodes, ...CONTROL_FLOW.elseLoopNodes, ...CONTROL_FLOW.loopNodes]);
    for (const f of r.findings) for (const n of f.nodes) assert.ok(!bodyIds.has(n), `${f.code} names body node ${n}`);
  });

  it('the summary lists every body with its node count', async () => {
    const s = await summarize(file);
    const fact = s.summary.facts.find((f) => f.key === 'Subgraphs');
    assert.equal(fact?.value, '/If.then_branch (2 nodes), /If.else_branch (1 nodes), /If/else_branch//else/Loop.body (2 nodes), /Loop.body (2 nodes)');
    assert.equal(s.summary.kind, 'onnx');
  });
});
