import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ledgerInputsFromRun, runLedger } from '../../src/core/analysis/ledgerRun';
import { summarize } from '../../src/core/summary/summarize';
import { writeRun, type RunRecord } from '../../src/core/remote/run';
import { isHailoError } from '../../src/core/errors';
import { generatedOnnx } from '../fixtures/hailo/gen';

const FIX = path.resolve(__dirname, '..', 'fixtures', 'hailo');

describe('ledger runs and summaries', () => {
  let dir: string;
  let onnx: string;
  before(async function () {
    this.timeout(60000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-run-'));
    onnx = (await generatedOnnx({ size: 'toy', opset: 17, frames: 200 })).file;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function run(id: string, steps: RunRecord['steps'], withOnnx = true): string {
    const r: RunRecord = {
      version: 1,
      id,
      model: 'enc',
      netName: 'enc',
      hwArch: 'hailo8l',
      target: { name: 'box', host: 'box', workDir: '/w' },
      remoteDir: `/w/runs/${id}`,
      createdAt: '2026-01-01T00:00:00Z',
      status: 'succeeded',
      steps,
      inputs: withOnnx ? [{ role: 'onnx', local: onnx, dest: 'inputs/encoder.onnx', sha256: '0'.repeat(64), size: 1, sent: true }] : [],
      bytesSent: 0,
      toolVersions: {},
    };
    writeRun(dir, r);
    return path.join(dir, id);
  }
  const step = (
    s: 'parse' | 'optimize' | 'compile',
    artifacts: { kind: 'har' | 'quantized-har' | 'compiled-har' | 'hef' | 'log'; local: string }[],
  ): RunRecord['steps'][number] => ({
    step: s,
    status: 'succeeded',
    command: ['hailo'],
    logOffset: 0,
    log: `${s}.log`,
    artifacts: artifacts.map((a) => ({ ...a, remote: `/w/${a.local}` })),
  });

  it('finds the HAR, logs and ONNX of a run folder after a step, and the ledger runs on them', async () => {
    const rd = run('20260101-000000-enc-aaaaaa', [
      step('parse', [{ kind: 'har', local: 'enc.har' }]),
      step('optimize', [{ kind: 'quantized-har', local: 'enc_optimized.har' }]),
    ]);
    fs.copyFileSync(path.join(FIX, 'gen-whisper-toy-op17.har'), path.join(rd, 'enc.har'));
    fs.copyFileSync(path.join(FIX, 'gen-whisper-toy-op17.parse.log'), path.join(rd, 'parse.log'));
    const after = await ledgerInputsFromRun(rd, 'parse');
    assert.ok(!('reason' in after), JSON.stringify(after));
    assert.deepEqual(after.inputs, { onnxFile: onnx, hailoFile: path.join(rd, 'enc.har'), stage: 'parse', parseLogFile: path.join(rd, 'parse.log') });
    const r = await runLedger(after.inputs);
    assert.equal(r.ledger.stage, 'parse');
    assert.equal(r.ledger.counts.unmatched, 0);
    assert.ok(r.findings.some((f) => f.code === 'RW001'));
    // the optimized HAR was never downloaded: the step has nothing newer to compare
    const opt = await ledgerInputsFromRun(rd, 'optimize');
    assert.ok(!('reason' in opt) && opt.inputs.hailoFile.endsWith('enc.har'));
    assert.equal(opt.inputs.stage, 'parse', 'the stage of the HAR actually compared');
  });

  it('says why when a run has nothing to compare', async () => {
    const rd = run('20260101-000001-enc-bbbbbb', [step('parse', [{ kind: 'har', local: 'missing.har' }])]);
    const r = await ledgerInputsFromRun(rd, 'parse');
    assert.ok('reason' in r && /no HAR on disk/.test(r.reason));
    const rd2 = run('20260101-000002-enc-cccccc', [step('parse', [{ kind: 'har', local: 'enc.har' }])], false);
    fs.copyFileSync(path.join(FIX, 'gen-whisper-toy-op17.har'), path.join(rd2, 'enc.har'));
    const r2 = await ledgerInputsFromRun(rd2, 'parse');
    assert.ok('reason' in r2 && /ONNX model it was made from/.test(r2.reason));
    const r3 = await ledgerInputsFromRun(rd2, 'parse', onnx);
    assert.ok(!('reason' in r3));
  });

  it('a corrupt source map is a warning, not a failure', async () => {
    const copy = path.join(dir, 'enc.onnx');
    fs.copyFileSync(onnx, copy);
    fs.writeFileSync(`${copy}.sourcemap.json`, '{ not json');
    const r = await runLedger({ onnxFile: copy, hailoFile: path.join(FIX, 'gen-whisper-toy-op17.hn') });
    assert.ok(r.warnings.some((w) => /source map ignored/.test(w)));
  });

  it('model editor summary of a HAR and of an HN', async () => {
    const har = await summarize(path.join(FIX, 'toy-op17-compiled.har'));
    assert.equal(har.summary.kind, 'har');
    const facts = Object.fromEntries(har.summary.facts.map((f) => [f.key, f.value]));
    assert.match(facts.State!, /^compiled/);
    assert.match(facts['SDK version']!, /^3\.33\.0/);
    assert.match(facts.Weights!, /not loaded/);
    assert.deepEqual(har.summary.inputs[0]!.shape, [-1, 1, 200, 80]);
    assert.equal(har.summary.ops[0]!.op, 'conv');
    const hn = await summarize(path.join(FIX, 'toy-op13.hn'));
    assert.equal(hn.summary.kind, 'hn');
    assert.equal(hn.findings.length, 0);
  });

  it('model editor summary of a broken HAR is the typed error', async () => {
    const bad = path.join(dir, 'bad.har');
    fs.writeFileSync(bad, Buffer.alloc(2048, 1));
    await assert.rejects(summarize(bad), (e: unknown) => isHailoError(e, 'HAR_INVALID'));
  });
});
