import { strict as assert } from 'node:assert';
import { lintModel, RULES, type LintOptions } from '../../src/core/analysis/lint';
import type { Finding } from '../../src/core/finding';
import { estimateMemory } from '../../src/core/hailo/memory';
import { GraphBuilder, toyEncoder } from './lintGraphs';

const opts: LintOptions = { hwArch: 'hailo8l' };
const codes = (f: Finding[]) => [...new Set(f.map((x) => x.code))].sort();
const only = (f: Finding[], code: string) => f.filter((x) => x.code === code);

/** A one-conv model that is clean for every rule except the memory estimate. */
function cleanConv(): GraphBuilder {
  const b = new GraphBuilder();
  b.input('x', [1, 3, 32, 32]);
  const c = b.node(
    'Conv',
    ['x', b.init('w', [8, 3, 3, 3]), b.init('b', [8])],
    [1, 8, 32, 32],
    { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
    '/backbone/conv1/Conv',
  );
  const r = b.node('Relu', [c], [1, 8, 32, 32], {}, '/backbone/act/Relu');
  b.output(r);
  return b;
}

describe('lint: rule catalogue', () => {
  it('codes are unique and well-formed', () => {
    const seen = new Set<string>();
    for (const r of RULES) {
      assert.match(r.code, /^HW\d{3}$/);
      assert.ok(!seen.has(r.code), r.code);
      seen.add(r.code);
    }
  });
});

describe('lint: clean model', () => {
  it('a plain static conv net has only the memory estimate', () => {
    const f = lintModel(cleanConv().model(), opts);
    assert.deepEqual(codes(f), ['HW030']);
    assert.match(f[0]!.message, /^Estimate/);
    assert.match(f[0]!.message, /single-context/);
  });
});

describe('lint: an NPU-friendly encoder', () => {
  it('(1, k) Conv2d on [1, C, 1, T], depthwise convs, BatchNorm, ReLU and residual adds: only the estimate', () => {
    const b = new GraphBuilder();
    const C = 64;
    const T = 1500;
    b.input('mel', [1, 80, 1, 3000]);
    let x = b.node(
      'Conv',
      ['mel', b.init('stem.w', [C, 80, 1, 3]), b.init('stem.b', [C])],
      [1, C, 1, T],
      { kernel_shape: [1, 3], pads: [0, 1, 0, 1], strides: [1, 2] },
      '/stem/Conv',
    );
    for (let i = 0; i < 6; i++) {
      const p = `/blocks.${i}`;
      const dw = b.node('Conv', [x, b.init(`${p}.dw`, [C, 1, 1, 5])], [1, C, 1, T], { kernel_shape: [1, 5], pads: [0, 2, 0, 2], group: C }, `${p}/dw/Conv`);
      const bn = b.node(
        'BatchNormalization',
        [dw, b.init(`${p}.g`, [C]), b.init(`${p}.be`, [C]), b.init(`${p}.m`, [C]), b.init(`${p}.v`, [C])],
        [1, C, 1, T],
        {},
        `${p}/bn/BatchNormalization`,
      );
      const r = b.node('Relu', [bn], [1, C, 1, T], {}, `${p}/act/Relu`);
      const pw = b.node('Conv', [r, b.init(`${p}.pw`, [C, C, 1, 1])], [1, C, 1, T], { kernel_shape: [1, 1] }, `${p}/pw/Conv`);
      x = b.node('Add', [x, pw], [1, C, 1, T], {}, `${p}/Add`);
    }
    b.output(x);
    const f = lintModel(b.model(), {
      hwArch: 'hailo8l',
      expected: { inputs: [{ name: 'mel', shape: [1, 80, 1, 3000] }], outputs: [{ name: x, shape: [1, C, 1, T] }] },
    });
    assert.deepEqual(codes(f), ['HW030'], f.map((x) => `${x.code} ${x.message}`).join('\n'));
    assert.match(f[0]!.message, /Forecast: single-context/);
  });
});

describe('lint: robustness', () => {
  it('a 30,000-node chain (deeper than any call stack) lints without recursion trouble', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 8]);
    let v = 'x';
    for (let i = 0; i < 30_000; i++) v = b.node(i % 2 ? 'Relu' : 'Add', i % 2 ? [v] : [v, b.init(`c${i}`, [8])], [1, 8]);
    b.output(v);
    const f = lintModel(b.model(), opts);
    assert.deepEqual(codes(f), ['HW030']);
  });
  it('a constant-only subgraph deep in the model is not mistaken for activations', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 4, 8]);
    let c = b.node('Constant', [], [4, 8], { value: [] }, '/k/Constant');
    for (let i = 0; i < 50; i++) c = b.node('Mul', [c, b.init(`s${i}`, [])], [4, 8], {}, `/k/Mul_${i}`);
    const t = b.node('Transpose', [c], [8, 4], { perm: [1, 0] }, '/k/Transpose');
    const m = b.node('MatMul', ['x', t], [1, 4, 4], {}, '/k/MatMul');
    b.output(m);
    const f = lintModel(b.model(), opts);
    assert.equal(only(f, 'HW013').length, 0, 'MatMul with a folded constant operand');
    assert.equal(only(f, 'HW014').length, 0, 'a Transpose of a constant folds');
  });
});

