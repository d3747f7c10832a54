import * as path from 'node:path';
import type { Finding, Severity } from './finding';
import type { SourceLocation } from './graph/model';
import type { DfcLogError, DfcLogSummary } from './hailo/dfcLog';

/**
 * Where each finding is shown: the one place that decides it, for every owner of diagnostics (lint,
 * rewrite ledger, DFC logs, `.alls` scripts). A finding goes on the model file, on the PyTorch line
 * the source map gives for its node, on the hailo.json line of a broken contract, on the log line,
 * or on the `.alls` span. Adapters turn each placement into one diagnostic as it is; the graph
 * view's "Show in Graph" reads the same placements. Lines and columns are 0-based.
 */

export type PlacementTarget = 'onnx' | 'source' | 'project' | 'log' | 'alls';

export interface RelatedPlace {
  file: string;
  /** 0-based line. */
  line: number;
  message: string;
}

export interface Placement {
  target: PlacementTarget;
  /** Absolute path of the file the diagnostic goes on. */
  file: string;
  /** 0-based start; without a column the whole line. */
  line: number;
  column?: number;
  /** 0-based end (exclusive column); default: the start line, one past the column. */
  endLine?: number;
  endColumn?: number;
  severity: Severity;
  code: string;
  message: string;
  /** The ONNX node the placement is about, when it is about one. */
  node?: string;
  related: RelatedPlace[];
  /** The parser's recommended end nodes (code DFC_END_NODES): the quick fix writes them into hailo.json. */
  endNodes?: string[];
}

const zeroBased = (line: number) => Math.max(0, line - 1);

/**
 * A lint finding: on the model (with the node list), on each PyTorch line of its nodes (the
 * finding's source and its related entries that name a node), and on each hailo.json line it names
 * (related entries without a node: the expected shape of a contract).
 */
export function placeLintFinding(f: Finding, modelFile: string): Placement[] {
  const base = path.basename(modelFile);
  const text = `${f.message}${f.fix ? ` Fix: ${f.fix}` : ''}`;
  const nodes = f.nodes.length ? ` [${f.nodes.slice(0, 5).join(', ')}${f.nodes.length > 5 ? `, … ${f.nodes.length} nodes` : ''}]` : '';
  const sources = [
    ...(f.source ? [{ file: f.source.file, line: f.source.line, node: f.nodes[0] }] : []),
    ...(f.related ?? []).filter((r) => r.file && r.line && r.node).map((r) => ({ file: r.file!, line: r.line!, node: r.node })),
  ];
  const project = (f.related ?? []).filter((r) => r.file && r.line && !r.node);
  const common = { severity: f.severity, code: f.code };
  const modelRef: RelatedPlace = { file: modelFile, line: 0, message: '' };
  return [
    {
      ...common,
      target: 'onnx',
      file: modelFile,
      line: 0,
      column: 0,
      endColumn: 0,
      message: `${text}${nodes}`,
      related: [
        ...sources.map((s) => ({ file: s.file, line: zeroBased(s.line), message: `PyTorch source of ${s.node ?? 'the node'}` })),
        ...project.map((r) => ({ file: r.file!, line: zeroBased(r.line!), message: r.message })),
      ],
    },
    ...sources.map((s): Placement => ({
      ...common,
      target: 'source',
      file: s.file,
      line: zeroBased(s.line),
      message: text,
      ...(s.node ? { node: s.node } : {}),
      related: [{ ...modelRef, message: `ONNX node ${s.node ?? ''} in ${base}` }],
    })),
    ...project.map((r): Placement => ({
      ...common,
      target: 'project',
      file: r.file!,
      line: zeroBased(r.line!),
      message: `${base}: ${text}`,
      related: [{ ...modelRef, message: `the model ${base}` }],
    })),
  ];
}

/**
 * A rewrite-ledger finding: on the PyTorch line of its entry and on the model (when the model file
 * is known), pointing at the HN layer, the log line and the ONNX nodes.
 */
export function placeLedgerFinding(f: Finding, modelFile: string | undefined): Placement[] {
  const related: RelatedPlace[] = (f.related ?? []).filter((r) => r.file).map((r) => ({ file: r.file!, line: zeroBased(r.line ?? 1), message: r.message }));
  if (f.source && modelFile) related.push({ file: modelFile, line: 0, message: `ONNX node(s): ${f.nodes.slice(0, 6).join(', ')}` });
  const common = { severity: f.severity, code: f.code, message: f.message, related };
  return [
    ...(f.source ? [{ ...common, target: 'source' as const, file: f.source.file, line: zeroBased(f.source.line) }] : []),
    ...(modelFile ? [{ ...common, target: 'onnx' as const, file: modelFile, line: 0, column: 0, endColumn: 0 }] : []),
  ];
}

/** 0-based line and column of each offset of `text`, from one index of line starts. */
export function lineIndex(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    const o = Math.max(0, Math.min(offset, text.length));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, column: o - starts[lo]! };
  };
}

/** `.alls` findings on their spans of the script text (a "did you mean" message already names its fix). */
export function placeAllsFindings(findings: readonly (Finding & { span: { start: number; end: number } })[], file: string, text: string): Placement[] {
  const at = lineIndex(text);
  return findings.map((f) => {
    const start = at(f.span.start);
    const end = at(Math.max(f.span.end, f.span.start + 1));
    return {
      target: 'alls',
      file,
      line: start.line,
      column: start.column,
      endLine: end.line,
      endColumn: end.column,
      severity: f.severity,
      code: f.code,
      message: f.fix && !/Did you mean/.test(f.message) ? `${f.message} ${f.fix}` : f.message,
      related: [],
    };
  });
}

