import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';
import { allCommands } from '../../src/core/hailo/alls/commands';

/**
 * The .alls TextMate grammar, tokenized by the same engine VS Code uses (vscode-textmate over the
 * Oniguruma WASM from node_modules), with scope assertions on sample lines.
 */

const root = path.resolve(__dirname, '..', '..');
const grammarFile = path.join(root, 'syntaxes', 'alls.tmLanguage.json');

let grammar: vsctm.IGrammar;

before(async () => {
  const wasm = fs.readFileSync(path.join(root, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources: string[]) => new oniguruma.OnigScanner(sources),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName: string) => {
      if (scopeName !== 'source.alls') return null;
      return vsctm.parseRawGrammar(fs.readFileSync(grammarFile, 'utf8'), grammarFile);
    },
  });
  const g = await registry.loadGrammar('source.alls');
  assert.ok(g, 'grammar loads');
  grammar = g;
});

/** Tokenize lines; returns [text, innermost scope, all scopes] per token. */
function tokens(lines: string[]): { text: string; scope: string; scopes: string[]; line: number }[] {
  let state = vsctm.INITIAL;
  const out: { text: string; scope: string; scopes: string[]; line: number }[] = [];
  lines.forEach((line, i) => {
    const r = grammar.tokenizeLine(line, state);
    for (const t of r.tokens) out.push({ text: line.slice(t.startIndex, t.endIndex), scope: t.scopes[t.scopes.length - 1]!, scopes: t.scopes, line: i });
    state = r.ruleStack;
  });
  return out;
}

/** The innermost scope of the token whose text is `text` (the n-th occurrence). */
function scopeOf(lines: string[] | string, text: string, nth = 0): string {
  const all = tokens(Array.isArray(lines) ? lines : [lines]).filter((t) => t.text === text);
  assert.ok(
    all[nth],
    `no token "${text}" in ${JSON.stringify(lines)}; tokens: ${JSON.stringify(tokens(Array.isArray(lines) ? lines : [lines]).map((t) => t.text))}`,
  );
  return all[nth]!.scope;
}