describe('lint: HW001 dynamic dims, HW002 batch', () => {
  it('reports symbolic input and output dims', () => {
    const b = new GraphBuilder();
    b.input('x', ['batch', 3, 'h', 32]);
    const r = b.node('Relu', ['x'], ['batch', 3, 'h', 32]);
    b.output(r);
    const f = only(lintModel(b.model(), opts), 'HW001');
    assert.equal(f.length, 2);
    assert.equal(f[0]!.severity, 'error');
    assert.match(f[0]!.message, /axis 0 = "batch", axis 2 = "h"/);
    assert.match(f[0]!.fix!, /remove "dynamicAxes"/);
    assert.doesNotMatch(f.map((x) => `${x.message} ${x.fix}`).join(' '), /--tensor-shapes/, 'the extension never passes --tensor-shapes');
    assert.deepEqual(f[0]!.nodes, ['/Relu_0']);
  });
  it('reports unknown input shapes', () => {
    const b = new GraphBuilder();
    b.input('x', undefined);
    b.output(b.node('Relu', ['x']));
    assert.ok(only(lintModel(b.model(), opts), 'HW001').some((x) => /no known shape/.test(x.message)));
  });
  it('batch 4 is an error; batch 1 is not', () => {
    const b = new GraphBuilder();
    b.input('x', [4, 3, 8, 8]);
    b.output(b.node('Relu', ['x'], [4, 3, 8, 8]));
    const f = only(lintModel(b.model(), opts), 'HW002');
    assert.equal(f.length, 1);
    assert.match(f[0]!.message, /batch size 4/);
    assert.equal(only(lintModel(cleanConv().model(), opts), 'HW002').length, 0);
  });
});

describe('lint: HW003 rank > 4', () => {
  it('flags 5-D activations, not 5-D weights', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 64, 1500]);
    const r = b.node('Reshape', ['x', b.init('s', [5])], [1, 4, 16, 1500, 1], {}, '/enc/Reshape');
    b.output(b.node('Relu', [r], [1, 4, 16, 1500, 1], {}, '/enc/Relu'));
    const f = only(lintModel(b.model(), opts), 'HW003');
    assert.deepEqual(
      f
        .map((x) => x.nodes)
        .flat()
        .sort(),
      ['/enc/Relu', '/enc/Reshape'],
    );
    assert.equal(only(lintModel(cleanConv().model(), opts), 'HW003').length, 0);
  });
});

