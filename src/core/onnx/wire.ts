import { HailoError } from '../errors';
import type { RandomAccessFile } from './fileAccess';

const CHUNK = 64 * 1024;
/** Largest string, value_info or small message materialised at once; weights are skipped, not read. */
export const MAX_MATERIALISED = 16 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8');

/**
 * A protobuf wire-format cursor over a file read in chunks at offsets. Length-delimited fields
 * are either descended into, materialised (small ones) or skipped by advancing `pos` without
 * reading, which is how weight bytes never enter memory.
 */
export class WireSource {
  pos = 0;
  private buf = new Uint8Array(CHUNK);
  private view = new DataView(this.buf.buffer);
  private bufStart = 0;
  private bufLen = 0;
  private reads = 0;

  constructor(
    readonly f: RandomAccessFile,
    readonly file: string,
    private readonly signal?: AbortSignal,
  ) {}

  get size(): number {
    return this.f.size;
  }

  truncated(what: string): HailoError {
    return new HailoError('MODEL_TRUNCATED', `${this.file}: ${what} runs past the end of the file (${this.size} bytes); the file is truncated`, {
      file: this.file,
    });
  }

  invalid(what: string, problem: string): HailoError {
    return new HailoError('MODEL_INVALID', `${this.file}: ${what}: ${problem}`, { file: this.file });
  }

