import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openOnnx } from '../../src/core/onnx';

/**
 * Real torch.onnx.export output: the reader and shape inference on what PyTorch actually writes
 * (Constant nodes, Shape chains, F.pad's pads chain, dim_param names for dynamic axes), checked
 * against the shapes torch computes and against onnx.shape_inference.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(__dirname, '..', 'fixtures', 'onnx', 'torch_encoder.py');
const ONNX_SHAPES = `
import json, sys, onnx
from onnx import shape_inference
out = {}
for f in sys.argv[1:]:
    m = onnx.load(f)
    onnx.checker.check_model(m)
    vals = {}
    for vi in shape_inference.infer_shapes(m).graph.value_info:
        t = vi.type.tensor_type
        if t.HasField('shape'):
            vals[vi.name] = [d.dim_value if d.HasField('dim_value') else (d.dim_param or '?') for d in t.shape.dim]
    out[f] = vals
print(json.dumps(out))
`;

describe('ONNX reader on real torch.onnx.export output', function () {
  this.timeout(180000);
  let dir: string;
  let exported: { torch: string; outputs: number[][]; files: Record<string, { opset: number; dynamic: boolean }> };
  let reference: Record<string, Record<string, (number | string)[]>>;

  before(function () {
    const probe = fs.existsSync(PYTHON) ? spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' }) : undefined;
    if (!probe || probe.status !== 0) {
      console.log(`      skipped: ${PYTHON} with torch and onnx is not available (${probe ? probe.stderr.trim().split('\n').pop() : 'no interpreter'})`);
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-torch-'));
    const r = spawnSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8', maxBuffer: 16 << 20 });
    assert.equal(r.status, 0, r.stderr);
    exported = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const files = Object.keys(exported.files).map((f) => path.join(dir, f));
    const ref = spawnSync(PYTHON, ['-c', ONNX_SHAPES, ...files], { encoding: 'utf8', maxBuffer: 16 << 20 });
    assert.equal(ref.status, 0, ref.stderr);
    reference = JSON.parse(ref.stdout);
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  for (const name of ['torch13.onnx', 'torch17.onnx', 'torch13dyn.onnx', 'torch17dyn.onnx']) {
    it(`${name}: every value shaped, outputs as torch computes them, agrees with onnx where onnx knows`, async () => {
      const file = path.join(dir, name);
      const info = exported.files[name]!;
      const m = await openOnnx(file);
      assert.deepEqual(m.warnings, []);
      assert.equal(m.defaultOpset, info.opset);
      assert.equal(m.producerName, 'pytorch');
      const unshaped = m.graph.nodes.flatMap((n) => n.outputs).filter((o) => o && !m.graph.values[o]?.shape);
      assert.deepEqual(unshaped, []);
      const batch = info.dynamic ? 'batch' : 1;
      assert.deepEqual(m.graph.inputs[0]?.shape, [batch, 80, 200]);
      m.graph.outputs.forEach((o, i) => assert.deepEqual(o.shape, [batch, ...exported.outputs[i]!.slice(1)], o.name));
      assert.ok(m.graph.nodes.some((n) => n.scope === 'blocks.1.attn' && n.op === 'MatMul'));
      if (info.opset >= 17) assert.ok(m.graph.nodes.some((n) => n.id === '/blocks.0/attn_ln/LayerNormalization'));
      else assert.ok(m.graph.nodes.some((n) => n.id === '/blocks.0/attn_ln/ReduceMean'));
      const diffs: string[] = [];
      for (const [v, s] of Object.entries(reference[file]!)) {
        if (s.some((d) => typeof d === 'string')) continue; // onnx could not infer it (unk__N) or kept a symbol
        if (JSON.stringify(m.graph.values[v]?.shape) !== JSON.stringify(s))
          diffs.push(`${v}: ours [${m.graph.values[v]?.shape?.join(', ')}], onnx [${s.join(', ')}]`);
      }
      assert.deepEqual(diffs, []);
    });
  }
});
