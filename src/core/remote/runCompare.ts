import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { DfcLogSummary } from '../hailo/dfcLog';
import { isMeasured, type Figure } from '../hailo/hailort';
import type { Ledger, LedgerKind, LedgerStage } from '../analysis/ledger';
import { LEDGER_KINDS } from '../analysis/ledger';
import { FIDELITY_STAGES } from '../project/schema';
import type { FidelityRecord } from '../fidelity/record';
import { deviceResultOf, latencyOf } from './results';
import { isRunFileName, type RunRecord, type RunStep } from './run';

/**
 * What a run produced, in figures a person compares: outcome, step durations, peak memory,
 * contexts, utilisation, SNR and rewrites by kind for compile runs; FPS and latency for device
 * runs; numeric fidelity when a check was made on the run. Used by the Runs view rows and by
 * Compare Runs, which puts two runs' facts side by side.
 */

/** `.hailo/runs/<id>/rewrites.json`: the rewrite ledger's counts per stage, written after each step's ledger. */
export const REWRITES_FILE = 'rewrites.json';

const StageRewrites = z.object({
  counts: z.partialRecord(z.enum(LEDGER_KINDS as [LedgerKind, ...LedgerKind[]]), z.number().int().nonnegative()),
  contexts: z.number().int().positive().optional(),
  dfcVersion: z.string().optional(),
});
const RewritesRecord = z.object({
  version: z.literal(1),
  stages: z.partialRecord(z.enum(['parse', 'optimize', 'compile']), StageRewrites),
});
export type RewritesRecord = z.infer<typeof RewritesRecord>;

