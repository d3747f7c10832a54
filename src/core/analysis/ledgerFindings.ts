import type { Finding, Severity } from '../finding';
import { unscoped } from '../hailo/generatedNames';
import type { Ledger, LedgerEntry } from './ledger';

/**
 * Ledger entries as Findings (diagnostics on the user's PyTorch line and on the ONNX file),
 * severity by risk. Kept layers say nothing. Codes:
 *
 * - RW001 warning  a normalization (LayerNorm) was rewritten: its 8-bit behaviour will differ
 * - RW002 info     a Softmax was decomposed into max / subtract / exp / sum / multiply
 * - RW003 hint     another op was decomposed (by the parser or the compiler's defuse)
 * - RW004 hint     several ONNX nodes were fused into one layer
 * - RW005 hint|warning  ONNX nodes removed (layout ops: hint; arithmetic or dropped padding: warning)
 * - RW006 hint     a layer added by the DFC
 * - RW007 info|warning  shape or layout changed (graph inputs/outputs: info; element count or
 *                  unexpected axis order: warning)
 * - RW008 warning  runs on the host: outside the parsed network
 * - RW009 info     not matched; nothing assumed
 * - RW010 info     a layer split across compiler contexts
 */

export interface LedgerFiles {
  onnx?: string;
  hn?: string;
  parseLog?: string;
  compileLog?: string;
}

const STAGE_WORD: Record<Ledger['stage'], string> = { parse: 'parsed', optimize: 'optimized', compile: 'compiled' };
const ARITHMETIC = /^(Mul|Div|Add|Sub|Pow|Sqrt|Exp|Log|MatMul|Gemm|Conv|Relu|Sigmoid|Tanh|Erf|Softmax|Reduce\w+|Clip|Max|Min)$/;

function isNormalization(e: LedgerEntry): boolean {
  return e.onnxOps.some((o) => /Normalization$/.test(o)) || e.hnTypes.some((t) => t === 'normalization' || t === 'layer_normalization');
}

function cap(sev: Severity, e: LedgerEntry): Severity {
  // a structural match is an interpretation: never louder than info
  return e.structural && (sev === 'error' || sev === 'warning') ? 'info' : sev;
}

export function ledgerFindings(ledger: Ledger, files: LedgerFiles = {}): Finding[] {
  const out: Finding[] = [];
  const byId = new Map(ledger.entries.map((e) => [e.id, e]));
  const where = `in the ${STAGE_WORD[ledger.stage]} HAR${ledger.dfcVersion ? ` (DFC ${ledger.dfcVersion})` : ''}`;
  for (const e of ledger.entries) {
    const f = finding(e, ledger, where, byId);
    if (!f) continue;
    f.severity = cap(f.severity, e);
    if (e.structural) f.message += ' (matched by graph structure only)';
    if (e.source) f.source = e.source;
    const related: NonNullable<Finding['related']> = [];
    for (const h of e.hnLayers.slice(0, 8)) related.push({ message: `HN layer ${h}`, ...(files.hn ? { file: files.hn } : {}), node: h });
    for (const p of e.compilerLayers.slice(0, 8))
      related.push({
        message: `compile log: ${p.name}${p.context !== undefined ? ` (context ${p.context})` : ''}`,
        ...(files.compileLog ? { file: files.compileLog } : {}),
        ...(p.line ? { line: p.line } : {}),
        node: p.name,
      });
    if (e.kind === 'host' && ledger.hefRegion)
      related.push({ message: `parse end node(s): ${ledger.hefRegion.endNodes.join(', ')}`, ...(files.parseLog ? { file: files.parseLog } : {}) });
    if (related.length) f.related = related;
    out.push(f);
  }
  for (const e of ledger.entries) {
    if (e.contexts.length > 1) {
      out.push({
        code: 'RW010',
        severity: 'info',
        message: `${label(e)} is split across contexts ${e.contexts.join(', ')}: its tensors pass through DRAM between them`,
        nodes: e.onnxNodes.length ? e.onnxNodes : e.hnLayers,
        ...(e.source ? { source: e.source } : {}),
      });
    }
  }
  return out;
}

function label(e: LedgerEntry): string {
  if (e.onnxNodes.length === 1) return `${e.onnxOps[0]} ${e.onnxNodes[0]}`;
  if (e.onnxNodes.length) return `${e.onnxNodes.length} ONNX nodes (${[...new Set(e.onnxOps)].join(', ')})`;
  return e.hnLayers.map(unscoped).join(', ');
}

