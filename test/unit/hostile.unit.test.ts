import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import * as zlib from 'node:zlib';
import { HailoError } from '../../src/core/errors';
import { readHar, readHarStream } from '../../src/core/hailo/har';
import { parseHn, readHnFile } from '../../src/core/hailo/hn';
import { checkJsonShape, MAX_JSON_DEPTH } from '../../src/core/limits';
import { lineOf, loadProjectFile, parseProjectText } from '../../src/core/project/load';
import { openOnnx } from '../../src/core/onnx';
import { loadSourceMap } from '../../src/core/graph/sourceMap';
import { makeTar } from '../fixtures/hailo/tarball';

describe('hostile inputs: readers refuse them with a typed error', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a refused member of a gzip HAR whose source is still open settles (no read left pending)', async () => {
    const tarBytes = await makeTar([
      { name: 'net.hn', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'w.npz', data: Buffer.alloc(64 * 1024, 1) },
    ]);
    const gz = zlib.gzipSync(tarBytes);
    // the source gives the first half and then stays open, like a slow disk or pipe
    const source = new PassThrough();
    source.write(gz.subarray(0, gz.length >> 1));
    const result = readHarStream(source, 'open.har', gz.subarray(0, 2), {}).then(
      () => 'resolved',
      (e: unknown) => (e instanceof HailoError ? e.code : String(e)),
    );
    const timeout = new Promise((resolve) => setTimeout(() => resolve('still pending after 5 s'), 5000).unref());
    assert.equal(await Promise.race([result, timeout]), 'HAR_UNSAFE_MEMBER');
    assert.ok(source.destroyed, 'the source is released');
  });

  it('a FIFO given as a HAR or an HN is refused at once, not waited on', async function () {
    if (process.platform === 'win32') this.skip();
    const fifo = path.join(dir, 'pipe.har');
    spawnSync('mkfifo', [fifo]);
    await assert.rejects(readHar(fifo), (e: HailoError) => e.code === 'MODEL_READ_FAILED' && /named pipe \(FIFO\)/.test(e.message) && e.message.includes(fifo));
    await assert.rejects(readHnFile(fifo), /only regular files are read/);
    await assert.rejects(
      openOnnx(fifo),
      (e: HailoError) => e.code === 'MODEL_READ_FAILED' && /is a named pipe \(FIFO\); only regular files are read/.test(e.message),
    );
    await assert.rejects(loadProjectFile(fifo), (e: HailoError) => e.code === 'PROJECT_INVALID' && /named pipe/.test(e.message));
    fs.renameSync(fifo, path.join(dir, 'm.onnx.sourcemap.json'));
    await assert.rejects(loadSourceMap(path.join(dir, 'm.onnx')), /named pipe/);
  });

  it('a gzip bomb is refused by the compression ratio, a large tar by the inflated-bytes limit', async () => {
    const tarBytes = await makeTar([
      { name: 'net.hn', data: '{"layers":{}}' },
      { name: 'w.npz', data: Buffer.alloc(80 * 1024 * 1024) },
    ]);
    const f = path.join(dir, 'bomb.har');
    fs.writeFileSync(f, zlib.gzipSync(tarBytes));
    await assert.rejects(readHar(f), (e: HailoError) => e.code === 'HAR_INVALID' && /decompression bomb/.test(e.message));
    const g = path.join(dir, 'big.har');
    fs.writeFileSync(g, tarBytes);
    await assert.rejects(
      readHar(g, { maxInflatedBytes: 1024 * 1024 }),
      (e: HailoError) => e.code === 'HAR_MEMBER_TOO_LARGE' && /more than 1 MiB/.test(e.message),
    );
  });

  it('members read into memory are capped in total, not only each', async () => {
    const pad = (n: number) => `{"p":"${' '.repeat(n)}"}`;
    const f = path.join(dir, 'json.har');
    fs.writeFileSync(
      f,
      await makeTar([
        { name: 'net.hn', data: '{"layers":{}}' },
        { name: 'a.json', data: pad(3500) },
        { name: 'b.json', data: pad(3500) },
        { name: 'c.json', data: pad(3500) },
      ]),
    );
    await assert.rejects(
      readHar(f, { maxMemberBytes: 4096 }),
      (e: HailoError) => e.code === 'HAR_MEMBER_TOO_LARGE' && /add up to more than 8192 bytes at member "c.json"/.test(e.message),
    );
  });

  it('JSON nesting and value counts are measured before parsing (HN, hailo.json)', () => {
    assert.equal(checkJsonShape('{"a":[1,2,{"b":"[[[["}]}'), undefined);
    assert.equal(checkJsonShape('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)), undefined);
    assert.equal(checkJsonShape('['.repeat(MAX_JSON_DEPTH + 1))?.offset, MAX_JSON_DEPTH);
    assert.match(checkJsonShape('[' + '0,'.repeat(100) + '0]', { maxValues: 50 })!.message, /more than 50 JSON values/);
    assert.equal(checkJsonShape('// [[[[\n/* {{{{ */ {}', { comments: true, maxDepth: 1 }), undefined);
    assert.throws(
      () => parseHn('['.repeat(1_000_000), 'x.hn'),
      (e: HailoError) => e.code === 'HN_INVALID' && /x\.hn: nested deeper than 256 levels/.test(e.message),
    );
    const p = parseProjectText(`{"models":${'['.repeat(100_000)}}`, 'hailo.json');
    assert.equal(p.project, undefined);
    assert.match(p.problems[0]!.message, /nested deeper than 256 levels/);
  });

  it('line and column of many offsets come from a line index', () => {
    const text = 'a\nbc\n\nd';
    assert.deepEqual(
      [0, 1, 2, 3, 5, 6, 7, 99].map((o) => lineOf(text, o)),
      ['1:1', '1:2', '2:1', '2:2', '3:1', '4:1', '4:2', '4:2'],
    );
  });
});

