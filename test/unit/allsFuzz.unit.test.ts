/**
 * Hostile and huge model scripts: seeded mutations of a script that uses every construct of the
 * grammar, plus one generated minimal reproducer per known class of trouble (lists nested thousands
 * deep, a line with 40 000 findings, a glob of many `*` against long layer names, a line over the
 * length limit). Every case has a time and a memory limit; a failure names the seed and case and
 * writes the input to a file, so it can be regenerated and replayed:
 *
 *   ALLS_FUZZ_SEED=<seed> ALLS_FUZZ_CASES=<n> npx mocha --config .mocharc.json test/unit/allsFuzz.unit.test.ts
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CliIO } from '../../src/cli/args';
import { main } from '../../src/cli/main';
import type { GraphModel } from '../../src/core/graph/model';
import { complete, definition, hover, symbols } from '../../src/core/hailo/alls/language';
import { compileGlob, layerCatalogFromGraph, LayerIndex } from '../../src/core/hailo/alls/layers';
import { LineIndex, MAX_LINE_LENGTH, MAX_NESTING_DEPTH, parseScript } from '../../src/core/hailo/alls/parser';
import { MAX_FINDINGS_PER_FILE, validateText } from '../../src/core/hailo/alls/validate';

const SEED = Number(process.env.ALLS_FUZZ_SEED ?? 0x5eed11);
const CASES = Number(process.env.ALLS_FUZZ_CASES ?? 400);
/** Per case; generous for a shared 2-core machine, far below what the quadratic classes took. */
const TIME_LIMIT_MS = 3000;
const HEAP_LIMIT_BYTES = 512 * 1024 * 1024;

