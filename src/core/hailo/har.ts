import { once } from 'node:events';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { HailoError, throwIfAborted } from '../errors';

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
  /** Largest member that is read into memory (HN, JSON, scripts). Default 256 MiB. */
  maxMemberBytes?: number;
  /** Largest member accepted at all (weights are skipped, not read). Default 64 GiB. */
  maxSkippedMemberBytes?: number;
  /** Most members accepted. Default 10 000. */
  maxMembers?: number;
  /** Members of unknown type up to this size are read and sniffed for an HN. Default 4 MiB. */
  sniffBytes?: number;
}

const MiB = 1024 * 1024;

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
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { layers?: unknown }).layers === 'object' && (v as { layers?: unknown }).layers !== null;
}

/** Read a HAR file. Throws HailoError HAR_INVALID / HAR_UNSAFE_MEMBER / HAR_MEMBER_TOO_LARGE / MODEL_READ_FAILED. */
export async function readHar(file: string, opts: ReadHarOptions = {}): Promise<HarContents> {
  let head: Buffer;
  try {
    const fh = await fs.promises.open(file, 'r');
    try {
      head = Buffer.alloc(2);
      const { bytesRead } = await fh.read(head, 0, 2, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new HailoError('MODEL_READ_FAILED', `${file}: cannot read (${(e as Error).message})`, { file, cause: e });
  }
  return readHarStream(fs.createReadStream(file, { highWaterMark: 1 * MiB }), file, head, opts);
}

/** Read a HAR held in memory (`file` names it in messages). */
export async function readHarBuffer(data: Uint8Array, file: string, opts: ReadHarOptions = {}): Promise<HarContents> {
  return readHarStream(Readable.from([Buffer.from(data.buffer, data.byteOffset, data.byteLength)]), file, Buffer.from(data.subarray(0, 2)), opts);
}

async function readHarStream(source: Readable, file: string, head: Buffer, opts: ReadHarOptions): Promise<HarContents> {
  const maxMember = opts.maxMemberBytes ?? 256 * MiB;
  const maxSkipped = opts.maxSkippedMemberBytes ?? 64 * 1024 * MiB;
  const maxMembers = opts.maxMembers ?? 10_000;
  const sniff = Math.min(opts.sniffBytes ?? 4 * MiB, maxMember);
  const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  if (head.length === 0) {
    source.destroy();
    throw new HailoError('HAR_INVALID', `${file}: the file is empty, not a HAR archive`, { file });
  }

  const input: Readable = gzip ? source.pipe(zlib.createGunzip()) : source;
  if (gzip) source.on('error', (e) => input.destroy(e));
  const ex = tar.extract();
  // errors reach the caller through the entry iterator; this keeps a stray 'error' event harmless
  ex.on('error', () => undefined);
  let feedError: unknown;
  const feeding = (async () => {
    try {
      for await (const chunk of input) {
        if (ex.destroyed) return;
        if (!ex.write(chunk as Buffer)) {
          await new Promise<void>((resolve) => {
            const done = () => { ex.off('drain', done); ex.off('close', done); resolve(); };
            ex.on('drain', done);
            ex.on('close', done);
          });
        }
      }
      (ex as NodeJS.WritableStream).end();
    } catch (e) {
      feedError = e;
      ex.destroy(e as Error);
    }
  })();

  const members: HarMember[] = [];
  const texts = new Map<string, string>();
  const warnings: string[] = [];
  const seen = new Set<string>();
  const onAbort = () => ex.destroy(new HailoError('CANCELLED', 'Cancelled'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    throwIfAborted(opts.signal);
    for await (const entry of ex) {
      const h = entry.header;
      const raw = h.name;
      const bad = unsafeMemberName(raw);
      if (bad) throw new HailoError('HAR_UNSAFE_MEMBER', `${file}: member "${raw}" ${bad}; refusing to read this archive`, { file });
      if (h.type === 'symlink' || h.type === 'link') {
        throw new HailoError('HAR_UNSAFE_MEMBER', `${file}: member "${raw}" is a ${h.type === 'link' ? 'hard link' : 'symbolic link'} (to "${h.linkname ?? ''}"); HAR archives hold plain files only`, { file });
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
        throw new HailoError('HAR_MEMBER_TOO_LARGE', `${file}: member "${name}" is ${size} bytes, above the ${maxMember}-byte limit for members read into memory`, { file });
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
        texts.set(name, Buffer.concat(chunks).toString('utf8'));
      } else {
        entry.resume();
        await once(entry, 'end').catch(() => undefined);
      }
      throwIfAborted(opts.signal);
    }
  } catch (e) {
    ex.destroy(new Error('stopped'));
    source.destroy();
    if (e instanceof HailoError) throw e;
    if (opts.signal?.aborted) throw new HailoError('CANCELLED', 'Cancelled');
    throw harInvalid(file, feedError ?? e, gzip);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await feeding;
  }
  if (feedError) throw harInvalid(file, feedError, gzip);
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
  if (compiled) return { state: 'compiled', evidence: `member "${compiled.name}" (${compiled.role === 'hef' ? 'compiled HEF' : "the compiler's model script"})` };
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
