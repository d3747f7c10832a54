/**
 * `hailo-workbench fidelity`: bad arguments exit 2 before anything runs; on a copy of the example
 * project with generated inputs, the check passes (exit 0), a limit it cannot meet exits 1 with an
 * error finding, JSON output carries the figures, and a later result is compared with the earlier.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/args';
import { writeNpy } from '../../src/core/fidelity/npy';
import { readFidelityRecord } from '../../src/core/fidelity/record';
import { listRuns } from '../../src/core/remote/run';

const ROOT = path.resolve(__dirname, '..', '..');
const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';

function io(cwd: string, env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const x: CliIO = { out: (s) => out.push(s), err: (s) => err.push(s), cwd, env };
  return { io: x, out, err };
}

function project(dir: string, fidelity: unknown): void {
  fs.writeFileSync(
    path.join(dir, 'hailo.json'),
    JSON.stringify({
      version: 1,
      models: [
        {
          name: 'enc',
          entry: 'tiny_whisper.encoder:build',
          inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
          outputs: [{ name: 'features', shape: [1, 1500, 64] }],
          onnx: 'build/encoder.onnx',
          fidelity,
        },
      ],
    }),
  );
}

describe('cli: fidelity arguments', () => {
  it('exits 2 on bad arguments and a missing project, before running anything', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-fidcli-'));
    try {
      for (const [argv, re] of [
        [['fidelity', '--stages', 'torch,emulator'], /"emulator" is not a stage \(torch, onnx, fp-optimized, quantized, device\)/],
        [['fidelity', '--stages', ','], /at least one stage/],
        [['fidelity', '--format', 'xml'], /--format must be one of text, json/],
        [['fidelity', 'extra'], /unexpected argument "extra"/],
        [['fidelity'], /hailo\.json: no such file/],
      ] as [string[], RegExp][]) {
        const t = io(dir);
        assert.equal(await main(argv, t.io), 2, argv.join(' '));
        assert.match(t.err.join('\n'), re);
      }
      project(dir, undefined);
      const t = io(dir, { HAILO_PYTHON: PY });
      assert.equal(await main(['fidelity', '--model', 'nope'], t.io), 2);
      assert.match(t.err.join('\n'), /nope/);
      const u = io(dir, { HAILO_PYTHON: PY });
      assert.equal(await main(['fidelity', '--model', 'enc'], u.io), 2);
      assert.match(u.err.join('\n'), /has no fidelity inputs: set fidelity\.inputs/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cli: fidelity on the example encoder', function () {
  this.timeout(180_000);
  let dir: string;
  before(async function () {
    const r = spawnSync(PY, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.log(`      skipped: ${PY} has no torch/numpy`);
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-fidcli-'));
    fs.cpSync(path.join(ROOT, 'examples', 'whisper-tiny', 'tiny_whisper'), path.join(dir, 'tiny_whisper'), { recursive: true });
    fs.cpSync(path.join(ROOT, 'examples', 'whisper-tiny', 'build'), path.join(dir, 'build'), { recursive: true });
    let s = 9;
    const data = Float32Array.from({ length: 80 * 3000 }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 31 - 1;
    });
    await writeNpy(path.join(dir, 'inputs', 'one.npy'), { dtype: 'float32', shape: [1, 80, 3000], data });
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  it('passes within the limits (exit 0), fails a limit it cannot meet (exit 1), compares with the earlier result', async () => {
    project(dir, { inputs: 'inputs', thresholds: { minCosine: 0.9999, minSnrDb: 60 } });
    const ok = io(dir, { HAILO_PYTHON: PY });
    assert.equal(await main(['fidelity', '--model', 'enc'], ok.io), 0, ok.err.join('\n'));
    const text = ok.out.join('\n');
    assert.match(text, /^enc: 1 sample\(s\), outputs features$/m);
    assert.match(text, /^ {2}torch: reference, 1 sample\(s\)$/m);
    assert.match(text, /^ {2}onnx: cos 1\.0000, SNR \d+\.\d dB, max \|e\| /m);
    const file = /^results: (.+)$/m.exec(text)![1]!;
    // kept with the check's run: .hailo/runs/<id>/ with its plan, inputs and every stage's outputs
    assert.equal(path.dirname(path.dirname(file)), path.join(dir, '.hailo', 'runs'));
    assert.ok(fs.existsSync(path.join(path.dirname(file), 'onnx', 'one', 'features.npy')));
    assert.ok(fs.existsSync(path.join(path.dirname(file), 'torch', 'one', 'features.npy')));
    assert.ok(fs.existsSync(path.join(path.dirname(file), 'check.json')));
    assert.ok(!fs.existsSync(path.join(dir, '.hailo', 'fidelity')));
    // a check of host stages only is not a run of the Runs view (no run.json), nor a broken one
    assert.deepEqual(listRuns(path.join(dir, '.hailo', 'runs')), []);
    // a result of an earlier version in .hailo/fidelity/ is still read as the baseline
    const legacy = path.join(dir, '.hailo', 'fidelity', '20200101-000000-enc');
    fs.mkdirSync(path.dirname(legacy), { recursive: true });
    fs.renameSync(path.dirname(file), legacy);

    // a limit no float computation meets: exit 1, an error finding; JSON output
    project(dir, { inputs: 'inputs', thresholds: { minSnrDb: 300 } });
    const bad = io(dir, { HAILO_PYTHON: PY });
    const out = path.join(dir, 'strict');
    assert.equal(await main(['fidelity', '--model', 'enc', '--format', 'json', '--out', 'strict', '--stages', 'torch,onnx'], bad.io), 1, bad.err.join('\n'));
    const j = JSON.parse(bad.out.join('\n')) as {
      ok: boolean;
      file: string;
      baseline: unknown;
      findings: { code: string; severity: string }[];
      comparisons: { metrics: { snrDb: number } }[];
    };
    assert.equal(j.ok, false);
    assert.equal(j.file, path.join(out, 'fidelity.json'));
    assert.ok(j.baseline, 'compared with the first result, read from .hailo/fidelity/');
    assert.equal((j.baseline as { createdAt: string }).createdAt, readFidelityRecord(path.join(legacy, 'fidelity.json')).createdAt);
    assert.deepEqual(
      j.findings.map((f) => [f.code, f.severity]),
      [['FID002', 'error']],
    );
    assert.ok(j.comparisons[0]!.metrics.snrDb > 60);

    // only the torch stage: nothing to compare, nothing fails
    const torchOnly = io(dir, { HAILO_PYTHON: PY });
    assert.equal(await main(['fidelity', '--model', 'enc', '--stages', 'torch', '--out', 'torch-only'], torchOnly.io), 0, torchOnly.err.join('\n'));
    assert.doesNotMatch(torchOnly.out.join('\n'), /onnx/);
  });
});
