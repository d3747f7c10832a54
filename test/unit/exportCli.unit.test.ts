import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/args';
import { loadSourceMap } from '../../src/core/graph/sourceMap';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'py');
const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';

function io(cwd: string, env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const x: CliIO = { out: (s) => out.push(s), err: (s) => err.push(s), cwd, env };
  return { io: x, out, err };
}

describe('cli: export arguments', () => {
  it('exits 2 on bad arguments, before running anything', async () => {
    for (const argv of [
      ['export', '--entry', 'pkg.mod:build', '--out', 'x.onnx'],
      ['export', '--entry', 'pkg.mod:build', '--input', 'mel:1x80x3000'],
      ['export', '--entry', 'pkg.mod', '--input', 'mel:1x80x3000', '--out', 'x.onnx'],
      ['export', '--entry', 'pkg.mod:build', '--input', 'mel:1xbadx3', '--out', 'x.onnx'],
      ['export', '--entry', 'pkg.mod:build', '--input', 'mel:1x2', '--out', 'x.onnx', '--opset', '99'],
      ['export', '--entry', 'pkg.mod:build', '--model', 'm', '--input', 'mel:1x2', '--out', 'x.onnx'],
      ['export', '--input', 'mel:1x2'],
      ['export', '--bogus'],
    ]) {
      const t = io(os.tmpdir());
      assert.equal(await main(argv, t.io), 2, argv.join(' '));
      assert.ok(t.err.join('\n').length > 0);
    }
  });

  it('exits 2 when there is no project file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-cli-'));
    try {
      const t = io(dir);
      assert.equal(await main(['export'], t.io), 2);
      assert.match(t.err.join('\n'), /hailo\.json: no such file/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cli: export with torch', function () {
  this.timeout(60000);
  let tmp: string;
  before(function () {
    const r = spawnSync(PY, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.log(`    skipping CLI exports: ${PY} has no torch/onnx`);
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-cli-'));
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  it('--entry from the package folder: prints where the ONNX went and how many nodes are mapped', async () => {
    const out = path.join(tmp, 'enc.onnx');
    const t = io(FIXTURES, { HAILO_PYTHON: PY });
    const code = await main(
      ['export', '--entry', 'tinywhisper.encoder:build', '--input', 'mel:1x80x3000', '--opset', '17', '--out', out, '--output-name', 'features'],
      t.io,
    );
    assert.equal(code, 0, t.err.join('\n'));
    const m = /^(.+): (\d+) nodes, (\d+) mapped to source lines$/.exec(t.out[0]!);
    assert.ok(m, t.out.join('\n'));
    assert.equal(m[1], out);
    assert.equal(Number(m[3]), (await loadSourceMap(out))!.size);
    assert.ok(Number(m[3]) > 0);
  });

  it('from a project file, with --python; failures exit 1 with file:line', async () => {
    const proj = path.join(tmp, 'proj');
    fs.cpSync(path.join(FIXTURES, 'tinywhisper'), path.join(proj, 'tinywhisper'), { recursive: true, filter: (s) => !s.includes('__pycache__') });
    fs.writeFileSync(
      path.join(proj, 'hailo.json'),
      `// project\n{\n  "models": [\n    { "name": "enc", "entry": "tinywhisper.encoder:build_conv_only", "inputs": [{ "name": "mel", "shape": [1, 80, 3000] }], "onnx": "build/enc.onnx", "opset": 13 },\n` +
        `    { "name": "bad", "entry": "tinywhisper.broken:build_raises", "inputs": [{ "name": "x", "shape": [1, 4] }], "onnx": "build/bad.onnx" }\n  ]\n}\n`,
    );
    const t = io(proj, {});
    assert.equal(await main(['export', '--model', 'enc', '--python', PY, '--format', 'json'], t.io), 0, t.err.join('\n'));
    const r = JSON.parse(t.out.join('\n'));
    assert.equal(r.onnx, path.join(proj, 'build', 'enc.onnx'));
    const raw = JSON.parse(fs.readFileSync(path.join(proj, 'build', 'enc.onnx.sourcemap.json'), 'utf8'));
    assert.equal(raw.nodes['/conv1/Conv'].file, '../tinywhisper/encoder.py', 'project-relative path');

    const t2 = io(proj, { HAILO_PYTHON: PY });
    assert.equal(await main(['export', '--model', 'bad'], t2.io), 1);
    assert.match(
      t2.err.join('\n'),
      new RegExp(`${path.join(proj, 'tinywhisper', 'broken.py').replace(/[.]/g, '\\.')}:\\d+: error: Export of tinywhisper\\.broken:build_raises failed`),
    );
  });
});
