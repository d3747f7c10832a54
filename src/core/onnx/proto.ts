import { onnx } from 'onnx-proto';
import { HailoError } from '../errors';
import type { Dim } from '../graph/model';
import { DEFAULT_MAX_ONNX_NODES, MAX_ONNX_METADATA } from '../limits';
import { dtypeBytes, dtypeName } from './dtypes';
import { MAX_MATERIALISED, type WireSource } from './wire';

/** Raw ONNX messages as scanned from the file: small parts decoded, weight bytes as offsets. */
export interface RawTensor {
  name: string;
  dataType: number;
  dims: number[];
  /** Absolute offset and length of raw_data, when present. */
  raw?: { offset: number; length: number };
  /** True when data sits in typed repeated fields (float_data, int64_data...). */
  typed: boolean;
  external?: Record<string, string>;
  dataLocation: number;
  messageOffset: number;
  messageLength: number;
  where: string;
}

export interface RawAttr {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: string;
  t?: RawTensor;
  g?: RawGraph;
  floats: number[];
  ints: number[];
  strings: string[];
  tensors: RawTensor[];
  graphs: RawGraph[];
}

export interface RawNode {
  name: string;
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: RawAttr[];
  where: string;
}

export interface RawValueInfo {
  name: string;
  dtype: string | undefined;
  shape: Dim[] | undefined;
}

export interface RawGraph {
  name: string;
  nodes: RawNode[];
  initializers: RawTensor[];
  inputs: RawValueInfo[];
  outputs: RawValueInfo[];
  valueInfo: RawValueInfo[];
  sparseInitializers: number;
}

export interface RawModel {
  irVersion: number | undefined;
  producerName: string;
  producerVersion: string;
  opsetImports: { domain: string; version: number }[];
  metadata: Record<string, string>;
  graph: RawGraph | undefined;
}

const MAX_DEPTH = 16;
const MAX_ATTR_STRING = 64 * 1024;
const utf8 = new TextDecoder('utf-8');

/** ModelProto field number -> wire type, for the "does this look like ONNX" check. */
const MODEL_FIELDS: Record<number, number> = { 1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2 };

function notOnnx(src: WireSource, why: string): HailoError {
  return new HailoError('MODEL_NOT_ONNX', `${src.file}: not an ONNX model: ${why}`, { file: src.file });
}

/** Limits applied while scanning (see ../limits.ts). */
export interface ScanLimits {
  /** Most nodes in all graphs together. */
  maxNodes: number;
}

/** Nodes scanned so far per source, for the node limit across subgraphs. */
const nodeCounts = new WeakMap<WireSource, { count: number; max: number }>();

