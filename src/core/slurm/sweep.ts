import { createHash } from 'node:crypto';
import { HailoError } from '../errors';
import type { DfcLogSummary } from '../hailo/dfcLog';
import { scanCompilerEstimate } from '../hailo/estimate';
import type { FidelityRecord } from '../fidelity/record';
import { FIDELITY_STAGES, type FidelityStage, type HwArch, type Model, type Sweep } from '../project/schema';
import { rjoin } from '../remote/quote';
import type { SlurmJobSpec } from './script';

/**
 * A sweep's matrix expanded into variants, and the per-variant results as a table.
 *
 * Variant ids are stable: a hash of the variant's values (keys sorted), so adding a value to one
 * axis or reordering the matrix keeps every existing variant's id (and its run folder).
 */

export type SweepScalar = string | number | boolean | null;
export type SweepValue = SweepScalar | SweepScalar[];

export interface SweepVariant {
  /** `v-` + 10 hex digits. */
  id: string;
  /** Position in the expansion (the job array index). */
  index: number;
  /** "width=256 attention=linear mel=1x80x3000 alls=a.alls hw=hailo8l" */
  label: string;
  kwargs: Record<string, SweepValue>;
  /** Input name → shape, only for the inputs the sweep varies. */
  inputShapes: Record<string, number[]>;
  /** Model script path (relative to the project), null for none, undefined when the sweep does not vary it. */
  modelScript?: string | null;
  hwArch?: HwArch;
}

/** Slurm's default MaxArraySize is 1001; larger sweeps are refused before anything runs. */
export const MAX_VARIANTS = 1000;

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function variantId(values: {
  kwargs: Record<string, SweepValue>;
  inputShapes: Record<string, number[]>;
  modelScript?: string | null;
  hwArch?: string;
}): string {
  const key = canonical({ k: values.kwargs, s: values.inputShapes, a: values.modelScript === undefined ? '-' : values.modelScript, h: values.hwArch ?? '-' });
  return `v-${createHash('sha256').update(key).digest('hex').slice(0, 10)}`;
}

function fmtValue(v: SweepValue): string {
  return Array.isArray(v) ? `[${v.map((x) => String(x)).join(',')}]` : String(v);
}