/** mulberry32: small, seeded, the same sequence on every platform. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE = [
  '## Allocator Script Version 1.0',
  'net/normalization1 = normalization([123.675, 116.28, 103.53], [58.395, 57.12, 57.375], net/input_layer1)',
  'model_optimization_flavor(optimization_level=2, compression_level=0)',
  'model_optimization_config(calibration, batch_size=4, calibset_size=64)',
  'quantization_param({ew_add*}, precision_mode=a16_w16)',
  'quantization_param([conv1, conv2, matmul1], precision_mode=a16_w16)',
  'pre_quantization_optimization(matmul_correction, layers={matmul*}, correction_type=zp_comp_block)',
  'post_quantization_optimization(finetune, policy=enabled, learning_rate=1e-5, loss_layer_names=[conv1, conv2], loss_types=[l2rel, l2rel])',
  'nms_postprocess("../../postprocess_config/yolov8n_nms_config.json", meta_arch=yolov8, engine=cpu)',
  'allocator_param(timeout=30m, enable_fixer=max_adjcents, disable_row_per_cut=True)',
  'performance_param(compiler_optimization_level=max, fps=None)',
  'conv1_sd0, conv1_sd1, conv1_sdc = defuse(regnetx_1.6gf/conv1, 2, defuse_type=SPATIAL)',
  'sh_from_conv1_to_conv2_d0-3 = shortcut(conv1, [conv2_d0, conv2_d1])',
  '{} = defuse_block(matmul1, matmul2, defuse_count=4)',
  'context_0 = context([conv1, conv2])',
  'context_0.compilation_param(fps=330.0)',
  'compilation_param({net/matmul1: [net/matmul2, net/conv1]})',
  'post_quantization_optimization(finetune,',
  '  loss_layer_names=[conv1,',
  '    conv2])',
].join('\n');

const ALPHABET = '()[]{},=.:#"\'*?/-_ \n\r\tabcxyz0123456789';

function mutate(rand: () => number, text: string): { text: string; how: string } {
  const r = (n: number) => Math.floor(rand() * n);
  let t = text;
  const ops: string[] = [];
  const rounds = 1 + r(4);
  for (let k = 0; k < rounds; k++) {
    const at = r(t.length + 1);
    switch (r(7)) {
      case 0: {
        // bit flip of one character
        const c = t.charCodeAt(Math.min(at, t.length - 1)) ^ (1 << r(7));
        t = t.slice(0, at) + String.fromCharCode(c) + t.slice(at + 1);
        ops.push(`flip@${at}`);
        break;
      }
      case 1:
        t = t.slice(0, at);
        ops.push(`truncate@${at}`);
        break;
      case 2: {
        const n = 1 + r(8);
        let s = '';
        for (let i = 0; i < n; i++) s += ALPHABET[r(ALPHABET.length)];
        t = t.slice(0, at) + s + t.slice(at);
        ops.push(`insert@${at}`);
        break;
      }
      case 3: {
        // a run of one bracket: deep nesting or a flood of closers
        const c = '([{)]}'[r(6)]!;
        const n = 1 + r(3000);
        t = t.slice(0, at) + c.repeat(n) + t.slice(at);
        ops.push(`repeat(${c}x${n})@${at}`);
        break;
      }
      case 4: {
        const from = r(t.length + 1);
        const len = r(200);
        t = t.slice(0, at) + t.slice(from, from + len).repeat(1 + r(20)) + t.slice(at);
        ops.push(`duplicate@${at}`);
        break;
      }
      case 5:
        t = t.slice(0, at) + t.slice(at + 1 + r(40));
        ops.push(`delete@${at}`);
        break;
      default:
        t = t.slice(0, at) + '\u0000\ufffd\u202e'[r(3)]! + t.slice(at);
        ops.push(`control@${at}`);
    }
  }
  return { text: t, how: ops.join(' ') };
}

function graph(ids: string[]): GraphModel {
  return {
    kind: 'hn',
    name: 'net',
    inputs: [],
    outputs: [],
    values: {},
    nodes: ids.map((id) => ({ id, op: 'conv', scope: '', inputs: [], outputs: [], attrs: {}, originalNames: [] })),
  };
}

const catalog = layerCatalogFromGraph(graph(['net/conv1', 'net/conv2', 'net/matmul1', 'net/matmul2', 'net/ew_add1', 'net/input_layer1', 'net/normalization1']));
const index = new LayerIndex(catalog);

/** Run one input under the limits; on failure, write it out and say how to get it back. */
function runCase(label: string, text: string, regenerate: string, opts: { hn?: boolean } = {}): ReturnType<typeof validateText> {
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let result: ReturnType<typeof validateText>;
  try {
    result = validateText(text, opts.hn ? { catalog, index } : {});
    const lines = new LineIndex(text);
    for (const f of result.findings) {
      assert.ok(f.span.start >= 0 && f.span.start <= f.span.end && f.span.end <= text.length, `span ${f.span.start}-${f.span.end} of ${text.length}`);
      lines.at(f.span.start);
    }
    assert.ok(result.findings.length <= MAX_FINDINGS_PER_FILE + 1, `${result.findings.length} findings`);
    const ms = performance.now() - t0;
    assert.ok(ms < TIME_LIMIT_MS, `took ${ms.toFixed(0)} ms (limit ${TIME_LIMIT_MS})`);
    const heap = process.memoryUsage().heapUsed - heap0;
    assert.ok(heap < HEAP_LIMIT_BYTES, `heap grew ${(heap / 1048576).toFixed(0)} MB`);
  } catch (e) {
    const file = path.join(os.tmpdir(), `alls-fuzz-${label.replace(/\W+/g, '_')}.alls`);
    fs.writeFileSync(file, text);
    throw new Error(`${label}: ${(e as Error).message}\n  input written to ${file}\n  regenerate: ${regenerate}`, { cause: e });
  }
  return result;
}