describe('cli process: exit 0 only after the result is written', function () {
  this.timeout(30_000);
  // The CLI's process entry (src/cli/main.ts runProcess, what dist/cli/main.mjs runs), loaded
  // through tsx so a test command can be added to its table.
  const MAIN = path.resolve(__dirname, '../../src/cli/main.ts');
  const node = (script: string) =>
    spawn(process.execPath, ['--import', 'tsx', '-e', `const m = require(${JSON.stringify(MAIN)});\n${script}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const run = (script: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = node(script);
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const command = (name: string, body: string) =>
    `m.COMMANDS.push({ name: '${name}', summary: '', load: async () => ({ name: '${name}', summary: '', help: '', options: [], run: async (args, io) => { ${body} } }) }); m.runProcess(['${name}']);`;

  it('a command whose read never settles exits 2 with a message, not 0', async () => {
    const r = await run(command('hang', 'await new Promise(() => {}); return 0;'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /hailo-workbench hang: internal error: the command stopped before writing its result/);
  });

  it('an unhandled rejection exits 2 labelled as an internal error', async () => {
    const r = await run(command('reject', "Promise.reject(new TypeError('boom')); await new Promise((res) => setTimeout(res, 200)); io.out('x'); return 0;"));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /hailo-workbench reject: internal error: boom/);
  });

  it('a raw JavaScript error is labelled as an internal error; a typed one is shown as is', async () => {
    const raw = await run(command('raw', 'null.x; return 0;'));
    assert.equal(raw.code, 2);
    assert.match(raw.stderr, /hailo-workbench raw: internal error: Cannot read properties of null/);
    const typed = await run(
      `${command('typed', "const e = new Error('f.har: truncated'); e.name = 'HailoError'; throw Object.assign(e, { code: 'HAR_INVALID' });")}`,
    );
    assert.equal(typed.code, 2);
    assert.match(typed.stderr, /^hailo-workbench typed: f\.har: truncated\n$/);
  });

  it('a closed stdout pipe ends the process quietly with 0', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = node(
        `${command('flood', "for (let i = 0; i < 20000; i++) io.out('line ' + i + ' ' + 'x'.repeat(200)); await new Promise((res) => setTimeout(res, 500)); return 0;")}`,
      );
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      p.stdout.once('data', () => p.stdout.destroy());
      p.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
  });
});
