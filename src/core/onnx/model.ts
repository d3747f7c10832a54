/** The ONNX model as read by ./reader.ts: metadata, the shared GraphModel, tensors by reference. */
import type { GraphModel } from '../graph/model';
import type { ModelFileSystem } from './fileAccess';

export interface OpsetImport {
  domain: string;
  version: number;
}

/** Where a tensor's bytes live; nothing is read until `readTensor` asks for them. */
export type TensorLocation =
  /** `raw_data` bytes at an absolute offset of the model file. */
  | { kind: 'inline'; offset: number }
  /** External data: an absolute path inside the model's folder, offset and length in it. */
  | { kind: 'external'; file: string; offset: number; length: number }
  /** Typed repeated fields (float_data, int64_data...): the whole TensorProto message is re-read on demand. */
  | { kind: 'raw-fields'; messageOffset: number; messageLength: number }
  /** A Constant node's value_int(s)/value_float(s) attribute. */
  | { kind: 'literal'; values: number[] };

/** An initializer or Constant tensor, never copied into the JS heap eagerly. */
export interface TensorRef {
  name: string;
  dtype: string;
  dims: number[];
  /** Bytes of data (numel x element size; for external data the declared length). */
  byteLength: number;
  location: TensorLocation;
}

export interface SubgraphInfo {
  /** Id of the node that owns the subgraph (nested subgraphs: "outer/inner"). */
  node: string;
  op: string;
  attribute: string;
  nodeCount: number;
}

export type TensorData =
  Float32Array | Float64Array | BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

export interface OnnxModel {
  file: string;
  fileSize: number;
  irVersion: number;
  producerName: string;
  producerVersion: string;
  /** ai.onnx is domain ''. */
  opsetImports: OpsetImport[];
  /** The ai.onnx version. */
  defaultOpset: number | undefined;
  /** Domains other than '', 'ai.onnx', 'ai.onnx.ml'. */
  unknownDomains: string[];
  metadata: Record<string, string>;
  /** Nodes, values and inferred shapes (values[name].shape), node.scope from PyTorch-style names. */
  graph: GraphModel;
  initializers: Map<string, TensorRef>;
  /** Constant node outputs (value attribute tensors) by value name. */
  constants: Map<string, TensorRef>;
  paramCount: number;
  paramBytes: number;
  subgraphs: SubgraphInfo[];
  /** Absolute paths referenced as external data; stat-ed at open, never read. */
  externalDataFiles: string[];
  /** Things read but not understood: shapes not inferred (node and op), versions outside the supported range... */
  warnings: string[];
  /**
   * Reads a small constant tensor's values (an initializer or a Constant node's output). Reads
   * external data lazily. Throws HailoError: INVALID_ARGUMENT (unknown name, larger than maxBytes,
   * default 64 MiB), MODEL_TRUNCATED, EXTERNAL_DATA_MISSING / EXTERNAL_DATA_INVALID.
   */
  readTensor(name: string, opts?: { maxBytes?: number }): Promise<TensorData>;
}

export interface OpenOnnxOptions {
  signal?: AbortSignal;
  /** Refuse files larger than this (MODEL_TOO_LARGE). Default: no limit, any size is read by offset. */
  maxFileBytes?: number;
  /** File access; defaults to Node's fs. */
  fs?: ModelFileSystem;
  /** Most nodes in all graphs together (MODEL_INVALID above it). Default DEFAULT_MAX_ONNX_NODES (src/core/limits.ts). */
  maxNodes?: number;
  /** Skip shape inference (shapes stay as declared in the file). */
  inferShapes?: boolean;
}
