import * as path from 'node:path';
import { HailoError, throwIfAborted } from '../errors';
import type { GraphBody, GraphModel, GraphNode, TensorInfo } from '../graph/model';
import { bodyNodeId, scopeFromNodeName, stableNodeId } from '../graph/model';
import { INTEGER_DTYPES, dtypeBytes, dtypeName } from './dtypes';
import { nodeFileSystem, type ModelFileSystem, type RandomAccessFile } from './fileAccess';
import type { OnnxModel, OpenOnnxOptions, SubgraphInfo, TensorData, TensorRef } from './model';
import { numel, scanModel, type RawAttr, type RawGraph, type RawNode, type RawTensor } from './proto';
import { inferShapes } from './shapes';
import { loadTensor, toNumbers, type ConstValue } from './tensorData';
import { WireSource } from './wire';
import { DEFAULT_MAX_ONNX_NODES } from '../limits';

export const SUPPORTED_IR = { min: 3, max: 10 };
export const SUPPORTED_OPSET = { min: 7, max: 21 };
const KNOWN_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml']);
/** Constants up to this size are decoded during shape inference (shape vectors, pads, axes...). */
const EAGER_CONST_BYTES = 64 * 1024;
const DEFAULT_READ_MAX = 64 * 1024 * 1024;
/** Attribute tensors up to this many elements carry their values in the node's attrs. */
const SMALL_ATTR_TENSOR = 16;

/**
 * Opens an ONNX model: scans the protobuf wire format in chunks (weights skipped by offset, so
 * memory does not grow with the model), validates the graph and infers static shapes.
 * Throws HailoError (MODEL_*, EXTERNAL_DATA_*, CANCELLED) naming the file and the field.
 */
