import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseHn } from '../../src/core/hailo/hn';
import { isHailoError } from '../../src/core/errors';

const FIX = path.resolve(__dirname, '..', 'fixtures', 'hailo');

describe('hn model', () => {
  it('turns the synthetic Whisper HN into a graph with layers, edges, shapes and original names', () => {
    const hn = parseHn(fs.readFileSync(path.join(FIX, 'toy-op17.hn'), 'utf8'), 'toy-op17.hn');
    assert.equal(hn.name, 'whisper_toy_op17');
    assert.equal(hn.formatVersion, '1.0');
    assert.equal(hn.stage, 'HN');
    assert.deepEqual(hn.warnings, []);
    const g = hn.graph;
    assert.equal(g.kind, 'hn');
    assert.equal(g.nodes.length, hn.layers.length);
    assert.deepEqual(
      g.inputs.map((i) => [i.name, i.shape]),
      [['whisper_toy_op17/input_layer1', [-1, 1, 200, 80]]],
    );
    assert.equal(g.outputs.length, 1);
    const conv1 = g.nodes.find((n) => n.id === 'whisper_toy_op17/conv1')!;
    assert.deepEqual(conv1.inputs, ['whisper_toy_op17/format_conversion1']);
    assert.deepEqual(conv1.attrs.kernel_shape, [1, 3, 80, 64]);
    assert.equal(conv1.attrs.activation, 'gelu');
    assert.ok(conv1.originalNames!.includes('/conv1/Conv'));
    const ln = g.nodes.find((n) => n.id === 'whisper_toy_op17/normalization1')!;
    assert.equal(ln.scope, 'blocks.0.attn_ln', 'scope from original names');
    // every edge points at a layer of the graph
    const ids = new Set(g.nodes.map((n) => n.id));
    for (const n of g.nodes) for (const i of n.inputs) assert.ok(ids.has(i), `${n.id} <- ${i}`);
  });

  it('tolerates missing and extra fields, unscoped references, list layers and shapes given as one list', () => {
    const hn = parseHn(
      {
        layers: {
          'n/in': { type: 'input_layer', output_shapes: [-1, 8, 8, 3], brand_new_field: { x: 1 } },
          'n/c': {
            input: ['in'],
            params: { kernel_shape: [3, 3, 3, 8], big: new Array(1000).fill(0) },
            original_names: '/c/Conv',
            output_shapes: [[-1, 8, 8, 8]],
          },
          'n/x': 'not an object',
          'n/o': { type: 'output_layer', input: ['n/c', 'n/ghost'] },
        },
        net_params: { net_scopes: ['n'], sdk_version: '3.31.0' },
      },
      'x.hn',
    );
    assert.equal(hn.name, 'n');
    assert.equal(hn.sdkVersion, '3.31.0');
    const c = hn.graph.nodes.find((n) => n.id === 'n/c')!;
    assert.equal(c.op, 'unknown');
    assert.deepEqual(c.inputs, ['n/in']);
    assert.deepEqual(c.originalNames, ['/c/Conv']);
    assert.equal(c.attrs.big, '[1000 items]');
    assert.deepEqual(hn.graph.values['n/in']!.shape, [-1, 8, 8, 3]);
    // output edges are filled from the consumers' inputs
    assert.deepEqual(hn.layers.find((l) => l.id === 'n/in')!.outputs, ['n/c']);
    assert.ok(hn.warnings.some((w) => w.includes('no "type"')));
    assert.ok(hn.warnings.some((w) => w.includes('"n/x" is not an object')));
    assert.ok(hn.warnings.some((w) => w.includes('unknown layer "n/ghost"')));
  });

  it('layers given as a list of named objects', () => {
    const hn = parseHn(
      { name: 'm', layers: [{ name: 'm/a', type: 'input_layer' }, { name: 'm/b', type: 'conv', input: ['m/a'] }, { type: 'nameless' }] },
      'l.hn',
    );
    assert.deepEqual(
      hn.graph.nodes.map((n) => n.id),
      ['m/a', 'm/b'],
    );
    assert.ok(hn.warnings.some((w) => w.includes('layers[2]')));
  });

  it('rejects what is not an HN with HN_INVALID naming the file', () => {
    for (const bad of ['{"layers": [', '[1,2]', '{"name": "x"}', 'null']) {
      assert.throws(
        () => parseHn(bad, 'bad.hn'),
        (e: unknown) => isHailoError(e, 'HN_INVALID') && (e as Error).message.startsWith('bad.hn'),
      );
    }
  });
});
