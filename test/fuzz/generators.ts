import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { onnx } from 'onnx-proto';
import { makeTar, tarHeaderOnly } from '../fixtures/hailo/tarball';
import { encodeModel, prng, valueInfo, WHISPER_SIZES, writeWhisper } from '../fixtures/onnx/gen';

/**
 * Seeded generators of hostile inputs, one per input kind the CLI reads. A case is fully defined by
 * (kind, seed, index): `npm run fuzz -- --kind har --seed 7 --index 12 --keep DIR` writes it again.
 * Each case is a set of files and the CLI command that reads them.
 */

export const KINDS = ['onnx', 'har', 'hn', 'hailojson', 'dfclog'] as const;
export type Kind = (typeof KINDS)[number];

export interface FuzzCase {
  kind: Kind;
  seed: number;
  index: number;
  /** How the input was made (mutation class). */
  mutation: string;
  /** CLI arguments; files are relative to the case folder. */
  args: string[];
  /** The file under test (an error must name it). */
  target: string;
  /** A reproducer whose fix lives in another part of the code (named here); the unit tier leaves it to `npm run fuzz`. */
  elsewhere?: string;
}

const ROOT = path.resolve(__dirname, '..', '..');
const MiB = 1024 * 1024;

/** Inputs every case starts from, written once per folder. */
export interface Bases {
  dir: string;
  onnx: Buffer;
  har: Buffer;
  harGz: Buffer;
  hn: string;
  hailoJson: string;
  logs: Buffer[];
}

export async function writeBases(dir: string): Promise<Bases> {
  fs.mkdirSync(dir, { recursive: true });
  const onnxFile = path.join(dir, 'base.onnx');
  if (!fs.existsSync(onnxFile)) writeWhisper(onnxFile, { ...WHISPER_SIZES.toy, opset: 13, frames: 60, layers: 1 });
  const har = fs.readFileSync(path.join(ROOT, 'test/fixtures/hailo/toy-op17.har'));
  const logDir = path.join(ROOT, 'test/fixtures/logs');
  return {
    dir,
    onnx: fs.readFileSync(onnxFile),
    har,
    harGz: zlib.gzipSync(har),
    hn: fs.readFileSync(path.join(ROOT, 'test/fixtures/hailo/toy-op17.hn'), 'utf8'),
    hailoJson: JSON.stringify({ models: [{ name: 'enc', onnx: 'base.onnx', hwArch: 'hailo8l', inputs: [{ name: 'mel', shape: [1, 80, 60] }] }] }, null, 2),
    logs: fs
      .readdirSync(logDir)
      .filter((f) => f.endsWith('.log'))
      .sort()
      .map((f) => fs.readFileSync(path.join(logDir, f))),
  };
}

type Rnd = () => number;
const int = (r: Rnd, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rnd, xs: readonly T[]): T => xs[int(r, xs.length)]!;

/** Byte-level mutations shared by every kind. */
function mutateBytes(r: Rnd, b0: Buffer, how: string): Buffer {
  const b = Buffer.from(b0);
  switch (how) {
    case 'bitflip':
      for (let k = 1 + int(r, 8); k > 0; k--) b[int(r, b.length)]! ^= 1 << int(r, 8);
      return b;
    case 'truncate':
      return b.subarray(0, int(r, b.length));
    case 'huge-length': {
      // a varint / size field set to a huge value: 0xff bytes run into whatever follows
      const at = int(r, b.length);
      for (let k = 0; k < 5 && at + k < b.length; k++) b[at + k] = 0xff;
      return b;
    }
    case 'splice': {
      const a = int(r, b.length);
      const len = int(r, Math.min(4096, b.length - a));
      return Buffer.concat([b, b.subarray(a, a + len), b.subarray(int(r, b.length))]);
    }
    default:
      throw new Error(how);
  }
}
const BYTE_MUTATIONS = ['bitflip', 'truncate', 'huge-length', 'splice'] as const;

