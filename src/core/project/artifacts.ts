import { createHash } from 'node:crypto';
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
  /** Why it is stale: the input it was made from that changed since. */
  staleBecause?: string;
  /**
   * For the ONNX: "content" when its source map recorded the hashes of the Python it was exported
   * from (staleness decided by them), "unknown" when it did not (no sidecar, or an older export):
   * then nothing is claimed, since file times say nothing after a clone or a copy.
   */
  freshness?: 'content' | 'unknown';
}

/**
 * Whether an ONNX still matches the Python it was exported from, by the SHA-256 hashes its source
 * map sidecar recorded at export. `known` is false without recorded hashes.
 */
export async function onnxFreshness(onnx: string): Promise<{ known: boolean; changed?: string }> {
  const sidecar = `${onnx}.sourcemap.json`;
  let sources: Record<string, string> | undefined;
  try {
    const data = JSON.parse(await fs.readFile(sidecar, 'utf8')) as { sources?: unknown };
    if (data && typeof data.sources === 'object' && data.sources !== null) sources = data.sources as Record<string, string>;
  } catch {
    return { known: false };
  }
  const entries = Object.entries(sources ?? {}).filter(([, h]) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h));
  if (!entries.length) return { known: false };
  for (const [key, hash] of entries) {
    const file = path.isAbsolute(key) ? key : path.resolve(path.dirname(sidecar), key);
    let now: string | undefined;
    try {
      now = createHash('sha256')
        .update(await fs.readFile(file))
        .digest('hex');
    } catch {
      now = undefined;
    }
    if (now !== hash) return { known: true, changed: file };
  }
  return { known: true };
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
 * State of each artifact of a model. The ONNX is stale when the Python it was exported from
 * changed since (by content: the hashes its source map recorded); the HAR when the ONNX is newer,
 * the HEF when the HAR is newer (both made on a compile box, never checked out).
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
  for (const [kind, file] of [
    ['onnx', p.onnx],
    ['har', p.har],
    ['hef', p.hef],
  ] as const) {
    const s = await stat(file);
    if (!s) {
      out.push({ kind, file, state: 'missing' });
      prev = undefined;
      continue;
    }
    let stale = prev !== undefined && prev.mtimeMs > s.mtimeMs;
    let because = prev?.file;
    let freshness: ArtifactStatus['freshness'];
    if (kind === 'onnx') {
      const f = await onnxFreshness(file);
      freshness = f.known ? 'content' : 'unknown';
      stale = f.changed !== undefined;
      because = f.changed;
    }
    out.push({
      kind,
      file,
      state: stale ? 'stale' : 'present',
      mtimeMs: s.mtimeMs,
      size: s.size,
      ...(stale && because ? { staleBecause: because } : {}),
      ...(freshness ? { freshness } : {}),
    });
    prev = { file, mtimeMs: s.mtimeMs };
  }
  return out;
}
