import { z } from 'zod';
import { ErrorMessage, Ready } from './envelope';

/**
 * The sweep results panel: the host sends one sweep's table (one row per variant, the best variant
 * that meets the budget marked); the webview sorts it, asks for a CSV export or a variant's log.
 * Validated with zod on both sides.
 */
const Outcome = z.enum(['succeeded', 'failed', 'not-run', 'running', 'cancelled']);
const Num = z.union([z.number(), z.literal('')]);

export const SweepRowView = z
  .object({
    id: z.string(),
    label: z.string(),
    lintErrors: Num,
    rewrites: z.string(),
    parse: Outcome,
    optimize: Outcome,
    compile: Outcome,
    firstError: z.string(),
    contexts: Num,
    estimatedFps: Num,
    estimatedLatencyMs: Num,
    latencyMs: Num,
    fidelity: Num,
    meetsBudget: z.enum(['yes', 'no', '']),
    best: z.boolean(),
    slurmJob: z.string(),
    /** Why an empty cell is empty (its tooltip). */
    notes: z
      .object({ rewrites: z.string().optional(), estimate: z.string().optional(), latencyMs: z.string().optional(), fidelity: z.string().optional() })
      .strict(),
  })
  .strict();
export type SweepRowView = z.infer<typeof SweepRowView>;

export const SweepMessage = z
  .object({
    type: z.literal('sweep'),
    id: z.string(),
    name: z.string(),
    model: z.string(),
    target: z.string(),
    status: z.string(),
    jobId: z.string().optional(),
    budgetMs: z.number().optional(),
    columns: z.array(z.object({ key: SweepRowView.keyof().exclude(['notes']), title: z.string() }).strict()),
    rows: z.array(SweepRowView),
  })
  .strict();
export type SweepMessage = z.infer<typeof SweepMessage>;

export const HostMessage = z.discriminatedUnion('type', [SweepMessage, ErrorMessage]);
export type HostMessage = z.infer<typeof HostMessage>;

export const ExportCsv = z.object({ type: z.literal('exportCsv') }).strict();
export const OpenVariantLog = z.object({ type: z.literal('openLog'), variantId: z.string().regex(/^v-[0-9a-f]{10}$/) }).strict();
export const WebviewMessage = z.discriminatedUnion('type', [Ready, ExportCsv, OpenVariantLog]);
export type WebviewMessage = z.infer<typeof WebviewMessage>;
