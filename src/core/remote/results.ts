import { isMeasured, notMeasured, type Figure, type FigureName, type HailortFigures, type HefInfo } from '../hailo/hailort';
import type { Model } from '../project/schema';
import type { ResultRow, ResultsMessage } from '../protocol/deviceResults';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scanCompilerEstimate, type CompilerEstimate } from '../hailo/estimate';
import { listRuns, runDir, type RunRecord } from './run';

/**
 * Device results: one record per device run (written as `.hailo/runs/<id>/results.json` and
 * derived from run.json, so it survives a reload and can be committed), the history of a model,
 * the latency budget, the real-time factor of an audio encoder and the regression flag.
 */

export const RESULTS_FILE = 'results.json';

export const FIGURES: readonly FigureName[] = ['fpsHwOnly', 'fpsStreaming', 'hwLatencyMs', 'overallLatencyMs', 'powerAvgW', 'powerMaxW'];

export interface DeviceResult {
  runId: string;
  createdAt: string;
  model: string;
  device: string;
  architecture?: string;
  hailort?: string;
  firmware?: string;
  pcie?: string;
  commit?: string;
  hefSha256?: string;
  status: RunRecord['status'];
  /** Every figure from the benchmark, completed by run/run2 where those measured more. */
  figures: Record<FigureName, Figure>;
  /** HEF facts from parse-hef. */
  hef?: { architecture?: string; contexts?: number; inputs: number; outputs: number; nms: boolean };
  /** Why the HEF was refused, when it was. */
  refused?: string;
  /** Figures came from a run that failed part-way. */
  partial: boolean;
  /** Each benchmark repetition's own figures, when the run repeated it (hailo.json `benchmarkRepeats`). */
  repetitions?: RepetitionFigures[];
}

/** The measured figures of one benchmark repetition (absent: not measured in that repetition). */
export interface RepetitionFigures {
  fpsHwOnly?: number;
  fpsStreaming?: number;
  hwLatencyMs?: number;
}

/** The latency that counts against the budget: HW latency, else overall latency. */
export function latencyOf(r: Pick<DeviceResult, 'figures'>): { value: number; kind: 'hw' | 'overall' } | undefined {
  const hw = r.figures.hwLatencyMs;
  if (isMeasured(hw)) return { value: hw.value, kind: 'hw' };
  const ov = r.figures.overallLatencyMs;
  if (isMeasured(ov)) return { value: ov.value, kind: 'overall' };
  return undefined;
}

export function deviceResultOf(run: RunRecord): DeviceResult | undefined {
  if (run.kind !== 'device') return undefined;
  const figureSteps = run.steps.filter((s) => (s.step === 'benchmark' || s.step === 'run' || s.step === 'run2') && s.summary);
  const parseHef = run.steps.find((s) => s.step === 'parse-hef');
  const hef = (parseHef?.summary as { hef?: HefInfo } | undefined)?.hef;
  const refused = (parseHef?.summary as { compatibility?: { refuse?: string } } | undefined)?.compatibility?.refuse;
  const figures = {} as Record<FigureName, Figure>;
  for (const name of FIGURES) {
    let best: Figure | undefined;
    for (const s of figureSteps) {
      const f = (s.summary as HailortFigures)[name];
      if (!f) continue;
      if (!best || (!isMeasured(best) && isMeasured(f))) best = f;
    }
    figures[name] =
      best ??
      notMeasured(
        refused
          ? `the HEF was refused: ${refused}`
          : parseHef?.status === 'failed'
            ? 'parse-hef failed; nothing ran'
            : run.status === 'cancelled'
              ? 'the run was cancelled before this was measured'
              : run.status === 'running' || run.status === 'detached'
                ? 'the run has not finished'
                : 'no step measured it',
      );
  }
  const hefInput = run.inputs.find((i) => i.role === 'hef');
  const bench = run.steps.find((s) => s.step === 'benchmark')?.summary as { repetitions?: HailortFigures[] } | undefined;
  const repetitions = Array.isArray(bench?.repetitions)
    ? bench.repetitions.map((r) => {
        const x: RepetitionFigures = {};
        if (isMeasured(r.fpsHwOnly)) x.fpsHwOnly = r.fpsHwOnly.value;
        if (isMeasured(r.fpsStreaming)) x.fpsStreaming = r.fpsStreaming.value;
        if (isMeasured(r.hwLatencyMs)) x.hwLatencyMs = r.hwLatencyMs.value;
        return x;
      })
    : undefined;
  return {
    runId: run.id,
    createdAt: run.createdAt,
    model: run.model,
    device: run.device?.name ?? run.target.name,
    ...(run.device?.architecture ? { architecture: run.device.architecture } : {}),
    ...(run.device?.hailort ? { hailort: run.device.hailort } : {}),
    ...(run.device?.firmware ? { firmware: run.device.firmware } : {}),
    ...(run.device?.pcie ? { pcie: run.device.pcie } : {}),
    ...(run.commit ? { commit: run.commit } : {}),
    ...(hefInput ? { hefSha256: hefInput.sha256 } : {}),
    status: run.status,
    figures,
    ...(hef
      ? {
          hef: {
            ...(hef.architecture ? { architecture: hef.architecture } : {}),
            ...(hef.contexts !== undefined ? { contexts: hef.contexts } : {}),
            inputs: hef.inputs,
            outputs: hef.outputs,
            nms: hef.nms,
          },
        }
      : {}),
    ...(refused ? { refused } : {}),
    partial: run.status !== 'succeeded' && FIGURES.some((n) => isMeasured(figures[n])),
    ...(repetitions && repetitions.length > 1 ? { repetitions } : {}),
  };
}

