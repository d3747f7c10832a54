import { z } from 'zod';
import { ErrorMessage, Ready } from './envelope';

/**
 * The device results panel: the host sends the history of one model (every device run, oldest
 * first, with its figures, budget state, real-time factor and regression flag); the webview shows
 * the table and the chart and asks the host to open a run. Validated with zod on both sides.
 */

export const FigureView = z.union([
  z.object({ value: z.number(), unit: z.string(), source: z.string() }).strict(),
  z.object({ notMeasured: z.string() }).strict(),
]);
export type FigureView = z.infer<typeof FigureView>;

export const ResultRow = z
  .object({
    runId: z.string(),
    createdAt: z.string(),
    commit: z.string().optional(),
    device: z.string(),
    architecture: z.string().optional(),
    hailort: z.string().optional(),
    pcie: z.string().optional(),
    status: z.string(),
    partial: z.boolean(),
    refused: z.string().optional(),
    fpsHwOnly: FigureView,
    fpsStreaming: FigureView,
    hwLatencyMs: FigureView,
    overallLatencyMs: FigureView,
    powerAvgW: FigureView,
    /** The latency compared with the budget (HW, else overall). */
    latencyMs: z.number().optional(),
    latencyKind: z.enum(['hw', 'overall']).optional(),
    budget: z.enum(['within', 'over', 'no-budget', 'not-measured']),
    /** Processing time over the audio window (only for audio encoders). */
    rtf: z.number().optional(),
    regression: z
      .object({
        previous: z.string(),
        metric: z.enum(['latency', 'fps']),
        before: z.number(),
        after: z.number(),
        change: z.number(),
        noise: z.number(),
        noiseFrom: z.enum(['repeats', 'history']).optional(),
        regressed: z.boolean(),
      })
      .strict()
      .optional(),
    contexts: z.number().optional(),
    /** Each benchmark repetition's measured figures, when the run repeated the benchmark. */
    repetitions: z
      .array(z.object({ fpsHwOnly: z.number().optional(), fpsStreaming: z.number().optional(), hwLatencyMs: z.number().optional() }).strict())
      .optional(),
  })
  .strict();
export type ResultRow = z.infer<typeof ResultRow>;

export const Estimate = z
  .object({
    source: z.string(),
    /** The compile run whose log gave it. */
    runId: z.string().optional(),
    fps: z.number().optional(),
    latencyMs: z.number().optional(),
    contexts: z.number().optional(),
  })
  .strict();

export const ResultsMessage = z
  .object({
    type: z.literal('results'),
    model: z.string(),
    budgetMs: z.number().optional(),
    windowSeconds: z.number().optional(),
    rows: z.array(ResultRow),
    /** The compiler's own performance estimate, when a compile log of the model gives one. */
    estimate: Estimate.optional(),
    /** Why there is no estimate beside the measurement. */
    estimateMissing: z.string().optional(),
  })
  .strict();
export type ResultsMessage = z.infer<typeof ResultsMessage>;

export const HostMessage = z.discriminatedUnion('type', [ResultsMessage, ErrorMessage]);
export type HostMessage = z.infer<typeof HostMessage>;

export const OpenRun = z.object({ type: z.literal('openRun'), runId: z.string().regex(/^[A-Za-z0-9_.-]+$/) }).strict();
export const Rerun = z.object({ type: z.literal('deploy') }).strict();
export const WebviewMessage = z.discriminatedUnion('type', [Ready, OpenRun, Rerun]);
export type WebviewMessage = z.infer<typeof WebviewMessage>;
