import type { GraphModel } from '../graph/model';
import type { FindingView, ModelSummary, TensorSummary } from '../protocol/modelEditor';
import type { Finding } from '../finding';
import { RULES_BY_CODE, ruleHelpUri } from '../analysis/lintRules';

/** Pieces every model summary is made of: tensor lists, the op histogram, grouped findings. */

export function tensorSummaries(list: GraphModel['inputs']): TensorSummary[] {
  return list.map((t) => ({ name: t.name, shape: t.shape ?? null, dtype: t.dtype ?? null }));
}

export function opHistogram(g: GraphModel): { op: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const n of g.nodes) {
    const key = n.domain ? `${n.domain}::${n.op}` : n.op;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([op, count]) => ({ op, count })).sort((a, b) => b.count - a.count || a.op.localeCompare(b.op));
}

/**
 * Where clicking a finding goes: the user's source line, else a located related entry without a
 * node (the expected shape in hailo.json for a contract finding).
 */
export function findingLocation(f: Finding): { file: string; line: number } | undefined {
  if (f.source) return { file: f.source.file, line: f.source.line };
  const r = f.related?.find((x) => x.file && x.line && !x.node);
  return r ? { file: r.file!, line: r.line! } : undefined;
}

/** Findings grouped by severity, each with its id (index into `findings`) and rule link. */
export function groupFindings(findings: Finding[]): ModelSummary['findings'] {
  const out: ModelSummary['findings'] = { error: [], warning: [], info: [], hint: [] };
  findings.forEach((f, id) => {
    const view: FindingView = {
      id,
      code: f.code,
      severity: f.severity,
      title: RULES_BY_CODE.get(f.code)?.title ?? f.code,
      message: f.message,
      nodes: f.nodes,
      ...(f.fix ? { fix: f.fix } : {}),
      ...(findingLocation(f) ? { source: findingLocation(f)! } : {}),
      helpUri: ruleHelpUri(f.code),
    };
    out[f.severity].push(view);
  });
  return out;
}