/** Read `rewrites.json` of a run folder; undefined when absent or unreadable (a broken one must not hide the run). */
export function readRunRewrites(runDirPath: string): RewritesRecord | undefined {
  try {
    const r = RewritesRecord.safeParse(JSON.parse(fs.readFileSync(path.join(runDirPath, REWRITES_FILE), 'utf8')));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** Record a ledger's counts for its stage in the run folder (atomic: temp file + rename). */
export function writeRunRewrites(runDirPath: string, ledger: Pick<Ledger, 'stage' | 'counts' | 'contexts' | 'dfcVersion'>): string {
  const prev = readRunRewrites(runDirPath) ?? { version: 1 as const, stages: {} };
  const counts: Partial<Record<LedgerKind, number>> = {};
  for (const k of LEDGER_KINDS) if (ledger.counts[k]) counts[k] = ledger.counts[k];
  prev.stages[ledger.stage] = {
    counts,
    ...(ledger.contexts?.count ? { contexts: ledger.contexts.count } : {}),
    ...(ledger.dfcVersion ? { dfcVersion: ledger.dfcVersion } : {}),
  };
  const file = path.join(runDirPath, REWRITES_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(RewritesRecord.parse(prev)) + '\n');
  fs.renameSync(tmp, file);
  return file;
}

export interface StepFacts {
  step: RunStep['step'];
  status: RunStep['status'];
  durationMs?: number;
  peakRssKB?: number;
  exitCode?: number;
  contexts?: number;
  /** Mean over the contexts of the compiler's per-context totals, in %. */
  utilisation?: { control: number; compute: number; memory: number; contexts: number };
  /** Lowest output SNR the optimizer printed. */
  snr?: { minDb: number; layer: string; outputs: number };
  rewrites?: { stage: LedgerStage; counts: Partial<Record<LedgerKind, number>> };
  /** Device steps: FPS (streaming) and the latency that counts (HW, else overall). */
  fps?: number;
  latencyMs?: { value: number; kind: 'hw' | 'overall' };
}

export interface FidelityFacts {
  /** The fidelity record's folder name. */
  id: string;
  /** Per stage compared against the reference: the worst output's SNR (null: exact) and cosine. */
  stages: { stage: string; snrDb: number | null; cosine: number }[];
}

export interface RunFacts {
  id: string;
  model: string;
  kind: 'compile' | 'device' | 'fidelity';
  status: RunRecord['status'];
  target: string;
  createdAt: string;
  commit?: string;
  dfc?: string;
  hailort?: string;
  totalMs?: number;
  peakRssKB?: number;
  steps: StepFacts[];
  contexts?: number;
  utilisation?: StepFacts['utilisation'];
  snr?: StepFacts['snr'];
  /** The latest stage's rewrite counts. */
  rewrites?: StepFacts['rewrites'];
  fps?: number;
  latencyMs?: StepFacts['latencyMs'];
  fidelity?: FidelityFacts;
}

const asDfcSummary = (s: RunStep): Partial<DfcLogSummary> | undefined =>
  s.summary && typeof s.summary === 'object' ? (s.summary as Partial<DfcLogSummary>) : undefined;

function dfcStepFacts(s: RunStep, f: StepFacts): void {
  const sum = asDfcSummary(s);
  const compile = sum?.compile;
  if (compile && typeof compile === 'object') {
    if (typeof compile.contexts === 'number') f.contexts = compile.contexts;
    else if (compile.contextMode === 'single') f.contexts = 1;
    const totals = (Array.isArray(compile.utilization) ? compile.utilization : []).flatMap((u) => (u.total ? [u.total] : []));
    if (totals.length) {
      const mean = (k: 'controlPct' | 'computePct' | 'memoryPct') => totals.reduce((a, t) => a + t[k], 0) / totals.length;
      f.utilisation = { control: mean('controlPct'), compute: mean('computePct'), memory: mean('memoryPct'), contexts: totals.length };
      f.contexts ??= totals.length;
    }
  }
  const snr = Array.isArray(sum?.optimize?.snr) ? sum.optimize.snr.filter((x) => Number.isFinite(x.db)) : [];
  if (snr.length) {
    const min = snr.reduce((a, b) => (b.db < a.db ? b : a));
    f.snr = { minDb: min.db, layer: min.layer, outputs: snr.length };
  }
}

const measured = (x: unknown): number | undefined => (x && typeof x === 'object' && isMeasured(x as Figure) ? (x as { value: number }).value : undefined);

/** What one step produced, from its summary in run.json and the run's rewrites.json. */
export function stepFacts(s: RunStep, rewrites?: RewritesRecord): StepFacts {
  const f: StepFacts = { step: s.step, status: s.status };
  if (s.durationMs !== undefined) f.durationMs = s.durationMs;
  if (s.peakRssKB !== undefined) f.peakRssKB = s.peakRssKB;
  if (s.exitCode !== undefined) f.exitCode = s.exitCode;
  if (s.step === 'parse' || s.step === 'optimize' || s.step === 'compile') {
    dfcStepFacts(s, f);
    const r = rewrites?.stages[s.step];
    if (r && s.status === 'succeeded') f.rewrites = { stage: s.step, counts: r.counts };
  } else if (s.step === 'benchmark' || s.step === 'run' || s.step === 'run2') {
    const sum = s.summary as Record<string, unknown> | undefined;
    const fps = measured(sum?.fpsStreaming) ?? measured(sum?.fpsHwOnly);
    if (fps !== undefined) f.fps = fps;
    const hw = measured(sum?.hwLatencyMs);
    const ov = measured(sum?.overallLatencyMs);
    if (hw !== undefined) f.latencyMs = { value: hw, kind: 'hw' };
    else if (ov !== undefined) f.latencyMs = { value: ov, kind: 'overall' };
  }
  return f;
}

/** The fidelity record's worst output per stage, compared against the reference. */
export function fidelityFacts(id: string, rec: FidelityRecord): FidelityFacts {
  const byStage = new Map<string, { snrDb: number | null; cosine: number }>();
  for (const c of rec.comparisons) {
    if (c.against !== 'reference') continue;
    const prev = byStage.get(c.stage);
    const worse = !prev || (c.metrics.snrDb !== null && (prev.snrDb === null || c.metrics.snrDb < prev.snrDb));
    if (worse) byStage.set(c.stage, { snrDb: c.metrics.snrDb, cosine: prev ? Math.min(prev.cosine, c.metrics.cosine) : c.metrics.cosine });
    else byStage.set(c.stage, { ...prev, cosine: Math.min(prev.cosine, c.metrics.cosine) });
  }
  const order = (s: string) => (FIDELITY_STAGES as readonly string[]).indexOf(s);
  return { id, stages: [...byStage].sort((a, b) => order(a[0]) - order(b[0])).map(([stage, m]) => ({ stage, ...m })) };
}

/**
 * The fidelity check made on a run: the run's own folder's `fidelity.json` (a fidelity run kept
 * with its check), else the newest `<dir>/<id>/fidelity.json` that names the run (its `runId`, or
 * one of its remote `runs`), searched in each folder given (the runs folder, and `.hailo/fidelity/`
 * of earlier versions). Unreadable records are skipped.
 */
export function fidelityOfRun(dirs: string | readonly string[], runId: string, read: (file: string) => FidelityRecord): FidelityFacts | undefined {
  const list = typeof dirs === 'string' ? [dirs] : dirs;
  if (isRunFileName(runId)) {
    for (const d of list) {
      const own = path.join(d, runId, 'fidelity.json');
      if (!fs.existsSync(own)) continue;
      try {
        return fidelityFacts(runId, read(own));
      } catch {
        // see below
      }
    }
  }
  for (const fidelityDir of list) {
    let names: string[];
    try {
      names = fs
        .readdirSync(fidelityDir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && isRunFileName(d.name))
        .map((d) => d.name)
        .sort()
        .reverse();
    } catch {
      continue;
    }
    for (const n of names) {
      const file = path.join(fidelityDir, n, 'fidelity.json');
      if (!fs.existsSync(file)) continue;
      try {
        const rec = read(file);
        if (rec.runId === runId || rec.runs?.includes(runId)) return fidelityFacts(n, rec);
      } catch {
        // a broken record is not this run's fidelity
      }
    }
  }
  return undefined;
}

/** Everything a run produced. `rewrites` and `fidelity` come from files beside run.json (see readRunRewrites, fidelityOfRun). */
export function runFacts(run: RunRecord, extra: { rewrites?: RewritesRecord; fidelity?: FidelityFacts } = {}): RunFacts {
  const steps = run.steps.map((s) => stepFacts(s, extra.rewrites));
  const kind = run.kind ?? 'compile';
  const f: RunFacts = { id: run.id, model: run.model, kind, status: run.status, target: run.device?.name ?? run.target.name, createdAt: run.createdAt, steps };
  if (run.commit) f.commit = run.commit;
  if (run.toolVersions.dfc) f.dfc = run.toolVersions.dfc;
  if (run.toolVersions.hailort ?? run.device?.hailort) f.hailort = (run.toolVersions.hailort ?? run.device?.hailort)!;
  const timed = steps.filter((s) => s.durationMs !== undefined);
  if (timed.length) f.totalMs = timed.reduce((a, s) => a + s.durationMs!, 0);
  const rss = steps.flatMap((s) => (s.peakRssKB !== undefined ? [s.peakRssKB] : []));
  if (rss.length && kind !== 'device') f.peakRssKB = Math.max(...rss);
  // the last step that reported each figure
  for (const s of steps) {
    if (s.contexts !== undefined) f.contexts = s.contexts;
    if (s.utilisation) f.utilisation = s.utilisation;
    if (s.snr) f.snr = s.snr;
    if (s.rewrites) f.rewrites = s.rewrites;
  }
  if (kind === 'device') {
    const d = deviceResultOf(run);
    const fps = d ? (measured(d.figures.fpsStreaming) ?? measured(d.figures.fpsHwOnly)) : undefined;
    if (fps !== undefined) f.fps = fps;
    const lat = d ? latencyOf(d) : undefined;
    if (lat) f.latencyMs = lat;
    if (d?.hef?.contexts !== undefined) f.contexts = d.hef.contexts;
  }
  if (extra.fidelity) f.fidelity = extra.fidelity;
  return f;
}

// ---- text ------------------------------------------------------------------------------------

const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const gb = (kb: number) => (kb < 1024 * 1024 ? `${(kb / 1024).toFixed(0)} MB` : `${(kb / 1024 / 1024).toFixed(2)} GB`);
const dB = (x: number | null) => (x === null ? 'exact' : `${x.toFixed(1)} dB`);

/** Rewrite counts in a few words, kinds in the ledger's order, `kept` left out: `12 fused, 3 decomposed`. */
export function rewritesText(counts: Partial<Record<LedgerKind, number>>): string {
  const parts = LEDGER_KINDS.filter((k) => k !== 'kept' && counts[k]).map((k) => `${counts[k]} ${k}`);
  return parts.length ? parts.join(', ') : 'no rewrites';
}

/** A step's products in a few words, for a Runs view row: `3 contexts · compute 24.1 % · SNR ≥ 18.2 dB · 12 fused`. */
export function stepFactsText(f: StepFacts): string | undefined {
  const bits: string[] = [];
  if (f.contexts !== undefined) bits.push(`${f.contexts} context${f.contexts === 1 ? '' : 's'}`);
  if (f.utilisation) bits.push(`compute ${f.utilisation.compute.toFixed(1)} %`);
  if (f.snr) bits.push(`SNR ≥ ${f.snr.minDb.toFixed(1)} dB`);
  if (f.rewrites) bits.push(rewritesText(f.rewrites.counts));
  return bits.length ? bits.join(' · ') : undefined;
}

export interface ComparisonRow {
  label: string;
  a: string;
  b: string;
  /** b against a, when both are numbers: `+12.0 %`. */
  change?: string;
  /** The change is for the worse (slower, more memory, lower SNR, more contexts). */
  worse?: boolean;
}

type Num = { v: number | undefined; text: (v: number) => string; higherIsBetter?: boolean; noWorse?: boolean };

function numRow(label: string, a: Num, b: Num): ComparisonRow | undefined {
  if (a.v === undefined && b.v === undefined) return undefined;
  const row: ComparisonRow = { label, a: a.v === undefined ? '—' : a.text(a.v), b: b.v === undefined ? '—' : b.text(b.v) };
  if (a.v !== undefined && b.v !== undefined && a.v !== b.v) {
    row.change = a.v === 0 ? `${b.v > 0 ? '+' : ''}${(b.v - a.v).toFixed(1)}` : `${b.v > a.v ? '+' : ''}${(((b.v - a.v) / Math.abs(a.v)) * 100).toFixed(1)} %`;
    if (!a.noWorse) row.worse = a.higherIsBetter ? b.v < a.v : b.v > a.v;
  }
  return row;
}

/**
 * Two runs side by side: one row per figure either run has. `a` is the older run: changes read
 * as what happened from `a` to `b`.
 */
export function compareRunFacts(a: RunFacts, b: RunFacts): ComparisonRow[] {
  const rows: (ComparisonRow | undefined)[] = [];
  const text = (label: string, x: string | undefined, y: string | undefined) =>
    x === undefined && y === undefined ? undefined : { label, a: x ?? '—', b: y ?? '—' };
  rows.push(text('Outcome', a.status, b.status));
  rows.push(text('Where', a.target, b.target));
  rows.push(text('Commit', a.commit, b.commit));
  rows.push(text('DFC', a.dfc, b.dfc));
  rows.push(text('HailoRT', a.hailort, b.hailort));
  rows.push(text('Steps', a.steps.map((s) => s.step).join(' → '), b.steps.map((s) => s.step).join(' → ')));
  rows.push(numRow('Total time', { v: a.totalMs, text: sec }, { v: b.totalMs, text: sec }));
  const stepNames = [...new Set([...a.steps, ...b.steps].map((s) => s.step))];
  for (const name of stepNames) {
    const sa = a.steps.find((s) => s.step === name);
    const sb = b.steps.find((s) => s.step === name);
    if (sa?.status !== sb?.status || (sa && sa.status !== 'succeeded') || (sb && sb.status !== 'succeeded'))
      rows.push(text(`${name}: outcome`, sa?.status, sb?.status));
    rows.push(numRow(`${name}: time`, { v: sa?.durationMs, text: sec }, { v: sb?.durationMs, text: sec }));
    if (a.kind !== 'device' || b.kind !== 'device') rows.push(numRow(`${name}: peak memory`, { v: sa?.peakRssKB, text: gb }, { v: sb?.peakRssKB, text: gb }));
  }
  rows.push(numRow('Peak memory', { v: a.peakRssKB, text: gb }, { v: b.peakRssKB, text: gb }));
  rows.push(numRow('Contexts', { v: a.contexts, text: String }, { v: b.contexts, text: String }));
  const pct = (x: number) => `${x.toFixed(1)} %`;
  rows.push(numRow('Utilisation: compute', { v: a.utilisation?.compute, text: pct, noWorse: true }, { v: b.utilisation?.compute, text: pct }));
  rows.push(numRow('Utilisation: control', { v: a.utilisation?.control, text: pct, noWorse: true }, { v: b.utilisation?.control, text: pct }));
  rows.push(numRow('Utilisation: memory', { v: a.utilisation?.memory, text: pct, noWorse: true }, { v: b.utilisation?.memory, text: pct }));
  const snrText = (f: RunFacts) => (v: number) => `${v.toFixed(1)} dB${f.snr ? ` (${f.snr.layer})` : ''}`;
  rows.push(numRow('Lowest output SNR', { v: a.snr?.minDb, text: snrText(a), higherIsBetter: true }, { v: b.snr?.minDb, text: snrText(b) }));
  if (a.rewrites || b.rewrites) {
    const stage = (f: RunFacts) => (f.rewrites ? ` (${f.rewrites.stage})` : '');
    rows.push(
      text(
        'Rewrites',
        a.rewrites ? rewritesText(a.rewrites.counts) + stage(a) : undefined,
        b.rewrites ? rewritesText(b.rewrites.counts) + stage(b) : undefined,
      ),
    );
    for (const k of LEDGER_KINDS) {
      if (k === 'kept') continue;
      const x = a.rewrites?.counts[k];
      const y = b.rewrites?.counts[k];
      if ((x ?? 0) !== (y ?? 0))
        rows.push(
          numRow(
            `Rewrites: ${k}`,
            { v: x ?? (a.rewrites ? 0 : undefined), text: String, noWorse: true },
            { v: y ?? (b.rewrites ? 0 : undefined), text: String },
          ),
        );
    }
  }
  rows.push(numRow('FPS (streaming)', { v: a.fps, text: (v) => v.toFixed(1), higherIsBetter: true }, { v: b.fps, text: (v) => v.toFixed(1) }));
  const latText = (f: RunFacts) => (v: number) => `${v.toFixed(2)} ms${f.latencyMs?.kind === 'overall' ? ' (overall)' : ''}`;
  rows.push(numRow('Latency', { v: a.latencyMs?.value, text: latText(a) }, { v: b.latencyMs?.value, text: latText(b) }));
  const fidStages = [...new Set([...(a.fidelity?.stages ?? []), ...(b.fidelity?.stages ?? [])].map((s) => s.stage))];
  for (const st of fidStages) {
    const x = a.fidelity?.stages.find((s) => s.stage === st);
    const y = b.fidelity?.stages.find((s) => s.stage === st);
    const r = numRow(`Fidelity ${st}: SNR`, { v: x?.snrDb ?? undefined, text: dB, higherIsBetter: true }, { v: y?.snrDb ?? undefined, text: dB });
    // an exact stage (null SNR) reads as such, not as missing
    rows.push(
      r
        ? { ...r, a: x?.snrDb === null ? 'exact' : r.a, b: y?.snrDb === null ? 'exact' : r.b }
        : x || y
          ? text(`Fidelity ${st}: SNR`, x ? dB(x.snrDb) : undefined, y ? dB(y.snrDb) : undefined)
          : undefined,
    );
    rows.push(numRow(`Fidelity ${st}: cosine`, { v: x?.cosine, text: (v) => v.toFixed(4), higherIsBetter: true }, { v: y?.cosine, text: (v) => v.toFixed(4) }));
  }
  return rows.filter((r): r is ComparisonRow => !!r);
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The comparison as a Markdown table (opened in the markdown preview). */
export function comparisonMarkdown(a: RunFacts, b: RunFacts, rows: ComparisonRow[] = compareRunFacts(a, b)): string {
  const head = (f: RunFacts) => `${f.model} · ${f.kind} · ${f.createdAt.replace('T', ' ').slice(0, 19)}`;
  const out = [
    `# Compare runs`,
    '',
    `A: \`${a.id}\` (${cell(head(a))})  `,
    `B: \`${b.id}\` (${cell(head(b))})`,
    '',
    '| | A | B | change |',
    '|---|---|---|---|',
  ];
  for (const r of rows) out.push(`| ${cell(r.label)} | ${cell(r.a)} | ${cell(r.b)} | ${r.change ? `${r.worse ? '⚠ ' : ''}${r.change}` : ''} |`);
  out.push('', '⚠: worse in B (slower, more memory or contexts, lower SNR, FPS or cosine).', '');
  return out.join('\n');
}