const HOSTILE_NAMES = [
  '__proto__',
  'constructor',
  '../../etc/passwd',
  '/abs/name',
  'a\u0000b',
  'x'.repeat(100_000),
  '\u202e\u0000\uffff',
  'C:\\win',
  '${HOME}',
  '%s%n',
];

/** Deeply nested JSON text: `[[[[...]]]]` or `{"a":{"a":...}}`. */
export function nested(depth: number, obj = false): string {
  return obj ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth);
}

function onnxGraph(nodes: onnx.INodeProto[], extra: Partial<onnx.IGraphProto> = {}): onnx.IGraphProto {
  return { name: 'g', node: nodes, input: [valueInfo('x', [1, 4])], output: [valueInfo('y', [1, 4])], ...extra };
}

function onnxStructural(r: Rnd, how: string): Buffer {
  switch (how) {
    case 'malformed-node': {
      const op = pick(r, ['Add', 'Max', 'Where', 'Concat', 'MatMul', 'Gemm', 'Conv', 'Gather', 'Expand', 'Range', 'Split', 'Einsum']);
      return Buffer.from(encodeModel(onnxGraph([{ opType: op, input: [], output: ['y'], name: 'bad' }]), 13));
    }
    case 'negative-dims': {
      const shape = onnx.TensorProto.create({ name: 's', dims: [2], dataType: 7, int64Data: [-int(r, 100) - 1, 3] });
      return Buffer.from(encodeModel(onnxGraph([{ opType: 'ConstantOfShape', input: ['s'], output: ['y'], name: 'cos' }], { initializer: [shape] }), 13));
    }
    case 'metadata-flood': {
      const g = onnxGraph([{ opType: 'Relu', input: ['x'], output: ['y'] }]);
      const m = onnx.ModelProto.decode(encodeModel(g, 13));
      m.metadataProps = Array.from({ length: 20_000 + int(r, 20_000) }, (_, i) =>
        onnx.StringStringEntryProto.create({ key: i % 7 === 0 ? '__proto__' : `k${i}`, value: 'v' }),
      );
      return Buffer.from(onnx.ModelProto.encode(m).finish());
    }
    case 'many-nodes': {
      const n = 20_000 + int(r, 40_000);
      const nodes: onnx.INodeProto[] = [];
      for (let i = 0; i < n; i++) nodes.push({ opType: 'Relu', input: [i ? `t${i - 1}` : 'x'], output: [i === n - 1 ? 'y' : `t${i}`], name: `r${i}` });
      return Buffer.from(encodeModel(onnxGraph(nodes), 13));
    }
    case 'cycle': {
      return Buffer.from(
        encodeModel(
          onnxGraph([
            { opType: 'Add', input: ['x', 'b'], output: ['a'] },
            { opType: 'Relu', input: ['a'], output: ['b'] },
            { opType: 'Relu', input: ['b'], output: ['y'] },
          ]),
          13,
        ),
      );
    }
    case 'deep-subgraphs': {
      let body: onnx.IGraphProto = onnxGraph([{ opType: 'Relu', input: ['x'], output: ['y'] }]);
      const depth = 20 + int(r, 200);
      for (let d = 0; d < depth; d++)
        body = onnxGraph([
          {
            opType: 'If',
            input: ['x'],
            output: ['y'],
            attribute: [
              { name: 'then_branch', type: 5, g: body },
              { name: 'else_branch', type: 5, g: body },
            ].slice(0, 1 + (d < 8 ? 1 : 0)),
          },
        ]);
      return Buffer.from(encodeModel(body, 13));
    }
    case 'hostile-names': {
      const name = pick(r, HOSTILE_NAMES);
      return Buffer.from(
        encodeModel(
          onnxGraph([
            { opType: 'Relu', input: ['x'], output: [name], name },
            { opType: 'Relu', input: [name], output: ['y'], name: name + '2' },
          ]),
          13,
        ),
      );
    }
    case 'huge-dims': {
      const t = onnx.TensorProto.create({ name: 'w', dims: [2 ** 40, 2 ** 20], dataType: 1, rawData: new Uint8Array(8) });
      return Buffer.from(encodeModel(onnxGraph([{ opType: 'Add', input: ['x', 'w'], output: ['y'] }], { initializer: [t] }), 13));
    }
    default:
      throw new Error(how);
  }
}
const ONNX_STRUCTURAL = ['malformed-node', 'negative-dims', 'metadata-flood', 'many-nodes', 'cycle', 'deep-subgraphs', 'hostile-names', 'huge-dims'] as const;

