import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/args';

export function captureIO(cwd: string): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), cwd, env: {} };
}

describe('cli', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-cli-'));

  it('prints its version', async () => {
    const io = captureIO(dir);
    assert.equal(await main(['--version'], io), 0);
    assert.match(io.stdout.join(''), /^\d+\.\d+\.\d+/);
  });

  it('validate: 0 for a valid file, JSON output', async () => {
    fs.writeFileSync(path.join(dir, 'hailo.json'), '{"models":[{"name":"m","inputs":[{"name":"x","shape":[1,3]}],"onnx":"m.onnx"}]}');
    const io = captureIO(dir);
    assert.equal(await main(['validate', '--format', 'json'], io), 0);
    const out = JSON.parse(io.stdout.join(''));
    assert.equal(out.valid, true);
    assert.deepEqual(out.models, ['m']);
  });

  it('validate: 1 with line and column for an invalid file', async () => {
    const f = path.join(dir, 'bad.json');
    fs.writeFileSync(f, '{\n  "models": [{"name":"m","inputs":[],"onnx":"m.onnx"}]\n}');
    const io = captureIO(dir);
    assert.equal(await main(['validate', f], io), 1);
    assert.match(io.stdout.join('\n'), /bad\.json:2:\d+: error: models\[0\]\.inputs/);
  });

  it('validate: 2 for a missing file; 2 for unknown options', async () => {
    const io = captureIO(dir);
    assert.equal(await main(['validate', 'nope.json'], io), 2);
    assert.match(io.stderr.join(''), /nope\.json: no such file/);
    assert.equal(await main(['validate', '--frobnicate'], captureIO(dir)), 2);
    assert.equal(await main(['nosuch'], captureIO(dir)), 2);
  });
});