describe('alls grammar', () => {
  it('comments, including ## headers', () => {
    assert.equal(scopeOf('# allocation params', '#'), 'punctuation.definition.comment.alls');
    assert.equal(scopeOf('# allocation params', ' allocation params'), 'comment.line.number-sign.alls');
    for (const t of tokens(['## Allocator Script Version 1.0'])) assert.ok(t.scopes.includes('comment.line.number-sign.alls'), t.text);
  });

  it('assignment: layer names, the operator and the command', () => {
    const line = 'normalization1 = normalization([0.0, 0.0, 0.0], [255.0, 255.0, 255.0])';
    assert.equal(scopeOf(line, 'normalization1'), 'variable.other.layer.definition.alls');
    assert.equal(scopeOf(line, '='), 'keyword.operator.assignment.alls');
    assert.equal(scopeOf(line, 'normalization'), 'support.function.command.alls');
    assert.equal(scopeOf(line, '0.0'), 'constant.numeric.alls');
    assert.equal(scopeOf(line, '255.0', 2), 'constant.numeric.alls');
    assert.equal(scopeOf(line, '['), 'punctuation.section.brackets.begin.alls');
    assert.equal(scopeOf(line, '('), 'punctuation.section.parens.begin.alls');
  });

  it('several targets and "{}" on the left', () => {
    const line = 'conv1_sd0, conv1_sd1, conv1_sdc = defuse(conv1, 2, defuse_type=SPATIAL)';
    assert.equal(scopeOf(line, 'conv1_sd1'), 'variable.other.layer.definition.alls');
    assert.equal(scopeOf(line, 'conv1_sdc'), 'variable.other.layer.definition.alls');
    assert.equal(scopeOf(line, 'defuse'), 'support.function.command.alls');
    assert.equal(scopeOf(line, 'defuse_type'), 'variable.parameter.alls');
    assert.equal(scopeOf(line, 'SPATIAL'), 'constant.language.alls');
    const empty = '{} = defuse_block(matmul1, matmul2, defuse_count=4)';
    assert.equal(scopeOf(empty, '{}'), 'punctuation.definition.empty-targets.alls');
    assert.equal(scopeOf(empty, 'matmul2'), 'variable.other.layer.alls');
  });

  it('keyword arguments, enums, booleans and numbers', () => {
    const line = 'quantization_param(conv12, precision_mode=a16_w16)';
    assert.equal(scopeOf(line, 'quantization_param'), 'support.function.command.alls');
    assert.equal(scopeOf(line, 'conv12'), 'variable.other.layer.alls');
    assert.equal(scopeOf(line, 'precision_mode'), 'variable.parameter.alls');
    assert.equal(scopeOf(line, 'a16_w16'), 'constant.language.alls');
    const flags = 'pre_quantization_optimization(activation_clipping, layers={conv*}, mode=percentile, clipping_values=[0, 99.99], recollect_stats=True)';
    assert.equal(scopeOf(flags, 'activation_clipping'), 'support.constant.section.alls');
    assert.equal(scopeOf(flags, 'True'), 'constant.language.boolean.alls');
    assert.equal(scopeOf(flags, '99.99'), 'constant.numeric.alls');
    assert.equal(scopeOf('post_quantization_optimization(finetune, policy=enabled, learning_rate=1e-5)', '1e-5'), 'constant.numeric.alls');
    assert.equal(scopeOf('logits_layer1 = logits_layer(fc1, softmax, -1, cpu)', '-1'), 'constant.numeric.alls');
  });

  it('layer patterns with wildcards, classes and scopes', () => {
    const line = 'quantization_param({conv_feature_splitter[0-9]*_[2-3]}, precision_mode=a8_w8)';
    assert.equal(scopeOf(line, '{'), 'punctuation.definition.pattern.begin.alls');
    assert.equal(scopeOf(line, 'conv_feature_splitter'), 'variable.other.layer.alls');
    assert.equal(scopeOf(line, '[0-9]'), 'constant.character.set.alls');
    assert.equal(scopeOf(line, '*'), 'keyword.operator.wildcard.alls');
    assert.equal(scopeOf(line, '}'), 'punctuation.definition.pattern.end.alls');
    const scoped = 'quantization_param({vit_tiny/ew_add*}, precision_mode=a16_w16)';
    assert.equal(scopeOf(scoped, 'vit_tiny'), 'entity.name.namespace.scope.alls');
    assert.equal(scopeOf(scoped, '/'), 'punctuation.separator.scope.alls');
    assert.equal(scopeOf(scoped, 'ew_add'), 'variable.other.layer.alls');
  });

  it('scoped layer names and names with "-"', () => {
    const line = 'quantization_param([vit_tiny/conv32], precision_mode=a16_w16)';
    assert.equal(scopeOf(line, 'vit_tiny'), 'entity.name.namespace.scope.alls');
    assert.equal(scopeOf(line, 'conv32'), 'variable.other.layer.alls');
    const dash = 'sh_from_conv15_to_conv18_d0-3 = shortcut(conv15, [conv18_d0, conv18_d1])';
    assert.equal(scopeOf(dash, 'sh_from_conv15_to_conv18_d0-3'), 'variable.other.layer.definition.alls');
  });

  it('released-script forms: durations, names with "." before a digit, None, no illegal text', () => {
    assert.equal(scopeOf('allocator_param(timeout=30m)', '30m'), 'constant.numeric.duration.alls');
    assert.equal(scopeOf('allocator_param(timeout=2h)', '2h'), 'constant.numeric.duration.alls');
    assert.equal(scopeOf('performance_param(fps=None)', 'None'), 'constant.language.boolean.alls');
    const dotted = 'conv4_sd0, conv4_sdc = defuse(centerpose_regnetx_1.6gf_fpn/conv4, 2)';
    assert.equal(scopeOf(dotted, 'centerpose_regnetx_1.6gf_fpn'), 'entity.name.namespace.scope.alls');
    assert.equal(scopeOf('mobilenet_v2_1.0/normalization1 = normalization([1.0], [2.0])', 'mobilenet_v2_1.0'), 'entity.name.namespace.scope.alls');
    const lines = [
      'context_0.compilation_param(fps=330.0)',
      'compilation_param({net/matmul1: [net/matmul2, net/matmul3]})',
      dotted,
      'allocator_param(timeout=30m)',
    ];
    for (const t of tokens(lines)) assert.ok(!t.scopes.includes('invalid.illegal.alls'), `${JSON.stringify(t.text)} on line ${t.line + 1} is marked illegal`);
  });

  it('double-quoted paths', () => {
    const line = 'nms_postprocess("../../postprocess_config/yolov8n_nms_config.json", meta_arch=yolov8, engine=cpu)';
    const t = tokens([line]);
    const inString = t
      .filter((x) => x.scopes.includes('string.quoted.double.alls'))
      .map((x) => x.text)
      .join('');
    assert.equal(inString, '"../../postprocess_config/yolov8n_nms_config.json"');
    assert.equal(scopeOf(line, 'meta_arch'), 'variable.parameter.alls');
    assert.equal(scopeOf(line, 'cpu'), 'constant.language.alls');
  });

  it('method form context_0.place(...)', () => {
    const line = 'context_0.place(0, [conv11_d0, conv11_d1])';
    assert.equal(scopeOf(line, 'context_0'), 'variable.other.object.alls');
    assert.equal(scopeOf(line, '.'), 'punctuation.accessor.alls');
    assert.equal(scopeOf(line, 'place'), 'support.function.command.alls');
  });

  it('unknown commands and stray text are told apart from known ones', () => {
    assert.equal(scopeOf('quantisation_param(conv1)', 'quantisation_param'), 'entity.name.function.alls');
    assert.equal(scopeOf('foo bar', 'foo'), 'invalid.illegal.alls');
  });

  it('a command wrapped over several lines stays one call', () => {
    const lines = [
      'post_quantization_optimization(finetune, policy=enabled,',
      '    loss_layer_names=[conv94, conv85,',
      '    conv75], epochs=4)',
      'performance_param(fps=150)',
    ];
    const t = tokens(lines);
    const key = t.find((x) => x.text === 'loss_layer_names')!;
    assert.equal(key.scope, 'variable.parameter.alls');
    assert.ok(key.scopes.includes('meta.function-call.alls'));
    assert.equal(t.find((x) => x.text === 'conv75')!.scope, 'variable.other.layer.alls');
    assert.equal(t.find((x) => x.text === 'epochs')!.scope, 'variable.parameter.alls');
    const perf = t.find((x) => x.text === 'performance_param')!;
    assert.equal(perf.scope, 'support.function.command.alls');
    assert.equal(perf.scopes.filter((s) => s === 'meta.function-call.alls').length, 1, 'the call closed on line 3');
  });

  it('CRLF line ends tokenize like LF', () => {
    assert.equal(scopeOf('quantization_param({ew_add*}, precision_mode=a16_w16)\r', 'a16_w16'), 'constant.language.alls');
  });

  it('knows every command of the command table (and nothing else) as support.function', () => {
    const raw = JSON.parse(fs.readFileSync(grammarFile, 'utf8'));
    const m = /\(\?:([^)]*)\)/.exec(raw.repository['command-name'].patterns[0].match as string)!;
    assert.deepEqual(
      m[1]!.split('|').sort(),
      allCommands()
        .map((c) => c.name)
        .sort(),
    );
    for (const c of allCommands()) assert.equal(scopeOf(`${c.name}()`, c.name), 'support.function.command.alls', c.name);
  });

  it('language configuration: # comments, brackets and auto-closing pairs', () => {
    const conf = JSON.parse(fs.readFileSync(path.join(root, 'syntaxes', 'alls.language-configuration.json'), 'utf8'));
    assert.equal(conf.comments.lineComment, '#');
    assert.deepEqual(conf.brackets, [
      ['(', ')'],
      ['[', ']'],
      ['{', '}'],
    ]);
    const pairs = conf.autoClosingPairs.map((p: { open: string; close: string }) => p.open + p.close);
    for (const p of ['()', '[]', '{}', '""']) assert.ok(pairs.includes(p), p);
    const word = new RegExp(conf.wordPattern);
    assert.equal(word.exec('  vit_tiny/ew_add1,')![0], 'vit_tiny/ew_add1');
  });
});