export async function openOnnx(file: string, opts: OpenOnnxOptions = {}): Promise<OnnxModel> {
  const fsys = opts.fs ?? nodeFileSystem;
  const abs = path.resolve(file);
  throwIfAborted(opts.signal);
  let f: RandomAccessFile;
  try {
    f = await fsys.open(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOTFILE' ? (e as Error).message : `cannot open the model (${code ?? (e as Error).message})`;
    throw new HailoError('MODEL_READ_FAILED', `${abs}: ${why}`, { file: abs, cause: e });
  }
  try {
    if (f.size === 0) throw new HailoError('MODEL_EMPTY', `${abs}: the file is empty (0 bytes)`, { file: abs });
    if (opts.maxFileBytes !== undefined && f.size > opts.maxFileBytes) {
      throw new HailoError('MODEL_TOO_LARGE', `${abs}: ${f.size} bytes is more than the limit of ${opts.maxFileBytes}`, { file: abs });
    }
    const src = new WireSource(f, abs, opts.signal);
    const raw = await scanModel(src, { maxNodes: opts.maxNodes ?? DEFAULT_MAX_ONNX_NODES });
    throwIfAborted(opts.signal);
    if (!raw.graph) throw new HailoError('MODEL_NOT_ONNX', `${abs}: not an ONNX model: no graph (ModelProto field 7)`, { file: abs });
    if (raw.irVersion === undefined) throw new HailoError('MODEL_INVALID', `${abs}: ir_version (ModelProto field 1) is missing`, { file: abs });
    return await build(abs, f, fsys, raw.irVersion, raw, opts);
  } finally {
    await f.close().catch(() => undefined);
  }
}

/** What the build steps share: the file, its folder and the external-data references seen so far. */
interface BuildContext {
  file: string;
  dir: string;
  warnings: string[];
  externals: { ref: TensorRef; raw: RawTensor }[];
}

async function build(
  file: string,
  f: RandomAccessFile,
  fsys: ModelFileSystem,
  irVersion: number,
  raw: Awaited<ReturnType<typeof scanModel>>,
  opts: OpenOnnxOptions,
): Promise<OnnxModel> {
  const cx: BuildContext = { file, dir: path.dirname(file), warnings: [], externals: [] };
  const g = raw.graph!;
  const { opsetImports, defaultOpset, domains } = checkVersions(cx, irVersion, raw.opsetImports);
  const { initializers, paramCount, paramBytes } = collectInitializers(cx, g);
  const { nodes, constants, smallAttrTensors } = buildNodes(cx, g, domains);
  const unknownDomains = [...domains].filter((d) => !KNOWN_DOMAINS.has(d)).sort();
  checkNestedExternals(cx, g, true);
  const { bodies, subgraphs, implicit } = buildBodies(g.nodes, nodes);

  const { values, producedBy, inputs } = produceValues(cx, g, initializers, nodes);
  const order = topoOrder(file, nodes, producedBy, implicit);
  throwIfAborted(opts.signal);
  reportMissingValues(cx, nodes, producedBy, implicit);

  // external data: locations already checked to stay inside the folder; now stat, never read
  const externalDataFiles = await checkExternalFiles(file, cx.dir, cx.externals, fsys);

  const readTensorWith = async (name: string, maxBytes: number, handle?: RandomAccessFile): Promise<TensorData> => {
    const ref = initializers.get(name) ?? constants.get(name);
    if (!ref) throw new HailoError('INVALID_ARGUMENT', `${file}: no initializer or constant named '${name}'`, { file });
    if (ref.byteLength > maxBytes)
      throw new HailoError('INVALID_ARGUMENT', `${file}: tensor '${name}' has ${ref.byteLength} bytes, more than the ${maxBytes} asked for`, { file });
    return loadTensor(ref, file, fsys, handle);
  };
  const consts = await decodeSmallConstants(initializers, constants, (name) => readTensorWith(name, EAGER_CONST_BYTES, f));
  // tiny attribute tensors (Constant values, ConstantOfShape fill values) are shown with their values
  for (const { summary, t } of smallAttrTensors) summary.values = toNumbers(await loadTensor(toRef(cx, t, t.name || 'attribute'), file, fsys, f));

  for (const [name, ref] of constants) values[name] = { name, shape: [...ref.dims], dtype: ref.dtype };
  const orderedNodes = order.map((i) => nodes[i]!);
  inferOrDeclare(cx, g, orderedNodes, values, consts, defaultOpset, opts.inferShapes !== false);
  const outputs: TensorInfo[] = g.outputs.map((vi) => {
    const v = values[vi.name];
    if (!producedBy.has(vi.name)) cx.warnings.push(`graph output '${vi.name}' is not produced by any node, initializer or input`);
    return { name: vi.name, shape: v?.shape ?? vi.shape, dtype: v?.dtype ?? vi.dtype };
  });

  const graph: GraphModel = { kind: 'onnx', name: g.name, nodes: orderedNodes, inputs, outputs, values, ...(bodies.length ? { bodies } : {}) };
  return {
    file,
    fileSize: f.size,
    irVersion,
    producerName: raw.producerName,
    producerVersion: raw.producerVersion,
    opsetImports,
    defaultOpset,
    unknownDomains,
    metadata: raw.metadata,
    graph,
    initializers,
    constants,
    paramCount,
    paramBytes,
    subgraphs,
    externalDataFiles,
    warnings: cx.warnings,
    readTensor: (name, o) => readTensorWith(name, o?.maxBytes ?? DEFAULT_READ_MAX),
  };
}

/** IR and opset versions against the supported ranges (warnings), and the domains in use. */
function checkVersions(cx: BuildContext, irVersion: number, imports: { domain: string; version: number }[]) {
  if (irVersion < SUPPORTED_IR.min || irVersion > SUPPORTED_IR.max) {
    cx.warnings.push(`ir_version ${irVersion} is outside the supported range ${SUPPORTED_IR.min} to ${SUPPORTED_IR.max}`);
  }
  const opsetImports = imports.map((o) => ({ domain: o.domain === 'ai.onnx' ? '' : o.domain, version: o.version }));
  const defaultOpset = opsetImports.find((o) => o.domain === '')?.version;
  if (defaultOpset === undefined) cx.warnings.push('no ai.onnx opset_import: the operator versions are unknown');
  else if (defaultOpset < SUPPORTED_OPSET.min || defaultOpset > SUPPORTED_OPSET.max) {
    cx.warnings.push(`ai.onnx opset ${defaultOpset} is outside the supported range ${SUPPORTED_OPSET.min} to ${SUPPORTED_OPSET.max}`);
  }
  return { opsetImports, defaultOpset, domains: new Set<string>(opsetImports.map((o) => o.domain)) };
}

/** Where a tensor's bytes are (inline, typed fields, external), checked against its dims; external ones are remembered for the stat. */
function toRef(cx: BuildContext, t: RawTensor, name: string): TensorRef {
  const { file } = cx;
  const dtype = dtypeName(t.dataType);
  const n = numel(t.dims);
  let byteLength = Math.ceil(n * dtypeBytes(t.dataType));
  if (t.dataLocation === 1) {
    const ext = t.external ?? {};
    const location = ext.location;
    if (!location)
      throw new HailoError('EXTERNAL_DATA_INVALID', `${file}: ${t.where}: data_location is EXTERNAL but external_data has no 'location'`, { file });
    const offset = ext.offset !== undefined ? Number(ext.offset) : 0;
    const length = ext.length !== undefined ? Number(ext.length) : byteLength;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new HailoError(
        'EXTERNAL_DATA_INVALID',
        `${file}: ${t.where}: external_data offset '${ext.offset}' / length '${ext.length}' are not valid byte counts`,
        { file },
      );
    }
    if (dtypeBytes(t.dataType) > 0 && length !== byteLength) {
      throw new HailoError(
        'EXTERNAL_DATA_INVALID',
        `${file}: ${t.where}: external_data length ${length}, but dims [${t.dims.join(', ')}] of ${dtype} need ${byteLength}`,
        { file },
      );
    }
    byteLength = length;
    const ref: TensorRef = {
      name,
      dtype,
      dims: t.dims,
      byteLength,
      location: { kind: 'external', file: checkLocation(file, cx.dir, location, t.where), offset, length },
    };
    cx.externals.push({ ref, raw: t });
    return ref;
  }
  if (t.raw) return { name, dtype, dims: t.dims, byteLength: t.raw.length, location: { kind: 'inline', offset: t.raw.offset } };
  if (t.typed)
    return { name, dtype, dims: t.dims, byteLength, location: { kind: 'raw-fields', messageOffset: t.messageOffset, messageLength: t.messageLength } };
  if (n === 0) return { name, dtype, dims: t.dims, byteLength: 0, location: { kind: 'inline', offset: t.messageOffset } };
  throw new HailoError('MODEL_INVALID', `${file}: ${t.where}: dims [${t.dims.join(', ')}] but no data (no raw_data, typed data or external data)`, { file });
}