export async function scanModel(src: WireSource, limits: ScanLimits = { maxNodes: DEFAULT_MAX_ONNX_NODES }): Promise<RawModel> {
  nodeCounts.set(src, { count: 0, max: limits.maxNodes });
  let metadataCount = 0;
  const m: RawModel = { irVersion: undefined, producerName: '', producerVersion: '', opsetImports: [], metadata: {}, graph: undefined };
  const end = src.size;
  // Plausibility first, as netron does: the first tag must be a ModelProto field with its wire type.
  {
    const key = await src.varint(end, 'first field tag').catch(() => {
      throw notOnnx(src, 'the first bytes are not a protobuf field tag');
    });
    const field = Math.floor(key / 8);
    if (MODEL_FIELDS[field] !== key % 8) throw notOnnx(src, `the first field (number ${field}, wire type ${key % 8}) is not a ModelProto field`);
    src.pos = 0;
  }
  await src.fields(end, 'ModelProto', async (field, wire) => {
    const expected = MODEL_FIELDS[field];
    if (expected !== undefined && expected !== wire) {
      if (!m.graph) throw notOnnx(src, `field ${field} has wire type ${wire}, which a ModelProto never has`);
      throw src.invalid(`ModelProto field ${field}`, `wire type ${wire}, expected ${expected}`);
    }
    switch (field) {
      case 1:
        m.irVersion = await src.varint(end, 'ir_version');
        return true;
      case 2:
        m.producerName = await src.string(end, 'producer_name');
        return true;
      case 3:
        m.producerVersion = await src.string(end, 'producer_version');
        return true;
      case 7: {
        if (m.graph) throw src.invalid('graph', 'the model has more than one graph field');
        const n = await src.length(end, 'graph');
        m.graph = await scanGraph(src, src.pos + n, 'graph', 0);
        return true;
      }
      case 8: {
        const n = await src.length(end, `opset_import[${m.opsetImports.length}]`);
        const stop = src.pos + n;
        const op = { domain: '', version: 0 };
        const what = `opset_import[${m.opsetImports.length}]`;
        await src.fields(stop, what, async (f, w) => {
          if (f === 1) {
            src.expectWire(w, 2, `${what}.domain`);
            op.domain = await src.string(stop, `${what}.domain`);
            return true;
          }
          if (f === 2) {
            src.expectWire(w, 0, `${what}.version`);
            op.version = await src.varint(stop, `${what}.version`);
            return true;
          }
          return false;
        });
        m.opsetImports.push(op);
        return true;
      }
      case 14: {
        if (metadataCount >= MAX_ONNX_METADATA) throw src.invalid('metadata_props', `more than ${MAX_ONNX_METADATA} entries`);
        const e = await scanStringEntry(src, end, `metadata_props[${metadataCount++}]`);
        // own property even for a key like "__proto__"
        Object.defineProperty(m.metadata, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
        return true;
      }
      default:
        return false;
    }
  });
  return m;
}

async function scanStringEntry(src: WireSource, end: number, what: string): Promise<{ key: string; value: string }> {
  const n = await src.length(end, what);
  const stop = src.pos + n;
  const e = { key: '', value: '' };
  await src.fields(stop, what, async (f, w) => {
    if (f !== 1 && f !== 2) return false;
    src.expectWire(w, 2, `${what}.${f === 1 ? 'key' : 'value'}`);
    const s = await src.string(stop, `${what}.${f === 1 ? 'key' : 'value'}`);
    if (f === 1) e.key = s;
    else e.value = s;
    return true;
  });
  return e;
}

export async function scanGraph(src: WireSource, end: number, where: string, depth: number): Promise<RawGraph> {
  if (depth > MAX_DEPTH) throw src.invalid(where, `subgraphs nested deeper than ${MAX_DEPTH} levels`);
  const g: RawGraph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [], sparseInitializers: 0 };
  await src.fields(end, where, async (field, wire) => {
    switch (field) {
      case 1: {
        const what = `${where}.node[${g.nodes.length}]`;
        src.expectWire(wire, 2, what);
        const budget = nodeCounts.get(src);
        if (budget && ++budget.count > budget.max)
          throw src.invalid(what, `more than ${budget.max} nodes in the model (limit: setting hailo.limits.maxOnnxNodes)`);
        const n = await src.length(end, what);
        g.nodes.push(await scanNode(src, src.pos + n, what, depth));
        return true;
      }
      case 2:
        src.expectWire(wire, 2, `${where}.name`);
        g.name = await src.string(end, `${where}.name`);
        return true;
      case 5: {
        const what = `${where}.initializer[${g.initializers.length}]`;
        src.expectWire(wire, 2, what);
        g.initializers.push(await scanTensor(src, end, what));
        return true;
      }
      case 11:
      case 12:
      case 13: {
        const list = field === 11 ? g.inputs : field === 12 ? g.outputs : g.valueInfo;
        const what = `${where}.${field === 11 ? 'input' : field === 12 ? 'output' : 'value_info'}[${list.length}]`;
        src.expectWire(wire, 2, what);
        list.push(await scanValueInfo(src, end, what));
        return true;
      }
      case 15:
        g.sparseInitializers++;
        return false;
      default:
        return false;
    }
  });
  return g;
}

