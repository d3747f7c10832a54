import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import { HailoError } from '../errors';
import type { SourceLocation } from '../graph/model';

/**
 * Where each ONNX node came from in the user's Python source. Written by the export driver as a
 * sidecar next to the model, `<model>.onnx.sourcemap.json`, so it travels with the ONNX file and
 * needs no change to the model itself. Paths are stored relative to the sidecar's folder when they
 * are inside it (portable across machines), absolute otherwise.
 */
export const SourceMapEntry = z
  .object({
    file: z.string().min(1),
    line: z.number().int().positive(),
    module: z.string().optional(),
    /** Innermost-last user frames, when the trace kept more than one. */
    stack: z.array(z.object({ file: z.string(), line: z.number().int().positive(), fn: z.string().optional() })).optional(),
  })
  .strict();
export type SourceMapEntry = z.infer<typeof SourceMapEntry>;

export const SourceMapFile = z
  .object({
    version: z.literal(1),
    /** Basename of the ONNX file it describes. */
    model: z.string(),
    /** SHA-256 of the ONNX file when the map was written; a mismatch means the map is stale. */
    modelSha256: z.string().optional(),
    producer: z.string().optional(),
    /** The entry point exported, e.g. "pkg.mod:build". */
    entry: z.string().optional(),
    nodes: z.record(z.string(), SourceMapEntry),
  })
  .strict();
export type SourceMapFile = z.infer<typeof SourceMapFile>;

export function sourceMapPath(onnxFile: string): string {
  return `${onnxFile}.sourcemap.json`;
}

export class SourceMap {
  constructor(
    readonly file: string,
    readonly data: SourceMapFile,
  ) {}

  get size(): number {
    return Object.keys(this.data.nodes).length;
  }

  /** The source location of an ONNX node, with an absolute file path. */
  lookup(nodeName: string): SourceLocation | undefined {
    const e = this.data.nodes[nodeName];
    if (!e) return undefined;
    const file = path.isAbsolute(e.file) ? e.file : path.resolve(path.dirname(this.file), e.file);
    return { file, line: e.line, ...(e.module !== undefined ? { module: e.module } : {}) };
  }
}

/** Load the sidecar of an ONNX file; undefined when there is none. Throws on a corrupt sidecar. */
export async function loadSourceMap(onnxFile: string): Promise<SourceMap | undefined> {
  const file = sourceMapPath(onnxFile);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HailoError('MODEL_READ_FAILED', `${file}: cannot read source map (${String(e)})`, { file, cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HailoError('MODEL_INVALID', `${file}: source map is not valid JSON`, { file, cause: e });
  }
  const r = SourceMapFile.safeParse(json);
  if (!r.success) {
    throw new HailoError('MODEL_INVALID', `${file}: source map does not match the format: ${r.error.issues[0]?.message ?? ''}`, { file });
  }
  return new SourceMap(file, r.data);
}
