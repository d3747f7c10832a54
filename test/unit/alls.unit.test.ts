import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadLayerCatalog } from '../../src/core/hailo/alls/catalog';
import { allCommands, commandSpec, provenanceOf, tableKeys } from '../../src/core/hailo/alls/commands';
import { layerCatalogFromGraph, LayerIndex, compileGlob, type LayerCatalog } from '../../src/core/hailo/alls/layers';
import { lineColumn, parseScript, tokenize } from '../../src/core/hailo/alls/parser';
import { validateText, type AllsFinding } from '../../src/core/hailo/alls/validate';
import type { GraphModel } from '../../src/core/graph/model';
import { REFERENCE_DIR as referenceDir } from '../reference';

const root = path.resolve(__dirname, '..', '..');
const fixtures = path.join(root, 'test', 'fixtures', 'alls');
const samplesDir = path.join(referenceDir, 'hailo', 'alls-samples');

function allsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? allsFiles(p) : p.endsWith('.alls') ? [p] : [];
  });
}

function at(text: string, f: AllsFinding): string {
  const { line, character } = lineColumn(text, f.span.start);
  return `${line + 1}:${character + 1} ${f.severity} ${f.code} ${f.message}`;
}

let whisperCatalog: LayerCatalog;
before(async () => {
  whisperCatalog = await loadLayerCatalog(path.join(fixtures, 'whisper_enc.hn'), { onnxFile: path.join(fixtures, 'whisper_enc.onnx') });
});

