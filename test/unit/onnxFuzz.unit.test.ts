import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HailoError } from '../../src/core/errors';
import { openOnnx, type ModelFileSystem } from '../../src/core/onnx';
import { prng, WHISPER_SIZES, writeFixture, writeShapeZoo, writeWhisper } from '../fixtures/onnx/gen';

/** Files held in memory, so a thousand mutated models cost no disk traffic. */
function memoryFileSystem(files: Map<string, Uint8Array>): ModelFileSystem {
  const get = (f: string) => {
    const b = files.get(f);
    if (!b) throw Object.assign(new Error(`ENOENT: ${f}`), { code: 'ENOENT' });
    return b;
  };
  return {
    async open(f) {
      const b = get(f);
      return {
        size: b.length,
        async read(into, position, length) {
          const n = Math.max(0, Math.min(length, b.length - position));
          into.set(b.subarray(position, position + n), 0);
          return n;
        },
        async close() {},
      };
    },
    async stat(f) {
      return { size: get(f).length, isFile: true };
    },
    async realpath(f) {
      return f; // no links in memory
    },
    async checkReadable(f) {
      get(f);
    },
  };
}

const CASES = 1200;
const TIME_LIMIT_MS = 2000;

describe('ONNX reader fuzz: mutated fixtures end in a model or a HailoError', function () {
  this.timeout(300000);
  const seeds: { name: string; bytes: Uint8Array }[] = [];
  const dir = path.join(os.tmpdir(), `onnx-fuzz-${process.pid}`);
  const data = new Map<string, Uint8Array>();

  before(() => {
    fs.mkdirSync(dir, { recursive: true });
    const add = (file: string) => seeds.push({ name: path.basename(file), bytes: fs.readFileSync(file) });
    add(writeWhisper(path.join(dir, 'w13.onnx'), { ...WHISPER_SIZES.toy, opset: 13, frames: 60 }).file);
    add(writeWhisper(path.join(dir, 'w17.onnx'), { ...WHISPER_SIZES.toy, opset: 17, frames: 60, layers: 1 }).file);
    const ext = writeWhisper(path.join(dir, 'ext.onnx'), { d: 16, layers: 1, heads: 2, opset: 17, frames: 60, external: true });
    add(ext.file);
    data.set(ext.dataFile!, fs.readFileSync(ext.dataFile!)); // mutated models sit next to it, in the same folder
    add(writeShapeZoo(path.join(dir, 'zoo.onnx'), 13).file);
    add(writeFixture('subgraph-if', dir));
    add(writeFixture('typed-fields', dir));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it(`${CASES} seeded mutations (bit flips, truncation, length bumps, splices)`, async () => {
    const rnd = prng(20240611);
    const int = (n: number) => Math.floor(rnd() * n);
    const outcomes = new Map<string, number>();
    let slowest = 0;
    for (let i = 0; i < CASES; i++) {
      const seed = seeds[i % seeds.length]!;
      const b = Uint8Array.from(seed.bytes);
      let bytes: Uint8Array = b;
      const kind = ['flip', 'truncate', 'length', 'splice', 'byte', 'multi'][i % 6]!;
      switch (kind) {
        case 'flip':
          for (let k = 1 + int(4); k > 0; k--) b[int(b.length)]! ^= 1 << int(8);
          break;
        case 'truncate':
          bytes = b.subarray(0, int(b.length));
          break;
        case 'length': {
          // bump a byte that follows a length-delimited tag: its length prefix grows or shrinks
          const tags = [];
          for (let p = 0; p < b.length - 1 && tags.length < 4000; p++) if ((b[p]! & 7) === 2) tags.push(p + 1);
          const p = tags[int(tags.length)] ?? 0;
          b[p] = [0xff, 0x7f, 0x80, 0x00, (b[p]! + 1 + int(8)) & 0xff][int(5)]!;
          break;
        }
        case 'splice': {
          const other = seeds[int(seeds.length)]!.bytes;
          const from = int(other.length);
          const len = int(Math.min(512, other.length - from));
          const at = int(b.length);
          bytes = new Uint8Array([...b.subarray(0, at), ...other.subarray(from, from + len), ...b.subarray(at + int(64))]);
          break;
        }
        case 'byte':
          b[int(b.length)] = [0, 0xff, 0x80, 0x08, 0x0a, 0x12, 0x3a][int(7)]!;
          break;
        default:
          for (let k = 0; k < 16; k++) b[int(b.length)] = int(256);
      }
      const file = path.join(dir, 'model.onnx');
      const files = new Map(data);
      files.set(file, bytes);
      const fsys = memoryFileSystem(files);
      const t0 = performance.now();
      let outcome: string;
      try {
        const m = await openOnnx(file, { fs: fsys });
        // a model that opens must be usable: serialisable graph, readable small tensors
        JSON.stringify(m.graph);
        for (const name of [...m.initializers.keys()].slice(0, 3)) {
          await m.readTensor(name, { maxBytes: 1 << 20 }).catch((e: unknown) => {
            if (!(e instanceof HailoError)) throw e;
          });
        }
        outcome = 'model';
      } catch (e) {
        if (!(e instanceof HailoError)) {
          assert.fail(`case ${i} (${kind} of ${seed.name}) threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
        }
        assert.ok(e.message.includes(file), `case ${i}: message names the file: ${e.message}`);
        outcome = e.code;
      }
      const ms = performance.now() - t0;
      slowest = Math.max(slowest, ms);
      assert.ok(ms < TIME_LIMIT_MS, `case ${i} (${kind} of ${seed.name}) took ${ms.toFixed(0)} ms`);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    console.log(`      outcomes: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}; slowest case ${slowest.toFixed(1)} ms`);
    assert.ok((outcomes.get('model') ?? 0) > 0 && outcomes.size > 3, 'the mutations reach both results and several error codes');
  });
});
