import type { Finding } from '../finding';
import type { FidelityStage, FidelityThresholds } from '../project/schema';
import type { ComparisonRecord, FidelityRecord } from './record';

/**
 * What a fidelity record has to say, as findings (the same shape lint and the rewrite ledger use,
 * so adapters show them as diagnostics on the model in hailo.json and the CLI prints them):
 *   FID001 error    cosine similarity to the reference below `minCosine`
 *   FID002 error    SNR to the reference below `minSnrDb`
 *   FID003 error    mean absolute error above `maxMeanAbsError`
 *   FID004 warning  a range of time steps diverges far more than the rest
 *   FID005 error    a stage could not be run or compared
 *   FID006 warning  fidelity dropped against an earlier result
 */

export const STAGE_TEXT: Record<FidelityStage, string> = {
  torch: 'PyTorch',
  onnx: 'ONNX (onnxruntime)',
  'fp-optimized': 'HAR emulator, full precision (SDK_FP_OPTIMIZED)',
  quantized: 'HAR emulator, quantized (SDK_QUANTIZED)',
  device: 'HEF on the device (HailoRT)',
};

export function thresholdsFor(rec: Pick<FidelityRecord, 'thresholds' | 'stageThresholds'>, stage: FidelityStage): FidelityThresholds {
  return { ...(rec.thresholds ?? {}), ...(rec.stageThresholds?.[stage] ?? {}) };
}

export function fmtSnr(snr: number | null): string {
  return snr === null ? 'exact' : `${snr.toFixed(1)} dB`;
}

/** The reference by name: "PyTorch", or the stage that stood in when PyTorch did not run. */
function ref(c: ComparisonRecord): string {
  return c.reference === 'torch' ? 'PyTorch' : STAGE_TEXT[c.reference];
}

function where(c: ComparisonRecord): string {
  return `${STAGE_TEXT[c.stage]}, output "${c.output}"`;
}

/** A finding with the stage it is about (for placing it on that stage's limits in hailo.json). */
export type FidelityFinding = Finding & { stage?: FidelityStage };

export function fidelityFindings(rec: FidelityRecord): FidelityFinding[] {
  const out: FidelityFinding[] = [];
  for (const s of rec.stages) {
    if (s.status !== 'failed') continue;
    out.push({
      code: 'FID005',
      severity: 'error',
      stage: s.stage,
      message: `Fidelity stage ${STAGE_TEXT[s.stage]} failed: ${s.message ?? s.code ?? 'unknown error'}`,
      nodes: [],
      ...(s.file ? { related: [{ message: 'file', file: s.file }] } : {}),
    });
  }
  for (const c of rec.comparisons) {
    if (c.against === 'reference') {
      const t = thresholdsFor(rec, c.stage);
      const m = c.metrics;
      if (t.minCosine !== undefined && m.cosine < t.minCosine) {
        out.push({
          code: 'FID001',
          stage: c.stage,
          severity: 'error',
          message: `${where(c)}: cosine similarity to ${ref(c)} ${m.cosine.toFixed(5)} is below the limit ${t.minCosine}`,
          nodes: [c.output],
          fix: 'Look at the per-step curve for where it diverges, and at the compiler rewrites of the first stage that falls below.',
        });
      }
      if (t.minSnrDb !== undefined && m.snrDb !== null && m.snrDb < t.minSnrDb) {
        out.push({
          code: 'FID002',
          stage: c.stage,
          severity: 'error',
          message: `${where(c)}: SNR to ${ref(c)} ${fmtSnr(m.snrDb)} is below the limit ${t.minSnrDb} dB`,
          nodes: [c.output],
          fix:
            c.stage === 'quantized' || c.stage === 'device'
              ? 'Quantization noise: try more calibration data, a higher optimization level, or 16-bit precision for the layers that lose most.'
              : undefined,
        });
      }
      if (t.maxMeanAbsError !== undefined && m.meanAbs > t.maxMeanAbsError) {
        out.push({
          code: 'FID003',
          stage: c.stage,
          severity: 'error',
          message: `${where(c)}: mean absolute error ${m.meanAbs.toPrecision(4)} is above the limit ${t.maxMeanAbsError}`,
          nodes: [c.output],
        });
      }
    }
    // damage along time is reported where it first appears: against the stage before, or against
    // the reference for the first stage after it
    const hasPrevious = rec.comparisons.some((o) => o.against === 'previous' && o.stage === c.stage && o.output === c.output);
    const firstAppears = c.against === 'previous' || !hasPrevious;
    if (firstAppears && c.damaged.length) {
      const ranges = c.damaged.map((d) => (d.from === d.to ? `step ${d.from}` : `steps ${d.from}–${d.to}`) + ` (${fmtSnr(d.snrDb)})`).join(', ');
      const median = medianSnr(c.perStep.snrDb);
      out.push({
        code: 'FID004',
        stage: c.stage,
        severity: 'warning',
        message: `${where(c)} against ${STAGE_TEXT[c.reference]}: ${ranges} of ${c.steps} diverge far more than the rest (median step ${fmtSnr(median)})`,
        nodes: [c.output],
        fix: 'A range at the end often means padding or a sequence length that was cut; at the start, a mask or positional embedding that changed.',
      });
    }
  }
  return out;
}