async function harStructural(r: Rnd, b: Bases, how: string, gzip: boolean): Promise<Buffer> {
  const hn = b.hn;
  switch (how) {
    case 'symlink-member':
      return makeTar(
        [
          { name: 'x.json', data: '{}' },
          { name: 'net.hn', type: 'symlink', linkname: '/etc/passwd' },
          { name: 'w.npz', data: Buffer.alloc(int(r, 4 * MiB), 1) },
        ],
        { gzip },
      );
    case 'traversal':
      return makeTar([{ name: pick(r, ['../../x.hn', '/abs.hn', 'a/../../b.hn', 'C:/x.hn']), data: hn }], { gzip });
    case 'device-member':
      return makeTar(
        [
          { name: 'net.hn', data: hn },
          { name: 'dev', type: pick(r, ['fifo', 'character-device', 'block-device'] as const) },
        ],
        { gzip },
      );
    case 'lying-size':
      return Buffer.concat([tarHeaderOnly('net.hn', 2 ** 33 + int(r, 1000)), Buffer.from(hn)]);
    case 'many-members': {
      const n = 10_001 + int(r, 5000);
      return makeTar(
        Array.from({ length: n }, (_, i) => ({ name: `m${i}.bin` })),
        { gzip: true },
      );
    }
    case 'nested-hn':
      return makeTar([{ name: 'net.hn', data: `{"layers":${nested(10_000 + int(r, 200_000), r() < 0.5)}}` }], { gzip });
    case 'hostile-names':
      return makeTar(
        [
          {
            name: 'net.hn',
            data: JSON.stringify({
              name: pick(r, HOSTILE_NAMES),
              layers: { [pick(r, HOSTILE_NAMES)]: { type: 'input_layer', output: [pick(r, HOSTILE_NAMES)] }, __proto__x: { type: 'x' } },
            }),
          },
        ],
        { gzip },
      );
    case 'cycle':
      return makeTar(
        [
          {
            name: 'net.hn',
            data: JSON.stringify({
              name: 'n',
              layers: { 'n/a': { type: 'conv', input: ['n/b'], output: ['n/b'] }, 'n/b': { type: 'conv', input: ['n/a'], output: ['n/a'] } },
            }),
          },
        ],
        { gzip },
      );
    default:
      throw new Error(how);
  }
}
const HAR_STRUCTURAL = ['symlink-member', 'traversal', 'device-member', 'lying-size', 'many-members', 'nested-hn', 'hostile-names', 'cycle'] as const;

