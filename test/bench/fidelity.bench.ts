/**
 * Fidelity check, host stages: for the example encoder (Whisper-style, 2 blocks, width 64) and a
 * Whisper-small-sized one (12 blocks, width 768, 12 heads; generated once from the example's
 * PyTorch class with torch.onnx.export and cached outside the repository), one sample of
 * [1, 80, 3000]:
 *   - baseline: a bare onnxruntime-web session in this process (create + one run on a tensor)
 *   - the ONNX stage (read the .npy, create the session, run, write the .npy)
 *   - the PyTorch stage (hailo_fidelity.py in a fresh Python: import torch, build, run, save)
 *   - the comparison (two .npy files, per-step and per-channel curves)
 *   - the whole host check (runHostCheck: both stages, the comparison, fidelity.json)
 * Medians over BENCH_REPS runs (default 3; 1 for the small model). Target: ONNX stage <= 1.2x the
 * bare session.
 *
 *   npm run bench -- --only fidelity     env: HAILO_BENCH_CACHE, HAILO_TEST_PYTHON, BENCH_FIDELITY_SMALL=0
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareStageOutputs, runHostCheck } from '../../src/core/fidelity/check';
import { loadOrt, findOrtWasmDir, runOnnxStage } from '../../src/core/fidelity/onnxStage';
import { writeNpy } from '../../src/core/fidelity/npy';
import type { Model } from '../../src/core/project/schema';

const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLE = path.join(ROOT, 'examples', 'whisper-tiny');
const DRIVER = path.join(ROOT, 'src', 'python', 'hailo_fidelity.py');
const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 3));
const TARGET = 1.2;

const SMALL_MODULE = `
import sys, os
sys.path.insert(0, ${JSON.stringify(EXAMPLE)})
import torch
from tiny_whisper.encoder import AudioEncoder


def build():
    torch.manual_seed(0)
    return AudioEncoder(n_mels=80, n_ctx=1500, width=768, heads=12, layers=12).eval()


if __name__ == "__main__":
    m = build()
    x = torch.zeros(1, 80, 3000)
    torch.onnx.export(m, (x,), sys.argv[1], opset_version=17, do_constant_folding=True, input_names=["mel"], output_names=["features"])
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Case {
  name: string;
  root: string;
  model: Model;
  reps: number;
}

async function cases(cache: string): Promise<Case[]> {
  const tiny: Case = {
    name: 'example encoder (2 blocks, width 64)',
    root: EXAMPLE,
    model: {
      name: 'tiny',
      entry: 'tiny_whisper.encoder:build',
      inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
      outputs: [{ name: 'features' }],
      onnx: 'build/encoder.onnx',
    },
    reps: REPS,
  };
  const list = [tiny];
  if (process.env.BENCH_FIDELITY_SMALL === '0') return list;
  const dir = path.join(cache, 'small-v1');
  const onnx = path.join(dir, 'encoder.onnx');
  if (!fs.existsSync(`${onnx}.done`)) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'small_encoder.py'), SMALL_MODULE);
    const t = performance.now();
    const r = spawnSync(PY, [path.join(dir, 'small_encoder.py'), onnx], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`exporting the Whisper-small-sized encoder failed: ${r.stderr.slice(-2000)}`);
    fs.writeFileSync(`${onnx}.done`, '');
    console.log(`generated ${onnx} (${(fs.statSync(onnx).size / 2 ** 20).toFixed(0)} MB) in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
  list.push({
    name: 'Whisper-small-sized encoder (12 blocks, width 768)',
    root: dir,
    model: {
      name: 'small',
      entry: 'small_encoder:build',
      inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
      outputs: [{ name: 'features' }],
      onnx: 'encoder.onnx',
    },
    reps: Math.min(REPS, Number(process.env.BENCH_SMALL_REPS ?? 1)),
  });
  return list;
}

async function main(): Promise<void> {
  const probe = spawnSync(PY, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log(`fidelity bench skipped: ${PY} has no torch/numpy`);
    return;
  }
  const cache = path.join(process.env.HAILO_BENCH_CACHE ?? path.join(os.tmpdir(), 'hailo-workbench-bench'), 'fidelity');
  const wasmDir = findOrtWasmDir([__dirname]);
  const ort = await loadOrt(wasmDir);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-bench-fid-'));
  let over = 0;
  try {
    let s = 1;
    const mel = Float32Array.from({ length: 80 * 3000 }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 31 - 1;
    });
    const input = path.join(tmp, 'in', 'x.npy');
    await writeNpy(input, { dtype: 'float32', shape: [1, 80, 3000], data: mel });
    for (const c of await cases(cache)) {
      const onnx = path.resolve(c.root, c.model.onnx);
      const model: Model = { ...c.model, fidelity: { inputs: input } };
      // warm: the WebAssembly module, the page cache for the model and for torch
      await runOnnxStage({ onnx, wasmDir, samples: [{ id: 'w', inputs: { mel: input } }], outDir: path.join(tmp, 'warm') });
      const bare: number[] = [];
      const stage: number[] = [];
      const torchMs: number[] = [];
      const compare: number[] = [];
      const whole: number[] = [];
      for (let i = 0; i < c.reps; i++) {
        let t = performance.now();
        const bytes = fs.readFileSync(onnx);
        const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
        await session.run({ mel: new ort.Tensor('float32', mel, [1, 80, 3000]) });
        await session.release();
        bare.push(performance.now() - t);

        t = performance.now();
        await runOnnxStage({ onnx, wasmDir, samples: [{ id: 'x', inputs: { mel: input } }], outDir: path.join(tmp, `stage${i}`) });
        stage.push(performance.now() - t);

        const out = path.join(tmp, `check-${c.model.name}-${i}`);
        t = performance.now();
        const r = await runHostCheck({
          model,
          root: c.root,
          outDir: out,
          interpreter: { path: PY, source: 'cli-option' },
          chooseHint: '',
          driverPath: DRIVER,
          wasmDir,
        });
        whole.push(performance.now() - t);
        if (r.record.stages.some((x) => x.status !== 'ok')) throw new Error(`host check failed: ${JSON.stringify(r.record.stages)}`);
        torchMs.push(r.timings.torch!);
        t = performance.now();
        await compareStageOutputs({ dir: out, stages: r.record.stages, samples: r.record.samples, outputs: r.record.outputs });
        compare.push(performance.now() - t);
        if (i === 0)
          console.log(
            `  [${c.model.name}] onnx vs torch: cos ${r.record.comparisons[0]!.metrics.cosine.toFixed(6)}, SNR ${r.record.comparisons[0]!.metrics.snrDb?.toFixed(1) ?? 'exact'} dB, max |e| ${r.record.comparisons[0]!.metrics.maxAbs.toExponential(2)}`,
          );
      }
      const b = median(bare);
      const st = median(stage);
      const ratio = st / b;
      if (ratio > TARGET) over++;
      console.log(`${c.name}, one sample [1, 80, 3000], ${c.reps} run(s), median wall time:`);
      console.log(`  bare onnxruntime-web session (create + run)  ${b.toFixed(0).padStart(7)} ms   (runs: ${bare.map((x) => x.toFixed(0)).join(', ')})`);
      console.log(
        `  ONNX stage (npy in, session, npy out)        ${st.toFixed(0).padStart(7)} ms   ratio ${ratio.toFixed(2)}x, target <= ${TARGET}x  ${ratio <= TARGET ? 'OK' : 'OVER'}`,
      );
      console.log(
        `  PyTorch stage (fresh Python, torch)          ${median(torchMs).toFixed(0).padStart(7)} ms   ${(median(torchMs) / b).toFixed(2)}x the bare session`,
      );
      console.log(
        `  comparison (curves over ${c.model.name === 'tiny' ? '1500 x 64' : '1500 x 768'})              ${median(compare).toFixed(0).padStart(7)} ms`,
      );
      console.log(
        `  whole host check                             ${median(whole).toFixed(0).padStart(7)} ms   ${(median(whole) / b).toFixed(2)}x the bare session`,
      );
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (over) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