/** Device results of a model (every model when omitted), oldest first. */
export function deviceHistory(runsDir: string, model?: string): DeviceResult[] {
  return listRuns(runsDir)
    .flatMap((r) => (r.run && r.run.kind === 'device' && (!model || r.run.model === model) ? [r.run] : []))
    .map((r) => deviceResultOf(r)!)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export interface Regression {
  /** The run compared against. */
  previous: string;
  metric: 'latency' | 'fps';
  before: number;
  after: number;
  /** Relative change, positive = worse. */
  change: number;
  /** Relative noise band used. */
  noise: number;
  /** Where the noise band comes from: the repetitions within the two runs, or the spread of earlier runs. */
  noiseFrom: 'repeats' | 'history';
  regressed: boolean;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Noise of repeated measurements: the relative median absolute deviation of earlier comparable
 * runs (x3), never below `floor` (2 %: what repeated hailortcli benchmarks of one HEF differ by).
 */
export function noiseBand(values: number[], floor = 0.02): number {
  if (values.length < 3) return Math.max(floor, 0.05);
  const med = median(values);
  const mad = median(values.map((v) => Math.abs(v - med)));
  return Math.max(floor, med > 0 ? (3 * mad) / med : floor);
}

/**
 * Relative spread of one run's repetitions: (max − min) / median. Undefined below two values.
 * With 3 repetitions the range is what the repeats show; a change within it is not a regression.
 */
export function repetitionSpread(values: number[]): number | undefined {
  if (values.length < 2) return undefined;
  const med = median(values);
  return med > 0 ? (Math.max(...values) - Math.min(...values)) / med : undefined;
}

/**
 * The noise band from the repetitions within two runs: the larger relative spread of the two,
 * never below `floor` (1 %). Undefined when either run has fewer than two repetitions.
 */
export function withinRunNoise(current: number[], previous: number[], floor = 0.01): number | undefined {
  const a = repetitionSpread(current);
  const b = repetitionSpread(previous);
  if (a === undefined || b === undefined) return undefined;
  return Math.max(floor, a, b);
}

const repValues = (r: DeviceResult, key: keyof RepetitionFigures) => (r.repetitions ?? []).flatMap((x) => (x[key] !== undefined ? [x[key]!] : []));

/**
 * Compare a result with the previous comparable one (same model, same device, something
 * measured): latency up or FPS down beyond the noise is a regression. The noise is what the
 * benchmark repetitions of the two runs show; where a run has one repetition, the spread of the
 * earlier runs.
 */
export function regressionOf(history: readonly DeviceResult[], current: DeviceResult): Regression | undefined {
  const earlier = history.filter(
    (h) => h.runId !== current.runId && h.createdAt < current.createdAt && h.model === current.model && h.device === current.device,
  );
  const lat = latencyOf(current);
  const withLat = earlier.filter((h) => latencyOf(h)?.kind === lat?.kind && latencyOf(h));
  if (lat && withLat.length) {
    const prev = withLat[withLat.length - 1]!;
    const before = latencyOf(prev)!.value;
    const within = lat.kind === 'hw' ? withinRunNoise(repValues(current, 'hwLatencyMs'), repValues(prev, 'hwLatencyMs')) : undefined;
    const noise = within ?? noiseBand(withLat.map((h) => latencyOf(h)!.value));
    const change = (lat.value - before) / before;
    return {
      previous: prev.runId,
      metric: 'latency',
      before,
      after: lat.value,
      change,
      noise,
      noiseFrom: within !== undefined ? 'repeats' : 'history',
      regressed: change > noise,
    };
  }
  const fpsKey = (r: DeviceResult): 'fpsStreaming' | 'fpsHwOnly' | undefined =>
    isMeasured(r.figures.fpsStreaming) ? 'fpsStreaming' : isMeasured(r.figures.fpsHwOnly) ? 'fpsHwOnly' : undefined;
  const fps = (r: DeviceResult) => {
    const k = fpsKey(r);
    return k ? (r.figures[k] as { value: number }).value : undefined;
  };
  const cur = fps(current);
  const withFps = earlier.filter((h) => fps(h) !== undefined);
  if (cur !== undefined && withFps.length) {
    const prev = withFps[withFps.length - 1]!;
    const before = fps(prev)!;
    const key = fpsKey(current)!;
    const within = fpsKey(prev) === key ? withinRunNoise(repValues(current, key), repValues(prev, key)) : undefined;
    const noise = within ?? noiseBand(withFps.map((h) => fps(h)!));
    const change = (before - cur) / before;
    return {
      previous: prev.runId,
      metric: 'fps',
      before,
      after: cur,
      change,
      noise,
      noiseFrom: within !== undefined ? 'repeats' : 'history',
      regressed: change > noise,
    };
  }
  return undefined;
}

// ---------------------------------------------------------------- the compiler's estimate

/** How many of a model's newest compile runs are searched for the profiler's estimate. */
export const ESTIMATE_RUNS = 3;

/**
 * The compiler's performance estimate for a model: among its `ESTIMATE_RUNS` newest compile runs,
 * the newest whose folder holds a log with the profiler's "Performance Summary" (a step log,
 * `hailo_sdk.client.log`, or a `profile*.log`/`.txt` saved there); older runs compiled another
 * HEF than the one measured and are not searched. When none has one: why, naming the newest run.
 */
export function compileEstimate(runsDir: string, model: string): { estimate?: CompilerEstimate & { runId: string }; missing: string } {
  const compiles = listRuns(runsDir)
    .flatMap((r) => (r.run && (r.run.kind ?? 'compile') === 'compile' && r.run.model === model ? [r.run] : []))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  if (!compiles.length) return { missing: `no compile run of ${model} in .hailo/runs` };
  const why: string[] = [];
  for (const run of compiles.slice(0, ESTIMATE_RUNS)) {
    let dir: string;
    try {
      dir = runDir(runsDir, run.id);
    } catch {
      continue;
    }
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir).filter((n) => /\.log$|^profile.*\.txt$/.test(n));
    } catch {
      continue;
    }
    // the step logs in pipeline order, then anything else
    const order = (n: string) => ['parse.log', 'optimize.log', 'compile.log'].indexOf(n);
    names.sort((a, b) => (order(a) < 0 ? 99 : order(a)) - (order(b) < 0 ? 99 : order(b)) || a.localeCompare(b));
    let last: CompilerEstimate | undefined;
    for (const n of names) {
      let text: string;
      try {
        const st = fs.statSync(path.join(dir, n));
        if (st.size > 64 * 1024 * 1024) continue;
        text = fs.readFileSync(path.join(dir, n), 'utf8');
      } catch {
        continue;
      }
      const scan = scanCompilerEstimate(text);
      if (scan.estimate) last = { ...scan.estimate, source: `${scan.estimate.source}, ${n}` };
      else if (scan.missing && !scan.missing.startsWith('no "Performance Summary"')) why.push(`${run.id}/${n}: ${scan.missing}`);
    }
    if (last) return { estimate: { ...last, runId: run.id }, missing: '' };
  }
  const newest = compiles[0]!;
  return {
    missing:
      why[0] ??
      `no estimate in the compile logs of ${model} (newest: run ${newest.id}). The Dataflow Compiler prints its estimate only as the "Performance Summary" of \`hailo profiler\` / \`hailomz profile\`, not while compiling; run the profiler on the compiled HAR and save its console output as profile.log in the run folder`,
  };
}

