import { stripAnsi } from '../format';

/**
 * Splitting a remote log into lines. Lines end at
 * `\n` only: a `\r` progress-bar redraw stays inside its line, as the tool wrote it, and the
 * unfinished last line waits for the next chunk (or for the end of the step).
 */
export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** A line longer than this (a progress bar redrawn with `\r` for hours) is passed on in pieces. */
  constructor(private readonly maxLine = 1 << 20) {}

  /** The unfinished line so far (e.g. a progress bar being redrawn). */
  get partial(): string {
    return this.pending.toString('utf8');
  }

  /** Add bytes; returns the bytes of the complete lines (with their `\n`) and the lines as text. */
  push(data: Buffer): { complete: Buffer; lines: string[] } {
    const buf = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    const last = buf.lastIndexOf(10);
    if (last < 0) {
      if (buf.length > this.maxLine) {
        // cut at the last \r so a redrawn bar is not split mid-frame
        const cr = buf.lastIndexOf(13);
        const cut = cr > 0 ? cr + 1 : buf.length;
        this.pending = Buffer.from(buf.subarray(cut));
        const piece = Buffer.from(buf.subarray(0, cut));
        return { complete: piece, lines: [piece.toString('utf8')] };
      }
      this.pending = Buffer.from(buf);
      return { complete: Buffer.alloc(0), lines: [] };
    }
    const complete = buf.subarray(0, last + 1);
    this.pending = Buffer.from(buf.subarray(last + 1));
    const text = complete.toString('utf8');
    return { complete: Buffer.from(complete), lines: text.slice(0, -1).split('\n') };
  }

  /** The unfinished last line, if any (call when the step has ended). */
  flush(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }
}

/** What a terminal would show for a line: ANSI codes removed, only the text after the last `\r`. */
export function displayLine(line: string): string {
  const noAnsi = stripAnsi(line);
  const parts = noAnsi.split('\r').filter((p) => p !== '');
  return parts.length ? parts[parts.length - 1]! : '';
}