describe('lint: HW004/HW005 operators', () => {
  it('rejected ops name the parser error class; grouped per op', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 10]);
    const t = b.node('TopK', ['x', b.init('k', [1])], [1, 3], {}, '/head/TopK');
    const g = b.node('GatherElements', ['x', 'x'], [1, 10], {}, '/head/GatherElements');
    const l = b.node('LSTM', ['x'], [1, 10], {}, '/rnn/LSTM');
    b.output(t).output(g).output(l);
    const f = only(lintModel(b.model(), opts), 'HW004');
    assert.equal(f.length, 3);
    assert.ok(f.some((x) => /UnsupportedOperationError: TopK operation is unsupported/.test(x.message)));
    assert.ok(f.some((x) => /UnsupportedLSTMLayerError/.test(x.message)));
  });
  it('custom domains are errors; unknown ai.onnx ops are uncertain warnings', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 8]);
    const c = b.node('FusedThing', ['x'], [1, 8], {}, '/a/FusedThing', 'com.example');
    const s = b.node('Softplus', [c], [1, 8], {}, '/a/Softplus');
    b.output(s);
    b.domains = ['com.example'];
    const f = lintModel(b.model(), opts);
    assert.ok(only(f, 'HW004').some((x) => /domain "com\.example"/.test(x.message)));
    const w = only(f, 'HW005');
    assert.equal(w.length, 1);
    assert.equal(w[0]!.severity, 'warning');
    assert.match(w[0]!.message, /Softplus.*Uncertain/);
    assert.ok(only(f, 'HW007').some((x) => x.severity === 'error'));
  });
  it('supported ops are silent', () => {
    assert.equal(lintModel(cleanConv().model(), opts).filter((x) => x.code === 'HW004' || x.code === 'HW005').length, 0);
  });
});

describe('lint: HW006 shape-driven, HW007 opset', () => {
  it('Shape -> Reshape chains are reported', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 8, 4]);
    const s = b.node('Shape', ['x'], [3], {}, '/Shape');
    const g = b.node('Gather', [s, b.init('i', [])], [], { axis: 0 }, '/Gather');
    const u = b.node('Unsqueeze', [g, b.init('ax', [1])], [1], {}, '/Unsqueeze');
    const c = b.node('Concat', [u, b.init('rest', [1])], [2], { axis: 0 }, '/Concat');
    const r = b.node('Reshape', ['x', c], [1, 32], {}, '/Reshape');
    b.output(r);
    const f = only(lintModel(b.model(), opts), 'HW006');
    assert.ok(f.some((x) => x.nodes.includes('/Shape')));
    // the Shape of a static tensor folds: the Reshape's shape input is constant, so no Reshape finding
    assert.ok(!f.some((x) => x.nodes.includes('/Reshape')));
  });
  it('opset 9 and 18 warn; 13 and 17 do not', () => {
    for (const [v, n] of [
      [9, 1],
      [13, 0],
      [17, 0],
      [18, 1],
    ] as const) {
      const b = cleanConv();
      b.opset = v;
      assert.equal(only(lintModel(b.model(), opts), 'HW007').length, n, `opset ${v}`);
    }
  });
});