function collectInitializers(cx: BuildContext, g: RawGraph) {
  const { file } = cx;
  const initializers = new Map<string, TensorRef>();
  let paramCount = 0;
  let paramBytes = 0;
  for (const t of g.initializers) {
    if (!t.name) throw new HailoError('MODEL_INVALID', `${file}: ${t.where} has no name`, { file });
    if (initializers.has(t.name)) throw new HailoError('MODEL_INVALID', `${file}: ${t.where}: initializer name '${t.name}' is used twice`, { file });
    const ref = toRef(cx, t, t.name);
    initializers.set(t.name, ref);
    paramCount += numel(t.dims);
    paramBytes += ref.byteLength;
  }
  if (g.sparseInitializers) cx.warnings.push(`${g.sparseInitializers} sparse initializer(s) are not read (their parameters are not counted)`);
  return { initializers, paramCount, paramBytes };
}

/** Graph nodes with unique ids (names first, duplicates suffixed, then generated ids), Constant outputs, subgraphs. */
function buildNodes(cx: BuildContext, g: RawGraph, domains: Set<string>) {
  const { file } = cx;
  const constants = new Map<string, TensorRef>();
  const nodes: GraphNode[] = [];
  const usedIds = new Set<string>();
  const duplicateNames: string[] = [];
  const smallAttrTensors: { summary: { values?: number[] }; t: RawTensor }[] = [];
  const uniqueId = (base: string) => {
    let id = base;
    for (let k = 1; usedIds.has(id); k++) id = `${base}_${k}`;
    usedIds.add(id);
    return id;
  };
  const ids = g.nodes.map((n) => {
    if (!n.name) return '';
    if (usedIds.has(n.name)) duplicateNames.push(n.name);
    return uniqueId(n.name);
  });
  g.nodes.forEach((n, i) => {
    if (!n.op) throw new HailoError('MODEL_INVALID', `${file}: ${n.where} has no op_type`, { file });
    // an unnamed node is known by its op and first output, which a re-export keeps
    const id = ids[i] || uniqueId(stableNodeId('', n.op, n.outputs, `${n.op}_${i}`));
    if (n.domain) domains.add(n.domain === 'ai.onnx' ? '' : n.domain);
    const attrs: Record<string, unknown> = {};
    for (const a of n.attrs) {
      const j = attrJson(a);
      attrs[a.name] = j;
      if (a.t && j && a.t.dataLocation !== 1 && a.t.dataType !== 8 && numel(a.t.dims) <= SMALL_ATTR_TENSOR)
        smallAttrTensors.push({ summary: j as { values?: number[] }, t: a.t });
    }
    if (n.op === 'Constant' && (!n.domain || n.domain === 'ai.onnx') && n.outputs[0]) constantValue(cx, n.attrs, n.outputs[0], constants);
    nodes.push({ id, op: n.op, domain: n.domain === 'ai.onnx' ? '' : n.domain, scope: scopeFromNodeName(n.name), inputs: n.inputs, outputs: n.outputs, attrs });
  });
  if (duplicateNames.length)
    cx.warnings.push(`node names used more than once (made unique with a suffix): ${[...new Set(duplicateNames)].slice(0, 10).join(', ')}`);
  return { nodes, constants, smallAttrTensors };
}

