// One pair of cases per lint rule: a pattern the Hailo toolchain supports (per the reference pack)
// must stay quiet, or at most a note where the rule is a note about a known rewrite; a pattern it
// rejects or rewrites must fire. A rule added to the catalogue without a case here fails the suite.
import { strict as assert } from 'node:assert';
import { lintModel, RULES, type LintOptions } from '../../src/core/analysis/lint';
import type { Finding, Severity } from '../../src/core/finding';
import { GraphBuilder, gelu, handLayerNorm } from './lintGraphs';

const opts: LintOptions = { hwArch: 'hailo8l' };

interface Case {
  /** A model the toolchain takes as it is. */
  supported: () => { b: GraphBuilder; o?: Partial<LintOptions> };
  /** The most the rule may say about the supported model: nothing, or a note. */
  supportedAtMost: 'nothing' | 'info';
  /** A model the toolchain rejects or rewrites. */
  unsupported: () => { b: GraphBuilder; o?: Partial<LintOptions> };
  /** The severity the rule must report for it. */
  fires: Severity;
}

function conv(b: GraphBuilder, x: string, cin: number, cout: number, shape: number[], name: string, k: number[] = [3, 3]): string {
  return b.node(
    'Conv',
    [x, b.init(`${name}.w`, [cout, cin, ...k])],
    shape,
    { kernel_shape: k, pads: [...k.map((d) => (d - 1) / 2), ...k.map((d) => (d - 1) / 2)] },
    name,
  );
}

function img(): GraphBuilder {
  return new GraphBuilder().input('x', [1, 3, 32, 32]);
}

/** Eager attention over [1, S, C]: q/k/v, the head split/merge, two activation MatMuls. */
function attention(b: GraphBuilder, x: string, S: number, C: number, H: number): string {
  const D = C / H;
  const lin = (y: string, n: string) => b.node('MatMul', [y, b.init(`${n}.w`, [C, C])], [1, S, C], {}, `/attn/${n}/MatMul`);
  const split = (y: string, n: string, perm: number[], out: number[]) =>
    b.node('Transpose', [b.node('Reshape', [y, b.init(`${n}.shape`, [4])], [1, S, H, D], {}, `/attn/Reshape_${n}`)], out, { perm }, `/attn/Transpose_${n}`);
  const q = split(lin(x, 'q'), 'q', [0, 2, 1, 3], [1, H, S, D]);
  const k = split(lin(x, 'k'), 'k', [0, 2, 3, 1], [1, H, D, S]);
  const v = split(lin(x, 'v'), 'v', [0, 2, 1, 3], [1, H, S, D]);
  const sm = b.node('Softmax', [b.node('MatMul', [q, k], [1, H, S, S], {}, '/attn/MatMul')], [1, H, S, S], { axis: -1 }, '/attn/Softmax');
  const av = b.node('MatMul', [sm, v], [1, H, S, D], {}, '/attn/MatMul_1');
  const t = b.node('Transpose', [av], [1, S, H, D], { perm: [0, 2, 1, 3] }, '/attn/Transpose');
  return b.node('Reshape', [t, b.init('merge.shape', [3])], [1, S, C], {}, '/attn/Reshape');
}

