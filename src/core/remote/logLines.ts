import { stripAnsi } from '../hailo/versions';

/**
 * Splitting a remote log into lines and a small summary of DFC output for run.json. Lines end at
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

export interface DfcLogBrief {
  warnings: number;
  errors: number;
  lastError?: string;
  savedFiles: string[];
  /** Multi-context compile: number of contexts. */
  contexts?: number;
  snrDb?: Record<string, number>;
  success: boolean;
}

/** A brief summary of a DFC console log: counts, last error, saved files, contexts, SNR. */
export function summarizeDfcLog(text: string): DfcLogBrief {
  const out: DfcLogBrief = { warnings: 0, errors: 0, savedFiles: [], success: false };
  for (const raw of text.split('\n')) {
    const line = displayLine(raw).trim();
    if (!line) continue;
    let m: RegExpExecArray | null;
    if (/^\[warning\]/.test(line)) out.warnings++;
    else if ((m = /^\[error\]\s*(.*)$/.exec(line))) {
      out.errors++;
      out.lastError = m[1];
    } else if ((m = /^(?:[\w.]+\.)?(\w+(?:Error|Exception)): (.*)$/.exec(line))) {
      out.errors++;
      out.lastError = `${m[1]}: ${m[2]}`;
    } else if (/^\s*(\w+Error) in op (.+?): (.*)$/.test(line)) out.errors++;
    if ((m = /Saved (?:HAR|HEF) to: (.+)$/.exec(line))) out.savedFiles.push(m[1]!.trim());
    if ((m = /Applying selected partition to (\d+) contexts/.exec(line))) out.contexts = Number(m[1]);
    if ((m = /^\[info\]\s+(\S+) SNR:\s+(-?[\d.]+) dB/.exec(line))) (out.snrDb ??= {})[m[1]!] = Number(m[2]);
    if (/Successful Compilation|Model Optimization is done|Translation completed on/.test(line)) out.success = true;
  }
  return out;
}