describe('lint: transformer rules on a Whisper-style encoder', () => {
  const enc = toyEncoder({ blocks: 12, steps: 1500, width: 64 });
  const f = lintModel(enc.model(), opts);

  it('aggregates 12 blocks into one finding per rule and scope pattern', () => {
    const sm = only(f, 'HW012');
    assert.equal(sm.length, 1);
    assert.match(sm[0]!.message, /12 Softmax nodes in 12 blocks \(blocks\.\*\.attn\)/);
    assert.equal(sm[0]!.nodes.length, 12);
    const mm = only(f, 'HW013');
    assert.equal(mm.length, 1);
    assert.equal(mm[0]!.nodes.length, 24, 'Q·Kᵀ and attention·V in each block; constant-weight MatMuls are not reported');
    assert.ok(f.length < 30, `${f.length} findings`);
  });

  it('LayerNormalization: native op is HW010 info with the .alls recipe', () => {
    const ln = only(f, 'HW010');
    assert.ok(ln.length >= 1);
    assert.ok(ln.every((x) => x.severity === 'info'));
    assert.match(ln[0]!.fix!, /layer_norm_decomposition/);
    assert.equal(only(f, 'HW011').length, 0);
  });

  it('the front-end transpose is HW014 but the attention head split/merge is not; the Conv1d front end is HW019; Erf GELU is an HW017 note', () => {
    const t = only(f, 'HW014');
    assert.deepEqual(
      t.flatMap((x) => x.nodes),
      ['/Transpose'],
      t.map((x) => x.message).join('\n'),
    );
    const c1 = only(f, 'HW019');
    assert.equal(c1.length, 2);
    assert.match(c1[0]!.fix!, /kernel_size=\(1, k\)/);
    const g = only(f, 'HW017');
    assert.ok(g.every((x) => x.severity === 'info'));
    assert.ok(g.some((x) => /in 12 blocks/.test(x.message)));
    assert.ok(
      g.every((x) => !x.fix && !/rather than a hand-written/.test(x.message)),
      'the erf form is how torch exports nn.GELU: nothing to change',
    );
  });

  it('no false positives: no broadcast, reduction, gather, pad, rank or dynamic findings', () => {
    for (const c of ['HW001', 'HW002', 'HW003', 'HW004', 'HW005', 'HW006', 'HW015', 'HW016', 'HW018', 'HW020']) {
      assert.equal(
        only(f, c).length,
        0,
        `${c}: ${only(f, c)
          .map((x) => x.message)
          .join(' | ')}`,
      );
    }
  });

  it('written-out LayerNorm is an HW011 note and its pieces are not reported again', () => {
    const d = lintModel(toyEncoder({ blocks: 3, layerNorm: 'decomposed' }).model(), opts);
    const h = only(d, 'HW011');
    assert.equal(h.length, 2, 'one per scope pattern: attn_ln and mlp_ln');
    assert.ok(
      h.every((x) => /3 LayerNorms written out as .*in 3 blocks/.test(x.message) && x.severity === 'info'),
      h.map((x) => x.message).join('\n'),
    );
    assert.match(h[0]!.fix!, /nn\.LayerNorm/);
    assert.ok(h[0]!.nodes.some((n) => n.endsWith('/Sqrt')));
    assert.equal(only(d, 'HW015').length, 0, 'the Sub/Div broadcasts belong to the pattern');
    assert.equal(only(d, 'HW016').length, 0, 'ReduceMean over the channel axis');
  });

  // Its speed is measured by `npm run bench` (test/bench/onnx.bench.ts), not here.
  it('a 12-block whisper-small-sized graph gets the findings of a 3-block one: grouped per pattern, not one per block', () => {
    const count = (blocks: number) => {
      const c = new Map<string, number>();
      for (const f of lintModel(toyEncoder({ blocks, width: 768, heads: 12 }).model(), opts)) c.set(f.code, (c.get(f.code) ?? 0) + 1);
      return [...c].sort(([a], [b]) => a.localeCompare(b));
    };
    const small = count(3);
    assert.ok(small.length > 3, JSON.stringify(small));
    assert.deepEqual(count(12), small);
  });
});

