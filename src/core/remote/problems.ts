import type { SourceMap } from '../graph/sourceMap';
import type { DfcLogSummary } from '../hailo/dfcLog';

/**
 * Problems of a finished step as normalised lines for the `$hailo` problem matcher:
 *   `<absolute file>:<line>:<column>: <error|warning>: <message>`
 * Parser errors point at the PyTorch line of their ONNX node when the export's source map knows
 * it (else the ONNX file), model-script errors at their `.alls` line, everything else at its line
 * in the step's downloaded log.
 */
export interface ProblemContext {
  logFile: string;
  onnx?: string;
  modelScript?: string;
  sourceMap?: SourceMap;
}

export const PROBLEM_LINE = /^(.+):(\d+):(\d+): (error|warning): (.*)$/;

export function problemLines(summary: DfcLogSummary, ctx: ProblemContext): string[] {
  const out: string[] = [];
  const one = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();
  for (const e of summary.errors) {
    const msg = one(`${e.errorClass && !e.message.startsWith(e.errorClass) ? `${e.errorClass}: ` : ''}${e.message}${e.node ? ` (ONNX node ${e.node})` : ''}`);
    if (e.node) {
      const loc = ctx.sourceMap?.lookup(e.node);
      if (loc) {
        out.push(`${loc.file}:${loc.line}:1: error: ${msg}`);
        continue;
      }
      if (ctx.onnx) {
        out.push(`${ctx.onnx}:1:1: error: ${msg}`);
        continue;
      }
    }
    if (e.alls && ctx.modelScript && e.alls.line) {
      out.push(`${ctx.modelScript}:${e.alls.line}:${Math.max(1, e.alls.column)}: error: ${msg}`);
      continue;
    }
    out.push(`${ctx.logFile}:${e.line}:1: error: ${msg}`);
  }
  for (const w of summary.warnings) out.push(`${ctx.logFile}:${w.line}:1: warning: ${one(w.text)}`);
  return out;
}