async function scanNode(src: WireSource, end: number, where: string, depth: number): Promise<RawNode> {
  const node: RawNode = { name: '', op: '', domain: '', inputs: [], outputs: [], attrs: [], where };
  await src.fields(end, where, async (field, wire) => {
    switch (field) {
      case 1:
      case 2:
        src.expectWire(wire, 2, `${where}.${field === 1 ? 'input' : 'output'}`);
        (field === 1 ? node.inputs : node.outputs).push(await src.string(end, `${where}.${field === 1 ? 'input' : 'output'}`));
        return true;
      case 3:
        src.expectWire(wire, 2, `${where}.name`);
        node.name = await src.string(end, `${where}.name`);
        return true;
      case 4:
        src.expectWire(wire, 2, `${where}.op_type`);
        node.op = await src.string(end, `${where}.op_type`);
        return true;
      case 7:
        src.expectWire(wire, 2, `${where}.domain`);
        node.domain = await src.string(end, `${where}.domain`);
        return true;
      case 5: {
        const what = `${where}.attribute[${node.attrs.length}]`;
        src.expectWire(wire, 2, what);
        const n = await src.length(end, what);
        node.attrs.push(await scanAttr(src, src.pos + n, what, depth));
        return true;
      }
      default:
        return false;
    }
  });
  if (node.name) node.where = `${where} '${node.name}'`;
  return node;
}

async function scanAttr(src: WireSource, end: number, where: string, depth: number): Promise<RawAttr> {
  const a: RawAttr = { name: '', type: 0, floats: [], ints: [], strings: [], tensors: [], graphs: [] };
  await src.fields(end, where, async (field, wire) => {
    const what = `${where}${a.name ? ` '${a.name}'` : ''}`;
    switch (field) {
      case 1:
        src.expectWire(wire, 2, `${what}.name`);
        a.name = await src.string(end, `${what}.name`);
        return true;
      case 20:
        src.expectWire(wire, 0, `${what}.type`);
        a.type = await src.varint(end, `${what}.type`);
        return true;
      case 2:
        src.expectWire(wire, 5, `${what}.f`);
        a.f = await src.fixed32(end, `${what}.f`);
        return true;
      case 3:
        src.expectWire(wire, 0, `${what}.i`);
        a.i = await src.varint(end, `${what}.i`);
        return true;
      case 4: {
        src.expectWire(wire, 2, `${what}.s`);
        // large string attributes (serialised plugin blobs) are summarised, not read
        const n = await src.length(end, `${what}.s`);
        if (n > MAX_ATTR_STRING) {
          a.s = `<${n} bytes>`;
          src.pos += n;
        } else a.s = utf8.decode(await src.take(n, `${what}.s`));
        return true;
      }
      case 5:
        src.expectWire(wire, 2, `${what}.t`);
        a.t = await scanTensor(src, end, `${what}.t`);
        return true;
      case 6: {
        src.expectWire(wire, 2, `${what}.g`);
        const n = await src.length(end, `${what}.g`);
        a.g = await scanGraph(src, src.pos + n, `${what}.g`, depth + 1);
        return true;
      }
      case 7:
        await src.floats(wire, end, `${what}.floats`, a.floats);
        return true;
      case 8:
        await src.ints(wire, end, `${what}.ints`, a.ints);
        return true;
      case 9:
        src.expectWire(wire, 2, `${what}.strings`);
        a.strings.push(await src.string(end, `${what}.strings`));
        return true;
      case 10:
        src.expectWire(wire, 2, `${what}.tensors`);
        a.tensors.push(await scanTensor(src, end, `${what}.tensors[${a.tensors.length}]`));
        return true;
      case 11: {
        src.expectWire(wire, 2, `${what}.graphs`);
        const n = await src.length(end, `${what}.graphs`);
        a.graphs.push(await scanGraph(src, src.pos + n, `${what}.graphs[${a.graphs.length}]`, depth + 1));
        return true;
      }
      default:
        return false;
    }
  });
  return a;
}

