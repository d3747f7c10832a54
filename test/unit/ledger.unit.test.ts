import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GraphModel } from '../../src/core/graph/model';
import { parseHn } from '../../src/core/hailo/hn';
import { readHar } from '../../src/core/hailo/har';
import { computeLedger, compareShapes, MAX_STRUCTURAL_WALK, scopeGroup, type Ledger, type LedgerEntry } from '../../src/core/analysis/ledger';
import { unlinkedChain } from '../fixtures/hailo/chain';
import { ledgerFindings } from '../../src/core/analysis/ledgerFindings';
import { buildPair, generatedOnnx, TOY, variants, writeFixtures } from '../fixtures/hailo/gen';

const FIX = path.resolve(__dirname, '..', 'fixtures', 'hailo');
const read = (f: string) => fs.readFileSync(path.join(FIX, f), 'utf8');

function fixture(id: string): { onnx: GraphModel; hn: GraphModel; parseLog: string; compileLog?: string } {
  const onnx = JSON.parse(read(`${id}.onnx-graph.json`)) as GraphModel;
  const hn = parseHn(read(`${id}.hn`), `${id}.hn`).graph;
  const compileLog = fs.existsSync(path.join(FIX, `${id}.compile.log`)) ? read(`${id}.compile.log`) : undefined;
  return { onnx, hn, parseLog: read(`${id}.parse.log`), ...(compileLog ? { compileLog } : {}) };
}

function entryOf(l: Ledger, onnxNode: string): LedgerEntry {
  const id = l.onnxIndex[onnxNode];
  assert.ok(id, `${onnxNode} is in no entry`);
  return l.entries.find((e) => e.id === id)!;
}

function everythingClassifiedOnce(l: Ledger, onnx: GraphModel, hn: GraphModel): void {
  const seenO = new Map<string, number>();
  const seenH = new Map<string, number>();
  for (const e of l.entries) {
    for (const n of e.onnxNodes) seenO.set(n, (seenO.get(n) ?? 0) + 1);
    for (const h of e.hnLayers) seenH.set(h, (seenH.get(h) ?? 0) + 1);
  }
  for (const n of onnx.nodes) assert.equal(seenO.get(n.id), 1, `ONNX node ${n.id}`);
  for (const h of hn.nodes) assert.equal(seenH.get(h.id), 1, `HN layer ${h.id}`);
  assert.equal(
    l.entries.reduce((a, e) => a + e.onnxNodes.length, 0),
    onnx.nodes.length,
  );
  assert.deepEqual(l.warnings, []);
}

