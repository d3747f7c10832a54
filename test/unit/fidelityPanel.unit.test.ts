/**
 * The results panel's message (built from a fidelity record, validated by the protocol both sides
 * use) and the rewrite links of the first diverging stage.
 */
import { strict as assert } from 'node:assert';
import { HostMessage, WebviewMessage } from '../../src/core/protocol/fidelityResults';
import { fidelityResultsMessage } from '../../src/core/fidelity/resultsView';
import { firstDivergingStage, linkRewrites } from '../../src/core/fidelity/rewriteLinks';
import type { FidelityFinding } from '../../src/core/fidelity/findings';
import type { FidelityRecord } from '../../src/core/fidelity/record';
import type { LedgerEntry } from '../../src/core/analysis/ledger';

const curves = (n: number, snr: (i: number) => number | null) => ({
  cosine: Array.from({ length: n }, () => 1),
  snrDb: Array.from({ length: n }, (_, i) => snr(i)),
  maxAbs: Array.from({ length: n }, () => 0.1),
  meanAbs: Array.from({ length: n }, () => 0.01),
});
const cmp = (stage: 'quantized' | 'device', snrDb: number, damaged: { from: number; to: number; snrDb: number }[] = []) => ({
  reference: 'torch' as const,
  stage,
  against: 'reference' as const,
  output: 'features',
  shape: [1, 1500, 16],
  timeAxis: 1,
  steps: 1500,
  channels: 16,
  metrics: { cosine: 0.999, snrDb, maxAbs: 0.2, meanAbs: 0.01 },
  perSample: [],
  perStep: curves(1500, (i) => (damaged.length && i >= 1400 ? 0 : snrDb)),
  perChannel: curves(16, () => snrDb),
  damaged,
  transposed: false,
});
const record = (q: number, d: number): FidelityRecord =>
  ({
    version: 1,
    model: 'enc',
    createdAt: '2026-12-06T10:00:00.000Z',
    commit: 'a'.repeat(40),
    samples: [{ id: 'a', source: 'inputs/a.npy' }],
    outputs: ['features'],
    stages: [
      { stage: 'torch', status: 'ok' },
      { stage: 'quantized', status: 'ok', where: 'box' },
      { stage: 'device', status: 'ok', where: 'pi5' },
    ],
    comparisons: [cmp('quantized', q), cmp('device', d, [{ from: 1400, to: 1499, snrDb: 0 }])],
  }) as unknown as FidelityRecord;

describe('fidelity: results panel message and rewrite links', () => {
  it('the message carries every pair with its curves and the previous figures, and passes the protocol', () => {
    const now = record(40, 20);
    const before = { ...record(41, 30), createdAt: '2026-12-05T10:00:00.000Z' } as FidelityRecord;
    const m = fidelityResultsMessage(
      now,
      [{ code: 'FID006', severity: 'warning', stage: 'device', message: 'SNR dropped', nodes: [] } as FidelityFinding],
      before,
    );
    const parsed = HostMessage.parse(m);
    assert.equal(parsed.type, 'fidelity');
    if (parsed.type !== 'fidelity') return;
    assert.equal(parsed.comparisons.length, 2);
    assert.equal(parsed.comparisons[1]!.perStep.snrDb.length, 1500);
    assert.equal(parsed.comparisons[1]!.perChannel!.snrDb.length, 16);
    assert.equal(parsed.comparisons[1]!.before!.snrDb, 30);
    assert.deepEqual(parsed.comparisons[1]!.damaged, [{ from: 1400, to: 1499, snrDb: 0 }]);
    assert.equal(parsed.baseline!.commit, 'a'.repeat(40));
    assert.deepEqual(parsed.findings, [{ code: 'FID006', severity: 'warning', stage: 'device', message: 'SNR dropped' }]);
    // what the webview may send is only what it is allowed to
    assert.ok(WebviewMessage.safeParse({ type: 'recheck' }).success);
    assert.ok(!WebviewMessage.safeParse({ type: 'openRecord', file: '/etc/passwd' }).success);
    assert.ok(!HostMessage.safeParse({ ...m, comparisons: [{ stage: 'x' }] }).success);
  });

  it('links the findings of the first diverging stage to the PyTorch lines of the rewrites the ledger ties to it', async () => {
    const findings: FidelityFinding[] = [
      { code: 'FID002', severity: 'error', stage: 'device', message: 'device SNR 20 dB', nodes: [] },
      { code: 'FID002', severity: 'error', stage: 'quantized', message: 'quantized SNR 25 dB', nodes: [] },
      { code: 'FID006', severity: 'warning', stage: 'quantized', message: 'drop', nodes: [] },
    ];
    assert.equal(firstDivergingStage(findings), 'quantized');
    const entry = (kind: LedgerEntry['kind'], line?: number) =>
      ({
        kind,
        note: `${kind} the LayerNorm`,
        onnxNodes: ['/ln/ReduceMean'],
        ...(line ? { source: { file: '/p/model.py', line } } : {}),
      }) as unknown as LedgerEntry;
    let asked: string | undefined;
    const r = await linkRewrites(
      findings,
      { onnx: '/p/enc.onnx', har: '/p/enc.har', quantizedHar: '/p/enc_optimized.har' },
      {
        exists: () => true,
        runLedger: async (i) => {
          asked = i.hailoFile;
          return { ledger: { entries: [entry('kept', 3), entry('decomposed', 12), entry('fused', 12), entry('removed'), entry('layout', 40)] } } as never;
        },
      },
    );
    assert.equal(asked, '/p/enc_optimized.har');
    assert.deepEqual(r, { stage: 'quantized', links: 2 });
    assert.deepEqual(
      findings[1]!.related!.map((x) => `${x.file}:${x.line}`),
      ['/p/model.py:12', '/p/model.py:40'],
    );
    assert.equal(findings[0]!.related, undefined);
    assert.equal(findings[2]!.related, undefined);
    const none = await linkRewrites(
      [{ code: 'FID001', severity: 'error', stage: 'onnx', message: 'x', nodes: [] }],
      { onnx: 'a', har: 'b' },
      { exists: () => true },
    );
    assert.match(none.reason!, /runs before the Dataflow Compiler/);
  });
});
