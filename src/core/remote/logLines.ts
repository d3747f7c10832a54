import { stripAnsi } from '../hailo/versions';

/**
 * Splitting a remote log into lines. Lines end at
 * `\n` only: a `\r` progress-bar redraw stays inside its line, as the tool wrote it, and the
 * unfinished last line waits for the next chunk (or for the end of the step).
 */
export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** Add bytes; returns the bytes of the complete lines (with their `\n`) and the lines as text. */
  push(data: Buffer): { complete: Buffer; lines: string[] } {
    const buf = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    const last = buf.lastIndexOf(10);
    if (last < 0) {
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