/** Every combination of the matrix's values, in matrix order (first axis slowest). */
export function expandSweep(sweep: Sweep, model: Model): SweepVariant[] {
  const axes: {
    key: string;
    values: unknown[];
    apply: (v: Omit<SweepVariant, 'id' | 'index' | 'label'>, x: unknown) => void;
    label: (x: unknown) => string;
  }[] = [];
  const m = sweep.matrix;
  for (const [k, values] of Object.entries(m.kwargs ?? {})) {
    axes.push({ key: `kwargs.${k}`, values, apply: (v, x) => (v.kwargs[k] = x as SweepValue), label: (x) => `${k}=${fmtValue(x as SweepValue)}` });
  }
  for (const [input, shapes] of Object.entries(m.inputShapes ?? {})) {
    if (!model.inputs.some((i) => i.name === input))
      throw new HailoError('INVALID_ARGUMENT', `sweep "${sweep.name}": model "${model.name}" has no input named "${input}"`);
    axes.push({
      key: `input.${input}`,
      values: shapes,
      apply: (v, x) => (v.inputShapes[input] = x as number[]),
      label: (x) => `${input}=${(x as number[]).join('x')}`,
    });
  }
  if (m.modelScripts)
    axes.push({
      key: 'alls',
      values: m.modelScripts,
      apply: (v, x) => (v.modelScript = x as string | null),
      label: (x) => `alls=${x === null ? 'none' : String(x)}`,
    });
  if (m.hwArch) axes.push({ key: 'hw', values: m.hwArch, apply: (v, x) => (v.hwArch = x as HwArch), label: (x) => `hw=${String(x)}` });
  let count = 1;
  for (const a of axes) {
    if (new Set(a.values.map(canonical)).size !== a.values.length)
      throw new HailoError('INVALID_ARGUMENT', `sweep "${sweep.name}": ${a.key} lists the same value twice`);
    count *= a.values.length;
  }
  if (count > MAX_VARIANTS)
    throw new HailoError(
      'INVALID_ARGUMENT',
      `sweep "${sweep.name}" has ${count} variants; at most ${MAX_VARIANTS} run as one job array. Split it into smaller sweeps.`,
    );
  const out: SweepVariant[] = [];
  const idx = axes.map(() => 0);
  for (let n = 0; n < count; n++) {
    const v: Omit<SweepVariant, 'id' | 'index' | 'label'> = { kwargs: {}, inputShapes: {} };
    const labels: string[] = [];
    axes.forEach((a, i) => {
      a.apply(v, a.values[idx[i]!]);
      labels.push(a.label(a.values[idx[i]!]));
    });
    out.push({ ...v, id: variantId(v), index: n, label: labels.join(' ') || 'base' });
    for (let i = axes.length - 1; i >= 0; i--) {
      idx[i]!++;
      if (idx[i]! < axes[i]!.values.length) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** The model as this variant exports it: input shapes and hw arch replaced, the model script chosen. */
export function variantModel(model: Model, v: SweepVariant): Model {
  return {
    ...model,
    inputs: model.inputs.map((i) => (v.inputShapes[i.name] ? { ...i, shape: [...v.inputShapes[i.name]!] } : i)),
    ...(v.hwArch ? { hwArch: v.hwArch } : {}),
    ...(v.modelScript === undefined ? {} : v.modelScript === null ? { modelScript: undefined } : { modelScript: v.modelScript }),
  };
}

/**
 * The stages a sweep's fidelity check runs for each variant, or undefined when it runs none:
 * `fidelity: true` takes the model's `fidelity.stages`, else torch and onnx (as the command line).
 */
export function sweepFidelityStages(sweep: Sweep, model: Model): FidelityStage[] | undefined {
  const f = sweep.fidelity;
  if (!f) return undefined;
  const list = f === true ? (model.fidelity?.stages ?? ['torch', 'onnx']) : f;
  const out = FIDELITY_STAGES.filter((s) => list.includes(s));
  return out.length ? out : undefined;
}

/**
 * The figure of a variant's fidelity check for the table: the SNR (dB) against the reference
 * (normally torch) of the last stage in pipeline order that was compared with it; with several
 * outputs the lowest. `note` says which stage and output it is, and what failed or was skipped;
 * without a figure it starts with "not measured".
 */
export function fidelityFigure(record: Pick<FidelityRecord, 'stages' | 'comparisons'>): { value?: number; note: string } {
  const order = (s: string) => FIDELITY_STAGES.indexOf(s as FidelityStage);
  const vsRef = record.comparisons.filter((c) => c.against === 'reference');
  const others = (exclude?: string) =>
    record.stages
      .filter((s) => s.status !== 'ok' && s.stage !== exclude)
      .sort((a, b) => order(a.stage) - order(b.stage))
      .map((s) => `${s.stage} ${s.status}${s.message ? `: ${s.message}` : ''}`)
      .join('; ');
  if (!vsRef.length) {
    const ran = record.stages.filter((s) => s.status === 'ok').map((s) => s.stage);
    const rest = others();
    return {
      note: `not measured: ${ran.length ? `only ${ran.join(', ')} ran, nothing to compare with` : 'no stage ran'}${rest ? ` (${rest})` : ''}`.slice(0, 500),
    };
  }
  const last = vsRef.reduce((a, c) => (order(c.stage) > order(a.stage) ? c : a)).stage;
  const mine = vsRef.filter((c) => c.stage === last);
  const finite = mine.filter((c) => c.metrics.snrDb !== null);
  const rest = others();
  const tail = rest ? `; ${rest}` : '';
  if (!finite.length)
    return { note: `not measured: ${last} is exact against ${mine[0]!.reference} (identical outputs have no finite SNR)${tail}`.slice(0, 500) };
  const worst = finite.reduce((a, c) => (c.metrics.snrDb! < a.metrics.snrDb! ? c : a));
  const which = mine.length > 1 ? `output ${worst.output}, the lowest of ${mine.length}` : `output ${worst.output}`;
  return {
    value: worst.metrics.snrDb!,
    note: `SNR (dB) of ${last} against ${worst.reference}, ${which}, cosine ${worst.metrics.cosine.toPrecision(5)}${tail}`.slice(0, 500),
  };
}

// ------------------------------------------------------------------ results

export type StepOutcome = 'succeeded' | 'failed' | 'not-run' | 'running' | 'cancelled';
export const SWEEP_STEPS = ['parse', 'optimize', 'compile'] as const;
export type SweepStep = (typeof SWEEP_STEPS)[number];

/** The columns whose empty cell says why (the cell's tooltip). */
export const NOTE_COLUMNS = ['rewrites', 'estimate', 'latencyMs', 'fidelity'] as const;
export type NoteColumn = (typeof NOTE_COLUMNS)[number];
export type ColumnNotes = Partial<Record<NoteColumn, string>>;

export interface VariantResult {
  variant: SweepVariant;
  lintErrors?: number;
  /** Ledger rewrites by kind (decomposed, fused, removed, ...). */
  rewrites?: Record<string, number>;
  steps: Partial<Record<SweepStep, StepOutcome>>;
  /** The first error of the first failed step (DFC log, or Slurm's verdict). */
  firstError?: string;
  contexts?: number;
  /** The compiler's own performance estimate, where the log gives one. */
  estimate?: { fps?: number; latencyMs?: number };
  /** Measured on the device. */
  latencyMs?: number;
  /** Numeric fidelity: the SNR (dB) against the reference of the last stage that ran (see `fidelityFigure`); higher is better. */
  fidelity?: number;
  slurm?: { jobId: string; state: string; verdict?: string };
  /** Why a column is empty for this variant (shown as the cell's tooltip). */
  notes?: ColumnNotes;
}

/**
 * The compiler's performance estimate of a compiled variant (FPS, latency), from its compile log:
 * the Dataflow Compiler profiler's "Performance Summary" when the log holds one (see
 * `core/hailo/estimate.ts`; `hailo compiler` alone prints none), else why the column is empty.
 * Every sweep (Slurm array element or one-by-one run) calls it once per compiled variant.
 */
export function compilerEstimate(compileLog: string): { estimate?: { fps?: number; latencyMs?: number }; reason?: string } {
  if (!compileLog.trim()) return { reason: 'not available: the compile log of this variant is empty' };
  const scan = scanCompilerEstimate(compileLog);
  if (!scan.estimate) return { reason: `not available: ${scan.missing ?? 'no estimate in the compile log'}` };
  const { fps, latencyMs } = scan.estimate;
  return { estimate: { ...(fps !== undefined ? { fps } : {}), ...(latencyMs !== undefined ? { latencyMs } : {}) } };
}

/** What the DFC log of a variant says: step outcomes, first error, contexts. */
export function resultFromDfcLog(variant: SweepVariant, log: DfcLogSummary, extra: Partial<Omit<VariantResult, 'variant'>> = {}): VariantResult {
  const steps: Partial<Record<SweepStep, StepOutcome>> = {};
  for (const s of log.steps)
    steps[s.step] = s.status === 'succeeded' ? 'succeeded' : s.status === 'failed' ? 'failed' : s.status === 'running' ? 'running' : 'failed';
  const err = log.errors[0];
  return {
    variant,
    ...extra,
    steps: { ...steps, ...extra.steps },
    ...(err && !extra.firstError ? { firstError: `${err.errorClass ? `${err.errorClass}: ` : ''}${err.message}`.slice(0, 500) } : {}),
    ...(log.compile.contexts !== undefined && extra.contexts === undefined ? { contexts: log.compile.contexts } : {}),
  };
}

export function compiled(r: VariantResult): boolean {
  return r.steps.compile === 'succeeded';
}

/** The latency that decides the budget: measured on the device, else the compiler's estimate. */
export function decidingLatency(r: VariantResult): { ms: number; measured: boolean } | undefined {
  if (r.latencyMs !== undefined) return { ms: r.latencyMs, measured: true };
  if (r.estimate?.latencyMs !== undefined) return { ms: r.estimate.latencyMs, measured: false };
  return undefined;
}

/**
 * The best variant that meets the budget: compiled, latency (measured, else estimated) within the
 * budget; among those the highest fidelity when every candidate has one, else the lowest latency;
 * ties by fewer lint errors, then id. Undefined when none meets it.
 */
export function bestVariant(results: readonly VariantResult[], budgetMs: number | undefined): VariantResult | undefined {
  const ok = results.filter((r) => {
    if (!compiled(r)) return false;
    const l = decidingLatency(r);
    return budgetMs === undefined ? l !== undefined : l !== undefined && l.ms <= budgetMs;
  });
  if (!ok.length) return undefined;
  const byFidelity = ok.every((r) => r.fidelity !== undefined);
  return [...ok].sort((a, b) => {
    if (byFidelity && a.fidelity !== b.fidelity) return b.fidelity! - a.fidelity!;
    const d = decidingLatency(a)!.ms - decidingLatency(b)!.ms;
    if (d) return d;
    const le = (a.lintErrors ?? 0) - (b.lintErrors ?? 0);
    if (le) return le;
    return a.variant.id < b.variant.id ? -1 : 1;
  })[0];
}

export interface SweepRow {
  id: string;
  label: string;
  lintErrors: number | '';
  rewrites: string;
  parse: StepOutcome;
  optimize: StepOutcome;
  compile: StepOutcome;
  firstError: string;
  contexts: number | '';
  estimatedFps: number | '';
  estimatedLatencyMs: number | '';
  latencyMs: number | '';
  fidelity: number | '';
  meetsBudget: 'yes' | 'no' | '';
  best: boolean;
  slurmJob: string;
  /** Why a cell is empty (tooltip); not a CSV column. */
  notes: ColumnNotes;
}

export const SWEEP_COLUMNS: { key: Exclude<keyof SweepRow, 'notes'>; title: string }[] = [
  { key: 'id', title: 'Variant' },
  { key: 'label', title: 'Values' },
  { key: 'lintErrors', title: 'Lint errors' },
  { key: 'rewrites', title: 'Rewrites' },
  { key: 'parse', title: 'Parse' },
  { key: 'optimize', title: 'Optimize' },
  { key: 'compile', title: 'Compile' },
  { key: 'firstError', title: 'First error' },
  { key: 'contexts', title: 'Contexts' },
  { key: 'estimatedFps', title: 'Estimated FPS' },
  { key: 'estimatedLatencyMs', title: 'Estimated latency (ms)' },
  { key: 'latencyMs', title: 'Latency (ms)' },
  { key: 'fidelity', title: 'Fidelity' },
  { key: 'meetsBudget', title: 'Meets budget' },
  { key: 'best', title: 'Best' },
  { key: 'slurmJob', title: 'Slurm job' },
];

/** One row per variant, in variant order, with the best variant marked. */
export function sweepRows(results: readonly VariantResult[], budgetMs?: number): SweepRow[] {
  const best = bestVariant(results, budgetMs);
  return [...results]
    .sort((a, b) => a.variant.index - b.variant.index)
    .map((r) => {
      const l = decidingLatency(r);
      return {
        id: r.variant.id,
        label: r.variant.label,
        lintErrors: r.lintErrors ?? '',
        rewrites: Object.entries(r.rewrites ?? {})
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k} ${n}`)
          .join(', '),
        parse: r.steps.parse ?? 'not-run',
        optimize: r.steps.optimize ?? 'not-run',
        compile: r.steps.compile ?? 'not-run',
        firstError: r.firstError ?? '',
        contexts: r.contexts ?? '',
        estimatedFps: r.estimate?.fps ?? '',
        estimatedLatencyMs: r.estimate?.latencyMs ?? '',
        latencyMs: r.latencyMs ?? '',
        fidelity: r.fidelity ?? '',
        meetsBudget: budgetMs === undefined || pending(r) ? '' : !compiled(r) ? 'no' : !l ? '' : l.ms <= budgetMs ? 'yes' : 'no',
        best: best === r,
        slurmJob: r.slurm ? `${r.slurm.jobId} ${r.slurm.state}` : '',
        notes: rowNotes(r),
      };
    });
}

/** A variant that has not ended yet: not compiled, no failed or cancelled step, no error (export or Slurm). */
function pending(r: VariantResult): boolean {
  if (r.steps.compile === 'succeeded' || r.firstError) return false;
  return !SWEEP_STEPS.some((s) => r.steps[s] === 'failed' || r.steps[s] === 'cancelled');
}

/** Why each empty cell of a row is empty: the variant's own note, else what did not run (and what the fidelity figure is). */
function rowNotes(r: VariantResult): ColumnNotes {
  const out: ColumnNotes = {};
  if (pending(r)) {
    const wait = 'pending: the variant has not finished';
    return { ...(r.rewrites ? {} : { rewrites: wait }), estimate: wait, latencyMs: wait, fidelity: wait };
  }
  const notCompiled = r.steps.compile === 'succeeded' ? undefined : `not available: the variant did not compile (compile ${r.steps.compile ?? 'not-run'})`;
  const notParsed = r.steps.parse === 'succeeded' ? undefined : `not available: the variant was not parsed (parse ${r.steps.parse ?? 'not-run'})`;
  if (!r.rewrites) out.rewrites = r.notes?.rewrites ?? notParsed ?? 'not available: no rewrite ledger was made for this variant';
  if (!r.estimate) out.estimate = notCompiled ?? r.notes?.estimate ?? "not available: the compiler's performance estimate was not read for this variant";
  if (r.latencyMs === undefined) out.latencyMs = r.notes?.latencyMs ?? notCompiled ?? 'not measured: the sweep names no device';
  if (r.fidelity === undefined) out.fidelity = r.notes?.fidelity ?? 'not measured: the sweep runs no fidelity check';
  // a measured figure keeps its note as the tooltip: which stage and output, what else failed
  else if (r.notes?.fidelity) out.fidelity = r.notes.fidelity;
  return out;
}

/** Sort rows by a column; empty values last in either direction; numbers inside text compare as numbers. */
export function sortRows(rows: readonly SweepRow[], key: Exclude<keyof SweepRow, 'notes'>, dir: 'asc' | 'desc' = 'asc'): SweepRow[] {
  const sign = dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === '' && y !== '') return 1;
    if (y === '' && x !== '') return -1;
    if (typeof x === 'number' && typeof y === 'number') return (x - y) * sign;
    // "width=8" before "width=24": digits compare as numbers
    return String(x).localeCompare(String(y), 'en', { numeric: true }) * sign;
  });
}

/** RFC 4180 CSV; a cell starting with = + - @ is prefixed with ' so spreadsheets do not run it as a formula. */
export function sweepCsv(rows: readonly SweepRow[]): string {
  const cell = (v: unknown): string => {
    let s = typeof v === 'boolean' ? (v ? 'yes' : '') : String(v ?? '');
    if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [SWEEP_COLUMNS.map((c) => cell(c.title)).join(',')];
  for (const r of rows) lines.push(SWEEP_COLUMNS.map((c) => cell(r[c.key])).join(','));
  return lines.join('\r\n') + '\r\n';
}

// ------------------------------------------------------------------ job array

/** The job array of a sweep: element i runs variant i in `<runDir>/<variant id>/`, its log in `<runDir>/logs/<i>.log`. */
export function sweepArraySpec(opts: {
  sweepName: string;
  runDir: string;
  variants: readonly SweepVariant[];
  /** The DFC commands of one variant (parse, optimize, compile), with paths inside its folder. */
  commands: (v: SweepVariant, dir: string) => string[][];
  limit: number;
  /** Only these variant ids (a re-run of the failed ones); default all. */
  only?: readonly string[];
}): SlurmJobSpec {
  const tasks = opts.variants.map((v) => {
    const dir = rjoin(opts.runDir, v.id);
    return { dir, commands: opts.commands(v, dir) };
  });
  const indices = opts.only ? opts.variants.filter((v) => opts.only!.includes(v.id)).map((v) => v.index) : undefined;
  if (indices && !indices.length) throw new HailoError('INVALID_ARGUMENT', `sweep "${opts.sweepName}": none of the variants ${opts.only!.join(', ')} exists`);
  return {
    name: `hwb-sweep-${opts.sweepName}`.slice(0, 128),
    scriptPath: rjoin(opts.runDir, 'sweep.sbatch.sh'),
    output: rjoin(opts.runDir, 'logs', '%a.log'),
    chdir: opts.runDir,
    tasks,
    arrayLimit: opts.limit,
    ...(indices ? { arrayIndices: indices } : {}),
    // a one-variant sweep is still an array: its element's log and state are found the same way
    ...(tasks.length === 1 && !indices ? { arrayIndices: [0] } : {}),
  };
}

export function variantLogPath(runDir: string, v: SweepVariant): string {
  return rjoin(runDir, 'logs', `${v.index}.log`);
}