function constantValue(cx: BuildContext, attrs: RawAttr[], out: string, constants: Map<string, TensorRef>): void {
  for (const a of attrs) {
    if (a.name === 'value' && a.t) constants.set(out, toRef(cx, a.t, out));
    else if (a.name === 'value_int' && a.i !== undefined) constants.set(out, literal(out, 'int64', [], [a.i]));
    else if (a.name === 'value_ints') constants.set(out, literal(out, 'int64', [a.ints.length], a.ints));
    else if (a.name === 'value_float' && a.f !== undefined) constants.set(out, literal(out, 'float32', [], [a.f]));
    else if (a.name === 'value_floats') constants.set(out, literal(out, 'float32', [a.floats.length], a.floats));
  }
}

/** Tensors inside subgraphs (If/Loop/Scan bodies) and attribute tensor lists: their external data is checked like the main graph's. */
function checkNestedExternals(cx: BuildContext, gr: RawGraph, top: boolean): void {
  if (!top) for (const t of gr.initializers) if (t.dataLocation === 1) toRef(cx, t, t.name);
  for (const n of gr.nodes) {
    for (const a of n.attrs) {
      if (!top && a.t?.dataLocation === 1) toRef(cx, a.t, a.t.name || a.name);
      for (const t of a.tensors) if (t.dataLocation === 1) toRef(cx, t, t.name || a.name);
      for (const sub of [...(a.g ? [a.g] : []), ...a.graphs]) checkNestedExternals(cx, sub, false);
    }
  }
}

/** Every name must be produced once (SSA), by a graph input, an initializer or a node. */
function produceValues(cx: BuildContext, g: RawGraph, initializers: Map<string, TensorRef>, nodes: GraphNode[]) {
  const { file } = cx;
  const values: GraphModel['values'] = {};
  const producedBy = new Map<string, string>();
  const produce = (name: string, by: string) => {
    const prev = producedBy.get(name);
    if (prev !== undefined) throw new HailoError('MODEL_INVALID', `${file}: value '${name}' is produced twice: by ${prev} and by ${by}`, { file });
    producedBy.set(name, by);
  };
  for (const [name, t] of initializers) {
    produce(name, `initializer '${name}'`);
    values[name] = { name, shape: [...t.dims], dtype: t.dtype, initializer: true };
  }
  const inputs: TensorInfo[] = [];
  const seenInputs = new Set<string>();
  for (const vi of g.inputs) {
    if (initializers.has(vi.name)) continue; // IR < 4 lists initializers as inputs too
    if (seenInputs.has(vi.name)) throw new HailoError('MODEL_INVALID', `${file}: graph input '${vi.name}' is listed twice`, { file });
    seenInputs.add(vi.name);
    produce(vi.name, `graph input '${vi.name}'`);
    const info = { name: vi.name, shape: vi.shape, dtype: vi.dtype };
    inputs.push(info);
    values[vi.name] = { ...info };
  }
  for (const n of nodes) for (const o of n.outputs) if (o) produce(o, `node '${n.id}' (${n.op})`);
  return { values, producedBy, inputs };
}

function reportMissingValues(cx: BuildContext, nodes: GraphNode[], producedBy: Map<string, string>, implicit: Map<number, string[]>): void {
  const missing = new Set<string>();
  nodes.forEach((n, k) => {
    for (const i of n.inputs) if (i && !producedBy.has(i)) missing.add(`'${i}' (input of ${n.id})`);
    for (const i of implicit.get(k) ?? []) if (!producedBy.has(i)) missing.add(`'${i}' (read inside the body of ${n.id})`);
  });
  if (missing.size)
    cx.warnings.push(`values used but never produced: ${[...missing].slice(0, 10).join(', ')}${missing.size > 10 ? ` and ${missing.size - 10} more` : ''}`);
}

