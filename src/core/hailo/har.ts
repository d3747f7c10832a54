import * as zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { HailoError, throwIfAborted } from '../errors';
import { openRegularFile } from '../regularFile';
import {
  checkJsonShape,
  COMPRESSION_RATIO_GRACE_BYTES,
  DEFAULT_MAX_COMPRESSION_RATIO,
  DEFAULT_MAX_INFLATED_BYTES,
  DEFAULT_MAX_JSON_BYTES,
  JSON_TOTAL_FACTOR,
  MAX_HAR_MEMBERS,
} from '../limits';

/**
 * Reading a HAR (Hailo archive): a tar archive whose root holds the HN network description
 * (`<net>.hn`, JSON), metadata JSON files, the weights (`<net>.npz`) and, after later steps, HN
 * variants (`.fp.hn`, `.native.hn`), quantized parameters and the compiler's auto model script.
 *
 * The archive is streamed through a tar reader in memory and never extracted to disk. Only the HN,
 * metadata JSON and model-script members are read; weights and other binaries are only counted.
 * Members with absolute or `..` names, links and device files are refused, and so are members
 * above a size limit, so a hostile archive cannot make the reader write, follow or allocate
 * anything it should not.
 */

export type HarMemberRole = 'hn' | 'hn-variant' | 'metadata' | 'model-script' | 'params' | 'postprocess-onnx' | 'hef' | 'directory' | 'other';

export interface HarMember {
  name: string;
  size: number;
  role: HarMemberRole;
}

export type HarState = 'parsed' | 'optimized' | 'compiled' | 'unknown';

export interface HarContents {
  file: string;
  /** The archive was gzip-compressed. */
  gzip: boolean;
  members: HarMember[];
  /** The main HN (JSON text) and its member name. */
  hn: { member: string; text: string };
  /** Other HN members (`.fp.hn`, `.native.hn`), by member name. */
  hnVariants: Record<string, string>;
  /** Parsed JSON metadata members (`*.json`), by member name. */
  metadata: Record<string, unknown>;
  /** Model scripts found in the archive (the compiler's auto script of a compiled HAR), by member name. */
  modelScripts: Record<string, string>;
  /** Total bytes of parameter members (never loaded). */
  paramsBytes: number;
  /** The pipeline state the members suggest, and why. */
  state: HarState;
  stateEvidence: string;
  /** A Hailo SDK/DFC version found in the metadata, with where it was found. */
  sdkVersion?: { value: string; where: string };
  warnings: string[];
}

export interface ReadHarOptions {
  signal?: AbortSignal;
  /** Largest member that is read into memory (HN, JSON, scripts). Default DEFAULT_MAX_JSON_BYTES (64 MiB). */
  maxMemberBytes?: number;
  /** Total bytes of all members read into memory. Default twice `maxMemberBytes`. */
  maxTotalReadBytes?: number;
  /** Largest member accepted at all (weights are skipped, not read). Default 64 GiB. */
  maxSkippedMemberBytes?: number;
  /** Most members accepted. Default MAX_HAR_MEMBERS (10 000). */
  maxMembers?: number;
  /** Members of unknown type up to this size are read and sniffed for an HN. Default 4 MiB. */
  sniffBytes?: number;
  /** Bytes the archive may hold in all (after gzip). Default DEFAULT_MAX_INFLATED_BYTES (32 GiB). */
  maxInflatedBytes?: number;
  /** Inflated / compressed ratio above which a gzip HAR is refused. Default DEFAULT_MAX_COMPRESSION_RATIO. */
  maxCompressionRatio?: number;
}

const MiB = 1024 * 1024;
/** Largest member declared at all; weights are skipped, not read. */
const MAX_SKIPPED_MEMBER_BYTES = 64 * 1024 * MiB;
/** Members of unknown type up to this size are read and sniffed for an HN. */
const SNIFF_BYTES = 4 * MiB;

/** Member name problems; undefined when the name is safe. */
export function unsafeMemberName(name: string): string | undefined {
  if (name.includes('\0')) return 'contains a NUL character';
  if (/^[\\/]/.test(name)) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'is a drive-letter path';
  if (name.split(/[\\/]/).includes('..')) return "contains a '..' segment";
  return undefined;
}

function roleOf(name: string, type: string): HarMemberRole {
  if (type === 'directory') return 'directory';
  const base = name.split('/').pop()!.toLowerCase();
  if (base.endsWith('.fp.hn') || base.endsWith('.native.hn')) return 'hn-variant';
  if (base.endsWith('.hn')) return 'hn';
  if (base.endsWith('.json')) return 'metadata';
  if (base.endsWith('.alls')) return 'model-script';
  if (base.endsWith('.npz') || base.endsWith('.npy') || base.endsWith('.h5')) return 'params';
  if (base.endsWith('.onnx')) return 'postprocess-onnx';
  if (base.endsWith('.hef')) return 'hef';
  return 'other';
}

