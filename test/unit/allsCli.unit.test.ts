import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar-stream';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/args';

const fixtures = path.resolve(__dirname, '..', 'fixtures', 'alls');

function io(cwd: string): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), cwd, env: {} };
}

/** A HAR as the DFC writes it: a tar with `<net>.hn` (and weights we do not read) at its root. */
async function writeHar(file: string, hnText: string): Promise<void> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  const add = (name: string, data: Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, size: data.length, mtime: new Date(0) }, data, (e) => (e ? reject(e) : resolve())));
  await add('whisper_enc.hn', Buffer.from(hnText));
  await add('whisper_enc.npz', Buffer.alloc(64));
  pack.finalize();
  await done;
  fs.writeFileSync(file, Buffer.concat(chunks));
}

describe('cli check-alls', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-alls-'));
  const har = path.join(dir, 'whisper_enc.har');
  const good = path.join(dir, 'good.alls');
  const bad = path.join(dir, 'bad.alls');

  before(async () => {
    await writeHar(har, fs.readFileSync(path.join(fixtures, 'whisper_enc.hn'), 'utf8'));
    fs.writeFileSync(
      good,
      'norm1 = normalization([0.0], [255.0])\nquantization_param({ew_add*}, precision_mode=a16_w16)\nquantization_param(conv1, precision_mode=a16_w16)\n',
    );
    fs.writeFileSync(
      bad,
      'normalization([0.0], [255.0])\nquantization_param(conv99, precision_mode=a16_w16)\nperformance_param(compiler_optimization_level=maxx)\n',
    );
  });

  it('exit 0 for a clean script, with a summary line', async () => {
    const o = io(dir);
    assert.equal(await main(['check-alls', 'good.alls'], o), 0);
    assert.match(o.stdout.join('\n'), /good\.alls: 0 error\(s\), 0 warning\(s\), 0 hint\(s\); layer names not checked \(no HAR\)/);
  });

  it('exit 1 with file:line:column diagnostics; layer names only with a HAR', async () => {
    const o = io(dir);
    assert.equal(await main(['check-alls', bad], o), 1);
    const out = o.stdout.join('\n');
    assert.match(out, /bad\.alls:1:1: error ALLS005: normalization\(\.\.\.\) creates a layer/);
    assert.match(out, /bad\.alls:3:47: error ALLS004: .*Did you mean "max"/);
    assert.doesNotMatch(out, /conv99/);
    const h = io(dir);
    assert.equal(await main(['check-alls', bad, '--har', 'whisper_enc.har'], h), 1);
    assert.match(
      h.stdout.join('\n'),
      /bad\.alls:2:20: error ALLS006: No layer "conv99" in the HN of whisper_enc\.har\. Did you mean "conv7" or "conv6" or "conv5"\?/,
    );
    assert.match(h.stdout.join('\n'), /layer names checked against 15 layers/);
  });

  it('JSON output for several files', async () => {
    const o = io(dir);
    assert.equal(await main(['check-alls', 'good.alls', 'bad.alls', '--har', har, '--format', 'json'], o), 1);
    const r = JSON.parse(o.stdout.join(''));
    assert.equal(r.errors, 3);
    assert.deepEqual(
      r.files.map((f: { errors: number; layers: number }) => [f.errors, f.layers]),
      [
        [0, 15],
        [3, 15],
      ],
    );
    const f = r.files[1].findings[1];
    assert.deepEqual(
      { line: f.line, column: f.column, endColumn: f.endColumn, code: f.code, severity: f.severity, nodes: f.nodes },
      { line: 2, column: 20, endColumn: 26, code: 'ALLS006', severity: 'error', nodes: ['conv99'] },
    );
  });

  it("finds the HAR through hailo.json when the script is a model's modelScript", async () => {
    const proj = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-alls-proj-'));
    fs.copyFileSync(har, path.join(proj, 'enc.har'));
    fs.copyFileSync(bad, path.join(proj, 'enc.alls'));
    fs.writeFileSync(
      path.join(proj, 'hailo.json'),
      JSON.stringify({
        models: [{ name: 'enc', netName: 'whisper_enc', inputs: [{ name: 'x', shape: [1, 80, 3000] }], onnx: 'enc.onnx', modelScript: 'enc.alls' }],
      }),
    );
    const o = io(proj);
    assert.equal(await main(['check-alls', 'enc.alls'], o), 1);
    assert.match(o.stdout.join('\n'), /No layer "conv99" in the HN of enc\.har/);
  });

  it('exit 2 for unreadable input: missing script, binary script, corrupt HAR, no file given', async () => {
    const missing = io(dir);
    assert.equal(await main(['check-alls', 'nope.alls'], missing), 2);
    assert.match(missing.stderr.join(''), /nope\.alls: no such file/);
    fs.writeFileSync(path.join(dir, 'bin.alls'), Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 1]));
    const bin = io(dir);
    assert.equal(await main(['check-alls', 'bin.alls'], bin), 2);
    assert.match(bin.stderr.join(''), /bin\.alls: binary data/);
    fs.writeFileSync(path.join(dir, 'broken.har'), Buffer.from('this is not a tar archive at all'.repeat(40)));
    const corrupt = io(dir);
    assert.equal(await main(['check-alls', 'good.alls', '--har', 'broken.har'], corrupt), 2);
    assert.match(corrupt.stderr.join(''), /broken\.har/);
    assert.equal(await main(['check-alls'], io(dir)), 2);
    assert.equal(await main(['check-alls', 'good.alls', '--format', 'xml'], io(dir)), 2);
  });
});
