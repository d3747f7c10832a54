import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isHailoError } from '../../src/core/errors';
import { parseTraceback, innermostUserFrame, userFileTest } from '../../src/core/export/traceback';
import { LineSplitter, parseDriverLine } from '../../src/core/export/protocol';
import { buildDriverArgv, parseInputSpec, parseShape, specFromModel } from '../../src/core/export/spec';
import { resolveCliInterpreter, resolveEditorInterpreter } from '../../src/core/export/interpreter';
import { dynamicAxesWarnings } from '../../src/core/export/run';
import { loadSourceMap } from '../../src/core/graph/sourceMap';

const IMPORT_TB = `Traceback (most recent call last):
  File "/home/u/proj/.venv/lib/python3.11/site-packages/hailo_export.py", line 249, in load_factory
    mod = importlib.import_module(mod_name)
          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3.11/importlib/__init__.py", line 126, in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
  File "<frozen importlib._bootstrap>", line 1206, in _gcd_import
  File "/home/u/proj/asr/model.py", line 3, in <module>
    import missing_pkg
ModuleNotFoundError: No module named 'missing_pkg'
`;

describe('export: Python tracebacks', () => {
  it('parses frames, class and message of a ModuleNotFoundError', () => {
    const tb = parseTraceback(IMPORT_TB)!;
    assert.equal(tb.errorClass, 'ModuleNotFoundError');
    assert.equal(tb.message, "No module named 'missing_pkg'");
    assert.equal(tb.frames.length, 4);
    assert.deepEqual(tb.frames[3], { file: '/home/u/proj/asr/model.py', line: 3, fn: '<module>' });
    assert.deepEqual(tb.frames[2], { file: '<frozen importlib._bootstrap>', line: 1206, fn: '_gcd_import' });
  });

  it('picks the innermost frame in the user files, skipping site-packages and frozen frames', () => {
    const tb = parseTraceback(IMPORT_TB)!;
    const f = innermostUserFrame(tb.frames, userFileTest('/home/u/proj'));
    assert.deepEqual(f, { file: '/home/u/proj/asr/model.py', line: 3, fn: '<module>' });
    // the same stack with the user frame outside the root: nothing to blame
    assert.equal(innermostUserFrame(tb.frames, userFileTest('/elsewhere')), undefined);
  });

  it('prefers the driver user flags when present', () => {
    const f = innermostUserFrame(
      [
        { file: '/p/a.py', line: 1, user: true },
        { file: '/p/torch/x.py', line: 2, user: false },
      ],
      () => true,
    );
    assert.equal(f?.line, 1);
  });

  it('takes the last of chained tracebacks, with ANSI colours and CRLF', () => {
    const text =
      '\x1b[31mTraceback (most recent call last):\r\n  File "/p/a.py", line 1, in f\r\nKeyError: 1\r\n\r\n' +
      'During handling of the above exception, another exception occurred:\r\n\r\n' +
      'Traceback (most recent call last):\r\n  File "/p/b.py", line 7, in g\r\n    x()\r\n' +
      "torch.onnx.errors.UnsupportedOperatorError: Exporting the operator 'aten::fft_rfft' to ONNX opset version 13 is not supported.\x1b[0m\r\n";
    const tb = parseTraceback(text)!;
    assert.equal(tb.errorClass, 'torch.onnx.errors.UnsupportedOperatorError');
    assert.match(tb.message, /aten::fft_rfft/);
    assert.deepEqual(tb.frames, [{ file: '/p/b.py', line: 7, fn: 'g' }]);
  });

  it('reads a SyntaxError location (a frame without "in")', () => {
    const text = `Traceback (most recent call last):
  File "/p/drv.py", line 3, in <module>
  File "/p/m.py", line 12
    def f(:
          ^
SyntaxError: invalid syntax
`;
    const tb = parseTraceback(text)!;
    assert.equal(tb.errorClass, 'SyntaxError');
    assert.deepEqual(tb.frames.at(-1), { file: '/p/m.py', line: 12 });
  });

  it('keeps a multi-line message and ignores text before the traceback', () => {
    const tb = parseTraceback(
      'warning: x\nTraceback (most recent call last):\n  File "/p/a.py", line 2, in f\nRuntimeError: shapes differ\n  mat1: [1, 80]\n',
    )!;
    assert.equal(tb.errorClass, 'RuntimeError');
    assert.equal(tb.message, 'shapes differ\n  mat1: [1, 80]');
  });

  it('returns undefined when there is no traceback', () => {
    assert.equal(parseTraceback('just some\ntext'), undefined);
    assert.equal(parseTraceback(''), undefined);
  });
});