/** Does this JSON value look like an HN network description? */
export function looksLikeHn(v: unknown): boolean {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    typeof (v as { layers?: unknown }).layers === 'object' &&
    (v as { layers?: unknown }).layers !== null
  );
}

/** Read a HAR file. Throws HailoError HAR_INVALID / HAR_UNSAFE_MEMBER / HAR_MEMBER_TOO_LARGE / MODEL_READ_FAILED. */
export async function readHar(file: string, opts: ReadHarOptions = {}): Promise<HarContents> {
  const fh = await openRegularFile(file);
  let head: Buffer;
  try {
    head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    head = head.subarray(0, bytesRead);
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw new HailoError('MODEL_READ_FAILED', `${file}: cannot read (${(e as Error).message})`, { file, cause: e });
  }
  return readHarStream(fh.createReadStream({ start: 0, highWaterMark: 1 * MiB }), file, head, opts);
}

/** Read a HAR held in memory (`file` names it in messages). */
export async function readHarBuffer(data: Uint8Array, file: string, opts: ReadHarOptions = {}): Promise<HarContents> {
  return readHarStream(Readable.from([Buffer.from(data.buffer, data.byteOffset, data.byteLength)]), file, Buffer.from(data.subarray(0, 2)), opts);
}

const GiB = 1024 * MiB;
function fmtBytes(n: number): string {
  return n >= GiB ? `${+(n / GiB).toFixed(1)} GiB` : n >= MiB ? `${+(n / MiB).toFixed(1)} MiB` : `${n} bytes`;
}