/** Small constants decoded now so Reshape/Pad/Slice... shapes can be inferred. */
async function decodeSmallConstants(
  initializers: Map<string, TensorRef>,
  constants: Map<string, TensorRef>,
  read: (name: string) => Promise<TensorData>,
): Promise<Map<string, ConstValue>> {
  const consts = new Map<string, ConstValue>();
  for (const [name, ref] of [...initializers, ...constants]) {
    const n = numel(ref.dims);
    // integers (shape vectors, axes, pads) and tiny float tensors (Resize scales); never half floats, whose bits are not values
    const small = (INTEGER_DTYPES.has(ref.dtype) && ref.byteLength <= EAGER_CONST_BYTES) || (n <= 64 && (ref.dtype === 'float32' || ref.dtype === 'float64'));
    if (!small || ref.location.kind === 'external') continue;
    consts.set(name, { dtype: ref.dtype, dims: ref.dims, data: toNumbers(await read(name)) });
  }
  return consts;
}

/** Shapes inferred (warnings for what cannot be), or, when inference is off, as declared in the file. */
function inferOrDeclare(
  cx: BuildContext,
  g: RawGraph,
  orderedNodes: GraphNode[],
  values: GraphModel['values'],
  consts: Map<string, ConstValue>,
  opset: number | undefined,
  infer: boolean,
): void {
  const declared = new Map<string, { shape: TensorInfo['shape']; dtype: string | undefined }>();
  for (const vi of [...g.valueInfo, ...g.outputs]) declared.set(vi.name, { shape: vi.shape, dtype: vi.dtype });
  if (infer) {
    cx.warnings.push(...inferShapes({ nodes: orderedNodes, opset, values, declared, consts }));
  } else {
    for (const n of orderedNodes)
      for (const o of n.outputs) if (o && !values[o]) values[o] = { name: o, shape: declared.get(o)?.shape, dtype: declared.get(o)?.dtype };
  }
}

function literal(name: string, dtype: string, dims: number[], values: number[]): TensorRef {
  return { name, dtype, dims, byteLength: values.length * (dtype === 'int64' ? 8 : 4), location: { kind: 'literal', values } };
}

function tensorSummary(t: RawTensor): { tensor: true; dtype: string; dims: number[] } {
  return { tensor: true, dtype: dtypeName(t.dataType), dims: t.dims };
}

/** Attribute as plain JSON: numbers, strings, lists; tensors summarised; graphs as node counts. */
function attrJson(a: RawAttr): unknown {
  switch (a.type) {
    case 1:
      return a.f ?? 0;
    case 2:
      return a.i ?? 0;
    case 3:
      return a.s ?? '';
    case 4:
      return a.t ? tensorSummary(a.t) : null;
    case 5:
      return a.g ? { graph: a.g.name, nodes: a.g.nodes.length } : null;
    case 6:
      return a.floats;
    case 7:
      return a.ints;
    case 8:
      return a.strings;
    case 9:
      return a.tensors.map(tensorSummary);
    case 10:
      return a.graphs.map((g) => ({ graph: g.name, nodes: g.nodes.length }));
    default:
      // type missing (old exporters): use whichever field is set
      if (a.f !== undefined) return a.f;
      if (a.i !== undefined) return a.i;
      if (a.s !== undefined) return a.s;
      if (a.t) return tensorSummary(a.t);
      if (a.g) return { graph: a.g.name, nodes: a.g.nodes.length };
      if (a.ints.length) return a.ints;
      if (a.floats.length) return a.floats;
      if (a.strings.length) return a.strings;
      return null;
  }
}

/**
 * If/Loop/Scan bodies (GRAPH and GRAPHS attributes) as nested graph models, all levels in one flat
 * list, depth first. Nesting is bounded by the scanner (MAX_DEPTH in proto.ts), so the recursion
 * is too. Body node ids are `<owner>/<attribute>/<name>` (unnamed: op and first output), so they
 * survive a re-export like the main graph's. Shapes are those declared in the body (no inference).
 * `implicit` gives, per main-graph node index, the outer values its bodies read.
 */
