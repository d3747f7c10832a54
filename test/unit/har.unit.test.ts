import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readHar, readHarBuffer } from '../../src/core/hailo/har';
import { openHnOrHar } from '../../src/core/hailo/hn';
import { isHailoError, type ErrorCode } from '../../src/core/errors';
import { makeTar, tarHeaderOnly } from '../fixtures/hailo/tarball';

const FIX = path.resolve(__dirname, '..', 'fixtures', 'hailo');
const HN = JSON.stringify({
  name: 'net',
  net_params: { version: '1.0', stage: 'HN' },
  layers: {
    'net/input_layer1': { type: 'input_layer', output: ['net/conv1'], output_shapes: [[-1, 1, 4, 3]], original_names: ['x'] },
    'net/conv1': { type: 'conv', input: ['net/input_layer1'], output_shapes: [[-1, 1, 4, 8]], original_names: ['/c/Conv'] },
  },
});

async function expectCode(p: Promise<unknown>, code: ErrorCode, fileName?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isHailoError(e, code), `expected ${code}, got ${String((e as { code?: string }).code)}: ${(e as Error).message}`);
    if (fileName) assert.ok((e as Error).message.includes(fileName), `message names the file: ${(e as Error).message}`);
    return true;
  });
}

describe('har reader', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'har-test-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, data: Buffer) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, data);
    return f;
  };

  it('reads a parsed HAR: HN, metadata, params size only, state and SDK version', async () => {
    const har = await readHar(path.join(FIX, 'toy-op17.har'));
    assert.equal(har.gzip, false);
    assert.equal(har.hn.member, 'whisper_toy_op17.hn');
    assert.deepEqual(har.members.map((m) => m.role).sort(), ['hn', 'metadata', 'metadata', 'params']);
    assert.equal(har.paramsBytes, 256);
    assert.equal(har.state, 'parsed');
    assert.deepEqual(har.sdkVersion, { value: '3.33.0', where: 'whisper_toy_op17.metadata.json: sdk_version' });
    assert.ok(JSON.parse(har.hn.text).layers);
  });

  it('reads a gzip-compressed HAR', async () => {
    const har = await readHar(path.join(FIX, 'toy-op13.har'));
    assert.equal(har.gzip, true);
    assert.equal(har.hn.member, 'whisper_toy_op13.hn');
  });

  it('recognises a compiled HAR by its auto model script, and keeps HN variants apart', async () => {
    const har = await readHar(path.join(FIX, 'toy-op17-compiled.har'));
    assert.equal(har.state, 'compiled');
    assert.match(har.stateEvidence, /auto\.alls/);
    assert.equal(har.hn.member, 'whisper_toy_compiled.hn');
    assert.deepEqual(Object.keys(har.hnVariants), ['whisper_toy_compiled.fp.hn']);
    assert.match(har.modelScripts['whisper_toy_compiled.auto.alls']!, /context_1 = context\(/);
  });

  it('an optimized HAR (HN variants, no script) is "optimized"', async () => {
    const f = write(
      'opt.har',
      await makeTar([
        { name: 'net.hn', data: HN },
        { name: 'net.fp.hn', data: HN },
        { name: 'net.npz', data: Buffer.alloc(10) },
      ]),
    );
    assert.equal((await readHar(f)).state, 'optimized');
  });

  it('finds the HN by content when no member is named *.hn, and tolerates ./ prefixes and directories', async () => {
    const f = write(
      'content.har',
      await makeTar([
        { name: './', type: 'directory' },
        { name: './network_description', data: HN },
        { name: './weights.npz', data: Buffer.alloc(4) },
      ]),
    );
    const har = await readHar(f);
    assert.equal(har.hn.member, 'network_description');
  });

  it('opens .har and .hn through one entry point, SDK version carried over', async () => {
    const a = await openHnOrHar(path.join(FIX, 'toy-op17.har'));
    assert.equal(a.hn.name, 'whisper_toy_op17');
    assert.equal(a.hn.sdkVersion, '3.33.0');
    const b = await openHnOrHar(path.join(FIX, 'toy-op17.hn'));
    assert.equal(b.har, undefined);
    assert.equal(b.hn.layers.length, a.hn.layers.length);
  });

  describe('hostile and broken archives end in typed errors', () => {
    it("'..' member name", async () => {
      const f = write(
        'trav.har',
        await makeTar([
          { name: 'net.hn', data: HN },
          { name: '../../evil.sh', data: 'x' },
        ]),
      );
      await expectCode(readHar(f), 'HAR_UNSAFE_MEMBER', 'trav.har');
    });
    it('absolute member name', async () => {
      const f = write(
        'abs.har',
        await makeTar([
          { name: '/etc/cron.d/evil', data: 'x' },
          { name: 'net.hn', data: HN },
        ]),
      );
      await expectCode(readHar(f), 'HAR_UNSAFE_MEMBER', 'abs.har');
    });
    it('symbolic link', async () => {
      const f = write('sym.har', await makeTar([{ name: 'net.hn', type: 'symlink', linkname: '/etc/passwd' }]));
      await expectCode(readHar(f), 'HAR_UNSAFE_MEMBER', 'sym.har');
    });
    it('hard link', async () => {
      const f = write(
        'hard.har',
        await makeTar([
          { name: 'a.hn', data: HN },
          { name: 'b.hn', type: 'link', linkname: 'a.hn' },
        ]),
      );
      await expectCode(readHar(f), 'HAR_UNSAFE_MEMBER');
    });
    it('device file', async () => {
      const f = write(
        'dev.har',
        await makeTar([
          { name: 'null', type: 'character-device' },
          { name: 'net.hn', data: HN },
        ]),
      );
      await expectCode(readHar(f), 'HAR_UNSAFE_MEMBER');
    });
    it('a member declaring a huge size is refused from its header', async () => {
      const f = write('huge.har', Buffer.concat([tarHeaderOnly('net.hn', 8 * 1024 ** 3 - 1), Buffer.alloc(512)]));
      await expectCode(readHar(f), 'HAR_MEMBER_TOO_LARGE', 'huge.har');
    });
    it('a member above the configured read limit', async () => {
      const f = write('big.har', await makeTar([{ name: 'net.hn', data: HN + ' '.repeat(5000) }]));
      await expectCode(readHar(f, { maxMemberBytes: 4096 }), 'HAR_MEMBER_TOO_LARGE');
      // weights are never read, so the read limit does not apply to them
      const g = write(
        'bigparams.har',
        await makeTar([
          { name: 'net.hn', data: HN },
          { name: 'net.npz', data: Buffer.alloc(20000) },
        ]),
      );
      assert.equal((await readHar(g, { maxMemberBytes: 4096 })).paramsBytes, 20000);
    });
    it('truncated tar', async () => {
      const full = await makeTar([{ name: 'net.hn', data: HN + ' '.repeat(3000) }]);
      const f = write('trunc.har', full.subarray(0, 1500));
      await expectCode(readHar(f), 'HAR_INVALID', 'trunc.har');
    });
    it('truncated gzip', async () => {
      const full = await makeTar([{ name: 'net.hn', data: HN }], { gzip: true });
      await expectCode(readHarBuffer(full.subarray(0, full.length - 12), 'trunc.har.gz'), 'HAR_INVALID', 'trunc.har.gz');
    });
    it('invalid JSON in the HN', async () => {
      const f = write('badjson.har', await makeTar([{ name: 'net.hn', data: '{"layers": {' }]));
      await expectCode(readHar(f), 'HAR_INVALID', 'net.hn');
    });
    it('not a tar', async () => {
      const f = write('notatar.har', Buffer.from('PK\x03\x04 this is a zip, not a tar'.padEnd(1024, 'x')));
      await expectCode(readHar(f), 'HAR_INVALID', 'notatar.har');
    });
    it('empty file', async () => {
      const f = write('empty.har', Buffer.alloc(0));
      await expectCode(readHar(f), 'HAR_INVALID');
    });
    it('a tar without an HN', async () => {
      const f = write('nohn.har', await makeTar([{ name: 'readme.txt', data: 'hello' }]));
      await expectCode(readHar(f), 'HAR_INVALID', 'no HN');
    });
    it('a missing file', async () => {
      await expectCode(readHar(path.join(dir, 'nope.har')), 'MODEL_READ_FAILED');
    });
    it('cancellation', async () => {
      const ac = new AbortController();
      ac.abort();
      await expectCode(readHar(path.join(FIX, 'toy-op17.har'), { signal: ac.signal }), 'CANCELLED');
    });
  });
});
