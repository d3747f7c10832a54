import * as fs from 'node:fs';
import { errorMessage } from '../errors';
import type { LedgerEntry } from '../analysis/ledger';
import { runLedger, type LedgerInputs, type LedgerRunResult } from '../analysis/ledgerRun';
import { FIDELITY_STAGES, type FidelityStage } from '../project/schema';
import type { FidelityFinding } from './findings';

/**
 * Where the rewrite ledger ties the first diverging stage to rewrites: the findings of that stage
 * get related-information links to the PyTorch lines of those rewrites. The HAR compared is the
 * one the stage ran (the parsed HAR for fp-optimized, the optimized one for quantized and the
 * device); the ONNX is the model's export with its source map.
 */

/** The compiler's stage a fidelity stage reflects, and the HAR that shows its rewrites. */
const LEDGER_OF: Partial<Record<FidelityStage, { stage: 'parse' | 'optimize'; har: 'har' | 'quantizedHar' }>> = {
  'fp-optimized': { stage: 'parse', har: 'har' },
  quantized: { stage: 'optimize', har: 'quantizedHar' },
  device: { stage: 'optimize', har: 'quantizedHar' },
};

const DIVERGES = new Set(['FID001', 'FID002', 'FID003', 'FID004']);

/** The first stage (pipeline order) with a finding that it diverges. */
export function firstDivergingStage(findings: readonly FidelityFinding[]): FidelityStage | undefined {
  const stages = findings.filter((f) => DIVERGES.has(f.code) && f.stage).map((f) => f.stage!);
  return stages.sort((a, b) => FIDELITY_STAGES.indexOf(a) - FIDELITY_STAGES.indexOf(b))[0];
}

/** Rewrites (anything but `kept`) that carry a Python line, one per line. */
export function rewriteLines(entries: readonly LedgerEntry[], max = 20): NonNullable<FidelityFinding['related']> {
  const seen = new Set<string>();
  const out: NonNullable<FidelityFinding['related']> = [];
  for (const e of entries) {
    if (e.kind === 'kept' || !e.source) continue;
    const key = `${e.source.file}:${e.source.line}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ message: `${e.kind}: ${e.note}`, file: e.source.file, line: e.source.line, ...(e.onnxNodes[0] ? { node: e.onnxNodes[0] } : {}) });
    if (out.length >= max) break;
  }
  return out;
}

/**
 * Add the rewrite links to the findings of the first diverging stage. Returns the findings (the
 * same objects, changed) and why there are no links when there are none.
 */
export async function linkRewrites(
  findings: FidelityFinding[],
  files: { onnx: string; har: string; quantizedHar?: string },
  deps: { runLedger?: (i: LedgerInputs) => Promise<Pick<LedgerRunResult, 'ledger'>>; exists?: (f: string) => boolean } = {},
): Promise<{ stage?: FidelityStage; links: number; reason?: string }> {
  const stage = firstDivergingStage(findings);
  if (!stage) return { links: 0, reason: 'no stage diverges' };
  const how = LEDGER_OF[stage];
  if (!how) return { stage, links: 0, reason: `the ${stage} stage has no compiler rewrites (it runs before the Dataflow Compiler)` };
  const exists = deps.exists ?? ((f: string) => fs.existsSync(f));
  const har = how.har === 'quantizedHar' && files.quantizedHar && exists(files.quantizedHar) ? files.quantizedHar : files.har;
  if (!exists(har) || !exists(files.onnx)) return { stage, links: 0, reason: `${exists(har) ? files.onnx : har} does not exist` };
  let entries: LedgerEntry[];
  try {
    entries = (await (deps.runLedger ?? runLedger)({ onnxFile: files.onnx, hailoFile: har })).ledger.entries;
  } catch (e) {
    return { stage, links: 0, reason: `the rewrite ledger of ${har} could not be made: ${errorMessage(e)}` };
  }
  const related = rewriteLines(entries);
  if (!related.length) return { stage, links: 0, reason: 'the ledger ties no rewrite with a Python line to this stage' };
  for (const f of findings) if (f.stage === stage && DIVERGES.has(f.code)) f.related = [...(f.related ?? []), ...related];
  return { stage, links: related.length };
}