function buildBodies(raw: RawNode[], nodes: GraphNode[]) {
  const bodies: GraphBody[] = [];
  const subgraphs: SubgraphInfo[] = [];
  const implicit = new Map<number, string[]>();
  const graphsOf = (n: RawNode) =>
    n.attrs.flatMap((a) => [...(a.g ? [{ attribute: a.name, g: a.g }] : []), ...a.graphs.map((g, i) => ({ attribute: `${a.name}[${i}]`, g }))]);
  /** The bodies of one node; returns the values they read from outside the node. */
  const ofNode = (n: RawNode, ownerId: string): string[] => {
    const reads: string[] = [];
    for (const { attribute, g } of graphsOf(n)) {
      const at = bodies.length;
      subgraphs.push({ node: ownerId, op: n.op, attribute, nodeCount: g.nodes.length });
      const body = ofGraph(g, ownerId, attribute);
      // depth first: a body before the bodies nested in it
      bodies.splice(at, 0, body);
      reads.push(...body.implicitInputs);
    }
    return [...new Set(reads)];
  };
  const ofGraph = (g: RawGraph, owner: string, attribute: string): GraphBody => {
    const used = new Set<string>();
    const produced = new Set<string>();
    const values: GraphModel['values'] = {};
    const declare = (vi: { name: string; shape: TensorInfo['shape']; dtype: string | undefined }) =>
      (values[vi.name] = { name: vi.name, shape: vi.shape, dtype: vi.dtype });
    for (const vi of [...g.valueInfo, ...g.inputs, ...g.outputs]) declare(vi);
    for (const t of g.initializers) {
      produced.add(t.name);
      values[t.name] = { name: t.name, shape: [...t.dims], dtype: dtypeName(t.dataType), initializer: true };
    }
    const inputs = g.inputs.filter((vi) => !produced.has(vi.name)).map((vi) => ({ name: vi.name, shape: vi.shape, dtype: vi.dtype }));
    for (const vi of inputs) produced.add(vi.name);
    const reads: string[] = [];
    const read = (name: string) => {
      if (name && !produced.has(name)) reads.push(name);
    };
    const inner: GraphNode[] = g.nodes.map((n) => {
      let local = stableNodeId(n.name, n.op, n.outputs, n.op);
      for (let k = 1; used.has(local); k++) local = `${stableNodeId(n.name, n.op, n.outputs, n.op)}_${k}`;
      used.add(local);
      const id = bodyNodeId(owner, attribute, local);
      for (const i of n.inputs) read(i);
      for (const r of ofNode(n, id)) read(r);
      for (const o of n.outputs) {
        if (!o) continue;
        produced.add(o);
        values[o] ??= { name: o, shape: undefined, dtype: undefined };
      }
      const attrs: Record<string, unknown> = {};
      for (const a of n.attrs) attrs[a.name] = attrJson(a);
      return { id, op: n.op, domain: n.domain === 'ai.onnx' ? '' : n.domain, scope: scopeFromNodeName(n.name), inputs: n.inputs, outputs: n.outputs, attrs };
    });
    // a body output may be an outer value passed through
    for (const o of g.outputs) read(o.name);
    const outputs = g.outputs.map((vi) => ({ name: vi.name, shape: vi.shape, dtype: vi.dtype }));
    return { owner, attribute, graph: { kind: 'onnx', name: g.name, nodes: inner, inputs, outputs, values }, implicitInputs: [...new Set(reads)] };
  };
  raw.forEach((n, i) => {
    if (!n.attrs.some((a) => a.g || a.graphs.length)) return;
    const reads = ofNode(n, nodes[i]!.id);
    if (reads.length) implicit.set(i, reads);
  });
  return { bodies, subgraphs, implicit };
}