describe('export: driver protocol', () => {
  it('parses progress, result and error lines and ignores other text', () => {
    assert.equal(parseDriverLine('{"event":"progress","step":"load","message":"m","fraction":0.2}')?.event, 'progress');
    const r = parseDriverLine(
      JSON.stringify({ event: 'result', onnx: '/a.onnx', sourceMap: null, nodes: 3, mapped: 2, opset: 17, inputs: [], outputs: [], symbolicDims: [] }),
    );
    assert.equal(r?.event === 'result' && r.mapped, 2);
    const e = parseDriverLine(JSON.stringify({ event: 'error', kind: 'import', errorClass: 'ImportError', message: 'x' }));
    assert.equal(e?.event === 'error' && e.frames.length, 0);
    assert.equal(parseDriverLine('plain text'), undefined);
    assert.equal(parseDriverLine('{"event": "result", "onnx": "/not/this.onnx"}'), undefined, 'an incomplete result is not one');
    assert.equal(parseDriverLine('{"event":"progress"'), undefined);
    assert.equal(parseDriverLine('{"event":"error","kind":"nonsense","errorClass":"E","message":"m"}'), undefined);
  });

  it('splits lines on \\n, \\r\\n and lone \\r across chunk boundaries', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.push('a\r');
    s.push('\nb\n 10%\r 20%\rpart');
    s.push('ial\n');
    s.push('tail');
    s.end();
    assert.deepEqual(lines, ['a', 'b', ' 10%', ' 20%', 'partial', 'tail']);
  });
});

describe('export: request', () => {
  it('parses shapes and input specs', () => {
    assert.deepEqual(parseShape('1x80x3000'), [1, 80, 3000]);
    assert.deepEqual(parseShape('1,80,3000'), [1, 80, 3000]);
    assert.deepEqual(parseInputSpec('ids:1x448:int64'), { name: 'ids', shape: [1, 448], dtype: 'int64' });
    for (const bad of ['mel', 'mel:', 'mel:1x0', 'mel:1xa', ':1x2', 'mel:1x2:float64', 'a:1:float32:x']) {
      assert.throws(
        () => parseInputSpec(bad),
        (e: unknown) => isHailoError(e, 'INVALID_ARGUMENT'),
        bad,
      );
    }
  });

  it('builds the driver argv from a model entry, static unless the entry asks', () => {
    const spec = specFromModel(
      { name: 'enc', entry: 'asr.enc:build', inputs: [{ name: 'mel', shape: [1, 80, 3000] }], outputs: [{ name: 'h' }], onnx: 'build/enc.onnx', opset: 13 },
      '/proj',
    );
    const argv = buildDriverArgv('/ext/dist/python/hailo_export.py', spec);
    assert.deepEqual(argv, [
      '-u',
      '/ext/dist/python/hailo_export.py',
      '--entry',
      'asr.enc:build',
      '--input=mel:1x80x3000',
      '--output-name=h',
      '--opset',
      '13',
      '--out',
      path.resolve('/proj/build/enc.onnx'),
      '--root',
      path.resolve('/proj'),
    ]);
    const dyn = specFromModel(
      { name: 'enc', entry: 'asr.enc:build', inputs: [{ name: 'mel', shape: [1, 80, 3000] }], onnx: 'e.onnx', dynamicAxes: { mel: { '2': 'frames' } } },
      '/proj',
    );
    const a2 = buildDriverArgv('/d.py', dyn);
    assert.equal(a2[a2.indexOf('--dynamic-axes') + 1], '{"mel":{"2":"frames"}}');
    assert.equal(a2[a2.indexOf('--opset') + 1], '17', 'default opset');
  });

  it('keeps hostile names as single argv items and refuses a model without entry', () => {
    const argv = buildDriverArgv('/d.py', {
      entry: 'a.b:c',
      inputs: [{ name: 'x; rm -rf ~', shape: [1] }],
      outputNames: ['$(id)'],
      opset: 17,
      out: '/o/x y.onnx',
      root: '/r',
    });
    assert.ok(argv.includes('--input=x; rm -rf ~:1'));
    assert.ok(argv.includes('--output-name=$(id)'));
    assert.ok(argv.includes('/o/x y.onnx'));
    // names that look like options stay values of their own option
    const opt = buildDriverArgv('/d.py', {
      entry: 'a.b:c',
      inputs: [{ name: '--root=/tmp', shape: [1] }],
      outputNames: ['--no-sourcemap', '--dynamic-axes={"x":{"0":"b"}}'],
      opset: 17,
      out: '/o/x.onnx',
      root: '/r',
    });
    assert.ok(!opt.includes('--no-sourcemap') && !opt.some((a) => a.startsWith('--dynamic-axes') || a.startsWith('--root=')), JSON.stringify(opt));
    assert.deepEqual(
      opt.filter((a) => a.startsWith('--input') || a.startsWith('--output-name')),
      ['--input=--root=/tmp:1', '--output-name=--no-sourcemap', '--output-name=--dynamic-axes={"x":{"0":"b"}}'],
    );
    assert.throws(
      () => buildDriverArgv('/d.py', { entry: 'a.b:c; x', inputs: [{ name: 'x', shape: [1] }], outputNames: [], opset: 17, out: '/o', root: '/r' }),
      (e: unknown) => isHailoError(e, 'INVALID_ARGUMENT'),
    );
    assert.throws(
      () => specFromModel({ name: 'm', inputs: [{ name: 'x', shape: [1] }], onnx: 'm.onnx' }, '/r'),
      (e: unknown) => isHailoError(e, 'INVALID_ARGUMENT'),
    );
  });
});