function hnStructural(r: Rnd, b: Bases, how: string): string {
  switch (how) {
    case 'nested':
      return nested(1000 + int(r, 500_000), r() < 0.5);
    case 'nested-in-layer':
      return `{"name":"n","layers":{"n/a":{"type":"conv","params":${nested(300 + int(r, 20_000))}}}}`;
    case 'flat-array':
      return `{"name":"n","layers":{},"x":[${'[],'.repeat(1_000_000 + int(r, 2_000_000))}0]}`;
    case 'chain': {
      const n = 5000 + int(r, 10_000);
      const layers: Record<string, unknown> = {};
      for (let i = 0; i < n; i++)
        layers[`n/l${i}`] = { type: 'conv', input: i ? [`n/l${i - 1}`] : [], output: i < n - 1 ? [`n/l${i + 1}`] : [], output_shapes: [[-1, 1, 1, 4]] };
      return JSON.stringify({ name: 'n', net_params: {}, layers });
    }
    case 'cycle':
      return JSON.stringify({
        name: 'n',
        layers: { 'n/a': { type: 'conv', input: ['n/b'], output: ['n/b'] }, 'n/b': { type: 'conv', input: ['n/a'], output: ['n/a'] } },
      });
    case 'hostile-names': {
      const j = JSON.parse(b.hn) as { layers: Record<string, unknown>; name: string };
      const layers: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(j.layers)) layers[r() < 0.3 ? pick(r, HOSTILE_NAMES) : k] = v;
      return JSON.stringify({ ...j, name: pick(r, HOSTILE_NAMES), layers });
    }
    case 'wrong-types':
      return JSON.stringify({
        name: 5,
        net_params: [],
        layers: { a: { type: 7, input: 'x', output: { a: 1 }, input_shapes: 'x', original_names: [null, 1] }, b: null, c: [] },
      });
    default:
      throw new Error(how);
  }
}
const HN_STRUCTURAL = ['nested', 'nested-in-layer', 'flat-array', 'chain', 'cycle', 'hostile-names', 'wrong-types'] as const;

function hailoJsonStructural(r: Rnd, how: string): string {
  switch (how) {
    case 'nested':
      return `{"models":${nested(1000 + int(r, 200_000), r() < 0.5)}}`;
    case 'nested-comments':
      return `// c\n{"models":[${'[/*]*/'.repeat(5000 + int(r, 5000))}]}`;
    case 'hostile-keys':
      return JSON.stringify({
        models: [
          { name: pick(r, HOSTILE_NAMES), onnx: pick(r, HOSTILE_NAMES), inputs: [{ name: '__proto__', shape: [1, -1, 2 ** 60] }], ['__proto__']: { x: 1 } },
        ],
      });
    case 'many-models':
      return JSON.stringify({ models: Array.from({ length: 20_000 + int(r, 20_000) }, (_, i) => ({ name: `m${i % 10}`, onnx: 'a.onnx', inputs: [] })) });
    case 'huge-string':
      return JSON.stringify({ models: [{ name: 'x'.repeat(5 * MiB + int(r, MiB)), onnx: 'a.onnx', inputs: [{ name: 'i', shape: [1] }] }] });
    default:
      throw new Error(how);
  }
}
const HAILOJSON_STRUCTURAL = ['nested', 'nested-comments', 'hostile-keys', 'many-models', 'huge-string'] as const;

function logStructural(r: Rnd, b: Bases, how: string): Buffer {
  switch (how) {
    case 'long-line':
      return Buffer.concat([pick(r, b.logs), Buffer.from('[info] ' + 'x'.repeat(2 * MiB + int(r, MiB)) + '\n')]);
    case 'repeat':
      return Buffer.concat(Array.from({ length: 50 + int(r, 200) }, () => pick(r, b.logs)));
    case 'binary':
      return Buffer.from(Array.from({ length: 64 * 1024 }, () => int(r, 256)));
    case 'crlf-cr':
      return Buffer.from(
        pick(r, b.logs)
          .toString('utf8')
          .replace(/\n/g, pick(r, ['\r', '\r\n', '\r\r\n'])),
      );
    default:
      throw new Error(how);
  }
}
const LOG_STRUCTURAL = ['long-line', 'repeat', 'binary', 'crlf-cr'] as const;

/**
 * Writes case (kind, seed, index) into `dir` (its own folder) and returns it. Half of the cases
 * mutate a valid base byte-wise, the other half are structural (nesting, bombs, cycles, names...).
 */