const CASES: Record<string, Case> = {
  HW001: {
    supported: () => {
      const b = img();
      b.output(b.node('Relu', ['x'], [1, 3, 32, 32]));
      return { b };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = new GraphBuilder().input('x', ['batch', 3, 32, 32]);
      b.output(b.node('Relu', ['x'], ['batch', 3, 32, 32]));
      return { b };
    },
    fires: 'error',
  },
  HW002: {
    supported: () => {
      const b = img();
      b.output(b.node('Relu', ['x'], [1, 3, 32, 32]));
      return { b };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = new GraphBuilder().input('x', [4, 3, 32, 32]);
      b.output(b.node('Relu', ['x'], [4, 3, 32, 32]));
      return { b };
    },
    fires: 'error',
  },
  HW003: {
    supported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.output(b.node('Reshape', ['x', b.init('s', [4])], [1, 1500, 4, 16]));
      return { b };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.output(b.node('Reshape', ['x', b.init('s', [5])], [1, 1500, 4, 4, 4]));
      return { b };
    },
    fires: 'error',
  },
  HW004: {
    // torch writes `t % 4` on a traced size as a Mod over constants: folded before parsing
    supported: () => {
      const b = img();
      const m = b.node('Mod', [b.node('Constant', [], []), b.node('Constant', [], [])], [], {}, '/Mod');
      b.node('Cast', [m], []);
      b.output(b.node('Relu', ['x'], [1, 3, 32, 32]));
      return { b };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = new GraphBuilder().input('x', [1, 80]);
      b.output(b.node('TopK', ['x', b.init('k', [1])], [1, 5], {}, '/head/TopK'));
      return { b };
    },
    fires: 'error',
  },
  HW005: {
    supported: () => {
      const b = img();
      b.output(b.node('Relu', [conv(b, 'x', 3, 8, [1, 8, 32, 32], '/c/Conv')], [1, 8, 32, 32]));
      return { b };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = img();
      b.output(b.node('Softplus', ['x'], [1, 3, 32, 32]));
      return { b };
    },
    fires: 'warning',
  },
  HW006: {
    // view(n, t, h, -1) on a static tensor: Shape -> Gather -> Concat -> Reshape folds to constants
    supported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      const s = b.node('Shape', ['x'], [3], {}, '/Shape');
      const g = b.node('Gather', [s, b.init('i0', [])], [], { axis: 0 }, '/Gather');
      const c = b.node('Concat', [b.node('Unsqueeze', [g, b.init('ax', [1])], [1]), b.init('rest', [3])], [4], { axis: 0 }, '/Concat');
      b.output(b.node('Reshape', ['x', c], [1, 1500, 4, 16], {}, '/Reshape'));
      return { b };
    },
    supportedAtMost: 'info',
    unsupported: () => {
      const b = new GraphBuilder().input('x', [1, 'T', 64]);
      const s = b.node('Shape', ['x'], [3], {}, '/Shape');
      b.output(b.node('Reshape', ['x', s], [1, 'T', 64], {}, '/Reshape'));
      return { b };
    },
    fires: 'warning',
  },
  HW007: {
    supported: () => {
      const b = img();
      b.output(b.node('Relu', ['x'], [1, 3, 32, 32]));
      return { b };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = img();
      b.opset = 9;
      b.output(b.node('Relu', ['x'], [1, 3, 32, 32]));
      return { b };
    },
    fires: 'warning',
  },
  HW010: {
    supported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.output(b.node('LayerNormalization', ['x', b.init('g', [64]), b.init('be', [64])], [1, 1500, 64], { axis: -1 }));
      return { b };
    },
    supportedAtMost: 'info',
    unsupported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.output(b.node('LayerNormalization', ['x', b.init('g', [1500, 64]), b.init('be', [1500, 64])], [1, 1500, 64], { axis: 1 }));
      return { b };
    },
    fires: 'warning',
  },
  HW011: {
    supported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.output(b.node('LayerNormalization', ['x', b.init('g', [64]), b.init('be', [64])], [1, 1500, 64], { axis: -1 }));
      return { b };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.opset = 13;
      b.output(handLayerNorm(b, 'x', [1, 1500, 64], '/ln'));
      return { b };
    },
    fires: 'info',
  },
  HW012: {
    supported: () => {
      const b = new GraphBuilder().input('x', [1, 4, 100, 100]);
      b.output(b.node('Softmax', ['x'], [1, 4, 100, 100], { axis: -1 }));
      return { b };
    },
    supportedAtMost: 'info',
    unsupported: () => {
      const b = new GraphBuilder().input('x', [1, 4, 100, 100]);
      b.output(b.node('Softmax', ['x'], [1, 4, 100, 100], { axis: 1 }));
      return { b };
    },
    fires: 'warning',
  },
  HW013: {
    supported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.output(b.node('MatMul', ['x', b.init('w', [64, 64])], [1, 1500, 64]));
      return { b };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.output(attention(b, 'x', 1500, 64, 2));
      return { b };
    },
    fires: 'info',
  },
  HW014: {
    // the standard attention head split/merge ([1, 1500, 64] -> [1, 1500, 2, 32] and back)
    supported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.output(attention(b, 'x', 1500, 64, 2));
      return { b };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = new GraphBuilder().input('x', [1, 64, 1500]);
      b.output(b.node('Reshape', ['x', b.init('s', [3])], [1, 1500, 64], {}, '/Reshape'));
      return { b };
    },
    fires: 'warning',
  },
  HW015: {
    supported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.output(b.node('Add', ['x', b.init('bias', [64])], [1, 1500, 64]));
      return { b };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      const m = b.node('ReduceMean', ['x'], [1, 1, 64], { axes: [1], keepdims: 1 }, '/pool/ReduceMean');
      b.output(b.node('Add', ['x', m], [1, 1500, 64], {}, '/mix/Add'));
      return { b };
    },
    fires: 'warning',
  },
  HW016: {
    supported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.output(b.node('ReduceMax', ['x'], [1, 1500, 1], { axes: [-1], keepdims: 1 }));
      return { b };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.output(b.node('ReduceMax', ['x'], [1, 1, 64], { axes: [1], keepdims: 1 }));
      return { b };
    },
    fires: 'error',
  },
  HW017: {
    // nn.GELU exported below opset 20: the erf form, which parses; a note without advice to change it
    supported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.output(gelu(b, 'x', [1, 1500, 64], '/mlp/gelu'));
      return { b };
    },
    supportedAtMost: 'info',
    unsupported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.output(b.node('Erf', ['x'], [1, 1500, 64]));
      return { b };
    },
    fires: 'warning',
  },
  HW018: {
    supported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 64]);
      b.node('Gather', [b.init('tbl', [10, 4]), b.init('i', [])], [4], { axis: 0 });
      b.output(b.node('Relu', ['x'], [1, 1500, 64]));
      return { b };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = new GraphBuilder().input('tokens', [1, 448]);
      b.output(b.node('Gather', [b.init('embed', [51865, 384]), 'tokens'], [1, 448, 384], { axis: 0 }, '/embed/Gather'));
      return { b };
    },
    fires: 'error',
  },
  HW019: {
    supported: () => {
      const b = new GraphBuilder().input('x', [1, 80, 1, 3000]);
      b.output(conv(b, 'x', 80, 64, [1, 64, 1, 3000], '/stem/Conv', [1, 3]));
      return { b };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = new GraphBuilder().input('x', [1, 80, 3000]);
      b.output(conv(b, 'x', 80, 64, [1, 64, 3000], '/conv1/Conv', [3]));
      return { b };
    },
    fires: 'warning',
  },
  HW020: {
    supported: () => {
      const b = img();
      b.output(b.node('Pad', ['x', b.init('pads', [8])], [1, 3, 34, 34], { mode: 'constant' }, '/Pad'));
      return { b, o: { constants: new Map([['pads', [0, 0, 1, 1, 0, 0, 1, 1]]]) } };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = img();
      b.output(b.node('Pad', ['x', b.init('pads', [8])], [1, 3, 32, 33], { mode: 'constant' }, '/Pad'));
      return { b, o: { constants: new Map([['pads', [0, 0, 0, 0, 0, 0, 0, 1]]]) } };
    },
    fires: 'warning',
  },
  HW021: {
    supported: () => {
      const b = new GraphBuilder().input('mel', [1, 80, 3000]);
      const o = b.node('Relu', ['mel'], [1, 80, 3000], {}, '/Relu');
      b.output(o);
      return { b, o: { expected: { name: 'enc', inputs: [{ name: 'mel', shape: [1, 80, 3000] }], outputs: [{ name: o, shape: [1, 80, 3000] }] } } };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = new GraphBuilder().input('mel', [1, 80, 3000]);
      const o = b.node('Relu', ['mel'], [1, 80, 3000], {}, '/Relu');
      b.output(o);
      return { b, o: { expected: { name: 'enc', outputs: [{ name: o, shape: [1, 80, 1500] }] } } };
    },
    fires: 'error',
  },
  HW022: {
    supported: () => {
      const b = new GraphBuilder().input('h', [1, 448, 384]);
      b.output(b.node('MatMul', ['h', b.init('fc', [384, 384])], [1, 448, 384]));
      return { b };
    },
    supportedAtMost: 'nothing',
    unsupported: () => {
      const b = new GraphBuilder().input('h', [1, 448, 384]);
      b.output(b.node('MatMul', ['h', b.init('vocab', [384, 51865])], [1, 448, 51865], {}, '/lm_head/MatMul'));
      return { b };
    },
    fires: 'warning',
  },
  HW030: {
    // the estimate is always there; only an activation larger than the whole chip is a warning
    supported: () => {
      const b = img();
      b.output(conv(b, 'x', 3, 8, [1, 8, 32, 32], '/c/Conv'));
      return { b };
    },
    supportedAtMost: 'info',
    unsupported: () => {
      const b = new GraphBuilder().input('x', [1, 1500, 768]);
      b.output(attention(b, 'x', 1500, 768, 12));
      return { b };
    },
    fires: 'warning',
  },
};

