import * as fs from 'node:fs';
import * as path from 'node:path';
import { HailoError, throwIfAborted } from '../errors';
import { rjoin } from './quote';
import { sha256File } from './ssh';
import type { RemoteHost } from './host';

/** A local file to place at `dest` (relative to the remote run directory). */
export interface UploadItem {
  local: string;
  dest: string;
  /** What it is, for run.json: onnx, calib, modelScript... */
  role: string;
}

export interface UploadedInput {
  role: string;
  local: string;
  dest: string;
  sha256: string;
  size: number;
  /** False when the remote cache already had it. */
  sent: boolean;
}

export interface UploadReport {
  inputs: UploadedInput[];
  /** Payload bytes sent over SSH (0 when everything was cached). */
  bytesSent: number;
}

/** Calibration sets may be folders; more files than this is refused rather than sent one by one. */
export const MAX_FOLDER_FILES = 20000;

/** Expand a folder input into one item per file (relative layout kept under `dest`). */
export function expandItems(items: readonly UploadItem[]): UploadItem[] {
  const out: UploadItem[] = [];
  for (const it of items) {
    let st: fs.Stats;
    try {
      st = fs.statSync(it.local);
    } catch {
      throw new HailoError('INVALID_ARGUMENT', `${it.local}: input file not found (${it.role})`, { file: it.local });
    }
    if (!st.isDirectory()) {
      out.push(it);
      continue;
    }
    const walk = (dir: string, rel: string) => {
      for (const d of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        if (d.name.startsWith('.')) continue;
        const p = path.join(dir, d.name);
        const r = rel ? `${rel}/${d.name}` : d.name;
        if (d.isDirectory()) walk(p, r);
        else if (d.isFile()) {
          out.push({ local: p, dest: `${it.dest}/${r}`, role: it.role });
          if (out.length > MAX_FOLDER_FILES)
            throw new HailoError('INVALID_ARGUMENT', `${it.local}: more than ${MAX_FOLDER_FILES} files; pack the calibration set into one .npy file`, {
              file: it.local,
            });
        }
      }
    };
    walk(it.local, '');
  }
  return out;
}

function checkDest(dest: string): void {
  if (!dest || dest.startsWith('/') || dest.split('/').some((s) => s === '..' || s === '') || dest.includes('\0')) {
    throw new HailoError('INVALID_ARGUMENT', `"${dest}": remote input path must stay inside the run directory`);
  }
}

/**
 * Content-addressed upload: hash each file (sha256), ask the remote which hashes are missing
 * from `<workDir>/cache/`, send only those, then hard-link (or copy) each into the run dir.
 */
export async function uploadInputs(
  host: RemoteHost,
  opts: { workDir: string; runDir: string; items: readonly UploadItem[]; signal?: AbortSignal; onProgress?: (message: string) => void },
): Promise<UploadReport> {
  const items = expandItems(opts.items);
  for (const it of items) checkDest(it.dest);
  const cache = rjoin(opts.workDir, 'cache');
  const hashed: UploadedInput[] = [];
  for (const it of items) {
    throwIfAborted(opts.signal);
    opts.onProgress?.(`Hashing ${path.basename(it.local)}`);
    const sha256 = await sha256File(it.local, opts.signal);
    hashed.push({ role: it.role, local: it.local, dest: it.dest, sha256, size: fs.statSync(it.local).size, sent: false });
  }
  // one round trip: every input the cache has is linked into the run dir at once; the missing
  // hashes come back to be sent
  const missing = new Set<string>();
  if (hashed.length) {
    const triples = hashed.flatMap((h) => [h.sha256, rjoin(cache, h.sha256), rjoin(opts.runDir, h.dest)]);
    const r = await host.execScript(
      'set -e; c=$1; shift; mkdir -p -- "$c"; while [ $# -gt 2 ]; do if [ -f "$2" ]; then mkdir -p -- "$(dirname -- "$3")"; rm -f -- "$3"; ln -- "$2" "$3" 2>/dev/null || cp -- "$2" "$3"; else echo "$1"; fi; shift 3; done',
      [cache, ...triples],
      { signal: opts.signal },
    );
    for (const line of r.stdout.toString().split('\n')) if (/^[0-9a-f]{64}$/.test(line)) missing.add(line);
  }
  const toLink = hashed.filter((h) => missing.has(h.sha256));
  let bytesSent = 0;
  for (const h of hashed) {
    if (!missing.has(h.sha256)) continue;
    throwIfAborted(opts.signal);
    opts.onProgress?.(`Uploading ${path.basename(h.local)} (${(h.size / 1e6).toFixed(1)} MB)`);
    let last = 0;
    bytesSent += await host.upload(h.local, rjoin(cache, h.sha256), opts.signal, (sent, size) => {
      if (sent !== size && Date.now() - last < 500) return;
      last = Date.now();
      opts.onProgress?.(`Uploading ${path.basename(h.local)}: ${(sent / 1e6).toFixed(1)} of ${(size / 1e6).toFixed(1)} MB`);
    });
    missing.delete(h.sha256);
    h.sent = true;
  }
  if (toLink.length) {
    const pairs = toLink.flatMap((h) => [rjoin(cache, h.sha256), rjoin(opts.runDir, h.dest)]);
    await host.execScript(
      'set -e; while [ $# -gt 1 ]; do mkdir -p -- "$(dirname -- "$2")"; rm -f -- "$2"; ln -- "$1" "$2" 2>/dev/null || cp -- "$1" "$2"; shift 2; done',
      pairs,
      { signal: opts.signal },
    );
  }
  return { inputs: hashed, bytesSent };
}