/** Read a HAR from a stream whose first bytes are `head` (exported for tests that hold a stream open). */
export async function readHarStream(source: Readable, file: string, head: Buffer, opts: ReadHarOptions): Promise<HarContents> {
  const maxMember = opts.maxMemberBytes ?? DEFAULT_MAX_JSON_BYTES;
  const maxTotalRead = opts.maxTotalReadBytes ?? maxMember * JSON_TOTAL_FACTOR;
  const maxSkipped = opts.maxSkippedMemberBytes ?? MAX_SKIPPED_MEMBER_BYTES;
  const maxMembers = opts.maxMembers ?? MAX_HAR_MEMBERS;
  const maxInflated = opts.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  const maxRatio = opts.maxCompressionRatio ?? DEFAULT_MAX_COMPRESSION_RATIO;
  const sniff = Math.min(opts.sniffBytes ?? SNIFF_BYTES, maxMember);
  const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  if (head.length === 0) {
    source.destroy();
    throw new HailoError('HAR_INVALID', `${file}: the file is empty, not a HAR archive`, { file });
  }

  const input: Readable = gzip ? source.pipe(zlib.createGunzip()) : source;
  let compressed = 0;
  if (gzip) {
    source.on('error', (e) => input.destroy(e));
    source.on('data', (c: Buffer) => (compressed += c.length));
  }
  const ex = tar.extract();
  // errors reach the caller through the entry iterator; this keeps a stray 'error' event harmless
  ex.on('error', () => undefined);
  /** Every stream is torn down: a half-closed gunzip would leave a read pending forever. */
  const stopAll = (e?: Error) => {
    ex.destroy(e);
    input.destroy();
    source.destroy();
  };
  let feedError: unknown;
  const feeding = (async () => {
    let inflated = 0;
    try {
      for await (const chunk of input) {
        if (ex.destroyed) return;
        inflated += (chunk as Buffer).length;
        if (inflated > maxInflated) {
          throw new HailoError(
            'HAR_MEMBER_TOO_LARGE',
            `${file}: the archive holds more than ${fmtBytes(maxInflated)}${gzip ? ' once inflated' : ''}; refused (limit: setting hailo.limits.archiveMaxInflatedGiB)`,
            { file },
          );
        }
        if (gzip && inflated > COMPRESSION_RATIO_GRACE_BYTES && inflated > maxRatio * compressed) {
          throw new HailoError(
            'HAR_INVALID',
            `${file}: ${fmtBytes(compressed)} of gzip inflate to more than ${fmtBytes(inflated)} (ratio above ${maxRatio}); refused as a decompression bomb (limit: setting hailo.limits.archiveMaxCompressionRatio)`,
            { file },
          );
        }
        if (!ex.write(chunk as Buffer)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              ex.off('drain', done);
              ex.off('close', done);
              resolve();
            };
            ex.on('drain', done);
            ex.on('close', done);
          });
        }
      }
      (ex as NodeJS.WritableStream).end();
    } catch (e) {
      feedError = e;
      stopAll(e as Error);
    }
  })();

  const members: HarMember[] = [];
  const texts = new Map<string, string>();
  const warnings: string[] = [];
  const seen = new Set<string>();
  let totalRead = 0;
  const onAbort = () => stopAll(new HailoError('CANCELLED', 'Cancelled'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    throwIfAborted(opts.signal);
    for await (const entry of ex) {
      const h = entry.header;
      const raw = h.name;
      const bad = unsafeMemberName(raw);
      if (bad) throw new HailoError('HAR_UNSAFE_MEMBER', `${file}: member "${raw}" ${bad}; refusing to read this archive`, { file });
      if (h.type === 'symlink' || h.type === 'link') {
        throw new HailoError(
          'HAR_UNSAFE_MEMBER',
          `${file}: member "${raw}" is a ${h.type === 'link' ? 'hard link' : 'symbolic link'} (to "${h.linkname ?? ''}"); HAR archives hold plain files only`,
          { file },
        );
      }
      if (h.type === 'character-device' || h.type === 'block-device' || h.type === 'fifo') {
        throw new HailoError('HAR_UNSAFE_MEMBER', `${file}: member "${raw}" is a ${h.type}; HAR archives hold plain files only`, { file });
      }
      if (members.length >= maxMembers) throw new HailoError('HAR_INVALID', `${file}: more than ${maxMembers} members; not a HAR archive`, { file });
      const name = raw.replace(/^(\.\/)+/, '');
      const type = h.type ?? 'file';
      const role = roleOf(name, type);
      const size = h.size ?? 0;
      if (role !== 'directory' && size > maxSkipped) {
        throw new HailoError('HAR_MEMBER_TOO_LARGE', `${file}: member "${name}" declares ${size} bytes, above the limit of ${maxSkipped}`, { file });
      }
      const read = role === 'hn' || role === 'hn-variant' || role === 'metadata' || role === 'model-script' || (role === 'other' && size <= sniff);
      if (read && size > maxMember) {
        throw new HailoError(
          'HAR_MEMBER_TOO_LARGE',
          `${file}: member "${name}" is ${size} bytes, above the ${maxMember}-byte limit for members read into memory (setting hailo.limits.maxJsonMiB)`,
          { file },
        );
      }
      if (read && totalRead + size > maxTotalRead) {
        throw new HailoError(
          'HAR_MEMBER_TOO_LARGE',
          `${file}: the members read into memory (HN, JSON, scripts) add up to more than ${maxTotalRead} bytes at member "${name}"; refused (setting hailo.limits.maxJsonMiB)`,
          { file },
        );
      }
      if (seen.has(name)) warnings.push(`member "${name}" appears more than once; the last copy is used`);
      seen.add(name);
      members.push({ name, size, role });
      if (read) {
        const chunks: Buffer[] = [];
        let got = 0;
        for await (const c of entry) {
          got += (c as Buffer).length;
          if (got > maxMember) throw new HailoError('HAR_MEMBER_TOO_LARGE', `${file}: member "${name}" is larger than ${maxMember} bytes`, { file });
          chunks.push(c as Buffer);
        }
        totalRead += got;
        texts.set(name, Buffer.concat(chunks).toString('utf8'));
      } else {
        entry.resume();
        await finished(entry as unknown as Readable).catch(() => undefined);
      }
      throwIfAborted(opts.signal);
    }
  } catch (e) {
    stopAll(new Error('stopped'));
    if (feedError instanceof HailoError) throw feedError;
    if (e instanceof HailoError) throw e;
    if (opts.signal?.aborted) throw new HailoError('CANCELLED', 'Cancelled');
    throw harInvalid(file, feedError ?? e, gzip);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await feeding;
  }
  if (feedError) throw feedError instanceof HailoError ? feedError : harInvalid(file, feedError, gzip);
  // the archive was read to its end: release the file now
  input.destroy();
  source.destroy();
  return assemble(file, gzip, members, texts, warnings);
}

function harInvalid(file: string, e: unknown, gzip: boolean): HailoError {
  const msg = (e as Error)?.message ?? String(e);
  let why: string;
  if (/Unexpected end of data/i.test(msg) || /unexpected end of file/i.test(msg)) why = 'the archive is truncated';
  else if (/Invalid tar header/i.test(msg)) why = 'not a tar archive (a HAR is a tar file)';
  else if (gzip && /incorrect header check|invalid|zlib/i.test(msg)) why = `the gzip stream is corrupt (${msg})`;
  else why = msg;
  return new HailoError('HAR_INVALID', `${file}: ${why}`, { file, cause: e });
}

