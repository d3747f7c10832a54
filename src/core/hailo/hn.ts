import { HailoError } from '../errors';
import { checkJsonShape, DEFAULT_MAX_JSON_BYTES } from '../limits';
import { openRegularFile } from '../regularFile';
import { scopeFromNodeName, type Dim, type GraphModel, type GraphNode, type TensorInfo } from '../graph/model';
import { readHar } from './har';

/**
 * The HN network description (JSON inside a HAR, or a `.hn` file) as a GraphModel of kind 'hn'.
 *
 * No specification of the format is public; the fields read here are the ones Hailo's own tools
 * and third-party converters read and write (`name`, `net_params`, `layers` with `type`, `input`,
 * `output`, `input_shapes`, `output_shapes`, `original_names`, `params`, `activation`). Unknown
 * keys and types pass through; missing ones are tolerated and reported as warnings.
 *
 * Graph shape: one node per layer (id = the scoped layer key), one value per layer output named
 * after the layer, so `node.inputs` are the predecessor layer keys. Shapes are channels-last with
 * a leading -1 batch, as in the HN.
 */

export interface HnLayer {
  id: string;
  name: string;
  type: string;
  inputs: string[];
  outputs: string[];
  inputShapes: number[][];
  outputShapes: number[][];
  originalNames: string[];
  activation?: string;
  params: Record<string, unknown>;
}

export interface HnModel {
  file: string;
  name: string;
  /** `net_params.version`: the HN format version (not the SDK's). */
  formatVersion?: string;
  /** `net_params.stage`, e.g. "HN". */
  stage?: string;
  outputLayersOrder: string[];
  netScopes: string[];
  transposed?: boolean;
  layers: HnLayer[];
  /** An SDK version written in the HN itself, if any (looked for under known key names). */
  sdkVersion?: string;
  /** Count of layers that carry quantization info (optimized HNs). */
  quantizedLayers: number;
  graph: GraphModel;
  warnings: string[];
}

const SMALL_ARRAY = 64;

function asStringArray(v: unknown): string[] {
  if (!Array.isArray(v)) return typeof v === 'string' ? [v] : [];
  return v.filter((x): x is string => typeof x === 'string');
}

/** `[[-1, 1, 80, 1500]]`, or a single shape `[-1, ...]`, to a list of shapes. */
function asShapes(v: unknown): number[][] {
  if (!Array.isArray(v)) return [];
  if (v.length && v.every((x) => typeof x === 'number')) return [v as number[]];
  return v.filter((s): s is unknown[] => Array.isArray(s)).map((s) => s.map((d) => (typeof d === 'number' ? d : -1)));
}

/** Small, plain attribute values only; large arrays are summarised. */
function summariseParams(p: unknown): Record<string, unknown> {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (Array.isArray(v)) out[k] = JSON.stringify(v).length <= 512 && v.length <= SMALL_ARRAY ? v : `[${v.length} items]`;
    else if (typeof v === 'object') out[k] = JSON.stringify(v).length <= 512 ? v : '{...}';
  }
  return out;
}

const VERSION_KEY = /^(sdk_version|dfc_version|hailo_sdk_version|sdk)$/i;

