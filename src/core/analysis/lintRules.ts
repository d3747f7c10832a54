import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Severity } from '../finding';

/**
 * The rule catalogue: one entry per stable reason code. Codes are never renumbered or reused; a
 * retired rule keeps its number. Each code has a `### HWxxx — title` heading in the README rule
 * catalogue, copied into the shipped rule docs (media/docs/rules.md) that diagnostics, the model
 * editor and SARIF results link to.
 */
export interface RuleInfo {
  code: string;
  title: string;
  /** The severity the rule uses most often (some findings of a rule are milder or harsher). */
  severity: Severity;
  /** How well the reference material backs the rule. */
  confidence: 'confirmed' | 'likely' | 'uncertain';
}

const r = (code: string, title: string, severity: Severity, confidence: RuleInfo['confidence']): RuleInfo => ({ code, title, severity, confidence });

export const RULES: readonly RuleInfo[] = [
  r('HW001', 'Dynamic or symbolic dimensions', 'error', 'confirmed'),
  r('HW002', 'Batch size other than 1', 'error', 'confirmed'),
  r('HW003', 'Tensors above rank 4', 'error', 'likely'),
  r('HW004', 'Operators the parser rejects', 'error', 'confirmed'),
  r('HW005', 'Operators not seen parsing for Hailo', 'warning', 'uncertain'),
  r('HW006', 'Shape-driven computation', 'warning', 'likely'),
  r('HW007', 'Opset or operator domain outside what the DFC accepts', 'warning', 'likely'),
  r('HW010', 'LayerNormalization is decomposed', 'info', 'confirmed'),
  r('HW011', 'LayerNorm written out as ReduceMean/Sub/Pow/Sqrt/Div', 'info', 'uncertain'),
  r('HW012', 'Softmax is decomposed', 'info', 'confirmed'),
  r('HW013', 'MatMul between two activations', 'info', 'confirmed'),
  r('HW014', 'Reshape or Transpose that moves data across axes', 'warning', 'likely'),
  r('HW015', 'Broadcast element-wise op between activations', 'warning', 'likely'),
  r('HW016', 'Reduction not on the channel axis', 'warning', 'likely'),
  r('HW017', 'GELU written with Erf', 'info', 'uncertain'),
  r('HW018', 'Gather and embedding lookups', 'error', 'confirmed'),
  r('HW019', 'Conv1d becomes a (1, k) Conv2d', 'warning', 'likely'),
  r('HW020', 'Asymmetric, non-zero or non-constant padding', 'warning', 'likely'),
  r('HW021', 'Shapes differ from the project file contract', 'error', 'confirmed'),
  r('HW022', 'A single layer too large for on-chip memory', 'warning', 'uncertain'),
  r('HW030', 'On-chip memory estimate', 'info', 'uncertain'),
];

export const RULES_BY_CODE: ReadonlyMap<string, RuleInfo> = new Map(RULES.map((x) => [x.code, x]));

/** The rule documentation shipped with the extension and the CLI, relative to the package root. */
export const RULE_DOCS_FILE = 'media/docs/rules.md';

let catalogueUrl: string | undefined;

/**
 * Where the rule documentation lives: a file URL of media/docs/rules.md in the installed package
 * (found upwards from this module: dist/ in the bundles, src/core/analysis in tests), so links
 * work offline; the package-relative path when it cannot be found.
 */
export function ruleCatalogueUrl(): string {
  if (catalogueUrl) return catalogueUrl;
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const p = path.join(dir, RULE_DOCS_FILE);
    if (fs.existsSync(p)) return (catalogueUrl = pathToFileURL(p).href);
    dir = path.dirname(dir);
  }
  return (catalogueUrl = RULE_DOCS_FILE);
}

/** The README heading text of a rule: `HW001 — Dynamic or symbolic dimensions`. */
export function ruleHeading(rule: RuleInfo): string {
  return `${rule.code} — ${rule.title}`;
}

/** GitHub-style anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

export function ruleAnchor(code: string): string {
  const rule = RULES_BY_CODE.get(code);
  return rule ? headingAnchor(ruleHeading(rule)) : headingAnchor(code);
}

export function ruleHelpUri(code: string, base = ruleCatalogueUrl()): string {
  return `${base}#${ruleAnchor(code)}`;
}