describe('export: interpreter order', () => {
  it('editor: Python extension, else setting, else python3', async () => {
    assert.deepEqual(await resolveEditorInterpreter({ pythonExtension: async () => '/venv/bin/python', setting: '/opt/py' }), {
      path: '/venv/bin/python',
      source: 'python-extension',
    });
    assert.deepEqual(await resolveEditorInterpreter({ pythonExtension: async () => undefined, setting: '/opt/py' }), { path: '/opt/py', source: 'setting' });
    assert.deepEqual(
      await resolveEditorInterpreter({
        pythonExtension: async () => {
          throw new Error('api');
        },
        setting: ' ',
      }),
      { path: 'python3', source: 'default' },
    );
    assert.deepEqual(await resolveEditorInterpreter({}), { path: 'python3', source: 'default' });
  });
  it('cli: --python, else HAILO_PYTHON, else python3', () => {
    assert.deepEqual(resolveCliInterpreter('/a/python', { HAILO_PYTHON: '/b' }), { path: '/a/python', source: 'cli-option' });
    assert.deepEqual(resolveCliInterpreter(undefined, { HAILO_PYTHON: '/b' }), { path: '/b', source: 'env' });
    assert.deepEqual(resolveCliInterpreter(undefined, {}), { path: 'python3', source: 'default' });
  });
});

describe('export: dynamic axes warning', () => {
  it('says what symbolic dimensions cost, and nothing for static exports', () => {
    assert.deepEqual(dynamicAxesWarnings({ symbolicDims: [], shapeOps: 0, sourceMap: null, onnx: '/p/m.onnx' }), []);
    const [w] = dynamicAxesWarnings({
      symbolicDims: [{ tensor: 'mel', axis: 2, dim: 'frames' }],
      shapeOps: 5,
      dynamicAxes: ['mel'],
      sourceMap: null,
      onnx: '/p/m.onnx',
    });
    assert.match(w!, /mel\[2\]="frames"/);
    assert.match(w!, /remove "dynamicAxes"/);
    assert.doesNotMatch(w!, /--tensor-shapes/, 'the extension never passes --tensor-shapes');
  });
  it('symbolic dims the export made itself name the operator and the Python line, not the settings', () => {
    const ws = dynamicAxesWarnings({
      symbolicDims: [
        { tensor: '272', axis: 0, dim: 'Conv272_dim_0' },
        { tensor: '272', axis: 2, dim: 'Conv272_dim_2' },
      ],
      shapeOps: 1,
      dynamicAxes: [],
      sourceMap: '/p/models/enc.onnx.sourcemap.json',
      onnx: '/p/models/enc.onnx',
      symbolicOrigins: [
        {
          node: '/Pad',
          op: 'Pad',
          output: '/Pad_output_0',
          shape: ['unk__5', 'unk__6', 'unk__7'],
          computedInputs: ['/Cast_1_output_0'],
          file: '../enc.py',
          line: 10,
        },
      ],
    });
    assert.equal(ws.length, 1);
    assert.match(ws[0]!, /no dynamic axes were asked for/);
    assert.match(ws[0]!, /Pad node "\/Pad" at \/p\/enc\.py:10/);
    assert.match(ws[0]!, /F\.pad/);
    assert.doesNotMatch(ws[0]!, /Export with static shapes unless you need them/);
  });
});