describe('lint: HW012 softmax axis, HW015 broadcast, HW016 reductions', () => {
  it('softmax on a non-last axis warns', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 4, 16, 16]);
    b.output(b.node('Softmax', ['x'], [1, 4, 16, 16], { axis: 1 }, '/Softmax'));
    const f = only(lintModel(b.model(), opts), 'HW012');
    assert.equal(f[0]!.severity, 'warning');
  });
  it('activation broadcast warns, equal shapes and constants do not', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 1500, 64]);
    b.input('m', [1, 1, 64]);
    const a = b.node('Add', ['x', 'm'], [1, 1500, 64], {}, '/mix/Add');
    const c = b.node('Mul', [a, b.init('scale', [64])], [1, 1500, 64], {}, '/mix/Mul');
    const d = b.node('Add', [a, c], [1, 1500, 64], {}, '/mix/Add_1');
    b.output(d);
    const f = only(lintModel(b.model(), opts), 'HW015');
    assert.equal(f.length, 1);
    assert.deepEqual(f[0]!.nodes, ['/mix/Add']);
    assert.match(f[0]!.message, /\[1, 1500, 64\] with \[1, 1, 64\]/);
  });
  it('ReduceMax on the time axis is an error with the parser message; channel axis is fine', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 1500, 64]);
    const a = b.node('ReduceMax', ['x'], [1, 1, 64], { axes: [1], keepdims: 1 }, '/pool/ReduceMax');
    const c = b.node('ReduceMax', ['x'], [1, 1500, 1], { axes: [-1], keepdims: 1 }, '/pool/ReduceMax_1');
    const m = b.node('ReduceMean', ['x'], [1, 64], { axes: [1], keepdims: 0 }, '/pool/ReduceMean');
    b.output(a).output(c).output(m);
    const f = only(lintModel(b.model(), opts), 'HW016');
    assert.equal(f.length, 2);
    const max = f.find((x) => x.nodes[0] === '/pool/ReduceMax')!;
    assert.equal(max.severity, 'error');
    assert.match(max.message, /UnsupportedReduceMaxLayerError/);
    assert.equal(f.find((x) => x.nodes[0] === '/pool/ReduceMean')!.severity, 'warning');
  });
  it('rank 3 after a Conv1d is [B, C, T]: a mean over time is off the channel axis; after a MatMul [B, S, C] the last axis is the channel', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 80, 300]);
    const c = b.node('Conv', ['x', b.init('w', [64, 80, 3])], [1, 64, 300], { kernel_shape: [3], pads: [1, 1] }, '/conv/Conv');
    const r = b.node('Relu', [c], [1, 64, 300], {}, '/act/Relu');
    const t = b.node('ReduceMean', [r], [1, 64, 1], { axes: [-1], keepdims: 1 }, '/pool/ReduceMean');
    const tr = b.node('Transpose', [r], [1, 300, 64], { perm: [0, 2, 1] }, '/Transpose');
    const mm = b.node('MatMul', [tr, b.init('p', [64, 64])], [1, 300, 64], {}, '/proj/MatMul');
    const ch = b.node('ReduceMean', [mm], [1, 300, 1], { axes: [-1], keepdims: 1 }, '/stat/ReduceMean');
    b.output(t).output(ch);
    const f = only(lintModel(b.model(), opts), 'HW016');
    assert.deepEqual(
      f.map((x) => x.nodes[0]),
      ['/pool/ReduceMean'],
    );
    assert.match(f[0]!.message, /channel axis: 1/);
  });

  it('a Gather on a Shape is shape arithmetic (HW006), not an HW018 gather', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 'T', 64]);
    const s = b.node('Shape', ['x'], [3], {}, '/Shape');
    const g = b.node('Gather', [s, b.init('one', [])], [], { axis: 0 }, '/Gather');
    b.output(g);
    const f = lintModel(b.model(), opts);
    assert.equal(only(f, 'HW018').length, 0);
    assert.equal(only(f, 'HW006')[0]!.severity, 'warning');
  });

  it('opset-18 reductions read axes from constants; unknown axes are said to be unknown', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 8, 16, 16]);
    const m = b.node('ReduceMean', ['x', b.init('axes', [2])], [1, 8, 1, 1], { keepdims: 1 }, '/gap/ReduceMean');
    b.output(m);
    const withValues = only(lintModel(b.model(), { ...opts, constants: new Map([['axes', [2, 3]]]) }), 'HW016');
    assert.match(withValues[0]!.fix!, /AdaptiveAvgPool2d/);
    const without = only(lintModel(b.model(), opts), 'HW016');
    assert.match(without[0]!.message, /not known/);
  });
});