const RANK: Record<Severity, number> = { error: 3, warning: 2, info: 1, hint: 0 };

describe('lint: one supported and one unsupported case per rule', () => {
  it('every rule in the catalogue has its cases', () => {
    assert.deepEqual(Object.keys(CASES).sort(), RULES.map((r) => r.code).sort());
  });
  for (const [code, c] of Object.entries(CASES)) {
    const run = (m: { b: GraphBuilder; o?: Partial<LintOptions> }): Finding[] => lintModel(m.b.model(), { ...opts, ...m.o }).filter((f) => f.code === code);
    it(`${code}: the supported pattern ${c.supportedAtMost === 'nothing' ? 'stays quiet' : 'is at most a note'}`, () => {
      const f = run(c.supported());
      const say = f.map((x) => `${x.severity}: ${x.message}`).join('\n');
      if (c.supportedAtMost === 'nothing') assert.equal(f.length, 0, say);
      else
        assert.ok(
          f.every((x) => RANK[x.severity] <= RANK.info),
          say,
        );
    });
    it(`${code}: the unsupported pattern fires as ${c.fires}`, () => {
      const f = run(c.unsupported());
      assert.ok(
        f.some((x) => x.severity === c.fires),
        `expected a ${c.fires}, got ${f.map((x) => `${x.severity}: ${x.message}`).join('\n') || 'nothing'}`,
      );
    });
  }
  it('no message suggests a parser option the extension never passes (--tensor-shapes)', () => {
    for (const c of Object.values(CASES)) {
      for (const m of [c.supported(), c.unsupported()]) {
        for (const f of lintModel(m.b.model(), { ...opts, ...m.o })) assert.doesNotMatch(`${f.message} ${f.fix ?? ''}`, /--tensor-shapes/, f.code);
      }
    }
  });
  it('HW017 on the torch GELU form gives no advice to change what is already nn.GELU', () => {
    const f = lintModel(CASES.HW017!.supported().b.model(), opts).filter((x) => x.code === 'HW017');
    assert.equal(f.length, 1);
    assert.equal(f[0]!.fix, undefined);
    assert.match(f[0]!.message, /nn\.GELU \/ F\.gelu/);
  });
  it('HW030 speaks one forecast: never "single-context" with "expect multi-context", never "1 contexts"', () => {
    for (const c of Object.values(CASES)) {
      for (const m of [c.supported(), c.unsupported()]) {
        const f = lintModel(m.b.model(), { ...opts, ...m.o }).find((x) => x.code === 'HW030')!;
        assert.ok(!(/single-context/.test(f.message) && /multi-context/.test(f.message.replace(/go multi-context|compiles? (work|to)/g, ''))), f.message);
        assert.doesNotMatch(f.message, /\b1 contexts\b/);
      }
    }
  });
});