export async function makeCase(b: Bases, kind: Kind, seed: number, index: number, dir: string, exclude: readonly string[] = []): Promise<FuzzCase> {
  const r = prng(seed * 1_000_003 + index * 7919 + KINDS.indexOf(kind));
  fs.mkdirSync(dir, { recursive: true });
  const byteWise = index % 2 === 0;
  const put = (name: string, data: string | Buffer) => {
    fs.writeFileSync(path.join(dir, name), data);
    return name;
  };
  const onnxBase = () => put('base.onnx', b.onnx);
  switch (kind) {
    case 'onnx': {
      const how = byteWise ? pick(r, BYTE_MUTATIONS) : pick(r, ONNX_STRUCTURAL);
      const data = byteWise ? mutateBytes(r, b.onnx, how) : onnxStructural(r, how);
      return { kind, seed, index, mutation: how, args: ['lint', put('model.onnx', data), '--format', 'json'], target: 'model.onnx' };
    }
    case 'har': {
      const gzip = r() < 0.5;
      const how = byteWise ? pick(r, BYTE_MUTATIONS) : pick(r, HAR_STRUCTURAL);
      const data = byteWise ? mutateBytes(r, gzip ? b.harGz : b.har, how) : await harStructural(r, b, how, gzip);
      return {
        kind,
        seed,
        index,
        mutation: `${how}${gzip ? ' (gzip)' : ''}`,
        args: ['diff', onnxBase(), put('model.har', data), '--format', 'json'],
        target: 'model.har',
      };
    }
    case 'hn': {
      const how = byteWise
        ? pick(r, BYTE_MUTATIONS)
        : pick(
            r,
            HN_STRUCTURAL.filter((m) => !exclude.includes(m)),
          );
      const data = byteWise ? mutateBytes(r, Buffer.from(b.hn), how) : hnStructural(r, b, how);
      const elsewhere = {};
      return { kind, seed, index, mutation: how, args: ['diff', onnxBase(), put('model.hn', data), '--format', 'json'], target: 'model.hn', ...elsewhere };
    }
    case 'hailojson': {
      const how = byteWise ? pick(r, BYTE_MUTATIONS) : pick(r, HAILOJSON_STRUCTURAL);
      const data = byteWise ? mutateBytes(r, Buffer.from(b.hailoJson), how) : hailoJsonStructural(r, how);
      return { kind, seed, index, mutation: how, args: ['validate', put('hailo.json', data), '--format', 'json'], target: 'hailo.json' };
    }
    case 'dfclog': {
      const how = byteWise ? pick(r, BYTE_MUTATIONS) : pick(r, LOG_STRUCTURAL);
      const data = byteWise ? mutateBytes(r, pick(r, b.logs), how) : logStructural(r, b, how);
      return { kind, seed, index, mutation: how, args: ['parse-log', put('run.log', data), '--format', 'json'], target: 'run.log' };
    }
  }
}

/**
 * Minimal reproducers of every class of issue 12, generated (never copied): each is one case
 * folder with the files and the command. Kept small enough for the unit tier.
 */