describe('ledger', () => {
  it('the committed synthetic fixtures are what the generator writes (run `npx tsx test/fixtures/hailo/gen.ts`)', async function () {
    this.timeout(60000);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-fix-'));
    try {
      const cat = await writeFixtures(tmp);
      for (const f of fs.readdirSync(tmp)) assert.ok(fs.readFileSync(path.join(tmp, f)).equals(fs.readFileSync(path.join(FIX, f))), `${f} is stale`);
      const committed = JSON.parse(read('catalogue.json'));
      assert.match(committed.note, /SYNTHETIC/);
      assert.equal(committed.fixtures.length, cat.length);
      for (const e of committed.fixtures) {
        assert.equal(e.synthetic, true);
        assert.ok(e.exercises.length > 0);
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  describe('opset 17 toy encoder (LayerNormalization node)', () => {
    const { onnx, hn, parseLog } = fixture('toy-op17');
    const l = computeLedger(onnx, hn, { stage: 'parse', parseLog });

    it('classifies every ONNX node and every HN layer exactly once', () => everythingClassifiedOnce(l, onnx, hn));

    it('records stage and DFC version (from the log)', () => {
      assert.equal(l.stage, 'parse');
      assert.equal(l.dfcVersion, '3.33.0');
    });

    it('LayerNormalization -> normalization plus two reshapes: decomposed', () => {
      const e = entryOf(l, '/blocks.0/attn_ln/LayerNormalization');
      assert.equal(e.kind, 'decomposed');
      assert.deepEqual(e.hnTypes, ['format_conversion', 'normalization', 'format_conversion']);
      assert.match(e.note, /became normalization1 plus 2 reshapes/);
      assert.equal(e.scope, 'blocks.0.attn_ln');
      assert.deepEqual(e.evidence, ['original_names']);
    });

    it('Softmax -> five layers: decomposed', () => {
      const e = entryOf(l, '/blocks.1/attn/Softmax');
      assert.equal(e.kind, 'decomposed');
      assert.deepEqual(
        e.hnLayers.map((h) => h.split('/')[1]),
        ['reduce_max_softmax2', 'ew_sub_softmax2', 'activation2', 'reduce_sum_softmax2', 'ew_mult_softmax2'],
      );
    });

    it('Linear (MatMul + Add) -> one conv: fused; MatMul without bias and Q·K MatMul: kept', () => {
      assert.equal(entryOf(l, '/blocks.0/attn/query/Add').kind, 'fused');
      assert.equal(entryOf(l, '/blocks.0/attn/key/MatMul').kind, 'kept');
      const qk = entryOf(l, '/blocks.0/attn/MatMul');
      assert.equal(qk.kind, 'kept');
      assert.deepEqual(qk.hnTypes, ['matmul']);
    });

    it('Conv1d + GELU -> conv with a (1,3) kernel and gelu activation, with the kernel change noted', () => {
      const e = entryOf(l, '/conv1/Conv');
      assert.equal(e.kind, 'fused');
      assert.ok(e.onnxNodes.includes('/Erf'));
      assert.ok(e.changes.some((c) => c.kind === 'kernel'));
      assert.match(e.note, /activation gelu/);
    });

    it('head Reshape/Transpose and the q scale have no layer: removed (by structure)', () => {
      const e = entryOf(l, '/blocks.0/attn/Reshape');
      assert.equal(e.kind, 'removed');
      assert.deepEqual(e.evidence, ['structural']);
      assert.equal(e.structural, false, 'not a match, so not flagged as one');
      assert.deepEqual(e.onnxOps.sort(), ['Mul', 'Reshape', 'Transpose']);
      assert.equal(entryOf(l, '/Transpose').kind, 'removed');
    });

    it('parser-made layers without ONNX origin: added, pointed at a neighbour', () => {
      const fc1 = l.entries.find((e) => e.hnLayers[0] === 'whisper_toy_op17/format_conversion1')!;
      assert.equal(fc1.kind, 'added');
      assert.ok(fc1.relatedEntry);
      assert.equal(l.entries.find((e) => e.hnLayers[0] === 'whisper_toy_op17/const_input1')!.kind, 'added');
    });

    it('graph input rank 3 -> 4 and channels moved last: layout', () => {
      const e = l.entries.find((x) => x.onnxTensors.includes('mel'))!;
      assert.equal(e.kind, 'layout');
      assert.deepEqual(
        e.changes.map((c) => c.kind),
        ['rank', 'permute'],
      );
      assert.ok(e.changes.every((c) => c.canonical));
    });

    it('counts add up and nothing is host or unmatched', () => {
      assert.equal(l.counts.host, 0);
      assert.equal(l.counts.unmatched, 0);
      assert.equal(
        Object.values(l.counts).reduce((a, b) => a + b, 0),
        l.entries.length,
      );
    });

    it('findings: LayerNorm is a warning with the 8-bit note, kept layers say nothing', () => {
      const f = ledgerFindings(l, { hn: 'toy-op17.hn' });
      const ln = f.filter((x) => x.code === 'RW001');
      assert.equal(ln.length, 5);
      assert.equal(ln[0]!.severity, 'warning');
      assert.match(
        ln[0]!.message,
        /This LayerNormalization became normalization1 plus two reshapes in the parsed HAR \(DFC 3\.33\.0\); its 8-bit behaviour will differ from PyTorch/,
      );
      assert.deepEqual(
        ln[0]!.related!.map((r) => r.node),
        ['whisper_toy_op17/format_conversion2', 'whisper_toy_op17/normalization1', 'whisper_toy_op17/format_conversion3'],
      );
      assert.ok(
        f.every((x) => !x.nodes.includes('/blocks.0/attn/key/MatMul')),
        'kept -> no finding',
      );
      assert.equal(f.filter((x) => x.code === 'RW002').length, 2);
      // the removed q scale (a Mul) is arithmetic: a warning, with where it presumably went
      const mul = f.find((x) => x.code === 'RW005' && x.nodes.includes('/blocks.0/attn/Mul'))!;
      assert.equal(mul.severity, 'warning');
      assert.match(mul.message, /\(Mul included\); presumably folded into matmul1; this was not confirmed by the HN/);
      // layout-only removals are hints
      assert.equal(f.find((x) => x.nodes.includes('/blocks.0/attn/Reshape_2'))!.severity, 'hint');
    });

    it('findings carry the source line from the source map', () => {
      const map = {
        lookup: (n: string) => (n === '/blocks.0/attn_ln/LayerNormalization' ? { file: '/src/model.py', line: 42, module: 'blocks.0.attn_ln' } : undefined),
      };
      const l2 = computeLedger(onnx, hn, { stage: 'parse', parseLog, sourceMap: map });
      const f = ledgerFindings(l2).find((x) => x.nodes.includes('/blocks.0/attn_ln/LayerNormalization'))!;
      assert.deepEqual(f.source, { file: '/src/model.py', line: 42, module: 'blocks.0.attn_ln' });
    });
  });

  describe('opset 13 toy encoder (LayerNorm as nine nodes)', () => {
    const { onnx, hn, parseLog } = fixture('toy-op13');
    const l = computeLedger(onnx, hn, { stage: 'parse', parseLog });
    it('classifies everything once', () => everythingClassifiedOnce(l, onnx, hn));
    it('nine LayerNorm nodes -> one normalization layer: fused, reported as RW001', () => {
      const e = entryOf(l, '/blocks.0/attn_ln/Sqrt');
      assert.equal(e.kind, 'fused');
      assert.equal(e.onnxNodes.length, 9);
      assert.deepEqual(e.hnTypes, ['normalization']);
      const f = ledgerFindings(l).find((x) => x.nodes.includes('/blocks.0/attn_ln/Sqrt'))!;
      assert.equal(f.code, 'RW001');
      assert.equal(f.severity, 'warning');
    });
  });

  it('a Pad merged into the conv: removed, padding merged (not dropped)', () => {
    const { onnx, hn, parseLog } = fixture('toy-op17-pad');
    const l = computeLedger(onnx, hn, { stage: 'parse', parseLog });
    everythingClassifiedOnce(l, onnx, hn);
    const e = entryOf(l, '/pad/Pad');
    assert.equal(e.kind, 'removed');
    assert.deepEqual(
      e.changes.map((c) => [c.kind, c.canonical]),
      [['padding', true]],
    );
    assert.equal(ledgerFindings(l).find((f) => f.nodes.includes('/pad/Pad'))!.severity, 'hint');
  });

  it('padding dropped (conv has VALID padding on the unpadded input): warning', () => {
    const pair = buildPair({ ...TOY, opset: 17, net: 'p', leadingPad: true });
    const conv1 = pair.hn.layers['p/conv1']!;
    (conv1.params as Record<string, unknown>).padding = 'VALID';
    const l = computeLedger(pair.onnx, parseHn(pair.hn, 'p.hn').graph, { stage: 'parse', parseLog: pair.parseLog });
    const e = entryOf(l, '/pad/Pad');
    assert.equal(e.changes[0]!.canonical, false);
    const f = ledgerFindings(l).find((x) => x.nodes.includes('/pad/Pad'))!;
    assert.equal(f.severity, 'warning');
    assert.match(f.message, /padding of \/pad\/Pad was dropped/);
  });

  it('nodes after the parse end node run on the host', () => {
    const { onnx, hn, parseLog } = fixture('toy-op17-host');
    const l = computeLedger(onnx, hn, { stage: 'parse', parseLog });
    everythingClassifiedOnce(l, onnx, hn);
    const e = entryOf(l, '/ln_post/LayerNormalization');
    assert.equal(e.kind, 'host');
    assert.deepEqual(l.hefRegion, { endNodes: ['/blocks.1/Add_1'], startTensors: ['mel'], from: 'parse_log' });
    const f = ledgerFindings(l, { parseLog: 'p.log' }).find((x) => x.code === 'RW008')!;
    assert.equal(f.severity, 'warning');
    assert.equal(f.related!.at(-1)!.file, 'p.log');
    // without a parse log the HN output layers give the same split
    const l2 = computeLedger(onnx, hn, { stage: 'parse' });
    assert.equal(entryOf(l2, '/ln_post/LayerNormalization').kind, 'host');
    assert.equal(l2.hefRegion!.from, 'hn_outputs');
  });

  it('compiled: compiler pieces, generated names, contexts from the auto model script, boundaries', async () => {
    const { onnx, parseLog, compileLog } = fixture('toy-op17-compiled');
    const har = await readHar(path.join(FIX, 'toy-op17-compiled.har'));
    const hn = parseHn(har.hn.text, 'x.har').graph;
    const script = Object.values(har.modelScripts)[0]!;
    const l = computeLedger(onnx, hn, { stage: 'compile', parseLog, compileLog: compileLog!, modelScript: script });
    everythingClassifiedOnce(l, onnx, hn);
    const conv1 = entryOf(l, '/conv1/Conv');
    assert.equal(conv1.kind, 'decomposed');
    assert.deepEqual(
      conv1.compilerLayers.map((p) => [p.name, p.kind]),
      [
        ['conv1_sd0', 'spatial-defuse'],
        ['conv1_sd1', 'spatial-defuse'],
        ['conv1_sdc', 'spatial-defuse'],
      ],
    );
    assert.ok(conv1.compilerLayers.every((p) => p.line && compileLog!.split('\n')[p.line - 1]!.includes(p.name)));
    const input = l.entries.find((e) => e.onnxTensors.includes('mel'))!;
    assert.deepEqual(
      input.compilerLayers.map((p) => p.kind),
      ['auto-reshape'],
    );
    assert.equal(l.contexts!.count, 2);
    assert.equal(l.contexts!.boundaries.length, 1);
    assert.deepEqual(l.contexts!.boundaries[0]!.from, 0);
    assert.deepEqual(l.unattributedCompilerLayers, []);
    assert.deepEqual(entryOf(l, '/blocks.0/attn/MatMul').contexts, [0]);
    assert.deepEqual(entryOf(l, '/ln_post/LayerNormalization').contexts, [1]);
    assert.ok(
      l.entries.filter((e) => e.hnLayers.length).every((e) => e.contexts.length > 0),
      'every layer has a context',
    );
    const f = ledgerFindings(l, { compileLog: 'c.log' }).find((x) => x.code === 'RW003' && x.nodes.includes('/conv1/Conv'))!;
    assert.ok(f.related!.some((r) => r.file === 'c.log' && r.line));
  });

  it('unmatched items are reported, not guessed', () => {
    const pair = buildPair({ ...TOY, opset: 17, net: 'u' });
    // drop the original names of one matmul and rename its type: no link, no compatible structure
    const mm = pair.hn.layers['u/matmul1']!;
    mm.original_names = [];
    mm.type = 'mystery';
    const hn = parseHn(pair.hn, 'u.hn').graph;
    const l = computeLedger(pair.onnx, hn, { stage: 'parse', parseLog: pair.parseLog });
    const h = l.entries.find((e) => e.hnLayers.includes('u/matmul1'))!;
    assert.equal(h.kind, 'unmatched');
    const o = entryOf(l, '/blocks.0/attn/MatMul');
    assert.equal(o.kind, 'unmatched');
    const f = ledgerFindings(l).filter((x) => x.code === 'RW009');
    assert.ok(f.length >= 2 && f.every((x) => x.severity === 'info' && /nothing is assumed/.test(x.message)));
  });

  it('structural fallback matches a layer without original names to the node between the same neighbours, flagged', () => {
    const pair = buildPair({ ...TOY, opset: 17, net: 's' });
    pair.hn.layers['s/matmul1']!.original_names = [];
    const l = computeLedger(pair.onnx, parseHn(pair.hn, 's.hn').graph, { stage: 'parse', parseLog: pair.parseLog });
    const e = entryOf(l, '/blocks.0/attn/MatMul');
    assert.deepEqual(e.hnLayers, ['s/matmul1']);
    assert.equal(e.structural, true);
    assert.deepEqual(e.evidence, ['structural']);
    assert.equal(l.stats.structuralMatches, 1);
    assert.match(e.note, /matched by graph structure only/);
  });

  it('structural fallback on a 10,000-layer chain without original names: bounded walk, every node and layer in one entry', () => {
    const short = unlinkedChain(3);
    const s = computeLedger(short.onnx, short.hn, { stage: 'parse' });
    assert.equal(s.stats.structuralMatches, 1, 'a layer with linked neighbours within the walk is matched');
    everythingClassifiedOnce(s, short.onnx, short.hn);
    const long = unlinkedChain(10_000);
    const l = computeLedger(long.onnx, long.hn, { stage: 'parse' });
    everythingClassifiedOnce(l, long.onnx, long.hn);
    assert.equal(l.stats.structuralMatches, 0, `a neighbour more than ${MAX_STRUCTURAL_WALK} unlinked layers away is no evidence`);
    assert.equal(l.counts.unmatched, 10_001, 'the Relu run and every activation layer are reported unmatched, not guessed');
  });

  it('scope groups for the Rewrites view', () => {
    assert.equal(scopeGroup('blocks.3.attn.query'), 'blocks.3');
    assert.equal(scopeGroup('encoder.layers.11.mlp'), 'encoder.layers.11');
    assert.equal(scopeGroup('ln_post'), 'ln_post');
    assert.equal(scopeGroup('conv1.inner'), 'conv1');
    assert.equal(scopeGroup(''), '');
  });

  it('compareShapes: canonical moves vs real changes', () => {
    assert.deepEqual(
      compareShapes([1, 100, 64], [-1, 1, 100, 64]).map((c) => [c.kind, c.canonical]),
      [['rank', true]],
    );
    assert.deepEqual(
      compareShapes([1, 3, 8, 8], [-1, 8, 8, 3]).map((c) => [c.kind, c.canonical]),
      [['permute', true]],
    );
    assert.deepEqual(
      compareShapes([1, 24, 3024], [-1, 1, 24, 3024]).map((c) => c.kind),
      ['rank'],
    );
    assert.deepEqual(
      compareShapes([1, 3024, 24], [-1, 1, 24, 3024]).map((c) => [c.kind, c.canonical]),
      [
        ['rank', true],
        ['permute', true],
      ],
    );
    assert.deepEqual(
      compareShapes([1, 4, 6, 8], [-1, 8, 4, 6]).map((c) => [c.kind, c.canonical]),
      [['permute', false]],
    );
    assert.deepEqual(
      compareShapes([1, 80, 202], [-1, 1, 200, 80]).map((c) => c.kind),
      ['elements'],
    );
  });

  it('every catalogue variant yields a ledger with no warnings', () => {
    for (const v of variants()) {
      const p = buildPair(v.spec);
      const l = computeLedger(p.onnx, parseHn(p.hn, 'x').graph, { stage: 'parse', parseLog: p.parseLog });
      assert.deepEqual(l.warnings, [], v.id);
    }
  });
});

describe('ledger on the ONNX files of the ONNX fixture generator (openOnnx, shapes inferred)', () => {
  for (const opset of [13, 17] as const) {
    it(`toy encoder at opset ${opset}: everything classified, LayerNorm and Softmax rewrites found, shape chains removed`, async function () {
      this.timeout(60000);
      const { graph } = await generatedOnnx({ size: 'toy', opset, frames: 200 });
      const hn = parseHn(read(`gen-whisper-toy-op${opset}.hn`), 'x.hn').graph;
      const l = computeLedger(graph, hn, { stage: 'parse', parseLog: read(`gen-whisper-toy-op${opset}.parse.log`) });
      everythingClassifiedOnce(l, graph, hn);
      assert.equal(l.counts.unmatched, 0);
      const ln = entryOf(l, opset === 17 ? '/blocks.0/attn_ln/LayerNormalization' : '/blocks.0/attn_ln/ReduceMean');
      assert.equal(ln.kind, opset === 17 ? 'decomposed' : 'fused');
      assert.equal(entryOf(l, '/blocks.1/attn/Softmax').kind, 'decomposed');
      assert.equal(entryOf(l, '/blocks.0/attn/Shape').kind, 'removed');
      const f = ledgerFindings(l);
      assert.equal(f.filter((x) => x.code === 'RW001').length, 5);
    });
  }
});

describe('ledger host split', () => {
  it('a constant chain (Constant -> Cast) feeding a node inside the HEF part is not host', () => {
    const v = (name: string, shape: number[]) => ({ name, shape, dtype: 'float32' });
    const onnx: GraphModel = {
      kind: 'onnx',
      name: 'm',
      inputs: [v('x', [1, 4, 8])],
      outputs: [v('y', [1, 4, 8])],
      values: { x: v('x', [1, 4, 8]), c: v('c', [3]), c2: v('c2', [3]), r: v('r', [1, 4, 8]), y: v('y', [1, 4, 8]), z: v('z', [1, 4, 8]) },
      nodes: [
        { id: '/Constant', op: 'Constant', scope: '', inputs: [], outputs: ['c'], attrs: {} },
        { id: '/Cast', op: 'Cast', scope: '', inputs: ['c'], outputs: ['c2'], attrs: {} },
        { id: '/Reshape', op: 'Reshape', scope: '', inputs: ['x', 'c2'], outputs: ['r'], attrs: {} },
        { id: '/Relu', op: 'Relu', scope: '', inputs: ['r'], outputs: ['y'], attrs: {} },
        { id: '/Sigmoid', op: 'Sigmoid', scope: '', inputs: ['y'], outputs: ['z'], attrs: {} },
      ],
    };
    const hn = parseHn(
      {
        name: 'm',
        layers: {
          'm/input_layer1': { type: 'input_layer', output: ['m/activation1'], output_shapes: [[-1, 1, 4, 8]], original_names: ['x'] },
          'm/activation1': {
            type: 'activation',
            input: ['m/input_layer1'],
            output: ['m/output_layer1'],
            output_shapes: [[-1, 1, 4, 8]],
            original_names: ['/Relu'],
          },
          'm/output_layer1': { type: 'output_layer', input: ['m/activation1'], output_shapes: [[-1, 1, 4, 8]], original_names: ['y'] },
        },
      },
      'm.hn',
    ).graph;
    const l = computeLedger(onnx, hn, { stage: 'parse', parseLog: "[info] End nodes mapped from original model: '/Relu'.\n" });
    assert.equal(entryOf(l, '/Cast').kind, 'removed');
    assert.equal(entryOf(l, '/Reshape').kind, 'removed');
    assert.equal(entryOf(l, '/Sigmoid').kind, 'host');
    assert.equal(entryOf(l, '/Relu').kind, 'kept');
  });
});