/** Minimal reproducers of the classes seen in the hostile-input campaign, generated here. */
const REPRODUCERS: { name: string; text: () => string; hn?: boolean; expect: (r: ReturnType<typeof validateText>, text: string) => void }[] = [
  {
    name: 'list nested 5000 deep',
    text: () => `quantization_param(${'['.repeat(5000)}conv1${']'.repeat(5000)}, precision_mode=a16_w16)\nperformance_param(fps=30)\n`,
    expect: (r) => {
      const e = r.findings.filter((f) => f.severity === 'error');
      assert.equal(e.length, 1);
      assert.match(e[0]!.message, new RegExp(`nested more than ${MAX_NESTING_DEPTH} deep`));
      assert.equal(r.script.statements.length, 2, 'the next line is still read');
    },
  },
  {
    name: 'mapping nested 5000 deep',
    text: () => `compilation_param(${'{a: '.repeat(5000)}b${'}'.repeat(5000)})\n`,
    expect: (r) => assert.match(r.findings[0]!.message, /nested more than/),
  },
  {
    name: 'one line with 40 000 findings (unknown layers, with an HN)',
    hn: true,
    text: () => `quantization_param([${Array.from({ length: 40000 }, (_, i) => `nolayer${i}`).join(', ')}], precision_mode=a16_w16)\n`,
    expect: (r) => {
      assert.equal(r.findings.length, MAX_FINDINGS_PER_FILE + 1);
      const last = r.findings[r.findings.length - 1]!;
      assert.equal(last.code, 'ALLS014');
      assert.equal(last.severity, 'error');
      assert.match(
        last.message,
        new RegExp(`^${40000 - MAX_FINDINGS_PER_FILE} more finding\\(s\\) not shown \\(${40000 - MAX_FINDINGS_PER_FILE} error\\(s\\)\\)`),
      );
    },
  },
  {
    name: 'one line with 40 000 findings (unknown keywords, no HN)',
    text: () => `allocator_param(${Array.from({ length: 40000 }, (_, i) => `k${i}=1`).join(', ')})\n`,
    expect: (r) => {
      assert.equal(r.findings.length, MAX_FINDINGS_PER_FILE + 1);
      assert.match(r.findings[MAX_FINDINGS_PER_FILE]!.message, /39000 more finding\(s\) not shown \(39000 hint\(s\)\)/);
    },
  },
  {
    name: 'glob of 2000 "*" against 2000-character layer names',
    text: () => `quantization_param({${'*a'.repeat(2000)}b}, precision_mode=a16_w16)\n`,
    expect: () => {
      // the match itself: 300 names of 2 000 characters that almost match
      const g = compileGlob(`${'*a'.repeat(2000)}b`);
      const t0 = performance.now();
      for (let i = 0; i < 300; i++) assert.equal(g.test('a'.repeat(2000)), false);
      assert.ok(performance.now() - t0 < TIME_LIMIT_MS);
    },
  },
  {
    name: '5 000 patterns against 5 000 names the script creates (with an HN)',
    hn: true,
    text: () => Array.from({ length: 5000 }, (_, i) => `d${i} = defuse(conv1, 2)\nquantization_param({*q${i}}, precision_mode=a16_w16)`).join('\n'),
    expect: (r) => {
      // each pattern matches nothing: one warning each up to the cap, then the count
      assert.equal(r.findings.filter((f) => f.code === 'ALLS008').length + r.findings.filter((f) => f.code === 'ALLS014').length, r.findings.length);
      assert.ok(r.findings.some((f) => f.code === 'ALLS014'));
    },
  },
  {
    name: `line over ${MAX_LINE_LENGTH} characters`,
    text: () => `performance_param(fps=${'1'.repeat(MAX_LINE_LENGTH + 10)})\nnormalization([0.0], [1.0])\n`,
    expect: (r, text) => {
      assert.deepEqual(
        r.findings.map((f) => `${f.code} ${f.severity} ${new LineIndex(text).at(f.span.start).line + 1}`),
        ['ALLS014 warning 1', 'ALLS005 error 2'],
      );
      assert.match(r.findings[0]!.message, new RegExp(`over the limit of ${MAX_LINE_LENGTH}: not checked`));
    },
  },
];