export interface DfcLogPlacement {
  /** The model's ONNX file. */
  onnxFile?: string;
  /** The model script and its text (to find the line of a `>!<` report). */
  allsFile?: string;
  allsText?: string;
  /** The log or run file; the fallback target. */
  logFile?: string;
  /** ONNX node name -> Python line. */
  sourceOf?: (node: string) => SourceLocation | undefined;
  /** The HAR the logged step read or wrote: an error naming an HN layer points at it there. */
  harFile?: string;
}

/** The code of the parser's end-node recommendation (its quick fix writes them into hailo.json). */
export const END_NODES_CODE = 'DFC_END_NODES';

/** 1-based line and column of a model-script error in the script text. */
export function locateAllsError(allsText: string | undefined, alls: NonNullable<DfcLogError['alls']>): { line: number; column: number } {
  const column = alls.column;
  if (allsText === undefined) return { line: alls.line ?? 1, column };
  const lines = allsText.split(/\r?\n/);
  const want = alls.text.trim();
  // pyparsing's line number when the text there agrees, else the first line holding the text
  if (alls.line && lines[alls.line - 1]?.includes(want)) return { line: alls.line, column: columnIn(lines[alls.line - 1]!, want, column) };
  const i = want ? lines.findIndex((l) => l.includes(want)) : -1;
  if (i >= 0) return { line: i + 1, column: columnIn(lines[i]!, want, column) };
  return { line: alls.line ?? 1, column };
}

/** The marker column is relative to the reported text; shift it by where that text starts. */
function columnIn(line: string, want: string, column: number): number {
  const at = line.indexOf(want);
  return at < 0 ? column : at + column;
}

function severityOf(e: DfcLogError): Severity {
  return e.category === 'runtime' ? 'warning' : 'error';
}

/**
 * A DFC log's errors and warnings: parser errors on the ONNX model and on the PyTorch line that made
 * the node (when the source map knows it), model-script errors on the `.alls` line and column of
 * the `>!<` marker, everything (again) on the log line, and the parser's recommended end nodes on
 * the model and the log.
 */
export function placeDfcLog(s: DfcLogSummary, ctx: DfcLogPlacement): Placement[] {
  const out: Placement[] = [];
  // an error about an ONNX node points at it in the model too ("Show in Graph" follows that)
  const nodeRef = (node: string | undefined): RelatedPlace[] =>
    node && ctx.onnxFile ? [{ file: ctx.onnxFile, line: 0, message: `ONNX node ${node} in ${path.basename(ctx.onnxFile)}` }] : [];
  const onLog = (line: number, d: Omit<Placement, 'target' | 'file' | 'line' | 'related'>) => {
    if (ctx.logFile) out.push({ target: 'log', file: ctx.logFile, line: Math.max(0, line - 1), ...d, related: nodeRef(d.node) });
  };
  for (const e of s.errors) {
    const code = `DFC_${e.errorClass ?? e.category}`;
    const severity = severityOf(e);
    if (e.node) {
      const message = `${e.errorClass ?? 'Parser error'} in ONNX node ${e.node}: ${e.message}`;
      if (ctx.onnxFile) out.push({ target: 'onnx', file: ctx.onnxFile, line: 0, severity, code, message, node: e.node, related: nodeRef(e.node) });
      const src = ctx.sourceOf?.(e.node);
      if (src)
        out.push({
          target: 'source',
          file: src.file,
          line: src.line - 1,
          severity,
          code,
          message: `${message} (Hailo parser, ONNX node made here)`,
          node: e.node,
          related: nodeRef(e.node),
        });
      onLog(e.line, { severity, code, message, node: e.node });
      continue;
    }
    if (e.alls && (ctx.allsFile || e.alls.file)) {
      const file = ctx.allsFile ?? e.alls.file!;
      const { line, column } = locateAllsError(ctx.allsText, e.alls);
      out.push({
        target: 'alls',
        file,
        line: line - 1,
        column: column - 1,
        severity,
        code,
        message: `Model script error: the DFC cannot parse from here (${e.errorClass ?? 'parse error'}): ${e.alls.text}`,
        related: [],
      });
      onLog(e.line, { severity, code, message: `${e.errorClass}: ${e.message} ${e.alls.text}` });
      continue;
    }
    const firstLine = e.message.split('\n')[0]!;
    const layerRef: RelatedPlace[] =
      e.layer && ctx.harFile ? [{ file: ctx.harFile, line: 0, message: `HN layer ${e.layer} in ${path.basename(ctx.harFile)}` }] : [];
    if (ctx.logFile)
      out.push({
        target: 'log',
        file: ctx.logFile,
        line: Math.max(0, e.line - 1),
        severity,
        code,
        message: `${e.errorClass ? `${e.errorClass}: ` : ''}${firstLine}`,
        related: layerRef,
      });
  }
  const rec = s.parse.recommendedEndNodes;
  if (rec && rec.nodes.length) {
    const message = `The Hailo parser recommends these end nodes: ${rec.nodes.join(', ')}${rec.truncated ? ' (the list is cut in the log)' : ''}. Parsing up to them leaves the unsupported tail to run on the host.`;
    const d = { severity: 'warning' as const, code: END_NODES_CODE, message, endNodes: rec.nodes };
    if (ctx.onnxFile) out.push({ target: 'onnx', file: ctx.onnxFile, line: 0, ...d, related: [] });
    onLog(rec.line, d);
  }
  for (const w of s.warnings) onLog(w.line, { severity: 'warning', code: 'DFC_warning', message: w.text.split('\n')[0]! });
  const lvl = s.optimize.optimizationLevelReduced;
  if (lvl && !s.warnings.some((w) => w.line === lvl.line))
    onLog(lvl.line, { severity: 'warning', code: 'DFC_warning', message: `Optimization level reduced to ${lvl.level} because ${lvl.reason}` });
  return out;
}