describe('lint: HW018 gather, HW020 pad', () => {
  it('embedding lookups, batch-axis and computed-index gathers are errors', () => {
    const b = new GraphBuilder();
    b.input('tokens', [1, 448]);
    b.input('x', [3, 1, 4, 16]);
    const e = b.node('Gather', [b.init('embed', [51865, 384]), 'tokens'], [1, 448, 384], { axis: 0 }, '/decoder/token_embedding/Gather');
    const q = b.node('Gather', ['x', b.init('zero', [])], [1, 4, 16], { axis: 0 }, '/blocks.0/attn/Gather_3');
    const s = b.node('Gather', ['x', b.init('two', [])], [3, 4, 16], { axis: 1 }, '/blocks.0/attn/Gather_4');
    b.output(e).output(q).output(s);
    const f = only(lintModel(b.model(), opts), 'HW018');
    const by = (n: string) => f.find((x) => x.nodes.includes(n))!;
    assert.match(by('/decoder/token_embedding/Gather').message, /embedding lookup/);
    assert.match(by('/blocks.0/attn/Gather_3').message, /Gather operation on the batch dimension is not supported/);
    assert.equal(by('/blocks.0/attn/Gather_4').severity, 'info');
  });
  it('asymmetric and non-constant pads; symmetric zero pad is silent', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 8, 1, 100]);
    const p1 = b.node('Pad', ['x', b.init('pads1', [8])], [1, 8, 1, 103], { mode: 'constant' }, '/front/Pad');
    const p2 = b.node('Pad', ['x', b.init('pads2', [8])], [1, 8, 1, 102], {}, '/front/Pad_1');
    const sh = b.node('Concat', ['x', 'x'], [1, 16, 1, 100], { axis: 1 }, '/front/Concat');
    const p3 = b.node('Pad', ['x', sh], [1, 8, 1, 102], { mode: 'reflect' }, '/front/Pad_2');
    b.output(p1).output(p2).output(p3);
    const constants = new Map([
      ['pads1', [0, 0, 0, 1, 0, 0, 0, 2]],
      ['pads2', [0, 0, 0, 1, 0, 0, 0, 1]],
    ]);
    const f = only(lintModel(b.model(), { ...opts, constants }), 'HW020');
    assert.ok(f.some((x) => x.nodes.includes('/front/Pad') && /asymmetric/.test(x.message) && /0, 0, 0, 1, 0, 0, 0, 2/.test(x.message)));
    assert.ok(!f.some((x) => x.nodes.includes('/front/Pad_1')));
    assert.ok(f.some((x) => x.nodes.includes('/front/Pad_2') && x.severity === 'error'));
  });
  it("torch's F.pad chain (ConstantOfShape, Concat, Reshape, Slice step -1, Transpose, Cast) is folded", () => {
    const padChain = (b: GraphBuilder, p: string, pads: number[]) => {
      // what torch.onnx.export writes for F.pad(x, pads) on a rank-4 input
      const zeros = b.node(
        'ConstantOfShape',
        [b.node('Constant', [], [1], { value: { tensor: true, dtype: 'int64', dims: [1], values: [8 - pads.length] } }, `${p}/Constant`)],
        [8 - pads.length],
        { value: { tensor: true, dtype: 'int64', dims: [1], values: [0] } },
        `${p}/ConstantOfShape`,
      );
      const cat = b.node(
        'Concat',
        [b.node('Constant', [], [pads.length], { value: { tensor: true, dtype: 'int64', dims: [pads.length], values: pads } }, `${p}/Constant_1`), zeros],
        [8],
        { axis: 0 },
        `${p}/Concat`,
      );
      const r = b.node(
        'Reshape',
        [cat, b.node('Constant', [], [2], { value: { tensor: true, dtype: 'int64', dims: [2], values: [-1, 2] } }, `${p}/Constant_2`)],
        [4, 2],
        {},
        `${p}/Reshape`,
      );
      const c = (name: string, v: number) => b.node('Constant', [], [1], { value: { tensor: true, dtype: 'int64', dims: [1], values: [v] } }, `${p}/${name}`);
      const sl = b.node('Slice', [r, c('s', -1), c('e', Number.MIN_SAFE_INTEGER), c('a', 0), c('st', -1)], [4, 2], {}, `${p}/Slice`);
      const t = b.node('Transpose', [sl], [2, 4], { perm: [1, 0] }, `${p}/Transpose`);
      const flat = b.node(
        'Reshape',
        [t, b.node('Constant', [], [1], { value: { tensor: true, dtype: 'int64', dims: [1], values: [-1] } }, `${p}/Constant_3`)],
        [8],
        {},
        `${p}/Reshape_1`,
      );
      return b.node('Cast', [flat], [8], { to: 7 }, `${p}/Cast`);
    };
    const b = new GraphBuilder();
    b.input('x', [1, 4, 16, 16]);
    const a = b.node('Pad', ['x', padChain(b, '/pa', [0, 1, 0, 1])], [1, 4, 17, 17], { mode: 'constant' }, '/pa/Pad');
    const s = b.node('Pad', ['x', padChain(b, '/ps', [1, 1, 2, 2])], [1, 4, 20, 18], { mode: 'constant' }, '/ps/Pad');
    b.output(a).output(s);
    const f = only(lintModel(b.model(), opts), 'HW020');
    assert.equal(f.length, 1, f.map((x) => x.message).join('\n'));
    assert.deepEqual(f[0]!.nodes, ['/pa/Pad']);
    assert.match(f[0]!.message, /pads \[0, 0, 0, 0, 0, 0, 1, 1\]/);
  });

  it('pads that cannot be read: an odd size change is still asymmetric; an even one is only a note', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 4, 16, 16]);
    const odd = b.node('Pad', ['x', b.init('pads_odd', [8])], [1, 4, 16, 17], {}, '/odd/Pad');
    const even = b.node('Pad', ['x', b.init('pads_even', [8])], [1, 4, 16, 18], {}, '/even/Pad');
    b.output(odd).output(even);
    const f = only(lintModel(b.model(), opts), 'HW020');
    assert.equal(f.find((x) => x.nodes.includes('/odd/Pad'))!.severity, 'warning');
    assert.equal(f.find((x) => x.nodes.includes('/even/Pad'))!.severity, 'info');
  });

  it('asymmetric conv pads attribute is reported', () => {
    const b = new GraphBuilder();
    b.input('x', [1, 3, 8, 8]);
    b.output(b.node('Conv', ['x', b.init('w', [4, 3, 2, 2])], [1, 4, 8, 8], { kernel_shape: [2, 2], pads: [0, 0, 1, 1] }, '/c/Conv'));
    assert.equal(only(lintModel(b.model(), opts), 'HW020').length, 1);
  });
});