describe('alls fuzz: generated reproducers of each hostile class', () => {
  for (const c of REPRODUCERS) {
    it(`${c.name}: a clear finding within ${TIME_LIMIT_MS} ms`, () => {
      const text = c.text();
      const r = runCase(c.name, text, `the "${c.name}" generator in test/unit/allsFuzz.unit.test.ts`, c.hn ? { hn: true } : {});
      c.expect(r, text);
    });
  }

  it('the glob matcher agrees with the glob meaning on small cases', () => {
    const cases: [string, string, boolean][] = [
      ['ew_add*', 'ew_add12', true],
      ['*', '', true],
      ['a*b*c', 'aXbYc', true],
      ['a*b*c', 'aXbY', false],
      ['conv[0-9]?', 'conv1x', true],
      ['conv[!1]', 'conv1', false],
      ['**a', 'bba', true],
      ['net/*', 'net/conv1', true],
    ];
    for (const [g, n, want] of cases) assert.equal(compileGlob(g).test(n), want, `${g} ~ ${n}`);
  });

  it('check-alls on each reproducer: exits 0 or 1 with the file named, never a raw exception', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alls-hostile-'));
    for (const c of REPRODUCERS.filter((x) => !x.hn)) {
      const file = path.join(dir, `${c.name.replace(/\W+/g, '_')}.alls`);
      fs.writeFileSync(file, c.text());
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIO = { out: (s) => out.push(s), err: (s) => err.push(s), cwd: dir, env: {} };
      const code = await main(['check-alls', file], io);
      assert.ok(code === 0 || code === 1, `${c.name}: exit ${code}: ${err.join('\n')}`);
      assert.ok(
        out.some((l) => l.startsWith(`${file}: `)),
        `${c.name}: a summary line names the file`,
      );
      assert.ok(out.length <= MAX_FINDINGS_PER_FILE + 2, `${c.name}: ${out.length} lines`);
    }
  });
});

describe(`alls fuzz: ${CASES} seeded mutations (seed ${SEED})`, () => {
  it('every case ends in findings with valid spans, within the time and memory limits', function () {
    this.timeout(120_000);
    const rand = prng(SEED);
    let findings = 0;
    let syntaxErrors = 0;
    for (let i = 0; i < CASES; i++) {
      const { text, how } = mutate(rand, BASE);
      const r = runCase(`seed ${SEED} case ${i}`, text, `ALLS_FUZZ_SEED=${SEED} ALLS_FUZZ_CASES=${i + 1} (case ${i}: ${how})`, { hn: i % 2 === 1 });
      findings += r.findings.length;
      syntaxErrors += r.findings.filter((f) => f.code === 'ALLS001').length;
      // parsing alone agrees with the validator's parse
      assert.equal(parseScript(text).statements.length, r.script.statements.length);
    }
    // the mutations do reach the error paths (a fuzz run that finds nothing to say tests nothing)
    assert.ok(syntaxErrors > CASES / 4, `${syntaxErrors} syntax errors over ${CASES} cases`);
    assert.ok(findings > CASES, `${findings} findings`);
  });

  it('completion, hover, definition and symbols at random offsets of mutated scripts never throw', function () {
    this.timeout(120_000);
    const rand = prng(SEED ^ 0x9e3779b9);
    const cases = Math.max(1, Math.floor(CASES / 4));
    for (let i = 0; i < cases; i++) {
      const { text, how } = mutate(rand, BASE);
      const script = parseScript(text);
      const t0 = performance.now();
      try {
        symbols(script);
        for (let k = 0; k < 8; k++) {
          const at = Math.floor(rand() * (text.length + 1));
          complete(script, at, { catalog, index });
          hover(script, at, { catalog, index });
          definition(script, at, { catalog, index });
        }
      } catch (e) {
        const file = path.join(os.tmpdir(), `alls-fuzz-language-${i}.alls`);
        fs.writeFileSync(file, text);
        throw new Error(`language case ${i} (${how}): ${(e as Error).message}\n  input written to ${file}`, { cause: e });
      }
      assert.ok(performance.now() - t0 < TIME_LIMIT_MS, `language case ${i} (${how}) took too long`);
    }
  });

  it('the unmutated base script has no error and no warning', () => {
    const r = validateText(BASE);
    assert.deepEqual(
      r.findings.filter((f) => f.severity === 'error' || f.severity === 'warning').map((f) => f.message),
      [],
    );
  });
});