/** Kahn's algorithm over value dependencies; a leftover means a cycle, reported with its path. */
function topoOrder(file: string, nodes: GraphNode[], producedBy: Map<string, string>, implicit: Map<number, string[]>): number[] {
  const producerIndex = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => o && producerIndex.set(o, i)));
  const indeg = new Array<number>(nodes.length).fill(0);
  const users: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    const deps = new Set<number>();
    // an If/Loop runs after the producers of the outer values its bodies read
    for (const inp of [...n.inputs, ...(implicit.get(i) ?? [])]) {
      const p = inp ? producerIndex.get(inp) : undefined;
      if (p !== undefined) deps.add(p);
    }
    for (const p of deps) {
      users[p]!.push(i);
      indeg[i]!++;
    }
  });
  const order: number[] = [];
  const queue: number[] = [];
  indeg.forEach((d, i) => d === 0 && queue.push(i));
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q]!;
    order.push(i);
    for (const u of users[i]!) if (--indeg[u]! === 0) queue.push(u);
  }
  if (order.length === nodes.length) return order;
  // walk back through unsorted producers until a node repeats
  const left = new Set(indeg.map((d, i) => (d > 0 ? i : -1)).filter((i) => i >= 0));
  let cur = left.values().next().value as number;
  const path: number[] = [];
  const seen = new Map<number, number>();
  while (!seen.has(cur)) {
    seen.set(cur, path.length);
    path.push(cur);
    const n = nodes[cur]!;
    const next = n.inputs.map((i) => (i ? producerIndex.get(i) : undefined)).find((p) => p !== undefined && left.has(p));
    if (next === undefined) break;
    cur = next;
  }
  const cycle = path.slice(seen.get(cur) ?? 0).reverse();
  const names = [...cycle, cycle[0]!].map((i) => nodes[i]!.id);
  void producedBy;
  throw new HailoError('MODEL_CYCLE', `${file}: the graph has a cycle: ${names.join(' -> ')} (${left.size} node(s) cannot be ordered)`, { file });
}

/** A location must be a relative path that stays inside the model's folder. Nothing is touched on disk here. */
function checkLocation(file: string, dir: string, location: string, where: string): string {
  const escapes = (why: string) =>
    new HailoError('EXTERNAL_DATA_ESCAPES', `${file}: ${where}: external data location '${location}' ${why}; refused, nothing was read`, { file });
  if (location.includes('\0')) throw escapes('contains a NUL character');
  if (path.isAbsolute(location) || path.win32.isAbsolute(location) || /^[a-zA-Z]:/.test(location)) throw escapes('is an absolute path');
  if (location.split(/[\\/]/).includes('..')) throw escapes("goes up a folder with '..'");
  const resolved = path.resolve(dir, location);
  const rel = path.relative(dir, resolved);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) throw escapes("is not inside the model's folder");
  return resolved;
}

async function checkExternalFiles(file: string, dir: string, externals: { ref: TensorRef; raw: RawTensor }[], fsys: ModelFileSystem): Promise<string[]> {
  const files = new Map<string, number>();
  let realDir: string | undefined;
  for (const { ref, raw } of externals) {
    if (ref.location.kind !== 'external') continue;
    const loc = ref.location;
    let size = files.get(loc.file);
    if (size === undefined) {
      let st;
      try {
        st = await fsys.stat(loc.file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new HailoError(
          'EXTERNAL_DATA_MISSING',
          `${file}: ${raw.where}: external data file ${loc.file} ${code === 'ENOENT' ? 'does not exist' : `cannot be accessed (${code ?? (e as Error).message})`}`,
          { file: loc.file, cause: e },
        );
      }
      let real: string;
      try {
        realDir ??= await fsys.realpath(dir);
        real = await fsys.realpath(loc.file);
      } catch (e) {
        throw new HailoError(
          'EXTERNAL_DATA_MISSING',
          `${file}: ${raw.where}: cannot resolve external data file ${loc.file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
          { file: loc.file, cause: e },
        );
      }
      const rel = path.relative(realDir, real);
      if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) {
        throw new HailoError(
          'EXTERNAL_DATA_ESCAPES',
          `${file}: ${raw.where}: external data file ${loc.file} is a link to ${real}, outside the model's folder; refused, nothing was read`,
          { file: loc.file },
        );
      }
      if (!st.isFile)
        throw new HailoError('EXTERNAL_DATA_INVALID', `${file}: ${raw.where}: external data ${loc.file} is not a regular file`, { file: loc.file });
      try {
        await fsys.checkReadable(loc.file);
      } catch (e) {
        throw new HailoError(
          'EXTERNAL_DATA_MISSING',
          `${file}: ${raw.where}: external data file ${loc.file} is not readable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
          { file: loc.file, cause: e },
        );
      }
      size = st.size;
      files.set(loc.file, size);
    }
    if (loc.offset + loc.length > size) {
      throw new HailoError(
        'EXTERNAL_DATA_INVALID',
        `${file}: ${raw.where}: external data needs bytes ${loc.offset} to ${loc.offset + loc.length} of ${loc.file}, which has ${size} bytes`,
        { file: loc.file },
      );
    }
  }
  return [...files.keys()];
}
