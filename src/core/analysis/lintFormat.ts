import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding, Severity } from '../finding';
import { RULES, RULES_BY_CODE, ruleHeading, ruleHelpUri } from './lintRules';

/** Findings as text, JSON and SARIF 2.1.0, for the command line and CI. */

export function formatText(file: string, findings: Finding[], opts: { cwd?: string } = {}): string {
  const rel = (p: string) => {
    if (!opts.cwd) return p;
    const r = path.relative(opts.cwd, p);
    return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : p;
  };
  const lines: string[] = [];
  for (const f of findings) {
    const where = f.source ? `${rel(f.source.file)}:${f.source.line}` : rel(file);
    lines.push(`${where}: ${f.severity} ${f.code}: ${f.message}`);
    if (f.nodes.length) lines.push(`    nodes: ${f.nodes.slice(0, 6).join(', ')}${f.nodes.length > 6 ? `, … (${f.nodes.length} in all)` : ''}`);
    if (f.fix) lines.push(`    fix: ${f.fix}`);
    for (const r of f.related ?? []) if (r.file && r.line) lines.push(`    see: ${rel(r.file)}:${r.line} (${r.message})`);
  }
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  lines.push(`${rel(file)}: ${count('error')} error(s), ${count('warning')} warning(s), ${count('info') + count('hint')} note(s)`);
  return lines.join('\n');
}

export interface JsonFinding {
  code: string;
  severity: Severity;
  title: string | undefined;
  message: string;
  nodes: string[];
  fix: string | undefined;
  source: { file: string; line: number; module?: string } | undefined;
  related: Finding['related'];
  helpUri: string;
}

export function toJson(
  file: string,
  findings: Finding[],
  extra: Record<string, unknown> = {},
): { file: string; findings: JsonFinding[] } & Record<string, unknown> {
  return {
    file,
    ...extra,
    summary: {
      errors: findings.filter((f) => f.severity === 'error').length,
      warnings: findings.filter((f) => f.severity === 'warning').length,
      notes: findings.filter((f) => f.severity === 'info' || f.severity === 'hint').length,
    },
    findings: findings.map((f) => ({
      code: f.code,
      severity: f.severity,
      title: RULES_BY_CODE.get(f.code)?.title,
      message: f.message,
      nodes: f.nodes,
      fix: f.fix,
      source: f.source,
      related: f.related,
      helpUri: ruleHelpUri(f.code),
    })),
  };
}

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note', hint: 'note' };

/** SARIF 2.1.0: one run, rules with helpUri to the catalogue, results on the source line or the model file. */
export function toSarif(file: string, findings: Finding[], opts: { version: string; cwd?: string }): Record<string, unknown> {
  const uri = (p: string) => {
    if (opts.cwd) {
      const rel = path.relative(opts.cwd, p);
      if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return { uri: rel.split(path.sep).join('/'), uriBaseId: 'SRCROOT' };
    }
    return { uri: pathToFileURL(p).href };
  };
  const ruleIndex = new Map(RULES.map((r, i) => [r.code, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'hailo-workbench',
            version: opts.version,
            informationUri: ruleHelpUri('').replace(/#.*$/, ''),
            rules: RULES.map((r) => ({
              id: r.code,
              name: r.title.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : '')),
              shortDescription: { text: ruleHeading(r) },
              helpUri: ruleHelpUri(r.code),
              defaultConfiguration: { level: SARIF_LEVEL[r.severity] },
              properties: { confidence: r.confidence },
            })),
          },
        },
        ...(opts.cwd ? { originalUriBaseIds: { SRCROOT: { uri: pathToFileURL(opts.cwd + path.sep).href } } } : {}),
        results: findings.map((f) => {
          const location = f.source
            ? { physicalLocation: { artifactLocation: uri(f.source.file), region: { startLine: f.source.line } } }
            : { physicalLocation: { artifactLocation: uri(file) } };
          return {
            ruleId: f.code,
            ...(ruleIndex.has(f.code) ? { ruleIndex: ruleIndex.get(f.code) } : {}),
            level: SARIF_LEVEL[f.severity],
            message: { text: f.fix ? `${f.message} Fix: ${f.fix}` : f.message },
            locations: [
              {
                ...location,
                ...(f.nodes.length ? { logicalLocations: f.nodes.slice(0, 50).map((n) => ({ name: n, kind: 'member' })) } : {}),
              },
            ],
            ...(f.source ? { relatedLocations: [{ id: 0, physicalLocation: { artifactLocation: uri(file) }, message: { text: 'the ONNX model' } }] } : {}),
            properties: { nodes: f.nodes },
          };
        }),
      },
    ],
  };
}
