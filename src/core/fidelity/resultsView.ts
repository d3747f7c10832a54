import type { FidelityResultsMessage } from '../protocol/fidelityResults';
import type { FidelityRecord } from './record';

/** The panel's message for a check (and the check before it, for the drop flags). */
export function fidelityResultsMessage(
  record: FidelityRecord,
  findings: readonly { code: string; severity: string; stage?: string; message: string }[],
  baseline?: FidelityRecord,
): FidelityResultsMessage {
  return {
    type: 'fidelity',
    model: record.model,
    createdAt: record.createdAt,
    ...(record.commit ? { commit: record.commit } : {}),
    samples: record.samples.length,
    ...(baseline ? { baseline: { createdAt: baseline.createdAt, ...(baseline.commit ? { commit: baseline.commit } : {}) } } : {}),
    stages: record.stages.map((s) => ({
      stage: s.stage,
      status: s.status,
      ...(s.message ? { message: s.message } : {}),
      ...(s.where ? { where: s.where } : {}),
      ...(s.seconds !== undefined ? { seconds: s.seconds } : {}),
    })),
    comparisons: record.comparisons.map((c) => {
      const b = baseline?.comparisons.find((x) => x.stage === c.stage && x.reference === c.reference && x.against === c.against && x.output === c.output);
      return {
        stage: c.stage,
        reference: c.reference,
        against: c.against,
        output: c.output,
        shape: c.shape,
        steps: c.steps,
        channels: c.channels,
        metrics: c.metrics,
        perStep: c.perStep,
        ...(c.perChannel ? { perChannel: c.perChannel } : {}),
        damaged: c.damaged,
        ...(b ? { before: b.metrics } : {}),
      };
    }),
    findings: findings.map((f) => ({ code: f.code, severity: f.severity, ...(f.stage ? { stage: f.stage } : {}), message: f.message })),
  };
}
