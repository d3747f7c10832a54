import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Model } from './schema';
import { modelPaths } from './load';

export type ArtifactKind = 'source' | 'onnx' | 'har' | 'hef';
export type ArtifactState = 'missing' | 'present' | 'stale';

export interface ArtifactStatus {
  kind: ArtifactKind;
  file: string;
  state: ArtifactState;
  mtimeMs?: number;
  size?: number;
  /** Why it is stale: the newer input it was made from. */
  staleBecause?: string;
}

/** Minimal file-stat access so tests and adapters can supply their own. */
export type StatFn = (file: string) => Promise<{ mtimeMs: number; size: number } | undefined>;

export const nodeStat: StatFn = async (file) => {
  try {
    const s = await fs.stat(file);
    return s.isFile() ? { mtimeMs: s.mtimeMs, size: s.size } : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The Python file that defines `package.module:factory`, looked up relative to the project root
 * (`package/module.py` or `package/module/__init__.py`).
 */
export async function resolveEntryFile(entry: string, root: string, stat: StatFn = nodeStat): Promise<string | undefined> {
  const mod = entry.split(':')[0];
  if (!mod) return undefined;
  const rel = mod.split('.');
  for (const candidate of [path.join(root, ...rel) + '.py', path.join(root, ...rel, '__init__.py')]) {
    if (await stat(candidate)) return candidate;
  }
  return undefined;
}

/**
 * State of each artifact of a model. Each artifact is stale when the input it is made from is
 * newer: ONNX from the Python source, HAR from the ONNX, HEF from the HAR.
 */
export async function artifactStates(model: Model, root: string, stat: StatFn = nodeStat): Promise<ArtifactStatus[]> {
  const p = modelPaths(model, root);
  const out: ArtifactStatus[] = [];
  let prev: { file: string; mtimeMs: number } | undefined;
  if (model.entry) {
    const src = await resolveEntryFile(model.entry, root, stat);
    if (src) {
      const s = await stat(src);
      if (s) {
        out.push({ kind: 'source', file: src, state: 'present', mtimeMs: s.mtimeMs, size: s.size });
        prev = { file: src, mtimeMs: s.mtimeMs };
      }
    }
  }
  for (const [kind, file] of [['onnx', p.onnx], ['har', p.har], ['hef', p.hef]] as const) {
    const s = await stat(file);
    if (!s) {
      out.push({ kind, file, state: 'missing' });
      prev = undefined;
      continue;
    }
    const stale = prev !== undefined && prev.mtimeMs > s.mtimeMs;
    out.push({
      kind,
      file,
      state: stale ? 'stale' : 'present',
      mtimeMs: s.mtimeMs,
      size: s.size,
      ...(stale ? { staleBecause: prev!.file } : {}),
    });
    prev = { file, mtimeMs: s.mtimeMs };
  }
  return out;
}
