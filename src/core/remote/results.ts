import { isMeasured, notMeasured, type Figure, type FigureName, type HailortFigures, type HefInfo } from '../hailo/hailort';
import type { Model } from '../project/schema';
import type { ResultRow, ResultsMessage } from '../protocol/deviceResults';
import { listRuns, type RunRecord } from './run';

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
 * Compare a result with the previous comparable one (same model, same device, something
 * measured): latency up or FPS down beyond the noise is a regression.
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
    const noise = noiseBand(withLat.map((h) => latencyOf(h)!.value));
    const change = (lat.value - before) / before;
    return { previous: prev.runId, metric: 'latency', before, after: lat.value, change, noise, regressed: change > noise };
  }
  const fps = (r: DeviceResult) =>
    isMeasured(r.figures.fpsStreaming) ? r.figures.fpsStreaming.value : isMeasured(r.figures.fpsHwOnly) ? r.figures.fpsHwOnly.value : undefined;
  const cur = fps(current);
  const withFps = earlier.filter((h) => fps(h) !== undefined);
  if (cur !== undefined && withFps.length) {
    const prev = withFps[withFps.length - 1]!;
    const before = fps(prev)!;
    const noise = noiseBand(withFps.map((h) => fps(h)!));
    const change = (before - cur) / before;
    return { previous: prev.runId, metric: 'fps', before, after: cur, change, noise, regressed: change > noise };
  }
  return undefined;
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
    };
  });
  return {
    type: 'results',
    model: model.name,
    ...(model.latencyBudgetMs ? { budgetMs: model.latencyBudgetMs } : {}),
    ...(windowSeconds ? { windowSeconds } : {}),
    rows,
    estimateMissing:
      'no compile log of this model gives a performance estimate (the Dataflow Compiler prints none on its console; `hailo profiler` writes its estimate into an HTML report)',
  };
}