export async function writeReproducers(root: string, b: Bases): Promise<FuzzCase[]> {
  const out: FuzzCase[] = [];
  const mk = (name: string, kind: Kind, files: Record<string, string | Buffer>, args: string[], target: string, elsewhere?: string) => {
    const dir = path.join(root, name);
    fs.mkdirSync(dir, { recursive: true });
    for (const [f, d] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), d);
    out.push({ kind, seed: 0, index: out.length, mutation: name, args, target, ...(elsewhere ? { elsewhere } : {}) });
  };
  const r = prng(12);
  // silent success: gzip HAR whose HN member is a symlink, with data behind it
  mk(
    'har-gzip-symlink',
    'har',
    {
      'base.onnx': b.onnx,
      'model.har': await makeTar(
        [
          { name: 'net.hn', type: 'symlink', linkname: '/etc/passwd' },
          { name: 'w.npz', data: Buffer.from(Array.from({ length: 4 * MiB }, () => int(r, 256))) },
        ],
        { gzip: true },
      ),
    },
    ['diff', 'base.onnx', 'model.har'],
    'model.har',
  );
  // raw errors: ops without inputs, ConstantOfShape with a negative dim, deep hailo.json
  mk('onnx-add-no-inputs', 'onnx', { 'model.onnx': onnxMalformed() }, ['lint', 'model.onnx'], 'model.onnx');
  mk('onnx-constantofshape-negative', 'onnx', { 'model.onnx': onnxStructural(() => 0.5, 'negative-dims') }, ['lint', 'model.onnx'], 'model.onnx');
  mk('hailojson-deep', 'hailojson', { 'hailo.json': `{"models":${nested(5000)}}` }, ['validate', 'hailo.json'], 'hailo.json');
  // quadratic: 20k metadata_props
  mk('onnx-metadata-20k', 'onnx', { 'model.onnx': onnxStructural(() => 0, 'metadata-flood') }, ['lint', 'model.onnx'], 'model.onnx');
  // unbounded: gzip bomb of skipped weights (256 MiB of zeros in ~256 KiB)
  mk('har-gzip-bomb', 'har', { 'base.onnx': b.onnx, 'model.har': await gzipBomb(b.hn, 256 * MiB) }, ['diff', 'base.onnx', 'model.har'], 'model.har');
  // unbounded: several JSON members, each under the per-member limit, together over the total
  const big = Buffer.from(`{"pad":"${' '.repeat(48 * MiB)}"}`);
  mk(
    'har-json-members-total',
    'har',
    {
      'base.onnx': b.onnx,
      'model.har': await makeTar([
        { name: 'net.hn', data: b.hn },
        { name: 'a.json', data: big },
        { name: 'b.json', data: big },
        { name: 'c.json', data: big },
      ]),
    },
    ['diff', 'base.onnx', 'model.har'],
    'model.har',
  );
  // unbounded: an HN of nested brackets (8 MB here; the depth limit refuses it at character 257)
  mk('hn-nested-brackets', 'hn', { 'base.onnx': b.onnx, 'model.hn': nested(4 * MiB) }, ['diff', 'base.onnx', 'model.hn'], 'model.hn');
  // quadratic, fixed in the ledger and the DFC log parser: a 10k-layer HN chain without original names, 80k chained tracebacks
  mk('hn-chain-10k', 'hn', { 'base.onnx': b.onnx, 'model.hn': hnStructural(() => 0.5, b, 'chain') }, ['diff', 'base.onnx', 'model.hn'], 'model.hn');
  const tb =
    'Traceback (most recent call last):\n  File "/opt/hailo/sdk.py", line 12, in run\n    raise ValueError("boom")\nValueError: boom\n\nDuring handling of the above exception, another exception occurred:\n\n';
  mk(
    'dfclog-80k-tracebacks',
    'dfclog',
    { 'run.log': tb.repeat(80_000) + 'hailo_sdk_common.exceptions.BackendError: final\n' },
    ['parse-log', 'run.log'],
    'run.log',
  );
  // a FIFO given as the HAR
  const fifoDir = path.join(root, 'har-fifo');
  mk('har-fifo', 'har', { 'base.onnx': b.onnx }, ['diff', 'base.onnx', 'model.har'], 'model.har');
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [path.join(fifoDir, 'model.har')]);
  return out;
}

/** An ONNX model whose Add and Concat nodes have no inputs. */
export function onnxMalformed(): Buffer {
  return Buffer.from(
    encodeModel(
      onnxGraph([
        { opType: 'Add', input: [], output: ['y'], name: 'add' },
        { opType: 'Concat', input: [], output: ['z'], name: 'cat' },
      ]),
      13,
    ),
  );
}

/** A tar with the HN and one weights member of `size` zero bytes, gzip'd (streamed, so the generator stays small). */
export async function gzipBomb(hn: string, size: number): Promise<Buffer> {
  const head = await makeTar([{ name: 'net.hn', data: hn }]);
  const gz = zlib.createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gz.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => gz.on('end', resolve));
  gz.write(head.subarray(0, head.length - 1024)); // without the end-of-archive blocks
  gz.write(tarHeaderOnly('w.npz', size));
  const zero = Buffer.alloc(MiB);
  for (let i = 0; i < size / MiB; i++) if (!gz.write(zero)) await new Promise((res) => gz.once('drain', res));
  gz.end(Buffer.alloc(1024));
  await done;
  return Buffer.concat(chunks);
}
