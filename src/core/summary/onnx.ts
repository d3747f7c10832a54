import * as path from 'node:path';
import type { ModelSummary } from '../protocol/modelEditor';
import { formatBytes } from '../format';
import { lintOnnxFile } from '../analysis/lintFile';
import { groupFindings, opHistogram, tensorSummaries } from './shared';
import type { Summarizer } from './summarize';

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** The ONNX summary: reads the model, lints it, and reports both. */
export const summarizeOnnx: Summarizer = async (file, opts) => {
  const r = await lintOnnxFile(file, { ...opts, ...(opts.limits?.maxOnnxNodes !== undefined ? { maxNodes: opts.limits.maxOnnxNodes } : {}) });
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
