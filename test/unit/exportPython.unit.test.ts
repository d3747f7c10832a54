import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jsonc from 'jsonc-parser';
import { addModelEdits, exportLenses, modelNameFromClass, moduleNameOf, outlinePython } from '../../src/core/export/pythonSource';
import { parseProjectText } from '../../src/core/project/load';

const ENCODER = fs.readFileSync(path.resolve(__dirname, '..', 'fixtures', 'py', 'tinywhisper', 'encoder.py'), 'utf8');
const lineOf = (text: string, re: RegExp) => text.split('\n').findIndex((l) => re.test(l));

describe('export: Python outline for CodeLenses', () => {
  it('finds nn.Module classes, their constructors and factories in the fixture encoder', () => {
    const o = outlinePython(ENCODER);
    assert.deepEqual(
      o.classes.map((c) => [c.name, c.isModule, c.noArgInit]),
      [
        ['MultiHeadAttention', true, false],
        ['ResidualAttentionBlock', true, false],
        ['AudioEncoder', true, true],
        ['ConvOnlyEncoder', true, true],
      ],
    );
    const build = o.functions.find((f) => f.name === 'build')!;
    assert.deepEqual([build.noArgs, build.returns], [true, ['AudioEncoder']]);
    assert.equal(o.functions.find((f) => f.name === 'sinusoids')?.noArgs, false);
    assert.equal(o.classes.find((c) => c.name === 'AudioEncoder')?.line, lineOf(ENCODER, /^class AudioEncoder/));
  });

  it('knows the spellings of Module and ignores nested and non-module classes', () => {
    const text = [
      'import torch.nn as tnn',
      'from torch.nn import Module as M, Linear',
      'class A(tnn.Module):',
      '    class Inner(tnn.Module):',
      '        pass',
      '    def __init__(self, d=3, *args, **kw):',
      '        super().__init__()',
      'class B(M): pass',
      'class C(A):',
      '    def __init__(',
      '        self,',
      '        width,  # a comment (with parens)',
      '    ):',
      '        pass',
      'class D(object):',
      '    pass',
      'class E(torch.nn.Module, Mixin):',
      '    pass',
      'def make(width: int = 4) -> A:',
      '    if width:',
      '        return C(width)',
      '    return torch.nn.Identity()',
    ].join('\n');
    const o = outlinePython(text);
    assert.deepEqual(
      o.classes.map((c) => [c.name, c.isModule, c.noArgInit]),
      [
        ['A', true, true],
        ['B', true, true],
        ['C', true, false],
        ['D', false, true],
        ['E', true, true],
      ],
    );
    assert.deepEqual(
      o.functions.map((f) => [f.name, f.noArgs, f.returns]),
      [['make', true, ['C', 'Identity']]],
    );
  });

  it('module names from paths', () => {
    assert.equal(moduleNameOf('asr/encoder.py'), 'asr.encoder');
    assert.equal(moduleNameOf('asr/__init__.py'), 'asr');
    assert.equal(moduleNameOf('asr\\sub\\m.py'), 'asr.sub.m');
    assert.equal(moduleNameOf('../x.py'), undefined);
    assert.equal(moduleNameOf('my-pkg/m.py'), undefined);
    assert.equal(moduleNameOf('notes.txt'), undefined);
  });

  it('lenses: export on the named factory and the class it returns, add on the other modules', () => {
    const o = outlinePython(ENCODER);
    const lenses = exportLenses(o, 'tinywhisper.encoder', [
      { name: 'enc', entry: 'tinywhisper.encoder:build' },
      { name: 'other', entry: 'elsewhere.mod:build' },
    ]);
    const at = (re: RegExp) => lineOf(ENCODER, re);
    assert.deepEqual(lenses, [
      { line: at(/^class MultiHeadAttention/), kind: 'add', className: 'MultiHeadAttention' },
      { line: at(/^class ResidualAttentionBlock/), kind: 'add', className: 'ResidualAttentionBlock' },
      { line: at(/^class AudioEncoder/), kind: 'export', model: 'enc' },
      { line: at(/^def build\(\)/), kind: 'export', model: 'enc' },
      { line: at(/^class ConvOnlyEncoder/), kind: 'add', className: 'ConvOnlyEncoder', entry: 'tinywhisper.encoder:ConvOnlyEncoder' },
    ]);
    // a class named directly as the entry
    const l2 = exportLenses(o, 'tinywhisper.encoder', [{ name: 'c', entry: 'tinywhisper.encoder:ConvOnlyEncoder' }]);
    assert.deepEqual(
      l2.find((l) => l.kind === 'export'),
      { line: at(/^class ConvOnlyEncoder/), kind: 'export', model: 'c' },
    );
    assert.equal(l2.find((l) => l.className === 'AudioEncoder')?.entry, 'tinywhisper.encoder:AudioEncoder');
  });

  it('model names from class names', () => {
    assert.equal(modelNameFromClass('AudioEncoder'), 'audio-encoder');
    assert.equal(modelNameFromClass('HTTPEncoder'), 'http-encoder');
    assert.equal(modelNameFromClass('Conv1dStem'), 'conv1d-stem');
  });
});