describe('lint: HW021 contract', () => {
  const enc = toyEncoder({ blocks: 1, steps: 500, width: 32 });
  const outName = enc.g.outputs[0]!.name;
  it('a 500-step output against the 1500-step contract is an error pointing at hailo.json', () => {
    const text = `{\n  "models": [\n    {\n      "name": "enc",\n      "inputs": [{ "name": "mel", "shape": [1, 80, 1000] }],\n      "outputs": [\n        { "name": "${outName}", "shape": [1, 1500, 32] }\n      ],\n      "onnx": "enc.onnx"\n    }\n  ]\n}\n`;
    const f = only(
      lintModel(enc.model(), {
        ...opts,
        expected: { name: 'enc', inputs: [{ name: 'mel', shape: [1, 80, 1000] }], outputs: [{ name: outName, shape: [1, 1500, 32] }] },
        projectFile: { file: '/p/hailo.json', text },
      }),
      'HW021',
    );
    assert.equal(f.length, 1);
    assert.match(f[0]!.message, /is \[1, 500, 32\] but hailo\.json expects \[1, 1500, 32\] \(axis 1: 500 instead of 1500\)/);
    assert.deepEqual(f[0]!.related, [{ message: 'expected output in enc', file: '/p/hailo.json', line: 7 }]);
  });
  it('matching shapes are silent; missing names are errors', () => {
    const ok = lintModel(enc.model(), {
      ...opts,
      expected: { inputs: [{ name: 'mel', shape: [1, 80, 1000] }], outputs: [{ name: outName, shape: [1, 500, 32] }] },
    });
    assert.equal(only(ok, 'HW021').length, 0);
    const bad = only(lintModel(enc.model(), { ...opts, expected: { inputs: [{ name: 'audio', shape: [1, 80, 1000] }] } }), 'HW021');
    assert.match(bad[0]!.message, /expects input "audio" but the model has no such input \(it has "mel"\)/);
  });
});

