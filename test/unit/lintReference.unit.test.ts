import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ON_CHIP_MEMORY, WEIGHTS_UTILIZATION } from '../../src/core/hailo/memory';
import { REFERENCE_DIR as refDir } from '../reference';

/**
 * The lint quotes the Hailo parser's error classes and log lines; these tests check each quote
 * against the reference material (HAILO_REFERENCE_DIR, default ../shared/reference), so a rule
 * cannot cite an error text that no real log or document shows.
 */
const root = path.resolve(__dirname, '..', '..');

function readAll(dir: string): string {
  let out = '';
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) out += readAll(p);
    else if (/\.(md|log|txt|alls)$/.test(d.name)) out += fs.readFileSync(p, 'utf8') + '\n';
  }
  return out;
}

function ruleSources(): string {
  const dir = path.join(root, 'src', 'core', 'analysis', 'rules');
  return fs
    .readdirSync(dir)
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
}

describe('lint: grounded in the Hailo reference', function () {
  let reference = '';
  before(function () {
    if (!fs.existsSync(path.join(refDir, 'hailo'))) {
      console.log(`    skipping: no Hailo reference material at ${refDir} (set HAILO_REFERENCE_DIR)`);
      this.skip();
    }
    reference = readAll(path.join(refDir, 'hailo')) + fs.readFileSync(path.join(refDir, 'anchors.md'), 'utf8');
  });

  it('every parser error class the rules quote appears in the reference', () => {
    const classes = new Set([...ruleSources().matchAll(/\b(Unsupported\w+Error|UnexpectedNodeError)\b/g)].map((m) => m[1]!));
    assert.ok(classes.size >= 6, [...classes].join(', '));
    for (const c of classes) assert.ok(reference.includes(c), `${c} is not in the reference`);
  });

  it('the quoted parser and compiler messages appear verbatim', () => {
    const quotes = [
      'GatherElements operation is unsupported',
      'TopK operation is unsupported',
      'Mod operation is unsupported',
      'Selu operation is unsupported',
      'Reduce max is only supported on the features axis, and with keepdim=True',
      "Can't find index",
      'Gather operation on the batch dimension is not supported',
      'Failed to determine type of layer to create',
      'Starting LayerNorm Decomposition',
      'reduce_max_softmax',
      'ew_mult_softmax',
      'Simplified ONNX model for a parsing retry attempt',
      'layer_norm_decomposition, bit_decomposition_mode=uniform_precision, equalization=disabled',
      'matmul_correction',
      'max_memory_utilization (weights)=60%',
      '9 contexts',
      'Invalid kernel shape',
    ];
    const src = ruleSources() + fs.readFileSync(path.join(root, 'src', 'core', 'hailo', 'memory.ts'), 'utf8');
    for (const q of quotes) {
      assert.ok(reference.includes(q), `reference lacks "${q}"`);
      assert.ok(src.includes(q.replace('max_memory_utilization (weights)=60%', 'max_memory_utilization')), `rules do not use "${q}"`);
    }
  });

  it('the memory figures match the reference', () => {
    assert.match(reference, /Hailo-8 has 20 MB of on-chip SRAM/);
    assert.equal(ON_CHIP_MEMORY.hailo8!.sramBytes, 20 * 1024 * 1024);
    assert.match(reference, /cluster_0, 1, 4, 5/);
    assert.equal(ON_CHIP_MEMORY.hailo8l!.sramBytes, ON_CHIP_MEMORY.hailo8!.sramBytes / 2);
    assert.equal(WEIGHTS_UTILIZATION, 0.6);
  });
});