describe('alls parser', () => {
  it('parses assignments, scoped and dashed names, patterns, lists, strings and numbers', () => {
    const s = parseScript(
      [
        'conv1_sd0, conv1_sd1, conv1_sdc = defuse(conv1, 2, defuse_type=SPATIAL)',
        'sh_from_conv15_to_conv18_d0-3 = shortcut(conv15, [conv18_d0, conv18_d1])',
        'quantization_param({conv_feature_splitter[0-9]*_[2-3]}, precision_mode=a8_w8)',
        'nms_postprocess("../../postprocess_config/yolov8n_nms_config.json", meta_arch=yolov8, engine=cpu)',
        'logits_layer1 = logits_layer(efficientnet_lite0/fc1, softmax, -1, cpu)',
        'post_quantization_optimization(finetune, policy=enabled, learning_rate=1e-5)',
        '{} = defuse_block(matmul1, matmul2, defuse_count=4)',
        'context_0.place(0, [conv11_d0, conv11_d1])',
      ].join('\n'),
    );
    assert.deepEqual(s.problems, []);
    assert.equal(s.statements.length, 8);
    const [defuse, shortcut, qp, nms, logits, post, block, place] = s.statements;
    assert.deepEqual(
      defuse!.targets!.map((t) => t.text),
      ['conv1_sd0', 'conv1_sd1', 'conv1_sdc'],
    );
    assert.equal(defuse!.args[2]!.key!.text, 'defuse_type');
    assert.equal(shortcut!.targets![0]!.text, 'sh_from_conv15_to_conv18_d0-3');
    const pat = qp!.args[0]!.value!;
    assert.equal(pat.kind, 'pattern');
    assert.equal((pat as { text: string }).text, 'conv_feature_splitter[0-9]*_[2-3]');
    assert.equal(s.text.slice(pat.start, pat.end), '{conv_feature_splitter[0-9]*_[2-3]}');
    assert.equal(nms!.args[0]!.value!.kind, 'string');
    assert.equal((nms!.args[0]!.value as { text: string }).text, '../../postprocess_config/yolov8n_nms_config.json');
    assert.equal((logits!.args[0]!.value as { text: string }).text, 'efficientnet_lite0/fc1');
    assert.equal((logits!.args[2]!.value as { value: number }).value, -1);
    assert.equal((post!.args[2]!.value as { value: number }).value, 1e-5);
    assert.deepEqual(block!.targets, []);
    assert.equal(place!.object!.text, 'context_0');
    assert.equal(place!.command!.text, 'place');
  });

  it('continues a statement over lines while "(" or "[" is open, and stops at the next command', () => {
    const s = parseScript(
      'post_quantization_optimization(finetune,\n  loss_layer_names=[conv1,\n    conv2])\nquantization_param(conv1\nperformance_param(fps=150)\n',
    );
    assert.equal(s.statements.length, 3);
    assert.equal(s.statements[0]!.args.length, 2);
    assert.equal(s.statements[2]!.command!.text, 'performance_param');
    assert.equal(s.statements[2]!.broken, false);
    assert.equal(s.problems.length, 1);
    assert.match(s.problems[0]!.message, /missing "\)" to close quantization_param\(/);
  });

  it('tolerates CRLF, tabs, a BOM and a missing final newline', () => {
    const text = '\ufeffnorm1 = normalization([0.0],\t[255.0])\r\n# comment\r\nperformance_param(compiler_optimization_level=max)';
    const { script, findings } = validateText(text);
    assert.deepEqual(
      findings.map((f) => at(text, f)),
      [],
    );
    assert.equal(script.statements.length, 2);
    assert.equal(script.comments.length, 1);
  });

  it('never throws on hostile input and reports it with positions', () => {
    for (const text of [
      '(((((',
      ')))',
      '= = =',
      '"unterminated',
      '{{{{',
      'a'.repeat(10000) + '(',
      '\u0000\u0001binary',
      'x = y = z()',
      'quantization_param(conv1, precision_mode=)',
    ]) {
      const { findings } = validateText(text);
      assert.ok(
        findings.some((f) => f.severity === 'error'),
        JSON.stringify(text.slice(0, 30)),
      );
      for (const f of findings) assert.ok(f.span.start >= 0 && f.span.end <= text.length && f.span.start <= f.span.end);
    }
  });

  it('tokenizes numbers, names with "-" and "/" and invalid characters', () => {
    const kinds = tokenize('a-1/b 1e-5 -0.5 .5 $ 2x').map((t) => `${t.kind}:${t.text}`);
    assert.deepEqual(kinds, ['name:a-1/b', 'number:1e-5', 'number:-0.5', 'number:.5', 'invalid:$', 'invalid:2x']);
  });

  it('reads a large generated script (5 000 compiler lines) without findings', () => {
    const lines = Array.from(
      { length: 5000 },
      (_, i) => `compilation_param(conv${i}, balance_output_multisplit=enabled, mixed_mem=disabled, number_of_subclusters=${i % 8})`,
    );
    const { script, findings } = validateText(lines.join('\n'));
    assert.equal(script.statements.length, 5000);
    assert.deepEqual(findings, []);
  });
});

describe('alls grammar of released scripts', () => {
  // constructs of Model Zoo scripts that an earlier grammar rejected (issue 11)
  const released = [
    'allocator_param(timeout=30m)',
    'allocator_param(timeout=2h, cluster_timeout=10m)',
    'model_optimization_flavor(optimization_level=2)',
    'defuse(centerpose_regnetx_1.6gf_fpn/conv4, 2, defuse_type=SPATIAL)',
    'conv4_sd0, conv4_sd1, conv4_sdc = defuse(centerpose_regnetx_1.6gf_fpn/conv4, 2, defuse_type=SPATIAL)',
    'sh_from_conv47_to_conv49_d0-3_1 = shortcut(conv47, [conv49_d0, conv49_d1, conv49_d2, conv49_d3])',
    'context_0 = context([conv1, conv2])',
    'context_0.compilation_param(fps=330.0)',
    'compilation_param({net/matmul1: [net/matmul2, net/matmul3]})',
    'performance_param(compiler_optimization_level=2)',
    'performance_param(fps=None)',
    'allocator_param(disable_row_per_cut=True, merge_max_layer_utilization=0.9)',
    'merged_layer_concat1_conv36 = merge(concat1, conv36)',
    'l4_portal_from_conv35_to_merged_layer_concat1_conv36 = l4_portal(conv35, merged_layer_concat1_conv36)',
    'mobilenet_v2_1.0/normalization1 = normalization([127.5], [127.5], mobilenet_v2_1.0/input_layer1)',
  ];

  it('parses every construct without a syntax problem', () => {
    for (const line of released) assert.deepEqual(parseScript(line).problems, [], line);
  });

  it('reports none of them as an error or a warning (at most hints)', () => {
    const text = released.join('\n');
    const bad = validateText(text).findings.filter((f) => f.severity === 'error' || f.severity === 'warning');
    assert.deepEqual(
      bad.map((f) => at(text, f)),
      [],
    );
  });

  it('reads durations in seconds, dotted names, mappings and methods', () => {
    const s = parseScript(released.join('\n'));
    const timeout = s.statements[0]!.args[0]!.value!;
    assert.equal(timeout.kind, 'duration');
    assert.equal((timeout as { seconds: number }).seconds, 1800);
    assert.equal((s.statements[1]!.args[0]!.value as { seconds: number }).seconds, 7200);
    assert.equal((s.statements[3]!.args[0]!.value as { text: string }).text, 'centerpose_regnetx_1.6gf_fpn/conv4');
    assert.equal(s.statements[7]!.object!.text, 'context_0');
    assert.equal(s.statements[7]!.command!.text, 'compilation_param');
    const m = s.statements[8]!.args[0]!.value!;
    assert.equal(m.kind, 'mapping');
    const entries = (m as { entries: { key: { text: string }; value: { kind: string; items: unknown[] } }[] }).entries;
    assert.equal(entries[0]!.key.text, 'net/matmul1');
    assert.equal(entries[0]!.value.kind, 'list');
    assert.equal(entries[0]!.value.items.length, 2);
    assert.equal(s.statements[14]!.targets![0]!.text, 'mobilenet_v2_1.0/normalization1');
  });

  it('a value or keyword the table does not know is a hint that names the DFC version', () => {
    const text = 'performance_param(compiler_optimization_level=2)\nallocator_param(brand_new_key=1)\nfrobnicate(1)\n';
    const f = validateText(text).findings;
    assert.deepEqual(
      f.map((x) => x.severity),
      ['hint', 'hint', 'hint'],
    );
    for (const x of f) assert.match(x.message, /not in Hailo Workbench's table for DFC 3\.33/);
    const target = validateText(text, { dfcVersion: '3.27.0' }).findings;
    assert.match(target[0]!.message, /the target runs DFC 3\.27\.0/);
    // without a version given, the DFC that wrote the HAR is the target's
    const fromHar = validateText(text, { catalog: { ...whisperCatalog, dfcVersion: '3.28.0' } }).findings;
    assert.match(fromHar[0]!.message, /the target runs DFC 3\.28\.0/);
    assert.doesNotMatch(validateText(text, { dfcVersion: '3.33.1' }).findings[0]!.message, /target runs/);
  });

  it('durations stay numbers for syntax: "2x" is still one bad token, "30m" before a name is not a duration', () => {
    assert.deepEqual(
      tokenize('30m 2h 1.5s 10min 2x 30mb').map((t) => `${t.kind}:${t.text}`),
      ['duration:30m', 'duration:2h', 'duration:1.5s', 'duration:10min', 'invalid:2x', 'invalid:30mb'],
    );
  });

  it('a mapping that is not closed, or a key without ":", is a syntax error at the brace', () => {
    const a = parseScript('compilation_param({a: [b, c])');
    assert.equal(a.problems.length, 1);
    assert.match(a.problems[0]!.message, /missing "}" to close the mapping/);
    assert.equal(a.problems[0]!.start, 18);
  });
});

describe('alls command table', () => {
  it('has one entry per command name, a doc and a signature for each', () => {
    const names = allCommands().map((c) => c.name);
    assert.equal(new Set(names).size, names.length);
    for (const c of allCommands()) {
      assert.ok(c.doc.length > 20, c.name);
      assert.ok(c.signature.includes(c.name), c.name);
      const keys = [...c.params.map((p) => p.name), ...(c.sections ?? []).flatMap((s) => s.params.map((p) => `${s.name}.${p.name}`))];
      assert.equal(new Set(keys).size, keys.length, `${c.name} lists a keyword twice`);
    }
  });

  it('says for every command, section and keyword where it was seen (file and release), and nothing more', () => {
    const keys = tableKeys();
    const missing = keys.filter((k) => !provenanceOf(k));
    assert.deepEqual(missing, [], 'run scripts/alls-provenance.ts after extending the table');
    const data = JSON.parse(fs.readFileSync(path.join(root, 'src', 'core', 'hailo', 'alls', 'provenance.json'), 'utf8')) as {
      entries: Record<string, { file: string; release: string }>;
    };
    assert.deepEqual(
      Object.keys(data.entries).filter((k) => !keys.includes(k)),
      [],
      'provenance of entries the table no longer has',
    );
    for (const k of keys) assert.ok(provenanceOf(k)!.file && provenanceOf(k)!.release, k);
    assert.match(provenanceOf('l4_portal')!.file, /hailo_model_zoo\/cfg\/alls\//);
  });

  it('marks normalization as needing an assignment', () => {
    assert.equal(commandSpec('normalization')!.assignment, 'required');
    assert.deepEqual(commandSpec('quantization_param')!.params.find((p) => p.name === 'precision_mode')!.values, [
      'a8_w8',
      'a8_w4',
      'a16_w16',
      'a16_w8',
      'a16_w8_a16',
    ]);
  });
});

describe('alls validation: real scripts from Hailo', function () {
  it(`every script in alls-samples validates with zero errors and zero warnings`, function () {
    if (!fs.existsSync(samplesDir)) {
      console.log(`      (skipped: ${samplesDir} not found; set HAILO_REFERENCE_DIR to the reference folder)`);
      this.skip();
    }
    const files = allsFiles(samplesDir);
    assert.ok(files.length >= 57, `expected the 57 samples, found ${files.length}`);
    const bad: string[] = [];
    let statements = 0;
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      const { script, findings } = validateText(text);
      statements += script.statements.length;
      for (const x of findings) if (x.severity === 'error' || x.severity === 'warning') bad.push(`${path.relative(samplesDir, f)}:${at(text, x)}`);
    }
    assert.deepEqual(bad, []);
    assert.ok(statements > 4000, `${statements} statements`);
  });

  it('every script under HAILO_ALLS_CORPUS (a folder of real scripts) validates with zero errors and zero warnings', function () {
    const corpus = process.env.HAILO_ALLS_CORPUS;
    if (!corpus || !fs.existsSync(corpus)) {
      console.log(
        `      (skipped: ${corpus ? `${corpus} not found` : 'HAILO_ALLS_CORPUS not set'}; point it at a folder of real .alls scripts, e.g. Model Zoo cfg/alls trees)`,
      );
      this.skip();
    }
    const files = allsFiles(corpus);
    assert.ok(files.length > 0, `no .alls under ${corpus}`);
    const bad: string[] = [];
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      for (const x of validateText(text).findings)
        if (x.severity === 'error' || x.severity === 'warning') bad.push(`${path.relative(corpus, f)}:${at(text, x)}`);
    }
    assert.deepEqual(bad, []);
  });

  it('the real parse error: a bare normalization(...) is an error at line 1, column 1', function () {
    const log = path.join(referenceDir, 'hailo', 'log-samples', 'model-script-parse-error-normalization-without-lhs.log');
    if (!fs.existsSync(log)) {
      console.log(`      (skipped: ${log} not found; set HAILO_REFERENCE_DIR to the reference folder)`);
      this.skip();
    }
    const text = fs.readFileSync(log, 'utf8');
    const m = />!<(.*)$/m.exec(text);
    assert.ok(m, 'the log shows the failing line after >!<');
    const pos = /\(line:(\d+), col:(\d+)\)/.exec(text)!;
    const script = m[1]!.trimEnd();
    const { findings } = validateText(script);
    assert.equal(findings.length, 1);
    const f = findings[0]!;
    assert.equal(f.code, 'ALLS005');
    assert.equal(f.severity, 'error');
    const lc = lineColumn(script, f.span.start);
    assert.deepEqual([lc.line + 1, lc.character + 1], [Number(pos[1]), Number(pos[2])]);
    // with the assignment the same line is fine
    assert.deepEqual(validateText(`normalization1 = ${script}`).findings, []);
  });
});

describe('alls validation: fixture scripts', () => {
  const catalogue = JSON.parse(fs.readFileSync(path.join(fixtures, 'catalogue.json'), 'utf8')) as {
    scripts: Record<string, { hn: boolean; expect: { line: number; column: number; code: string; severity: string; text: string; fix?: string }[] }>;
  };
  for (const [name, entry] of Object.entries(catalogue.scripts)) {
    it(`${name}: ${entry.expect.length} diagnostic(s)`, () => {
      const text = fs.readFileSync(path.join(fixtures, name), 'utf8');
      const { findings } = validateText(text, entry.hn ? { catalog: whisperCatalog } : {});
      const got = findings.map((f) => {
        const lc = lineColumn(text, f.span.start);
        return { line: lc.line + 1, column: lc.character + 1, code: f.code, severity: f.severity, text: text.slice(f.span.start, f.span.end) };
      });
      assert.deepEqual(
        got,
        entry.expect.map(({ fix: _fix, ...e }) => e),
        findings.map((f) => at(text, f)).join('\n'),
      );
      entry.expect.forEach((e, i) => {
        if (e.fix)
          assert.ok(
            findings[i]!.message.includes(`"${e.fix}"`) || findings[i]!.fix?.includes(e.fix),
            `${name}:${e.line} suggests ${e.fix}: ${findings[i]!.message}`,
          );
      });
    });
  }

  it('every quick fix removes the finding it is offered for', () => {
    let applied = 0;
    for (const [name, entry] of Object.entries(catalogue.scripts)) {
      const text = fs.readFileSync(path.join(fixtures, name), 'utf8');
      const opts = entry.hn ? { catalog: whisperCatalog } : {};
      for (const f of validateText(text, opts).findings) {
        for (const e of f.edits ?? []) {
          const fixed = text.slice(0, e.span.start) + e.text + text.slice(e.span.end);
          const line = lineColumn(text, f.span.start).line;
          const again = validateText(fixed, opts).findings.filter((g) => g.code === f.code && lineColumn(fixed, g.span.start).line === line);
          assert.deepEqual(
            again.map((g) => g.message),
            [],
            `${name}: "${e.title}" for ${at(text, f)}`,
          );
          applied++;
        }
      }
    }
    assert.ok(applied >= 12, `${applied} quick fixes applied`);
  });

  it('offers "name = " for a bare normalization, and the nearest names for typos', () => {
    const text = 'normalization([0.0], [1.0])\nquantization_param(conv_1, precison_mode=a16_w16)\n';
    const f = validateText(text, { catalog: whisperCatalog }).findings;
    assert.deepEqual(
      f.map((x) => x.edits?.map((e) => `${e.title} -> ${JSON.stringify(text.slice(e.span.start, e.span.end))}=${e.text}`)),
      [
        ['Assign the result: normalization1 = normalization(...) -> ""=normalization1 = '],
        ['Change to conv1 -> "conv_1"=conv1'],
        ['Change to precision_mode -> "precison_mode"=precision_mode'],
      ],
    );
  });

  it('the same fixtures with CRLF line ends give the same findings', () => {
    for (const name of Object.keys(catalogue.scripts)) {
      const text = fs.readFileSync(path.join(fixtures, name), 'utf8');
      const crlf = text.replace(/\n/g, '\r\n');
      const opts = catalogue.scripts[name]!.hn ? { catalog: whisperCatalog } : {};
      const a = validateText(text, opts).findings.map((f) => `${f.code}:${lineColumn(text, f.span.start).line}`);
      const b = validateText(crlf, opts).findings.map((f) => `${f.code}:${lineColumn(crlf, f.span.start).line}`);
      assert.deepEqual(b, a, name);
    }
  });
});

describe('alls layer names', () => {
  const graph = (ids: string[], name = 'net'): GraphModel => ({
    kind: 'hn',
    name,
    inputs: [],
    outputs: [],
    values: {},
    nodes: ids.map((id) => ({
      id,
      op: id.replace(/^.*\//, '').replace(/\d+$/, ''),
      scope: '',
      inputs: [],
      outputs: [],
      attrs: {},
      originalNames: [`/${id}/Op`],
    })),
  });

  it('reads the catalog of an HN with its scope and, through the source map, the Python lines', () => {
    assert.equal(whisperCatalog.netName, 'whisper_enc');
    assert.deepEqual(whisperCatalog.scopes, ['whisper_enc']);
    assert.equal(whisperCatalog.layers.length, 15);
    const conv1 = whisperCatalog.layers.find((l) => l.name === 'conv1')!;
    assert.equal(conv1.scopedName, 'whisper_enc/conv1');
    assert.deepEqual(conv1.originalNames, ['/conv1/Conv']);
    assert.equal(conv1.source!.line, 21);
    assert.equal(conv1.source!.file, path.join(fixtures, 'tinywhisper', 'model.py'));
    assert.equal(whisperCatalog.layers.find((l) => l.name === 'conv4')!.source, undefined);
  });

  it('resolves scoped and unscoped names, with suggestions and scope errors', () => {
    const ix = new LayerIndex(whisperCatalog);
    assert.equal(ix.resolve('conv1').kind, 'found');
    assert.equal(ix.resolve('whisper_enc/conv1').kind, 'found');
    assert.deepEqual(ix.resolve('conv_1'), { kind: 'unknown', suggestions: ['conv1'] });
    // equally near: the nearest number first (conv8 is one past the last conv layer)
    assert.deepEqual(ix.resolve('conv8'), { kind: 'unknown', suggestions: ['conv7', 'conv6', 'conv5'] });
    const bad = ix.resolve('encoder/conv1');
    assert.equal(bad.kind, 'bad-scope');
    assert.deepEqual(
      ix.match('ew_add*').map((l) => l.name),
      ['ew_add1', 'ew_add2', 'ew_add3'],
    );
    assert.deepEqual(
      ix.match('whisper_enc/conv[1-2]').map((l) => l.name),
      ['conv1', 'conv2'],
    );
    assert.deepEqual(ix.match('*').length, 15);
  });

  it('multi-network HNs: each scope is valid, names in a wrong scope are not', () => {
    const c = layerCatalogFromGraph(graph(['enc/conv1', 'enc/conv2', 'dec/conv1', 'dec/matmul1'], 'enc'));
    assert.deepEqual(c.scopes.sort(), ['dec', 'enc']);
    const { findings } = validateText(
      'quantization_param(dec/conv1, precision_mode=a16_w16)\nquantization_param(enc/matmul1, precision_mode=a16_w16)\nquantization_param(conv1, precision_mode=a16_w16)\nquantization_param({dec/*}, precision_mode=a16_w16)\n',
      { catalog: c },
    );
    assert.deepEqual(
      findings.map((f) => f.code),
      ['ALLS006'],
    );
    assert.match(findings[0]!.message, /No layer "enc\/matmul1"/);
  });

  it('scripts that create layers and scopes (network_group) are not flagged for them', () => {
    const c = layerCatalogFromGraph(graph(['net/conv1', 'net/conv2']));
    const text =
      'norm_layer1 = normalization([0.0], [1.0])\nnet2 = network_group([net2])\nquantization_param(norm_layer1, precision_mode=a16_w16)\nquantization_param(net2/norm_layer1, precision_mode=a16_w16)\nquantization_param({norm_layer*}, precision_mode=a16_w16)\n';
    assert.deepEqual(
      validateText(text, { catalog: c }).findings.map((f) => f.message),
      [],
    );
  });

  it('without an HN, a scope other than the project network name is a warning', () => {
    const { findings } = validateText('quantization_param(whisper/conv1, precision_mode=a16_w16)\nquantization_param(tiny/conv1, precision_mode=a16_w16)\n', {
      netName: 'tiny',
    });
    assert.deepEqual(
      findings.map((f) => `${f.code} ${f.severity}`),
      ['ALLS007 warning'],
    );
    assert.match(findings[0]!.message, /"whisper" is not the network name "tiny"/);
  });

  it('glob patterns: *, ?, classes and negated classes; bad classes do not throw', () => {
    assert.ok(compileGlob('conv_feature_splitter[0-9]*_[2-3]').test('conv_feature_splitter12_3'));
    assert.ok(!compileGlob('conv_feature_splitter[0-9]*_[2-3]').test('conv_feature_splitter12_4'));
    assert.ok(compileGlob('ew_add?').test('ew_add1'));
    assert.ok(compileGlob('conv[!1]').test('conv2') && !compileGlob('conv[!1]').test('conv1'));
    assert.doesNotThrow(() => compileGlob('conv[z-a]'));
    assert.ok(!compileGlob('conv[z-a]').test('conv1'));
  });
});
