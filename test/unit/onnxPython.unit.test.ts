import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openOnnx } from '../../src/core/onnx';
import { WHISPER_SIZES, writeShapeZoo, writeWhisper } from '../fixtures/onnx/gen';

/**
 * Cross-checks generated models against the reference implementation: onnx.checker must accept
 * them and onnx.shape_inference must agree with our inferred shapes on every value it can infer.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = `
import json, sys, onnx
from onnx import shape_inference
out = {}
for f in sys.argv[1:]:
    m = onnx.load(f)
    onnx.checker.check_model(m, full_check=True)
    inf = shape_inference.infer_shapes(m, strict_mode=True)
    vals = {}
    for vi in list(inf.graph.value_info) + list(inf.graph.output):
        t = vi.type.tensor_type
        if not t.HasField('shape'):
            continue
        vals[vi.name] = [d.dim_value if d.HasField('dim_value') else (d.dim_param or '?') for d in t.shape.dim]
    out[f] = vals
print(json.dumps(out))
`;

function pythonHasOnnx(): string | undefined {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} does not exist`;
  const r = spawnSync(PYTHON, ['-c', 'import onnx; print(onnx.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${PYTHON} cannot import onnx: ${r.stderr.trim().split('\n').pop()}`;
}

describe('onnx reference cross-check (onnx.checker, onnx.shape_inference)', function () {
  this.timeout(120000);
  let dir: string;
  let files: string[] = [];
  let reference: Record<string, Record<string, (number | string)[]>> = {};

  before(function () {
    const why = pythonHasOnnx();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-py-'));
    files = [
      writeWhisper(path.join(dir, 'whisper13.onnx'), { ...WHISPER_SIZES.toy, opset: 13, frames: 400 }).file,
      writeWhisper(path.join(dir, 'whisper17.onnx'), { ...WHISPER_SIZES.toy, opset: 17, frames: 400 }).file,
      writeWhisper(path.join(dir, 'conv13.onnx'), { ...WHISPER_SIZES.toy, opset: 13, convOnly: true }).file,
      writeWhisper(path.join(dir, 'whisper17ext.onnx'), { ...WHISPER_SIZES.toy, opset: 17, frames: 400, external: true }).file,
      ...[9, 10, 11, 13, 17].map((o) => writeShapeZoo(path.join(dir, `zoo${o}.onnx`), o).file),
    ];
    const r = spawnSync(PYTHON, ['-c', SCRIPT, ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, `onnx rejected a generated model:\n${r.stderr}`);
    reference = JSON.parse(r.stdout);
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  for (const name of ['whisper13', 'whisper17', 'conv13', 'whisper17ext', 'zoo9', 'zoo10', 'zoo11', 'zoo13', 'zoo17']) {
    it(`${name}: valid ONNX, and every shape onnx infers matches ours`, async () => {
      const file = files.find((f) => path.basename(f) === `${name}.onnx`)!;
      const ref = reference[file]!;
      const m = await openOnnx(file);
      assert.deepEqual(m.warnings, []);
      // values onnx could not infer carry generated unk__N dims: nothing to compare there
      const names = Object.keys(ref).filter((v) => !ref[v]!.some((d) => typeof d === 'string' && d.startsWith('unk__')));
      assert.ok(names.length > 10, `onnx inferred ${names.length} values`);
      const diffs: string[] = [];
      for (const v of names) {
        const ours = m.graph.values[v]?.shape;
        if (JSON.stringify(ours) !== JSON.stringify(ref[v])) diffs.push(`${v}: ours [${ours?.join(', ')}], onnx [${ref[v]!.join(', ')}]`);
      }
      assert.deepEqual(diffs, []);
      // and we infer at least everything onnx does
      const ourCount = m.graph.nodes.flatMap((n) => n.outputs).filter((o) => m.graph.values[o]?.shape).length;
      assert.ok(ourCount >= names.length, `${ourCount} shapes inferred, onnx has ${names.length}`);
    });
  }
});