/** Scans a length-prefixed TensorProto at `src.pos`; raw_data and typed data are skipped, their place kept. */
export async function scanTensor(src: WireSource, parentEnd: number, where: string): Promise<RawTensor> {
  const n = await src.length(parentEnd, where);
  const messageOffset = src.pos;
  const end = src.pos + n;
  const t: RawTensor = { name: '', dataType: 0, dims: [], typed: false, dataLocation: 0, messageOffset, messageLength: n, where };
  await src.fields(end, where, async (field, wire) => {
    const what = `${where}${t.name ? ` '${t.name}'` : ''}`;
    switch (field) {
      case 1:
        await src.ints(wire, end, `${what}.dims`, t.dims, 64);
        return true;
      case 2:
        src.expectWire(wire, 0, `${what}.data_type`);
        t.dataType = await src.varint(end, `${what}.data_type`);
        return true;
      case 8:
        src.expectWire(wire, 2, `${what}.name`);
        t.name = await src.string(end, `${what}.name`);
        return true;
      case 9: {
        src.expectWire(wire, 2, `${what}.raw_data`);
        const len = await src.length(end, `${what}.raw_data`);
        t.raw = { offset: src.pos, length: len };
        src.pos += len; // skipped by offset: never read here
        return true;
      }
      case 4:
      case 5:
      case 6:
      case 7:
      case 10:
      case 11:
        t.typed = true;
        return false;
      case 13: {
        src.expectWire(wire, 2, `${what}.external_data`);
        const e = await scanStringEntry(src, end, `${what}.external_data`);
        (t.external ??= {})[e.key] = e.value;
        return true;
      }
      case 14:
        src.expectWire(wire, 0, `${what}.data_location`);
        t.dataLocation = await src.varint(end, `${what}.data_location`);
        return true;
      default:
        return false;
    }
  });
  if (t.name) t.where = `${where} '${t.name}'`;
  for (const d of t.dims) if (d < 0 || !Number.isSafeInteger(d)) throw src.invalid(`${t.where}.dims`, `invalid dimension ${d}`);
  if (t.raw && t.dataType !== 8) {
    const need = numel(t.dims) * dtypeBytes(t.dataType);
    if (dtypeBytes(t.dataType) > 0 && Math.ceil(need) !== t.raw.length) {
      throw src.invalid(`${t.where}.raw_data`, `${t.raw.length} bytes, but dims [${t.dims.join(', ')}] of ${dtypeName(t.dataType)} need ${Math.ceil(need)}`);
    }
  }
  return t;
}

async function scanValueInfo(src: WireSource, end: number, where: string): Promise<RawValueInfo> {
  const n = await src.length(end, where);
  if (n > MAX_MATERIALISED) throw src.invalid(where, `${n} bytes is too large for a value_info`);
  const bytes = await src.take(n, where);
  let vi: onnx.ValueInfoProto;
  try {
    vi = onnx.ValueInfoProto.decode(bytes);
  } catch (e) {
    throw src.invalid(where, `cannot be decoded (${e instanceof Error ? e.message : String(e)})`);
  }
  const tt = vi.type?.tensorType;
  const shape = tt?.shape
    ? (tt.shape.dim ?? []).map((d): Dim => {
        const dd = d as onnx.TensorShapeProto.Dimension;
        return dd.value === 'dimValue' ? toNumber(dd.dimValue) : dd.dimParam ? dd.dimParam : '?';
      })
    : undefined;
  const kind = (vi.type as onnx.TypeProto | null | undefined)?.value;
  return { name: vi.name, dtype: tt ? (tt.elemType ? dtypeName(tt.elemType) : undefined) : kind ? String(kind) : undefined, shape };
}

export function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v == null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export function numel(dims: number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}
