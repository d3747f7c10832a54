/**
 * Real exports: the driver under Debian's /usr/bin/python3 (torch 1.13, onnx 1.12) on the fixture
 * packages in test/fixtures/py. Skipped, with the reason logged, where that Python lacks torch.
 */
import { createHash } from 'node:crypto';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isHailoError } from '../../src/core/errors';
import { diagnosticMessage, ExportFailedError, findDriver, runExport, type ExportResult, type SpawnFn } from '../../src/core/export/run';
import type { ExportSpec } from '../../src/core/export/spec';
import type { Interpreter } from '../../src/core/export/interpreter';
import { loadSourceMap, fileSha256 } from '../../src/core/graph/sourceMap';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'py');
const DRIVER = path.join(ROOT, 'src', 'python', 'hailo_export.py');
const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';
const HINT = 'Choose another with --python PATH.';

function torchMissing(): string | undefined {
  const r = spawnSync(PY, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
  if (r.error) return `${PY} cannot be run (${r.error.message})`;
  if (r.status !== 0) return `${PY} has no torch/onnx (${r.stderr.trim().split('\n').pop()})`;
  return undefined;
}

/** 1-based line of the `# map:<tag>` marker in a fixture file. */
function markerLine(file: string, tag: string): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(`# map:${tag}`));
  assert.ok(i >= 0, `marker ${tag} in ${file}`);
  return i + 1;
}

const interp: Interpreter = { path: PY, source: 'cli-option' };
let tmp: string;

function spec(entry: string, out: string, extra: Partial<ExportSpec> = {}): ExportSpec {
  return { entry, inputs: [{ name: 'mel', shape: [1, 80, 3000] }], outputNames: ['features'], opset: 17, out, root: FIXTURES, ...extra };
}

async function exportOk(s: ExportSpec): Promise<ExportResult> {
  return runExport({ interpreter: interp, driverPath: DRIVER, spec: s, chooseHint: HINT });
}

async function exportFails(s: ExportSpec, i: Interpreter = interp): Promise<ExportFailedError> {
  try {
    await runExport({ interpreter: i, driverPath: DRIVER, spec: s, chooseHint: HINT });
  } catch (e) {
    assert.ok(e instanceof ExportFailedError, `expected ExportFailedError, got ${String(e)}`);
    return e;
  }
  assert.fail('export should have failed');
}

