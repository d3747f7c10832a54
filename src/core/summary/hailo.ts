import * as path from 'node:path';
import type { ModelSummary } from '../protocol/modelEditor';
import { formatBytes as bytes } from '../format';
import { openHnOrHar } from '../hailo/hn';
import { groupFindings, opHistogram, tensorSummaries } from './shared';
import type { Summarized, SummarizeOptions } from './summarize';

/**
 * The model editor's summary of a `.har` or `.hn` file: what the archive holds (members, state,
 * SDK version) and the HN network (layers by type, inputs and outputs in HN layout). Weights are
 * never loaded, so the parameter count is not known; their size is shown instead.
 */

export async function summarizeHailo(file: string, opts: SummarizeOptions = {}): Promise<Summarized> {
  const l = opts.limits ?? {};
  const { hn, har } = await openHnOrHar(file, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(l.maxJsonBytes !== undefined ? { maxMemberBytes: l.maxJsonBytes } : {}),
    ...(l.maxInflatedBytes !== undefined ? { maxInflatedBytes: l.maxInflatedBytes } : {}),
    ...(l.maxCompressionRatio !== undefined ? { maxCompressionRatio: l.maxCompressionRatio } : {}),
  });
  const facts: { key: string; value: string }[] = [];
  if (har) {
    facts.push({ key: 'Archive', value: `HAR (tar${har.gzip ? ', gzip' : ''}), ${har.members.length} member(s)` });
    facts.push({ key: 'State', value: `${har.state} (${har.stateEvidence})` });
    facts.push({
      key: 'Members',
      value: har.members
        .filter((m) => m.role !== 'directory')
        .map((m) => `${m.name} (${bytes(m.size)})`)
        .join(', '),
    });
    facts.push({ key: 'Weights', value: har.paramsBytes ? `${bytes(har.paramsBytes)} (not loaded)` : 'none found' });
  } else {
    facts.push({ key: 'File', value: 'HN network description (JSON)' });
  }
  facts.push({ key: 'Network', value: hn.name });
  facts.push({
    key: 'SDK version',
    value: har?.sdkVersion ? `${har.sdkVersion.value} (${har.sdkVersion.where})` : (hn.sdkVersion ?? 'not recorded in the file'),
  });
  if (hn.formatVersion || hn.stage)
    facts.push({ key: 'HN format', value: [hn.formatVersion && `version ${hn.formatVersion}`, hn.stage && `stage ${hn.stage}`].filter(Boolean).join(', ') });
  facts.push({ key: 'Layers', value: String(hn.layers.length) });
  if (hn.quantizedLayers) facts.push({ key: 'Quantized layers', value: String(hn.quantizedLayers) });
  if (hn.netScopes.length > 1) facts.push({ key: 'Scopes', value: hn.netScopes.join(', ') });
  if (hn.outputLayersOrder.length) facts.push({ key: 'Output order', value: hn.outputLayersOrder.join(', ') });
  if (har && Object.keys(har.modelScripts).length) facts.push({ key: 'Model scripts', value: Object.keys(har.modelScripts).join(', ') });
  facts.push({ key: 'Compare', value: 'Hailo: Compare Model with HAR shows what changed against the ONNX model' });
  const summary: ModelSummary = {
    kind: har ? 'har' : 'hn',
    file,
    title: path.basename(file),
    facts,
    inputs: tensorSummaries(hn.graph.inputs),
    outputs: tensorSummaries(hn.graph.outputs),
    ops: opHistogram(hn.graph),
    paramCount: 0,
    opset: null,
    findings: groupFindings([]),
    warnings: [...hn.warnings, ...(har?.warnings ?? [])],
  };
  return { summary, findings: [], graph: hn.graph };
}