describe('export: source map sidecar', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-sm-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('resolves relative paths against the sidecar folder and keeps absolute ones', async () => {
    const onnx = path.join(dir, 'm.onnx');
    fs.writeFileSync(
      `${onnx}.sourcemap.json`,
      JSON.stringify({
        version: 1,
        model: 'm.onnx',
        nodes: { '/a/MatMul': { file: 'pkg/m.py', line: 4, module: 'a' }, '/b/Add': { file: '/abs/x.py', line: 9 } },
      }),
    );
    const sm = (await loadSourceMap(onnx))!;
    assert.equal(sm.size, 2);
    assert.deepEqual(sm.lookup('/a/MatMul'), { file: path.join(dir, 'pkg', 'm.py'), line: 4, module: 'a' });
    assert.deepEqual(sm.lookup('/b/Add'), { file: '/abs/x.py', line: 9 });
    assert.equal(sm.lookup('/nope'), undefined);
    assert.equal(sm.lookup('__proto__'), undefined);
    assert.equal(sm.lookup('constructor'), undefined);
  });

  it('returns undefined without a sidecar and throws a typed error on a corrupt one', async () => {
    const onnx = path.join(dir, 'm.onnx');
    assert.equal(await loadSourceMap(onnx), undefined);
    fs.writeFileSync(`${onnx}.sourcemap.json`, '{"version": 1, "model"');
    await assert.rejects(loadSourceMap(onnx), (e: unknown) => isHailoError(e, 'MODEL_INVALID') && e.file === `${onnx}.sourcemap.json`);
    fs.writeFileSync(`${onnx}.sourcemap.json`, JSON.stringify({ version: 1, model: 'm.onnx', nodes: { a: { file: 'x.py', line: 0 } } }));
    await assert.rejects(loadSourceMap(onnx), (e: unknown) => isHailoError(e, 'MODEL_INVALID'));
  });
});

describe('export: source map helpers', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-sm-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists nodes per file and line, gives the stack and detects a changed model', async () => {
    const onnx = path.join(dir, 'm.onnx');
    fs.writeFileSync(onnx, 'model bytes');
    const { fileSha256 } = await import('../../src/core/graph/sourceMap');
    const sha = await fileSha256(onnx);
    assert.match(sha, /^[0-9a-f]{64}$/);
    fs.writeFileSync(
      `${onnx}.sourcemap.json`,
      JSON.stringify({
        version: 1,
        model: 'm.onnx',
        modelSha256: sha,
        nodes: {
          '/a/MatMul': {
            file: 'p/m.py',
            line: 4,
            stack: [
              { file: 'p/m.py', line: 20, fn: 'forward' },
              { file: 'p/m.py', line: 4, fn: 'forward' },
            ],
          },
          '/a/Mul': { file: 'p/m.py', line: 4 },
          '/b/Add': { file: 'p/n.py', line: 2 },
        },
      }),
    );
    const sm = (await loadSourceMap(onnx))!;
    assert.deepEqual([...sm.nodesInFile(path.join(dir, 'p', 'm.py'))], [[4, ['/a/MatMul', '/a/Mul']]]);
    assert.deepEqual(
      sm.stack('/a/MatMul').map((f) => f.line),
      [20, 4],
    );
    assert.deepEqual(sm.stack('/b/Add'), [{ file: path.join(dir, 'p', 'n.py'), line: 2 }]);
    assert.equal(sm.matches(sha), true);
    assert.equal(sm.matches('0'.repeat(64)), false);
  });
});
