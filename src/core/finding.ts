import type { SourceLocation } from './graph/model';

export type Severity = 'error' | 'warning' | 'info' | 'hint';

/**
 * One thing the analysis has to say about a model: a lint finding, a compiler rewrite, a parse
 * error. Adapters turn these into diagnostics (on the .onnx file, on the user's .py lines, on an
 * .alls line); the CLI prints them as text, JSON or SARIF.
 */
export interface Finding {
  /** Stable reason code, e.g. "HW001"; documented in the README rule catalogue. */
  code: string;
  severity: Severity;
  message: string;
  /** The ONNX node names (or HN layer names) concerned. */
  nodes: string[];
  /** What to change, in one or two sentences. */
  fix?: string;
  /** The user's source line, when the model carries a source map. */
  source?: SourceLocation;
  /** Where else to look: the HN layer, the log line. */
  related?: { message: string; file?: string; line?: number; node?: string }[];
}

export const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2, hint: 3 };

export function sortFindings(f: Finding[]): Finding[] {
  return [...f].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.code.localeCompare(b.code));
}