describe('export: real exports with torch', function () {
  this.timeout(60000);
  before(function () {
    const why = torchMissing();
    if (why) {
      console.log(`    skipping real exports: ${why}`);
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-export-'));
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  const encoderPy = path.join(FIXTURES, 'tinywhisper', 'encoder.py');

  for (const opset of [13, 17]) {
    it(`maps the LayerNorm, the attention MatMul and a reshape to their exact lines at opset ${opset}`, async () => {
      const out = path.join(tmp, `o${opset}`, 'nested', 'encoder.onnx');
      const progress: string[] = [];
      const r = await runExport({
        interpreter: interp,
        driverPath: DRIVER,
        spec: spec('tinywhisper.encoder:build', out, { opset }),
        chooseHint: HINT,
        onProgress: (p) => progress.push(p.step),
      });
      assert.equal(r.onnx, out);
      assert.ok(fs.statSync(out).size > 1000);
      assert.deepEqual(progress, ['import', 'load', 'export', 'map']);
      assert.deepEqual(r.outputs, [{ name: 'features', shape: [1, 1500, 32] }]);
      assert.deepEqual(r.inputs, [{ name: 'mel', shape: [1, 80, 3000] }]);
      assert.deepEqual(r.symbolicDims, []);
      assert.deepEqual(r.warnings, []);
      assert.ok(r.mapped > 0.9 * r.nodes, `${r.mapped} of ${r.nodes} mapped`);

      const sm = (await loadSourceMap(out))!;
      assert.equal(sm.size, r.mapped);
      assert.equal(sm.data.modelSha256, await fileSha256(out));
      assert.equal(sm.data.entry, 'tinywhisper.encoder:build');
      const ln = markerLine(encoderPy, 'layernorm');
      if (opset >= 17) {
        assert.deepEqual(sm.lookup('/blocks.0/attn_ln/LayerNormalization'), { file: encoderPy, line: ln, module: 'blocks.0.attn_ln' });
      } else {
        // decomposed: every piece of the LayerNorm points at the line that calls it
        for (const op of ['ReduceMean', 'Sub', 'Pow', 'Sqrt', 'Div']) {
          assert.deepEqual(sm.lookup(`/blocks.1/attn_ln/${op}`), { file: encoderPy, line: ln, module: 'blocks.1.attn_ln' }, op);
        }
      }
      assert.deepEqual(sm.lookup('/blocks.0/attn/MatMul'), { file: encoderPy, line: markerLine(encoderPy, 'matmul'), module: 'blocks.0.attn' });
      assert.deepEqual(sm.lookup('/blocks.1/attn/Reshape'), { file: encoderPy, line: markerLine(encoderPy, 'reshape'), module: 'blocks.1.attn' });
      assert.equal(sm.lookup('/conv1/Conv')?.line, markerLine(encoderPy, 'conv1'));
      // the stack runs from the encoder's loop over blocks down to the attention line
      const stack = sm.stack('/blocks.0/attn/MatMul');
      assert.equal(stack.at(-1)?.line, markerLine(encoderPy, 'matmul'));
      assert.ok(stack.length >= 3, JSON.stringify(stack));
    });
  }

  it('writes paths relative to the sidecar when the source is inside its folder, and exports the conv-only variant', async () => {
    const out = path.join(FIXTURES, 'build-test', 'conv_only.onnx');
    try {
      const r = await exportOk(spec('tinywhisper.encoder:build_conv_only', out));
      assert.deepEqual(r.outputs[0]?.shape, [1, 32, 1500]);
      const raw = JSON.parse(fs.readFileSync(`${out}.sourcemap.json`, 'utf8'));
      assert.equal(raw.nodes['/conv2/Conv'].file, '../tinywhisper/encoder.py');
      const sm = (await loadSourceMap(out))!;
      assert.equal(sm.lookup('/conv2/Conv')?.file, path.join(FIXTURES, 'tinywhisper', 'encoder.py'));
      assert.equal(sm.lookup('/conv2/Conv')?.line, markerLine(path.join(FIXTURES, 'tinywhisper', 'encoder.py'), 'conv2'));
    } finally {
      fs.rmSync(path.dirname(out), { recursive: true, force: true });
    }
  });

  it('keeps the protocol clean when the model prints, and streams its output', async () => {
    const out = path.join(tmp, 'chatty.onnx');
    const lines: string[] = [];
    const r = await runExport({
      interpreter: interp,
      driverPath: DRIVER,
      spec: spec('tinywhisper.encoder:build', out, { entry: 'tinywhisper.broken:build_chatty' }),
      chooseHint: HINT,
      onOutput: (l) => lines.push(l),
    });
    assert.equal(r.onnx, out, 'a JSON-looking print of the model is not taken for the result');
    assert.ok(lines.includes('plain text the model prints'));
  });

  it('a dynamic-axes request exports but reports its symbolic dims and what they cost', async () => {
    const out = path.join(tmp, 'dyn.onnx');
    const r = await exportOk(spec('tinywhisper.encoder:build_conv_only', out, { dynamicAxes: { mel: { '2': 'frames' } } }));
    assert.ok(
      r.symbolicDims.some((d) => d.tensor === 'mel' && d.axis === 2 && d.dim === 'frames'),
      JSON.stringify(r.symbolicDims),
    );
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /symbolic dimension.*"dynamicAxes"/s);
  });

  it('probe: runs the module once and reports its outputs, writing nothing', async () => {
    const out = path.join(tmp, 'probe', 'never.onnx');
    const r = await exportOk(spec('tinywhisper.encoder:build', out, { outputNames: [], probe: true }));
    assert.equal(r.probe, true);
    assert.deepEqual(r.outputs, [{ name: 'output', shape: [1, 1500, 32] }]);
    assert.deepEqual(r.inputs, [{ name: 'mel', shape: [1, 80, 3000] }]);
    assert.ok(!fs.existsSync(out) && !fs.existsSync(path.dirname(out)), 'nothing written');
    const wrong = await exportFails(spec('tinywhisper.encoder:build', out, { outputNames: [], probe: true, inputs: [{ name: 'mel', shape: [1, 3, 3000] }] }));
    assert.match(wrong.message, /running tinywhisper\.encoder:build on the given input shapes failed/);
  });

  it('symbolic dims made by the export itself (F.pad amounts from x.shape) name the Pad and its Python line', async () => {
    const out = path.join(tmp, 'padded.onnx');
    const r = await exportOk(spec('tinywhisper.padded:build', out, { inputs: [{ name: 'mel', shape: [1, 80, 3001] }] }));
    assert.ok(r.symbolicDims.length > 0, 'torch leaves the output shape symbolic here');
    const padLine =
      fs
        .readFileSync(path.join(FIXTURES, 'tinywhisper', 'padded.py'), 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('F.pad(')) + 1;
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /no dynamic axes were asked for/);
    assert.ok(r.warnings[0]!.includes(`padded.py:${padLine}`), r.warnings[0]);
    assert.match(r.warnings[0]!, /Pad node/);
    assert.doesNotMatch(r.warnings[0]!, /--tensor-shapes|unless you need them/);
    // the sidecar records what the export ran, so staleness is decided by content
    const sidecar = JSON.parse(fs.readFileSync(`${out}.sourcemap.json`, 'utf8'));
    const key = Object.keys(sidecar.sources).find((k) => k.endsWith('padded.py'));
    assert.ok(key, JSON.stringify(sidecar.sources));
    assert.equal(
      sidecar.sources[key],
      createHash('sha256')
        .update(fs.readFileSync(path.join(FIXTURES, 'tinywhisper', 'padded.py')))
        .digest('hex'),
    );
  });

  it('bad module path: ModuleNotFoundError on the import line of the user module', async () => {
    const e = await exportFails(spec('badimport.model:build', path.join(tmp, 'x.onnx')));
    assert.equal(e.code, 'EXPORT_FAILED');
    assert.equal(e.detail?.kind, 'import');
    assert.equal(e.detail?.errorClass, 'ModuleNotFoundError');
    const file = path.join(FIXTURES, 'badimport', 'model.py');
    assert.deepEqual(e.location, { file, line: markerLine(file, 'import') });
    assert.match(e.message, /hailo_workbench_not_installed_pkg/);
  });

  it('a module that does not exist at all, and a missing factory, fail without a user line', async () => {
    const e = await exportFails(spec('no_such_pkg.mod:build', path.join(tmp, 'x.onnx')));
    assert.equal(e.detail?.kind, 'import');
    assert.equal(e.location, undefined);
    const e2 = await exportFails(spec('tinywhisper.encoder:no_such_factory', path.join(tmp, 'x.onnx')));
    assert.equal(e2.detail?.kind, 'entry-not-found');
    assert.match(e2.message, /no_such_factory/);
  });

  it('factory raising: the raise line; non-module result: a clear message', async () => {
    const file = path.join(FIXTURES, 'tinywhisper', 'broken.py');
    const e = await exportFails(spec('tinywhisper.broken:build_raises', path.join(tmp, 'x.onnx')));
    assert.equal(e.detail?.kind, 'factory');
    assert.deepEqual(e.location, { file, line: markerLine(file, 'raise') });
    assert.match(e.message, /n_state must be positive/);
    const e2 = await exportFails(spec('tinywhisper.broken:build_not_module', path.join(tmp, 'x.onnx')));
    assert.match(e2.message, /returned int, not a torch\.nn\.Module/);
  });

  it('shape error during tracing and an unsupported operator point at the user line', async () => {
    const file = path.join(FIXTURES, 'tinywhisper', 'broken.py');
    const e = await exportFails(spec('tinywhisper.broken:build_shape_error', path.join(tmp, 'x.onnx')));
    assert.equal(e.detail?.kind, 'export');
    assert.deepEqual(e.location, { file, line: markerLine(file, 'shape') });
    const e2 = await exportFails(
      spec('tinywhisper.broken:build_unsupported', path.join(tmp, 'x.onnx'), { opset: 13, inputs: [{ name: 'x', shape: [1, 8, 16] }] }),
    );
    assert.equal(e2.detail?.errorClass, 'UnsupportedOperatorError');
    assert.deepEqual(e2.location, { file, line: markerLine(file, 'unsupported') });
    assert.match(
      diagnosticMessage(e2),
      /^ONNX export failed at torch op fft_rfft: UnsupportedOperatorError: Exporting the operator 'aten::fft_rfft' to ONNX opset version 13 is not supported\.$/,
    );
    assert.match(diagnosticMessage(e), /^ONNX export failed: RuntimeError: /);
  });

  it('finds the driver next to the bundle or in the sources', () => {
    assert.equal(findDriver([path.join(ROOT, 'src', 'cli', 'commands')]), DRIVER);
    assert.throws(
      () => findDriver([os.tmpdir()]),
      (e: unknown) => isHailoError(e, 'EXPORT_FAILED'),
    );
  });

  it('a failed export never destroys the previous ONNX and leaves no temp files', async () => {
    const dir = path.join(tmp, 'keep');
    const out = path.join(dir, 'model.onnx');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(out, 'previous model');
    fs.writeFileSync(`${out}.sourcemap.json`, '{"previous": true}');
    await exportFails(spec('tinywhisper.broken:build_shape_error', out));
    assert.equal(fs.readFileSync(out, 'utf8'), 'previous model');
    assert.equal(fs.readFileSync(`${out}.sourcemap.json`, 'utf8'), '{"previous": true}');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['model.onnx', 'model.onnx.sourcemap.json']);
  });

  it('an interpreter without torch: a message naming it and how to choose another', async () => {
    // the same Python with its site packages switched off has no torch
    const wrapper = path.join(tmp, 'python-without-torch');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${PY} -S "$@"\n`, { mode: 0o755 });
    const e = await exportFails(spec('tinywhisper.encoder:build', path.join(tmp, 'x.onnx')), { path: wrapper, source: 'setting' });
    assert.equal(e.code, 'PYTHON_MISSING_PACKAGE');
    assert.match(e.message, new RegExp(`${wrapper.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(the hailo\\.pythonPath setting\\) cannot import torch`));
    assert.match(e.message, /--python PATH/);
  });

  it('a syntax error in the model module points at its line', async () => {
    const e = await exportFails(spec('badimport.syntax:build', path.join(tmp, 'x.onnx')));
    assert.equal(e.detail?.errorClass, 'SyntaxError');
    const file = path.join(FIXTURES, 'badimport', 'syntax.py');
    assert.equal(e.location?.file, file);
    assert.ok(Math.abs(e.location!.line - markerLine(file, 'syntax')) <= 1, `line ${e.location?.line}`);
  });

  it('a process that dies without a word: the exit code is reported', async () => {
    const e = await exportFails(spec('tinywhisper.broken:build_hard_exit', path.join(tmp, 'x.onnx')));
    assert.equal(e.code, 'EXPORT_FAILED');
    assert.match(e.message, /exited with code 3/);
  });

  it('the python3 first on PATH, when it has no torch', async function () {
    const which = spawnSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).stdout.trim();
    const probe = which ? spawnSync(which, ['-c', 'import torch'], { encoding: 'utf8' }) : undefined;
    if (!which || probe?.status === 0) {
      console.log(`    skipping: the python3 on PATH (${which || 'none'}) has torch or is missing`);
      this.skip();
    }
    const e = await exportFails(spec('tinywhisper.encoder:build', path.join(tmp, 'x.onnx')), { path: 'python3', source: 'default' });
    assert.equal(e.code, 'PYTHON_MISSING_PACKAGE');
    assert.match(e.message, /^python3 \(the default python3 on PATH\) cannot import torch/);
  });

  it('an interpreter that does not exist', async () => {
    const e = await exportFails(spec('tinywhisper.encoder:build', path.join(tmp, 'x.onnx')), { path: path.join(tmp, 'no-python'), source: 'env' });
    assert.equal(e.code, 'PYTHON_NOT_FOUND');
    assert.match(e.message, /HAILO_PYTHON/);
  });

  it('cancel kills the whole process tree and is reported as CANCELLED', async () => {
    let child: ChildProcess | undefined;
    const spawnSpy: SpawnFn = (cmd, args, opts) => (child = spawn(cmd, args, opts));
    const ac = new AbortController();
    const lines: string[] = [];
    const p = runExport({
      interpreter: interp,
      driverPath: DRIVER,
      spec: spec('tinywhisper.broken:build_slow', path.join(tmp, 'slow.onnx')),
      chooseHint: HINT,
      spawn: spawnSpy,
      signal: ac.signal,
      killGraceMs: 500,
      onOutput: (l) => {
        lines.push(l);
        // the factory has started its own child process by now
        if (l.includes('slow factory started')) ac.abort();
      },
    });
    await assert.rejects(p, (e: unknown) => isHailoError(e, 'CANCELLED'));
    const pgid = child!.pid!;
    const alive = () => {
      try {
        process.kill(-pgid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const t0 = Date.now();
    while (alive() && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
    assert.equal(
      alive(),
      false,
      `process group ${pgid} still has members: ${spawnSync('ps', ['-o', 'pid,pgid,stat,cmd', '-g', String(pgid)], { encoding: 'utf8' }).stdout}`,
    );
  });
});