  /** Makes bytes [pos, pos+n) available in the buffer. */
  async ensure(n: number, what: string): Promise<void> {
    if (this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.bufLen) return;
    if (this.pos + n > this.size) throw this.truncated(what);
    const want = Math.min(Math.max(n, CHUNK), this.size - this.pos);
    if (want > this.buf.length) {
      this.buf = new Uint8Array(want);
      this.view = new DataView(this.buf.buffer);
    }
    if ((++this.reads & 63) === 0 && this.signal?.aborted) throw new HailoError('CANCELLED', 'Cancelled');
    let got: number;
    try {
      got = await this.f.read(this.buf, this.pos, want);
    } catch (e) {
      throw new HailoError(
        'MODEL_READ_FAILED',
        `${this.file}: reading ${what} at offset ${this.pos} failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        { file: this.file, cause: e },
      );
    }
    this.bufStart = this.pos;
    this.bufLen = got;
    if (got < n) throw this.truncated(what);
  }

  /** A varint as a JS number (int64 two's complement mapped to negative numbers; > 2^53 loses precision). */
  async varint(end: number, what: string): Promise<number> {
    const avail = Math.min(10, end - this.pos);
    if (avail <= 0) throw end >= this.size ? this.truncated(what) : this.invalid(what, 'expected a varint at the end of its message');
    await this.ensure(avail, what);
    let lo = 0;
    let hi = 0;
    let i = 0;
    let p = this.pos - this.bufStart;
    const b = this.buf;
    for (; i < avail; i++) {
      const byte = b[p++]!;
      if (i < 4) lo |= (byte & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (byte & 0x0f) << 28;
        hi |= (byte & 0x7f) >> 4;
      } else hi |= (byte & 0x7f) << (7 * i - 32);
      if ((byte & 0x80) === 0) {
        this.pos += i + 1;
        lo >>>= 0;
        const h = hi >>> 0;
        if (h >= 0x80000000) return (h - 0x100000000) * 4294967296 + lo;
        return h * 4294967296 + lo;
      }
    }
    if (avail < 10 && end >= this.size) throw this.truncated(what);
    throw this.invalid(what, 'malformed varint');
  }

  /** A length prefix whose payload must fit in [pos, end). */
  async length(end: number, what: string): Promise<number> {
    const n = await this.varint(end, what);
    if (n < 0) throw this.invalid(what, `negative length ${n}`);
    if (this.pos + n > this.size) throw this.truncated(`${what} (length ${n})`);
    if (this.pos + n > end) throw this.invalid(what, `length ${n} exceeds the enclosing message`);
    return n;
  }

  async fixed32(end: number, what: string): Promise<number> {
    if (this.pos + 4 > end) throw this.invalid(what, 'fixed32 runs past the end of its message');
    await this.ensure(4, what);
    const v = this.view.getFloat32(this.pos - this.bufStart, true);
    this.pos += 4;
    return v;
  }

  async string(end: number, what: string): Promise<string> {
    const bytes = await this.bytes(end, what);
    return utf8.decode(bytes);
  }

  /** A view of a length-delimited field's payload, valid until the next read. */
  async bytes(end: number, what: string): Promise<Uint8Array> {
    return this.take(await this.length(end, what), what);
  }

  /** A view of the next n bytes (already length-checked), valid until the next read. */
  async take(n: number, what: string): Promise<Uint8Array> {
    if (n > MAX_MATERIALISED) throw this.invalid(what, `${n} bytes is too large for this field`);
    await this.ensure(n, what);
    const start = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(start, start + n);
  }

  /** Repeated int64/int32 field, packed (wire 2) or not (wire 0), appended to `out`. */
  async ints(wire: number, end: number, what: string, out: number[], max = 1 << 20): Promise<void> {
    if (wire === 0) {
      out.push(await this.varint(end, what));
    } else if (wire === 2) {
      const n = await this.length(end, what);
      const stop = this.pos + n;
      while (this.pos < stop) {
        out.push(await this.varint(stop, what));
        if (out.length > max) throw this.invalid(what, `more than ${max} values`);
      }
    } else throw this.invalid(what, `wire type ${wire} where a varint was expected`);
    if (out.length > max) throw this.invalid(what, `more than ${max} values`);
  }

  /** Repeated float field, packed (wire 2) or not (wire 5). */
  async floats(wire: number, end: number, what: string, out: number[], max = 1 << 20): Promise<void> {
    if (wire === 5) out.push(await this.fixed32(end, what));
    else if (wire === 2) {
      const n = await this.length(end, what);
      if (n % 4 !== 0) throw this.invalid(what, `packed float length ${n} is not a multiple of 4`);
      if (n / 4 + out.length > max) throw this.invalid(what, `more than ${max} values`);
      const stop = this.pos + n;
      while (this.pos < stop) out.push(await this.fixed32(stop, what));
    } else throw this.invalid(what, `wire type ${wire} where a float was expected`);
  }

  /** Skips a field's value without reading a length-delimited payload. */
  async skip(wire: number, end: number, what: string): Promise<void> {
    switch (wire) {
      case 0:
        await this.varint(end, what);
        return;
      case 1:
        this.advance(8, end, what);
        return;
      case 5:
        this.advance(4, end, what);
        return;
      case 2: {
        const n = await this.length(end, what);
        this.pos += n;
        return;
      }
      default:
        throw this.invalid(what, `unsupported wire type ${wire}`);
    }
  }

  private advance(n: number, end: number, what: string): void {
    if (this.pos + n > this.size) throw this.truncated(what);
    if (this.pos + n > end) throw this.invalid(what, 'field runs past the end of its message');
    this.pos += n;
  }

  /**
   * Walks the fields of a message ending at `end`. `handle` consumes a field's value and returns
   * true, or returns false to have it skipped.
   */
  async fields(end: number, what: string, handle: (field: number, wire: number) => Promise<boolean> | boolean): Promise<void> {
    while (this.pos < end) {
      const key = await this.varint(end, `${what} (field tag)`);
      const field = Math.floor(key / 8);
      const wire = key % 8;
      if (field <= 0 || field > 536870911) throw this.invalid(what, `invalid field number ${field}`);
      if (!(await handle(field, wire))) await this.skip(wire, end, `${what} field ${field}`);
      if (this.pos > end) throw this.invalid(what, `field ${field} runs past the end of its message`);
    }
  }

  expectWire(wire: number, expected: number, what: string): void {
    if (wire !== expected) throw this.invalid(what, `wire type ${wire}, expected ${expected}`);
  }
}
