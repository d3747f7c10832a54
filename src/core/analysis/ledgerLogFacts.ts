import { parseDfcLog, type DfcLogSummary } from '../hailo/dfcLog';

/**
 * What the rewrite ledger takes from DFC console logs, read off the one DFC log parser's summary
 * (src/core/hailo/dfcLog.ts): the parse log's start/end node mappings, the DFC version, the compile
 * log's feasibility list with line numbers and context assignments. A new log line is taught to
 * the parser; this module only picks the fields the ledger uses.
 */

export interface ParseLogSummary {
  /** ONNX input tensor name -> HN layer (scoped). */
  startNodes: { onnx: string; hn: string; line: number }[];
  /** ONNX node names where the HN ends. */
  endNodes: { onnx: string; line: number }[];
  dfcVersion?: string;
  netName?: string;
}

export interface CompileLogSummary {
  /** Compiler layer names in the order printed, with their status ("Pass", "Fail", ...). */
  layers: { name: string; status: string; line: number }[];
  /** Number of contexts (`Applying selected partition to N contexts`), 1 for single-context runs. */
  contexts?: number;
  /** Layers by context, when the log or a model script names them. */
  contextOf: Map<string, number>;
  dfcVersion?: string;
  success?: boolean;
}

const unscopedName = (name: string) => name.slice(name.lastIndexOf('/') + 1);

export function parseLogFacts(s: DfcLogSummary): ParseLogSummary {
  const startLine = s.parse.startNodesLine ?? 0;
  const endLine = s.parse.endNodesLine ?? 0;
  return {
    startNodes: s.parse.startNodes.map((x) => ({ onnx: x.onnx, hn: x.hn, line: startLine })),
    endNodes: (s.parse.endNodes.length ? s.parse.endNodes : s.parse.endNodeMap.map((m) => m.onnx)).map((onnx) => ({ onnx, line: endLine })),
    ...(s.header.dfcVersion ? { dfcVersion: s.header.dfcVersion } : {}),
    ...(s.netName ? { netName: s.netName } : {}),
  };
}

export function compileLogFacts(s: DfcLogSummary): CompileLogSummary {
  const contextOf = new Map<string, number>();
  for (const f of s.compile.feasibility) {
    const m = f.context ? /_context_(\d+)$/.exec(f.context) : null;
    if (m) contextOf.set(unscopedName(f.layer), Number(m[1]));
  }
  return {
    layers: s.compile.feasibility.map((f) => ({ name: unscopedName(f.layer), status: f.result, line: f.line })),
    contextOf,
    ...(s.compile.contexts !== undefined ? { contexts: s.compile.contexts } : {}),
    ...(s.header.dfcVersion ? { dfcVersion: s.header.dfcVersion } : {}),
    ...(s.outcome === 'succeeded' ? { success: true } : s.outcome === 'failed' ? { success: false } : {}),
  };
}

/** A log given as text or as the parser's summary -> the summary. */
export function dfcLogSummaryOf(log: string | DfcLogSummary): DfcLogSummary {
  return typeof log === 'string' ? parseDfcLog(log) : log;
}

/** Convenience for callers holding log text. */
export const summarizeParseLog = (text: string): ParseLogSummary => parseLogFacts(parseDfcLog(text));
export const summarizeCompileLog = (text: string): CompileLogSummary => compileLogFacts(parseDfcLog(text));

/**
 * `context_N = context([a, b, ...])` lines of a model script (the compiler writes them into the
 * auto script of a compiled HAR) -> layer -> context index.
 */
export function contextsFromModelScript(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const noComments = text.replace(/#[^\n]*/g, '');
  for (const m of noComments.matchAll(/\bcontext_(\d+)\s*=\s*context\s*\(\s*\[([^\]]*)\]\s*\)/g)) {
    const ctx = Number(m[1]);
    for (const raw of m[2]!.split(',')) {
      const name = raw.trim();
      if (name) out.set(unscopedName(name), ctx);
    }
  }
  return out;
}
