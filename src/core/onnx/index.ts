/**
 * The ONNX model core: reads a ModelProto of any size by scanning the protobuf wire format (weights
 * are kept as offsets, never copied), builds the shared GraphModel and infers static shapes. This
 * file only re-exports; the model types are in ./model.ts.
 */
export type * from './model';
export { openOnnx } from './reader';
export { inferShapes } from './shapes';
export type { ModelFileSystem, RandomAccessFile } from './fileAccess';
export { nodeFileSystem, countingFileSystem } from './fileAccess';
export { dtypeName, dtypeBytes } from './dtypes';
