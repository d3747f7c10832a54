import * as path from 'node:path';
import type { GraphModel, SourceLocation } from '../graph/model';
import type { FindingView, ModelSummary, TensorSummary } from '../protocol/modelEditor';
import type { Finding } from './finding';
import { RULES_BY_CODE, ruleHelpUri } from './lintRules';

/**
 * What the model editor shows for a model file, whatever its kind. Each kind registers a
 * summarizer for its file extensions; the editor calls `summarize` and renders the result.
 */
export interface SummarizeOptions {
  hwArch?: string;
  projectFile?: string;
  modelName?: string;
  signal?: AbortSignal;
}

export interface Summarized {
  summary: ModelSummary;
  /** The findings behind `summary.findings` (with related locations), in FindingView id order. */
  findings: Finding[];
  /** The graph read (for the graph view), and where its nodes came from when a source map says so. */
  graph?: GraphModel;
  source?: (nodeId: string) => SourceLocation | undefined;
}

export type Summarizer = (file: string, opts: SummarizeOptions) => Promise<Summarized>;

const summarizers = new Map<string, Summarizer>();

/** Register a summarizer for file extensions (lower case, with the dot: ".onnx"). */
export function registerSummarizer(extensions: string[], fn: Summarizer): void {
  for (const e of extensions) summarizers.set(e.toLowerCase(), fn);
}

export function summarizerFor(file: string): Summarizer | undefined {
  return summarizers.get(path.extname(file).toLowerCase());
}

/** Summarize a model file; throws INVALID_ARGUMENT for a kind nobody registered, else the reader's typed errors. */
export async function summarize(file: string, opts: SummarizeOptions = {}): Promise<Summarized> {
  const fn = summarizerFor(file);
  if (!fn) {
    const { HailoError } = await import('../errors');
    throw new HailoError('INVALID_ARGUMENT', `${file}: no summary for ${path.extname(file) || 'files without an extension'}`, { file });
  }
  return fn(file, opts);
}

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

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} B`;
}

/** The ONNX summary: reads the model, lints it, and reports both. */
export const summarizeOnnx: Summarizer = async (file, opts) => {
  const { lintOnnxFile } = await import('./lintFile');
  const r = await lintOnnxFile(file, opts);
  const m = r.model;
  const facts: { key: string; value: string }[] = [
    { key: 'File size', value: formatBytes(m.fileSize) },
    { key: 'IR version', value: String(m.irVersion) },
    { key: 'Opsets', value: m.opsetImports.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ') || 'none' },
    { key: 'Producer', value: [m.producerName, m.producerVersion].filter(Boolean).join(' ') || 'unknown' },
    { key: 'Nodes', value: formatCount(m.graph.nodes.length) },
    { key: 'Parameters', value: `${formatCount(m.paramCount)} (${formatBytes(m.paramBytes)})` },
    { key: 'Lint target', value: r.hwArch },
  ];
  if (r.projectModel) facts.push({ key: 'Project model', value: `${r.projectModel.name} (${path.basename(r.projectModel.file)})` });
  if (r.sourceMap) facts.push({ key: 'Source map', value: `${path.basename(r.sourceMap.file)} (${r.sourceMap.size} nodes)` });
  if (m.externalDataFiles.length) facts.push({ key: 'External data', value: m.externalDataFiles.map((f) => path.basename(f)).join(', ') });
  if (m.subgraphs.length) facts.push({ key: 'Subgraphs', value: m.subgraphs.map((s) => `${s.node}.${s.attribute} (${s.nodeCount} nodes)`).join(', ') });
  if (m.unknownDomains.length) facts.push({ key: 'Unknown domains', value: m.unknownDomains.join(', ') });
  const summary: ModelSummary = {
    kind: 'onnx',
    file: r.file,
    title: path.basename(r.file),
    facts,
    inputs: tensorSummaries(m.graph.inputs),
    outputs: tensorSummaries(m.graph.outputs),
    ops: opHistogram(m.graph),
    paramCount: m.paramCount,
    opset: m.defaultOpset ?? null,
    findings: groupFindings(r.findings),
    warnings: [...m.warnings, ...r.notes],
  };
  const sourceMap = r.sourceMap;
  return { summary, findings: r.findings, graph: m.graph, ...(sourceMap ? { source: (id: string) => sourceMap.lookup(id) } : {}) };
};

registerSummarizer(['.onnx'], summarizeOnnx);
// HAR archives and HN files: see ledgerSummary.ts (loaded on first use)
registerSummarizer(['.har', '.hn'], async (file, opts) => (await import('./ledgerSummary')).summarizeHailo(file, opts));