/**
 * Seconds of audio one inference covers: `audioWindowSeconds` from hailo.json, else a mel
 * spectrogram input `[1, 80|128, N]` at Whisper's 10 ms hop (3000 frames = 30 s).
 */
export function audioWindowSeconds(model: Pick<Model, 'audioWindowSeconds' | 'inputs'>): number | undefined {
  if (model.audioWindowSeconds) return model.audioWindowSeconds;
  const s = model.inputs[0]?.shape;
  if (s && s.length === 3 && s[0] === 1 && (s[1] === 80 || s[1] === 128) && s[2]! >= 100) return s[2]! * 0.01;
  return undefined;
}

/** Real-time factor: processing time over the audio it covers (< 1 is faster than real time). */
export function realTimeFactor(latencyMs: number, windowSeconds: number): number {
  return latencyMs / 1000 / windowSeconds;
}

export type BudgetState = 'within' | 'over' | 'no-budget' | 'not-measured';

export function budgetState(latencyMs: number | undefined, budgetMs: number | undefined): BudgetState {
  if (budgetMs === undefined) return 'no-budget';
  if (latencyMs === undefined) return 'not-measured';
  return latencyMs <= budgetMs ? 'within' : 'over';
}

/** The results panel's data for one model: every device run with its derived values. */
export function resultsView(runsDir: string, model: Pick<Model, 'name' | 'inputs' | 'audioWindowSeconds' | 'latencyBudgetMs'>): ResultsMessage {
  const history = deviceHistory(runsDir, model.name);
  const windowSeconds = audioWindowSeconds(model);
  const rows: ResultRow[] = history.map((r) => {
    const lat = latencyOf(r);
    const reg = regressionOf(history, r);
    return {
      runId: r.runId,
      createdAt: r.createdAt,
      ...(r.commit ? { commit: r.commit } : {}),
      device: r.device,
      ...(r.architecture ? { architecture: r.architecture } : {}),
      ...(r.hailort ? { hailort: r.hailort } : {}),
      ...(r.pcie ? { pcie: r.pcie } : {}),
      status: r.status,
      partial: r.partial,
      ...(r.refused ? { refused: r.refused } : {}),
      fpsHwOnly: r.figures.fpsHwOnly,
      fpsStreaming: r.figures.fpsStreaming,
      hwLatencyMs: r.figures.hwLatencyMs,
      overallLatencyMs: r.figures.overallLatencyMs,
      powerAvgW: r.figures.powerAvgW,
      ...(lat ? { latencyMs: lat.value, latencyKind: lat.kind } : {}),
      budget: budgetState(lat?.value, model.latencyBudgetMs),
      ...(lat && windowSeconds ? { rtf: realTimeFactor(lat.value, windowSeconds) } : {}),
      ...(reg ? { regression: reg } : {}),
      ...(r.hef?.contexts !== undefined ? { contexts: r.hef.contexts } : {}),
      ...(r.repetitions ? { repetitions: r.repetitions } : {}),
    };
  });
  const est = compileEstimate(runsDir, model.name);
  return {
    type: 'results',
    model: model.name,
    ...(model.latencyBudgetMs ? { budgetMs: model.latencyBudgetMs } : {}),
    ...(windowSeconds ? { windowSeconds } : {}),
    rows,
    ...(est.estimate
      ? {
          estimate: {
            source: est.estimate.source,
            runId: est.estimate.runId,
            ...(est.estimate.fps !== undefined ? { fps: est.estimate.fps } : {}),
            ...(est.estimate.latencyMs !== undefined ? { latencyMs: est.estimate.latencyMs } : {}),
            ...(est.estimate.contexts !== undefined ? { contexts: est.estimate.contexts } : {}),
          },
        }
      : { estimateMissing: est.missing }),
  };
}