function finding(e: LedgerEntry, ledger: Ledger, where: string, byId: Map<string, LedgerEntry>): Finding | undefined {
  const nodes = e.onnxNodes.length ? e.onnxNodes : e.hnLayers;
  const layers = e.hnLayers.map(unscoped);
  const ctx = e.contexts.length ? ` (context ${e.contexts.join(', ')})` : '';
  switch (e.kind) {
    case 'kept':
      return undefined;
    case 'layout': {
      const bad = e.changes.some((c) => !c.canonical);
      const isIo = e.onnxTensors.length > 0;
      return {
        code: 'RW007',
        severity: bad ? 'warning' : isIo ? 'info' : 'hint',
        message: `${isIo ? `${e.hnTypes[0] === 'input_layer' ? 'Input' : 'Output'} ${e.onnxTensors.join(', ')}` : label(e)}: ${e.changes.map((c) => c.message).join('; ')} ${where}`,
        nodes: isIo ? e.onnxTensors : nodes,
        ...(isIo
          ? {
              fix:
                e.hnTypes[0] === 'input_layer'
                  ? 'Feed the HEF input in the HN layout (channels last, batch first) on the host.'
                  : 'Read the HEF output in the HN layout and reorder it on the host if your code expects the ONNX layout.',
            }
          : {}),
      };
    }
    case 'decomposed': {
      if (isNormalization(e)) {
        const core = e.hnLayers.filter((h) => !/format_conversion|reshape/.test(h)).map(unscoped);
        const extra = e.hnLayers.length - core.length;
        return {
          code: 'RW001',
          severity: 'warning',
          message: `This ${e.onnxOps.find((o) => /Norm/.test(o)) ?? 'normalization'} became ${core.join(', ') || layers.join(', ')}${extra ? ` plus ${extra === 1 ? 'a reshape' : `${extra === 2 ? 'two' : extra} reshapes`}` : ''} ${where}; its 8-bit behaviour will differ from PyTorch${ctx}`,
          nodes,
          fix: 'Check this layer in the layer noise analysis after optimize; the model script command pre_quantization_optimization(layer_norm_decomposition, ...) controls how it is quantized.',
        };
      }
      if (e.onnxOps.includes('Softmax')) {
        return {
          code: 'RW002',
          severity: 'info',
          message: `This Softmax became ${layers.length} layers (${layers.join(', ')}) ${where}: max, subtract, exp, sum and multiply, each quantized${ctx}`,
          nodes,
          fix: 'Softmax over long sequences loses precision in 8 bits; compare the attention output after optimize.',
        };
      }
      const by = e.compilerLayers.length ? `; the compiler split it into ${e.compilerLayers.map((p) => p.name).join(', ')}` : '';
      return { code: 'RW003', severity: 'hint', message: `${label(e)} became ${layers.join(', ')}${by}${ctx}`, nodes };
    }
    case 'fused':
      if (isNormalization(e)) {
        return {
          code: 'RW001',
          severity: 'warning',
          message: `These ${e.onnxNodes.length} nodes (a LayerNorm written out as ${[...new Set(e.onnxOps)].join(', ')}) became one ${layers[0]} layer ${where}; its 8-bit behaviour will differ from PyTorch${ctx}`,
          nodes,
          fix: 'Check this layer in the layer noise analysis after optimize; exporting at opset 17 keeps one LayerNormalization node.',
        };
      }
      return { code: 'RW004', severity: 'hint', message: e.note, nodes };
    case 'removed': {
      const dropped = e.changes.some((c) => c.kind === 'padding' && !c.canonical);
      const arithmetic = e.onnxOps.filter((o) => ARITHMETIC.test(o));
      const rel = e.relatedEntry ? byId.get(e.relatedEntry) : undefined;
      if (dropped)
        return {
          code: 'RW005',
          severity: 'warning',
          message: `${e.changes.find((c) => c.kind === 'padding')!.message} ${where}`,
          nodes,
          fix: 'Pad explicitly in the conv (padding=...) instead of a separate pad, or check the HN layer padding.',
        };
      if (e.onnxOps.every((o) => o === 'Constant')) return undefined;
      if (arithmetic.length) {
        return {
          code: 'RW005',
          severity: 'warning',
          message: `${label(e)} ${e.onnxNodes.length > 1 ? 'have' : 'has'} no layer ${where} (${arithmetic.join(', ')} included)${rel?.hnLayers[0] ? `; presumably folded into ${unscoped(rel.hnLayers[0])}` : ''}; this was not confirmed by the HN`,
          nodes,
          fix: "Check that the arithmetic was folded (e.g. a scale into the next layer's weights) by comparing outputs in emulation.",
        };
      }
      return { code: 'RW005', severity: 'hint', message: e.note, nodes };
    }
    case 'added':
      return { code: 'RW006', severity: 'hint', message: e.note, nodes: e.hnLayers };
    case 'host':
      return {
        code: 'RW008',
        severity: 'warning',
        message: `${label(e)} is not in the ${ledger.stage === 'parse' ? 'parsed network' : 'HEF'}: it lies outside the start/end nodes and must run on the host`,
        nodes,
        fix: 'Implement it in your application (after the HEF outputs), or parse with end nodes that include it.',
      };
    case 'unmatched':
      return { code: 'RW009', severity: 'info', message: `${e.note}; nothing is assumed about it`, nodes };
  }
}