/** Parse HN JSON text (or an already parsed object). Throws HN_INVALID naming the file. */
export function parseHn(input: string | unknown, file: string): HnModel {
  let json: unknown = input;
  if (typeof input === 'string') {
    const shape = checkJsonShape(input);
    if (shape) throw new HailoError('HN_INVALID', `${file}: ${shape.message} (at character ${shape.offset}); not an HN network description`, { file });
    try {
      json = JSON.parse(input);
    } catch (e) {
      throw new HailoError('HN_INVALID', `${file}: not valid JSON (${(e as Error).message})`, { file, cause: e });
    }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new HailoError('HN_INVALID', `${file}: an HN is a JSON object with "layers"`, { file });
  const root = json as Record<string, unknown>;
  const rawLayers = root.layers;
  if (typeof rawLayers !== 'object' || rawLayers === null)
    throw new HailoError('HN_INVALID', `${file}: no "layers" object; not an HN network description`, { file });
  const warnings: string[] = [];
  const np = (typeof root.net_params === 'object' && root.net_params !== null ? root.net_params : {}) as Record<string, unknown>;
  if (root.net_params === undefined) warnings.push('no "net_params"');
  const name = typeof root.name === 'string' ? root.name : (asStringArray(np.net_scopes)[0] ?? 'network');

  // layers may be a dict keyed by scoped name (the known form) or a list of {name, ...}
  const entries: [string, Record<string, unknown>][] = [];
  if (Array.isArray(rawLayers)) {
    rawLayers.forEach((l, i) => {
      if (typeof l === 'object' && l !== null && typeof (l as { name?: unknown }).name === 'string')
        entries.push([(l as { name: string }).name, l as Record<string, unknown>]);
      else warnings.push(`layers[${i}] has no name; skipped`);
    });
  } else {
    for (const [k, l] of Object.entries(rawLayers as Record<string, unknown>)) {
      if (typeof l === 'object' && l !== null && !Array.isArray(l)) entries.push([k, l as Record<string, unknown>]);
      else warnings.push(`layer "${k}" is not an object; skipped`);
    }
  }
  const keys = new Set(entries.map(([k]) => k));
  const scope = name;
  const resolve = (ref: string, from: string): string => {
    if (keys.has(ref)) return ref;
    if (keys.has(`${scope}/${ref}`)) return `${scope}/${ref}`;
    const slash = from.lastIndexOf('/');
    if (slash >= 0 && keys.has(`${from.slice(0, slash)}/${ref}`)) return `${from.slice(0, slash)}/${ref}`;
    warnings.push(`layer "${from}" refers to unknown layer "${ref}"`);
    return ref;
  };

  let sdkVersion: string | undefined;
  for (const [k, v] of [...Object.entries(root), ...Object.entries(np)]) {
    if (VERSION_KEY.test(k) && (typeof v === 'string' || typeof v === 'number')) sdkVersion = String(v);
  }

  const layers: HnLayer[] = [];
  let quantizedLayers = 0;
  for (const [id, l] of entries) {
    const type = typeof l.type === 'string' ? l.type : 'unknown';
    if (l.type === undefined) warnings.push(`layer "${id}" has no "type"`);
    const params = summariseParams(l.params);
    const activation = typeof l.activation === 'string' ? l.activation : typeof params.activation === 'string' ? (params.activation as string) : undefined;
    if (l.quantization_params !== undefined || l.precision_config !== undefined || params.precision_mode !== undefined) quantizedLayers++;
    layers.push({
      id,
      name: id.slice(id.lastIndexOf('/') + 1),
      type,
      inputs: asStringArray(l.input).map((r) => resolve(r, id)),
      outputs: asStringArray(l.output).map((r) => resolve(r, id)),
      inputShapes: asShapes(l.input_shapes),
      outputShapes: asShapes(l.output_shapes),
      originalNames: asStringArray(l.original_names),
      ...(activation !== undefined ? { activation } : {}),
      params,
    });
  }

  // Fill edges known from one side only (some writers keep only `input`).
  const byId = new Map(layers.map((l) => [l.id, l]));
  for (const l of layers) {
    for (const i of l.inputs) {
      const p = byId.get(i);
      if (p && !p.outputs.includes(l.id)) p.outputs.push(l.id);
    }
    for (const o of l.outputs) {
      const c = byId.get(o);
      if (c && !c.inputs.includes(l.id)) c.inputs.push(l.id);
    }
  }

  const graph = hnGraph(name, layers);
  const transposed = typeof np.transposed_net === 'boolean' ? np.transposed_net : undefined;
  return {
    file,
    name,
    ...(typeof np.version === 'string' || typeof np.version === 'number' ? { formatVersion: String(np.version) } : {}),
    ...(typeof np.stage === 'string' ? { stage: np.stage } : {}),
    outputLayersOrder: asStringArray(np.output_layers_order),
    netScopes: asStringArray(np.net_scopes),
    ...(transposed !== undefined ? { transposed } : {}),
    layers,
    ...(sdkVersion ? { sdkVersion } : {}),
    quantizedLayers,
    graph,
    warnings,
  };
}

function shapeOf(s: number[] | undefined): Dim[] | undefined {
  return s ? [...s] : undefined;
}

/** Module scope shared by a layer's original names ("encoder.blocks.0.attn"), '' when none. */
function scopeOf(originalNames: string[]): string {
  const scopes = originalNames.map(scopeFromNodeName).filter((s) => s !== '');
  if (!scopes.length) return '';
  let prefix = scopes[0]!.split('.');
  for (const s of scopes.slice(1)) {
    const p = s.split('.');
    let i = 0;
    while (i < prefix.length && i < p.length && prefix[i] === p[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix.join('.');
}

export function hnGraph(name: string, layers: HnLayer[]): GraphModel {
  const values: GraphModel['values'] = {};
  const nodes: GraphNode[] = [];
  const inputs: TensorInfo[] = [];
  const outputs: TensorInfo[] = [];
  for (const l of layers) {
    const out: TensorInfo = { name: l.id, shape: shapeOf(l.outputShapes[0] ?? (l.type === 'output_layer' ? l.inputShapes[0] : undefined)), dtype: undefined };
    values[l.id] = out;
    const attrs: Record<string, unknown> = { ...l.params };
    if (l.activation !== undefined) attrs.activation = l.activation;
    if (l.inputShapes.length) attrs.input_shapes = l.inputShapes;
    if (l.outputShapes.length) attrs.output_shapes = l.outputShapes;
    nodes.push({
      id: l.id,
      op: l.type,
      scope: scopeOf(l.originalNames),
      inputs: [...l.inputs],
      outputs: [l.id],
      attrs,
      ...(l.originalNames.length ? { originalNames: [...l.originalNames] } : {}),
    });
    if (l.type === 'input_layer') inputs.push(out);
    if (l.type === 'output_layer') outputs.push(out);
  }
  return { kind: 'hn', name, nodes, inputs, outputs, values };
}

/** Read a `.hn` file (regular files only, at most `maxBytes`, default DEFAULT_MAX_JSON_BYTES). */
export async function readHnFile(file: string, opts: { maxBytes?: number } = {}): Promise<HnModel> {
  const max = opts.maxBytes ?? DEFAULT_MAX_JSON_BYTES;
  const fh = await openRegularFile(file);
  let text: string;
  try {
    const { size } = await fh.stat();
    if (size > max)
      throw new HailoError('MODEL_TOO_LARGE', `${file}: ${size} bytes, above the ${max}-byte limit for HN files (setting hailo.limits.maxJsonMiB)`, { file });
    text = await fh.readFile('utf8');
  } finally {
    await fh.close().catch(() => undefined);
  }
  return parseHn(text, file);
}

/** Open a `.hn` or `.har` file (by extension, else by content) as an HN model, with the archive's contents for a HAR. */
export async function openHnOrHar(
  file: string,
  opts: { signal?: AbortSignal; maxMemberBytes?: number } & Omit<import('./har').ReadHarOptions, 'signal'> = {},
): Promise<{ hn: HnModel; har?: import('./har').HarContents }> {
  const lower = file.toLowerCase();
  let isHn = lower.endsWith('.hn');
  if (!isHn && !lower.endsWith('.har')) {
    const fh = await openRegularFile(file);
    try {
      const b = Buffer.alloc(64);
      const { bytesRead } = await fh.read(b, 0, 64, 0);
      isHn = b.subarray(0, bytesRead).toString('utf8').trimStart().startsWith('{');
    } finally {
      await fh.close();
    }
  }
  if (isHn) return { hn: await readHnFile(file, opts.maxMemberBytes !== undefined ? { maxBytes: opts.maxMemberBytes } : {}) };
  const har = await readHar(file, opts);
  const hn = parseHn(har.hn.text, `${file}:${har.hn.member}`);
  if (!hn.sdkVersion && har.sdkVersion) hn.sdkVersion = har.sdkVersion.value;
  return { hn, har };
}