describe('export: adding a model to hailo.json', () => {
  const model = {
    name: 'conv-only',
    entry: 'tinywhisper.encoder:ConvOnlyEncoder',
    inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
    onnx: 'build/conv-only.onnx',
  };

  it('appends after the last model, keeping comments, and the result is a valid project', () => {
    const text =
      '// project\n{\n  // the encoder\n  "models": [\n    { "name": "enc", "entry": "a.b:c", "inputs": [{ "name": "mel", "shape": [1, 80, 3000] }], "onnx": "enc.onnx" } // main\n  ]\n}\n';
    const out = jsonc.applyEdits(text, addModelEdits(text, model));
    assert.ok(out.startsWith('// project\n{\n  // the encoder\n'));
    assert.match(out, /"onnx": "enc.onnx" \}, \/\/ main\n/);
    const parsed = parseProjectText(out, 'hailo.json');
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(
      parsed.project?.models.map((m) => m.name),
      ['enc', 'conv-only'],
    );
    assert.deepEqual(parsed.project?.models[1]?.inputs[0]?.shape, [1, 80, 3000]);
  });

  it('records the outputs the module returned when it ran once (names and the shape contract)', () => {
    const text = '{\n  "models": []\n}\n';
    const out = jsonc.applyEdits(text, addModelEdits(text, { ...model, outputs: [{ name: 'features', shape: [1, 1500, 64] }] }));
    const parsed = parseProjectText(out, 'hailo.json');
    assert.deepEqual(parsed.problems, [], out);
    assert.deepEqual(parsed.project?.models[0]?.outputs, [{ name: 'features', shape: [1, 1500, 64] }]);
  });

  it('handles an empty list, a missing list and a trailing comma; refuses duplicates and broken files', () => {
    for (const text of [
      '{ "models": [] }',
      '{\n  "targets": []\n}',
      '{\n  "models": [\n    { "name": "x", "inputs": [{ "name": "i", "shape": [1] }], "onnx": "x.onnx" },\n  ]\n}',
    ]) {
      const out = jsonc.applyEdits(text, addModelEdits(text, model));
      const parsed = parseProjectText(out, 'hailo.json');
      assert.deepEqual(parsed.problems, [], out);
      assert.ok(
        parsed.project?.models.some((m) => m.name === 'conv-only'),
        out,
      );
    }
    assert.throws(() => addModelEdits('{ "models": [{ "name": "conv-only" }] }', model), /already exists/);
    assert.throws(() => addModelEdits('{ "models": [', model), /not a valid JSON object/);
    assert.throws(() => addModelEdits('{ "models": {} }', model), /not an array/);
  });
});
