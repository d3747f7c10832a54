import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/args';
import { generatedOnnx } from '../fixtures/hailo/gen';

const FIX = path.resolve(__dirname, '..', 'fixtures', 'hailo');

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (s) => void (out += s + '\n'), err: (s) => void (err += s + '\n'), cwd: FIX, env: {} };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('ledger cli: hailo-workbench diff', () => {
  let onnx: string;
  before(async function () {
    this.timeout(60000);
    onnx = (await generatedOnnx({ size: 'toy', opset: 17, frames: 200 })).file;
  });

  it('text: summary line, entries by kind, findings with the 8-bit warning; exit 1 because of warnings', async () => {
    const r = await run(['diff', onnx, 'gen-whisper-toy-op17.har', '--parse-log', 'gen-whisper-toy-op17.parse.log']);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /gen-whisper-toy-op17\.har \(parse, DFC 3\.33\.0, HAR parsed\)/);
    assert.match(r.out, /\d+ ONNX nodes, \d+ HN layers: \d+ decomposed, \d+ fused, \d+ removed/);
    assert.match(r.out, /^decomposed \(\d+\)$/m);
    assert.match(r.out, /warning RW001: This LayerNormalization became normalization1 plus two reshapes in the parsed HAR/);
    assert.doesNotMatch(r.out, /^kept \(/m, 'kept entries only with --all');
    const all = await run(['diff', onnx, 'gen-whisper-toy-op17.har', '--all']);
    assert.match(all.out, /^kept \(\d+\)$/m);
  });

  it('json: the whole ledger, its findings and timings', async () => {
    const r = await run(['diff', onnx, 'gen-whisper-toy-op17.hn', '--parse-log', 'gen-whisper-toy-op17.parse.log', '--format', 'json']);
    const j = JSON.parse(r.out);
    assert.equal(j.ledger.stage, 'parse');
    assert.equal(j.ledger.version, 1);
    assert.ok(j.ledger.entries.length > 20);
    assert.equal(j.ledger.counts.unmatched, 0);
    assert.ok(j.findings.some((f: { code: string }) => f.code === 'RW002'));
    assert.equal(typeof j.timings.ledger, 'number');
  });

  it('exit 2 with a message naming the file for unreadable inputs and bad arguments', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diff-cli-'));
    try {
      const bad = path.join(dir, 'broken.har');
      fs.writeFileSync(bad, 'not a tar archive at all'.repeat(40));
      const r = await run(['diff', onnx, bad]);
      assert.equal(r.code, 2);
      assert.match(r.err, /broken\.har: not a tar archive/);
      assert.equal((await run(['diff', onnx])).code, 2);
      assert.equal((await run(['diff', onnx, 'gen-whisper-toy-op17.har', '--format', 'xml'])).code, 2);
      const missing = await run(['diff', onnx, 'gen-whisper-toy-op17.har', '--compile-log', path.join(dir, 'nope.log')]);
      assert.equal(missing.code, 2);
      assert.match(missing.err, /nope\.log: cannot read the log/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is listed in the usage', async () => {
    const r = await run(['--help']);
    assert.match(r.out, /diff\s+what the Hailo compiler did/);
  });
});
