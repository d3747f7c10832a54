import { z } from 'zod';
import { ErrorMessage, Ready } from './envelope';

/**
 * The fidelity results panel: the host sends one check of a model (its stages, and per stage pair
 * and output the figures, the per-step and per-channel curves and the damaged ranges), the
 * figures of the previous check where there is one, and the findings (thresholds, drops). The
 * webview draws the table and the curves and asks the host to open the record. Validated with zod
 * on both sides.
 */

const Snr = z.number().nullable();
const Metrics = z.object({ cosine: z.number(), snrDb: Snr, maxAbs: z.number(), meanAbs: z.number() }).strict();
const Curves = z.object({ cosine: z.array(z.number()), snrDb: z.array(Snr), maxAbs: z.array(z.number()), meanAbs: z.array(z.number()) }).strict();

export const FidelityComparisonView = z
  .object({
    stage: z.string(),
    reference: z.string(),
    against: z.enum(['reference', 'previous']),
    output: z.string(),
    shape: z.array(z.number()),
    steps: z.number(),
    channels: z.number(),
    metrics: Metrics,
    perStep: Curves,
    perChannel: Curves.optional(),
    damaged: z.array(z.object({ from: z.number(), to: z.number(), snrDb: z.number() }).strict()),
    /** The same pair's figures in the previous check. */
    before: Metrics.optional(),
  })
  .strict();
export type FidelityComparisonView = z.infer<typeof FidelityComparisonView>;

export const FidelityResultsMessage = z
  .object({
    type: z.literal('fidelity'),
    model: z.string(),
    createdAt: z.string(),
    commit: z.string().optional(),
    samples: z.number(),
    baseline: z.object({ createdAt: z.string(), commit: z.string().optional() }).strict().optional(),
    stages: z.array(
      z
        .object({ stage: z.string(), status: z.string(), message: z.string().optional(), where: z.string().optional(), seconds: z.number().optional() })
        .strict(),
    ),
    comparisons: z.array(FidelityComparisonView),
    findings: z.array(z.object({ code: z.string(), severity: z.string(), stage: z.string().optional(), message: z.string() }).strict()),
  })
  .strict();
export type FidelityResultsMessage = z.infer<typeof FidelityResultsMessage>;

export const HostMessage = z.discriminatedUnion('type', [FidelityResultsMessage, ErrorMessage]);
export type HostMessage = z.infer<typeof HostMessage>;

export const OpenRecord = z.object({ type: z.literal('openRecord') }).strict();
export const Recheck = z.object({ type: z.literal('recheck') }).strict();
export const WebviewMessage = z.discriminatedUnion('type', [Ready, OpenRecord, Recheck]);
export type WebviewMessage = z.infer<typeof WebviewMessage>;
