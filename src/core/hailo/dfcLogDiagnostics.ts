import * as jsonc from 'jsonc-parser';
import * as path from 'node:path';
import type { SourceLocation } from '../graph/model';
import type { ProjectFile } from '../project/schema';
import type { DfcLogError, DfcLogSummary } from './dfcLog';

/**
 * Where each thing a DFC log says should be shown: parser errors on the ONNX model (and on the
 * PyTorch line that made the node, when the source map knows it), model-script errors on the
 * `.alls` line and column of the `>!<` marker, everything else on the log itself. Pure: the
 * adapter turns these into VS Code diagnostics.
 */

export type DiagnosticTarget = 'onnx' | 'source' | 'alls' | 'log';

export interface PlannedDiagnostic {
  target: DiagnosticTarget;
  /** Absolute path of the file the diagnostic goes on. */
  file: string;
  /** 0-based line and columns; the whole line when no column is known. */
  line: number;
  column?: number;
  endColumn?: number;
  severity: 'error' | 'warning' | 'info';
  /** `DFC_<ErrorClass>` style code, or DFC_END_NODES for the parser's recommendation. */
  code: string;
  message: string;
  node?: string;
  /** For DFC_END_NODES: the nodes to write into hailo.json. */
  endNodes?: string[];
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
}

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

function severityOf(e: DfcLogError): PlannedDiagnostic['severity'] {
  return e.category === 'runtime' ? 'warning' : 'error';
}

export function planDfcLogDiagnostics(s: DfcLogSummary, ctx: DfcLogPlacement): PlannedDiagnostic[] {
  const out: PlannedDiagnostic[] = [];
  const onLog = (line: number, d: Omit<PlannedDiagnostic, 'target' | 'file' | 'line'>) => {
    if (ctx.logFile) out.push({ target: 'log', file: ctx.logFile, line: Math.max(0, line - 1), ...d });
  };
  for (const e of s.errors) {
    const code = `DFC_${e.errorClass ?? e.category}`;
    const severity = severityOf(e);
    if (e.node) {
      const message = `${e.errorClass ?? 'Parser error'} in ONNX node ${e.node}: ${e.message}`;
      if (ctx.onnxFile) out.push({ target: 'onnx', file: ctx.onnxFile, line: 0, severity, code, message, node: e.node });
      const src = ctx.sourceOf?.(e.node);
      if (src) out.push({ target: 'source', file: src.file, line: src.line - 1, severity, code, message: `${message} (Hailo parser, ONNX node made here)`, node: e.node });
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
      });
      onLog(e.line, { severity, code, message: `${e.errorClass}: ${e.message} ${e.alls.text}` });
      continue;
    }
    const firstLine = e.message.split('\n')[0]!;
    onLog(e.line, { severity, code, message: `${e.errorClass ? `${e.errorClass}: ` : ''}${firstLine}` });
  }
  const rec = s.parse.recommendedEndNodes;
  if (rec && rec.nodes.length) {
    const message = `The Hailo parser recommends these end nodes: ${rec.nodes.join(', ')}${rec.truncated ? ' (the list is cut in the log)' : ''}. Parsing up to them leaves the unsupported tail to run on the host.`;
    const d = { severity: 'warning' as const, code: END_NODES_CODE, message, endNodes: rec.nodes };
    if (ctx.onnxFile) out.push({ target: 'onnx', file: ctx.onnxFile, line: 0, ...d });
    onLog(rec.line, d);
  }
  for (const w of s.warnings) onLog(w.line, { severity: 'warning', code: 'DFC_warning', message: w.text.split('\n')[0]! });
  const lvl = s.optimize.optimizationLevelReduced;
  if (lvl && !s.warnings.some((w) => w.line === lvl.line)) onLog(lvl.line, { severity: 'warning', code: 'DFC_warning', message: `Optimization level reduced to ${lvl.level} because ${lvl.reason}` });
  return out;
}

/** The model of hailo.json a log belongs to: by explicit name, by ONNX path, by network name. */
export function modelForLog(project: ProjectFile, projectRoot: string, hint: { modelName?: string; onnxFile?: string; netName?: string }): string | undefined {
  const models = project.models;
  if (hint.modelName && models.some((m) => m.name === hint.modelName)) return hint.modelName;
  if (hint.onnxFile) {
    const want = path.resolve(hint.onnxFile);
    const m = models.find((x) => path.resolve(projectRoot, x.onnx) === want);
    if (m) return m.name;
  }
  if (hint.netName) {
    const m = models.find((x) => (x.netName ?? x.name) === hint.netName) ?? models.find((x) => path.basename(x.onnx).replace(/\.onnx$/i, '') === hint.netName);
    if (m) return m.name;
  }
  return models.length === 1 ? models[0]!.name : undefined;
}

/**
 * Edits that set `models[i].endNodes` of the named model in hailo.json text, keeping comments and
 * formatting. Undefined when the model is not in the file or the file is not a JSON object.
 */
export function endNodesEdits(projectText: string, modelName: string, nodes: string[]): jsonc.Edit[] | undefined {
  const root = jsonc.parseTree(projectText, [], { allowTrailingComma: true, disallowComments: false });
  if (!root || root.type !== 'object') return undefined;
  const models = jsonc.findNodeAtLocation(root, ['models']);
  if (!models || models.type !== 'array' || !models.children) return undefined;
  const index = models.children.findIndex((m) => {
    const n = jsonc.findNodeAtLocation(m, ['name']);
    return n?.type === 'string' && n.value === modelName;
  });
  if (index < 0) return undefined;
  const eol = projectText.includes('\r\n') ? '\r\n' : '\n';
  const indent = /\n( +|\t)"/.exec(projectText)?.[1];
  const formattingOptions: jsonc.FormattingOptions = indent === '\t' ? { insertSpaces: false, tabSize: 1, eol } : { insertSpaces: true, tabSize: indent ? Math.min(indent.length, 8) : 2, eol };
  return jsonc.modify(projectText, ['models', index, 'endNodes'], nodes, { formattingOptions });
}