function assemble(file: string, gzip: boolean, members: HarMember[], texts: Map<string, string>, warnings: string[]): HarContents {
  const metadata: Record<string, unknown> = {};
  const modelScripts: Record<string, string> = {};
  const hnVariants: Record<string, string> = {};
  let hn: { member: string; text: string } | undefined;
  const hnMembers = members.filter((m) => m.role === 'hn');
  if (hnMembers.length > 1) warnings.push(`several .hn members (${hnMembers.map((m) => m.name).join(', ')}); using ${hnMembers[0]!.name}`);
  if (hnMembers[0]) hn = { member: hnMembers[0].name, text: texts.get(hnMembers[0].name)! };
  for (const m of members) {
    const text = texts.get(m.name);
    if (text === undefined) continue;
    if (m.role === 'hn-variant') hnVariants[m.name] = text;
    else if (m.role === 'model-script') modelScripts[m.name] = text;
    else if (m.role === 'metadata' || m.role === 'other') {
      let v: unknown;
      if (m.role === 'other' && !/^\s*[[{]/.test(text.slice(0, 64))) continue;
      const shape = checkJsonShape(text);
      if (shape) {
        warnings.push(`member "${m.name}" is ${shape.message}; ignored`);
        continue;
      }
      try {
        v = JSON.parse(text);
      } catch {
        if (m.role === 'metadata') warnings.push(`metadata member "${m.name}" is not valid JSON; ignored`);
        continue;
      }
      if (!hn && looksLikeHn(v)) {
        hn = { member: m.name, text };
        m.role = 'hn';
        continue;
      }
      if (m.role === 'metadata') metadata[m.name] = v;
    }
  }
  if (!hn) {
    const variant = Object.keys(hnVariants)[0];
    if (variant) {
      warnings.push(`no main .hn member; using the variant ${variant}`);
      hn = { member: variant, text: hnVariants[variant]! };
    }
  }
  if (!hn) {
    throw new HailoError('HAR_INVALID', `${file}: no HN network description inside (members: ${members.map((m) => m.name).join(', ') || 'none'})`, { file });
  }
  // the HN itself must be JSON: fail here, naming the member, rather than later
  const shape = checkJsonShape(hn.text);
  if (shape) throw new HailoError('HAR_INVALID', `${file}: member "${hn.member}" is ${shape.message} (at character ${shape.offset}); not an HN`, { file });
  try {
    JSON.parse(hn.text);
  } catch (e) {
    throw new HailoError('HAR_INVALID', `${file}: member "${hn.member}" is not valid JSON (${(e as Error).message})`, { file, cause: e });
  }
  const paramsBytes = members.filter((m) => m.role === 'params').reduce((a, m) => a + m.size, 0);
  const { state, evidence } = inferState(members);
  const sdkVersion = findSdkVersion(metadata);
  return {
    file,
    gzip,
    members,
    hn,
    hnVariants,
    metadata,
    modelScripts,
    paramsBytes,
    state,
    stateEvidence: evidence,
    ...(sdkVersion ? { sdkVersion } : {}),
    warnings,
  };
}

/**
 * What the member list says about the pipeline step that wrote the HAR. Exact member names of
 * optimized and compiled HARs are not published; these are the signs known from public tooling.
 */
export function inferState(members: HarMember[]): { state: HarState; evidence: string } {
  const names = members.map((m) => m.name.toLowerCase());
  // names only: a network may itself be called "..._compiled", so member contents decide
  const compiled = members.find((m) => m.role === 'model-script' || m.role === 'hef');
  if (compiled)
    return { state: 'compiled', evidence: `member "${compiled.name}" (${compiled.role === 'hef' ? 'compiled HEF' : "the compiler's model script"})` };
  const variant = members.find((m) => m.role === 'hn-variant');
  if (variant) return { state: 'optimized', evidence: `HN variant "${variant.name}" (written by optimization)` };
  const quant = names.find((n) => /quant|translated|fp_optimized/.test(n) && !n.endsWith('.hn'));
  if (quant) return { state: 'optimized', evidence: `member "${quant}"` };
  if (members.some((m) => m.role === 'hn')) return { state: 'parsed', evidence: 'HN and float weights only' };
  return { state: 'unknown', evidence: 'no known members' };
}

/** A Hailo SDK/DFC version string in the metadata members, if any. */
export function findSdkVersion(metadata: Record<string, unknown>): { value: string; where: string } | undefined {
  const KEY = /^(sdk_version|dfc_version|hailo_sdk_version|sdk|dataflow_compiler_version|client_version|hailo_version)$/i;
  const stack: { v: unknown; path: string; depth: number }[] = Object.entries(metadata).map(([k, v]) => ({ v, path: k, depth: 0 }));
  while (stack.length) {
    const { v, path, depth } = stack.shift()!;
    if (typeof v !== 'object' || v === null || depth > 4) continue;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (KEY.test(k) && (typeof x === 'string' || typeof x === 'number') && /\d+\.\d+/.test(String(x))) return { value: String(x), where: `${path}: ${k}` };
      if (typeof x === 'object' && x !== null) stack.push({ v: x, path: `${path}: ${k}`, depth: depth + 1 });
    }
  }
  return undefined;
}
