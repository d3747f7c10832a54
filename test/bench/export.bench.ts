/**
 * Export overhead: the full driver (imports torch and onnx, builds the model, exports, reads the
 * ONNX back, maps every node to its source line, writes the sidecar, renames into place) next to
 * a bare script that imports torch, builds the same model and calls torch.onnx.export. Both are
 * fresh processes, alternated, several repetitions; medians. Target: driver <= 1.3x bare.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runExport } from '../../src/core/export/run';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'py');
const DRIVER = path.join(ROOT, 'src', 'python', 'hailo_export.py');
const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';
const REPS = Number(process.env.BENCH_REPS ?? 5);
const TARGET = 1.3;

const BARE = `
import sys, torch
sys.path.insert(0, ${JSON.stringify(FIXTURES)})
from tinywhisper.encoder import build
m = build().eval()
x = torch.randn(1, 80, 3000)
torch.onnx.export(m, (x,), sys.argv[1], opset_version=17, do_constant_folding=True, input_names=["mel"], output_names=["features"])
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const probe = spawnSync(PY, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log(`export bench skipped: ${PY} has no torch/onnx`);
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-bench-export-'));
  const script = path.join(tmp, 'bare.py');
  fs.writeFileSync(script, BARE);
  const bare: number[] = [];
  const driver: number[] = [];
  const mapSteps: number[] = [];
  let mapped = 0;
  let nodes = 0;
  try {
    // warm the page cache for torch once, untimed
    spawnSync(PY, [script, path.join(tmp, 'warm.onnx')]);
    for (let i = 0; i < REPS; i++) {
      let t = performance.now();
      const r = spawnSync(PY, [script, path.join(tmp, `bare${i}.onnx`)], { cwd: FIXTURES, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`bare export failed: ${r.stderr}`);
      bare.push(performance.now() - t);

      t = performance.now();
      const res = await runExport({
        interpreter: { path: PY, source: 'cli-option' },
        driverPath: DRIVER,
        spec: {
          entry: 'tinywhisper.encoder:build',
          inputs: [{ name: 'mel', shape: [1, 80, 3000] }],
          outputNames: ['features'],
          opset: 17,
          out: path.join(tmp, `drv${i}.onnx`),
          root: FIXTURES,
        },
        chooseHint: '',
      });
      driver.push(performance.now() - t);
      mapped = res.mapped;
      mapSteps.push((res.seconds?.map ?? 0) * 1000);
      nodes = res.nodes;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const b = median(bare);
  const d = median(driver);
  const ratio = d / b;
  console.log(`export of the tiny Whisper-style encoder (opset 17, ${nodes} nodes), ${REPS} runs each, median wall time of a fresh process:`);
  console.log(`  bare torch.onnx.export script   ${b.toFixed(0).padStart(6)} ms   (runs: ${bare.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(
    `  hailo_export.py via runExport   ${d.toFixed(0).padStart(6)} ms   (runs: ${driver.map((x) => x.toFixed(0)).join(', ')}; ${mapped} nodes mapped)`,
  );
  console.log(`  ratio driver / bare             ${ratio.toFixed(2).padStart(6)}x   target <= ${TARGET}x  ${ratio <= TARGET ? 'OK' : 'OVER'}`);
  console.log(`  of which mapping + sidecar     ${median(mapSteps).toFixed(0).padStart(6)} ms   (read the ONNX back, join nodes to source ranges, hash)`);
  console.log(`  driver overhead                 ${(d - b).toFixed(0).padStart(6)} ms`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