describe('lint: HW022 layer too large', () => {
  it('a vocabulary projection is flagged on hailo8l; a block-sized MatMul is not', () => {
    const b = new GraphBuilder();
    b.input('h', [1, 448, 384]);
    const fc = b.node('MatMul', ['h', b.init('proj', [384, 384])], [1, 448, 384], {}, '/dec/fc/MatMul');
    const lm = b.node('MatMul', [fc, b.init('vocab', [384, 51865])], [1, 448, 51865], {}, '/dec/lm_head/MatMul');
    b.output(lm);
    const f = only(lintModel(b.model(), opts), 'HW022');
    assert.equal(f.length, 1);
    assert.deepEqual(f[0]!.nodes, ['/dec/lm_head/MatMul']);
    assert.match(f[0]!.message, /19,916,160 weights/);
    assert.match(f[0]!.message, /too big to be supported on Hailo-8/);
    assert.equal(only(lintModel(b.model(), { hwArch: 'hailo15h' }), 'HW022').length, 0, 'no figure, no claim');
  });
});

describe('lint: HW030 memory estimate', () => {
  it('forecasts multi-context for whisper-small-sized weights on hailo8l, labelled as an estimate', () => {
    const big = toyEncoder({ blocks: 12, width: 768, heads: 12 }).model();
    const est = estimateMemory(big, 'hailo8l');
    assert.equal(est.forecast, 'multi-context');
    assert.ok(est.minContexts! >= 10, String(est.minContexts));
    const f = only(lintModel(big, opts), 'HW030')[0]!;
    assert.match(f.message, /^Estimate, not a compiler result/);
    assert.match(f.message, /Hailo-8L: ≈10 MB assumed/);
    assert.match(f.message, /9 contexts/);
  });
  it('no figure for an unknown arch', () => {
    const f = only(lintModel(cleanConv().model(), { hwArch: 'hailo15h' }), 'HW030')[0]!;
    assert.match(f.message, /No on-chip memory figure is known for hailo15h/);
  });
});

describe('lint: source map', () => {
  it('findings carry the source of their first mapped node and the rest as related', () => {
    const enc = toyEncoder({ blocks: 3 });
    const sourceMap = {
      lookup: (n: string) => (n.endsWith('/attn/Softmax') ? { file: '/src/model.py', line: 40 + Number(/blocks\.(\d+)/.exec(n)![1]) } : undefined),
    };
    const f = only(lintModel(enc.model(), { ...opts, sourceMap }), 'HW012')[0]!;
    assert.deepEqual(f.source, { file: '/src/model.py', line: 40 });
    assert.deepEqual(
      f.related?.map((r) => r.line),
      [41, 42],
    );
  });
});
