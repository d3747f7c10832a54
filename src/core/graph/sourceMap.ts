import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import { HailoError } from '../errors';
import { readRegularTextFile } from '../regularFile';
import type { SourceLocation } from './model';

/**
 * Where each ONNX node came from in the user's Python source. Written by the export driver as a
 * sidecar next to the model, `<model>.onnx.sourcemap.json`, so it travels with the ONNX file and
 * needs no change to the model itself. Paths are stored relative to the sidecar's folder when they
 * are inside it, or inside the project folder that holds both (e.g. "../asr/encoder.py" for a
 * model in build/), so the pair stays valid when the project moves; absolute otherwise.
 *
 * Consumers (the lint's diagnostics on .py lines, the rewrite ledger) use
 * `loadSourceMap(onnxFile)` then `map.lookup(onnxNodeName)`; see the README section "Export" for
 * the format. Unmapped nodes (weight copies, nodes torch made up) simply have no entry.
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
    /**
     * SHA-256 of each Python file the export ran (the entry module and every file a node maps
     * to), by the path written in `nodes` (relative to the sidecar, or absolute). Whether the ONNX
     * is stale is decided by these, not by file times (a fresh clone gives every file a new one).
     */
    sources: z.record(z.string(), z.string()).optional(),
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

  /**
   * The source location of an ONNX node (by its ONNX node name, e.g. "/blocks.0/attn/MatMul"),
   * with an absolute file path; undefined when the node is not mapped.
   */
  lookup(nodeName: string): SourceLocation | undefined {
    const e = this.entry(nodeName);
    if (!e) return undefined;
    return { file: this.absolute(e.file), line: e.line, ...(e.module !== undefined ? { module: e.module } : {}) };
  }

  /** The user frames that led to a node, outermost first (the last one is `lookup`'s), absolute paths. */
  stack(nodeName: string): { file: string; line: number; fn?: string }[] {
    const e = this.entry(nodeName);
    if (!e) return [];
    if (!e.stack?.length) return [{ file: this.absolute(e.file), line: e.line }];
    return e.stack.map((f) => ({ ...f, file: this.absolute(f.file) }));
  }

  /** Every mapped node name with its location (absolute paths), in the sidecar's order. */
  *entries(): IterableIterator<[string, SourceLocation]> {
    for (const name of Object.keys(this.data.nodes)) yield [name, this.lookup(name)!];
  }

  /** Node names mapped to a source file (absolute path), grouped by line. */
  nodesInFile(file: string): Map<number, string[]> {
    const want = path.resolve(file);
    const out = new Map<number, string[]>();
    for (const [name, loc] of this.entries()) {
      if (loc.file !== want) continue;
      const list = out.get(loc.line) ?? [];
      list.push(name);
      out.set(loc.line, list);
    }
    return out;
  }

  /**
   * False when the ONNX file changed since the map was written (its SHA-256 differs), so line
   * numbers may be wrong; true when it matches or the map has no hash.
   */
  matches(modelSha256: string): boolean {
    return this.data.modelSha256 === undefined || this.data.modelSha256 === modelSha256;
  }

  private entry(nodeName: string): SourceMapEntry | undefined {
    return Object.prototype.hasOwnProperty.call(this.data.nodes, nodeName) ? this.data.nodes[nodeName] : undefined;
  }

  private absolute(file: string): string {
    return path.isAbsolute(file) ? file : path.resolve(path.dirname(this.file), file);
  }
}

/** SHA-256 of a file, hex, streamed (models can be large); compare with `SourceMap.matches`. */
export async function fileSha256(file: string): Promise<string> {
  const h = createHash('sha256');
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (!bytesRead) break;
      h.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

/** Load the sidecar of an ONNX file; undefined when there is none. Throws on a corrupt sidecar. */
export async function loadSourceMap(onnxFile: string): Promise<SourceMap | undefined> {
  const file = sourceMapPath(onnxFile);
  let text: string;
  try {
    text = await readRegularTextFile(file);
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