export function medianSnr(snr: readonly (number | null)[]): number | null {
  if (!snr.length) return null;
  const s = snr.map((x) => (x === null ? Infinity : x)).sort((a, b) => a - b);
  const m = s[Math.floor(s.length / 2)]!;
  return Number.isFinite(m) ? m : null;
}

export function hasErrors(f: Finding[]): boolean {
  return f.some((x) => x.severity === 'error');
}

/** One line per stage, for the Runs view and the CLI. */
export function stageSummaries(rec: FidelityRecord): { stage: FidelityStage; text: string; ok: boolean }[] {
  const findings = fidelityFindings(rec);
  return rec.stages.map((s) => {
    if (s.status === 'failed') return { stage: s.stage, text: `${s.stage}: failed (${s.code ?? 'error'})`, ok: false };
    if (s.status === 'skipped') return { stage: s.stage, text: `${s.stage}: skipped${s.message ? ` (${s.message})` : ''}`, ok: true };
    if (s.stage === 'torch') return { stage: s.stage, text: `torch: reference, ${rec.samples.length} sample(s)`, ok: true };
    const cs = rec.comparisons.filter((c) => c.stage === s.stage && c.against === 'reference');
    const parts = cs.map(
      (c) =>
        `${cs.length > 1 ? `${c.output} ` : ''}cos ${c.metrics.cosine.toFixed(4)}, SNR ${fmtSnr(c.metrics.snrDb)}, max |e| ${c.metrics.maxAbs.toPrecision(3)}`,
    );
    const ok = !findings.some((f) => f.severity === 'error' && f.message.startsWith(STAGE_TEXT[s.stage]));
    return { stage: s.stage, text: `${s.stage}: ${parts.join('; ') || 'no outputs compared'}${ok ? '' : ' (below limit)'}`, ok };
  });
}

/**
 * Fidelity against an earlier result of the same model: a stage whose SNR to the reference fell
 * by more than `maxDropDb` (default 3 dB), or whose cosine fell by more than `maxCosineDrop`
 * (default 0.01), is flagged. Stages or outputs missing from either record are not compared.
 */
export function compareRecords(
  previous: FidelityRecord,
  current: FidelityRecord,
  opts: { maxDropDb?: number; maxCosineDrop?: number; previousLabel?: string } = {},
): FidelityFinding[] {
  const maxDrop = opts.maxDropDb ?? 3;
  const maxCos = opts.maxCosineDrop ?? 0.01;
  const label = opts.previousLabel ?? (previous.commit ? `commit ${previous.commit.slice(0, 10)}` : `the result of ${previous.createdAt}`);
  const out: FidelityFinding[] = [];
  for (const c of current.comparisons) {
    if (c.against !== 'reference') continue;
    const p = previous.comparisons.find((x) => x.against === 'reference' && x.reference === c.reference && x.stage === c.stage && x.output === c.output);
    if (!p) continue;
    const a = p.metrics.snrDb;
    const b = c.metrics.snrDb;
    // exact (null) counts as very high: exact -> 40 dB is a drop, 40 dB -> exact is not
    const drop = (a === null ? Infinity : a) - (b === null ? Infinity : b);
    const cosDrop = p.metrics.cosine - c.metrics.cosine;
    if ((Number.isFinite(drop) || a === null) && b !== null && drop > maxDrop) {
      out.push({
        code: 'FID006',
        stage: c.stage,
        severity: 'warning',
        message: `${where(c)}: SNR to ${ref(c)} dropped from ${fmtSnr(a)} to ${fmtSnr(b)} since ${label}`,
        nodes: [c.output],
      });
    } else if (cosDrop > maxCos) {
      out.push({
        code: 'FID006',
        stage: c.stage,
        severity: 'warning',
        message: `${where(c)}: cosine similarity to ${ref(c)} dropped from ${p.metrics.cosine.toFixed(4)} to ${c.metrics.cosine.toFixed(4)} since ${label}`,
        nodes: [c.output],
      });
    }
  }
  return out;
}
