import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { loadLayerCatalog } from '../../src/core/hailo/alls/catalog';
import { complete, definition, hover, symbols } from '../../src/core/hailo/alls/language';
import type { LayerCatalog } from '../../src/core/hailo/alls/layers';
import { parseScript } from '../../src/core/hailo/alls/parser';

const fixtures = path.resolve(__dirname, '..', 'fixtures', 'alls');
let catalog: LayerCatalog;

before(async () => {
  catalog = await loadLayerCatalog(path.join(fixtures, 'whisper_enc.hn'), { onnxFile: path.join(fixtures, 'whisper_enc.onnx') });
});

/** Text with "|" marking the cursor. */
function at(src: string): { text: string; offset: number } {
  const offset = src.indexOf('|');
  assert.ok(offset >= 0);
  return { text: src.slice(0, offset) + src.slice(offset + 1), offset };
}

function labels(src: string, withCatalog = true): string[] {
  const { text, offset } = at(src);
  const r = complete(parseScript(text), offset, withCatalog ? { catalog } : {});
  return r ? r.items.map((i) => i.label) : [];
}

describe('alls completion', () => {
  it('offers commands at the start of a line, with an assignment snippet for layer-creating ones', () => {
    const { text, offset } = at('quantization_param(conv1, precision_mode=a16_w16)\nnor|');
    const r = complete(parseScript(text), offset, { catalog })!;
    assert.deepEqual(text.slice(r.replace.start, r.replace.end), 'nor');
    const norm = r.items.find((i) => i.label === 'normalization')!;
    assert.equal(norm.kind, 'command');
    assert.equal(norm.insertText, '${1:normalization1} = normalization($0)');
    assert.ok(norm.snippet);
    assert.match(norm.documentation!, /must be assigned/);
    const qp = r.items.find((i) => i.label === 'quantization_param')!;
    assert.equal(qp.insertText, 'quantization_param($0)');
    assert.equal(r.items.length, 46);
  });

  it('after "name =" offers commands without a second assignment', () => {
    const { text, offset } = at('n1 = |');
    const r = complete(parseScript(text), offset)!;
    assert.equal(r.items.find((i) => i.label === 'normalization')!.insertText, 'normalization($0)');
  });

  it('offers the sections of model_optimization_config and their keywords', () => {
    assert.deepEqual(labels('model_optimization_config(|'), ['calibration', 'globals', 'negative_exponent', 'compression_params', 'checker_cfg']);
    assert.deepEqual(labels('model_optimization_config(calibration, |'), ['batch_size=', 'calibset_size=']);
    assert.deepEqual(labels('model_optimization_config(calibration, batch_size=8, |'), ['calibset_size=']);
    assert.ok(labels('pre_quantization_optimization(|').includes('matmul_correction'));
    assert.ok(labels('pre_quantization_optimization(matmul_correction, |').includes('correction_type='));
    assert.deepEqual(labels('pre_quantization_optimization(matmul_correction, correction_type=|'), ['zp_comp_block', 'zp_comp_block_3']);
  });

  it('offers keyword values, closed or seen', () => {
    assert.deepEqual(labels('quantization_param(conv1, precision_mode=|'), ['a8_w8', 'a8_w4', 'a16_w16', 'a16_w8', 'a16_w8_a16']);
    assert.deepEqual(labels('performance_param(compiler_optimization_level=m|'), ['0', '1', 'max']);
    assert.deepEqual(labels('change_output_activation(conv7, |'), ['sigmoid', 'tanh', 'linear']);
  });

  it('offers HN layer names with type, ONNX node and Python line in the detail', () => {
    const { text, offset } = at('quantization_param(|');
    const r = complete(parseScript(text), offset, { catalog })!;
    const conv1 = r.items.find((i) => i.label === 'conv1')!;
    assert.equal(conv1.kind, 'layer');
    assert.equal(conv1.detail, 'conv · /conv1/Conv · model.py:21');
    assert.match(conv1.documentation!, /ONNX: `\/conv1\/Conv`/);
    assert.match(conv1.documentation!, /Python: `.*model\.py:21` \(conv1\)/);
    const conv6 = r.items.find((i) => i.label === 'conv6')!;
    assert.equal(conv6.detail, 'conv · /layers.0/fc1/MatMul +1 · model.py:58');
    assert.ok(r.items.some((i) => i.label === 'whisper_enc/' && i.retrigger));
    assert.ok(r.items.some((i) => i.label === '{*}'));
    assert.ok(r.items.some((i) => i.label === 'precision_mode='));
    // conv2 sorts before conv10-style names
    const order = r.items.filter((i) => i.kind === 'layer' && /^conv\d$/.test(i.label)).map((i) => i.label);
    assert.deepEqual(order, ['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'conv6', 'conv7']);
  });

  it('offers scoped names after "net/", names inside lists and keyword layer lists, and patterns in braces', () => {
    const scoped = labels('quantization_param(whisper_enc/|');
    assert.ok(scoped.includes('whisper_enc/conv1'));
    assert.ok(labels('quantization_param([conv1, |').includes('ew_add2'));
    assert.ok(labels('post_quantization_optimization(finetune, loss_layer_names=[|').includes('output_layer1'));
    const inBraces = labels('quantization_param({|');
    assert.ok(inBraces.includes('ew_add*'));
    assert.ok(inBraces.includes('matmul1'));
  });

  it('includes layers the script itself creates', () => {
    const items = labels('norm1 = normalization([0.0], [1.0])\nquantization_param(|');
    assert.ok(items.includes('norm1'));
  });

  it('a new line after an unclosed command starts a new command; an indented one continues it', () => {
    assert.ok(labels('quantization_param(conv1\nperf|').includes('performance_param'));
    assert.ok(labels('post_quantization_optimization(finetune, policy=enabled,\n    |').includes('epochs='));
  });

  it('says nothing inside comments and strings, or after the closing ")"', () => {
    assert.deepEqual(labels('# quantization_param(|'), []);
    assert.deepEqual(labels('nms_postprocess("cfg|'), []);
    assert.deepEqual(labels('performance_param(fps=1) |'), []);
  });

  it('works without a catalog: no layer names, everything else', () => {
    assert.ok(!labels('quantization_param(|', false).includes('conv1'));
    assert.ok(labels('quantization_param(|', false).includes('precision_mode='));
  });
});

describe('alls hover', () => {
  const text =
    'n1 = normalization([0, 0, 0], [1, 1, 1])\nquantization_param(conv1, precision_mode=a16_w16)\nquantization_param({ew_add*}, precision_mode=a16_w16)\nmodel_optimization_config(calibration, batch_size=2)\nquantization_param(n1, precision_mode=a8_w8)\nquantization_param(conv99, precision_mode=a8_w8)\n';
  const script = parseScript(text);
  const h = (needle: string, nth = 0, withCatalog = true) => {
    let i = -1;
    for (let k = 0; k <= nth; k++) i = text.indexOf(needle, i + 1);
    return hover(script, i + 1, withCatalog ? { catalog } : {});
  };

  it('documents commands, keywords and sections', () => {
    assert.match(h('normalization')!.markdown, /must be assigned/);
    assert.match(h('quantization_param')!.markdown, /quantization_param\(layers, precision_mode/);
    assert.match(h('precision_mode')!.markdown, /Activation and weight bit widths/);
    assert.match(h('calibration')!.markdown, /calibration pass/);
    assert.match(h('batch_size')!.markdown, /per batch/);
  });

  it('shows a layer with its type, ONNX node and Python line; the hover covers the name', () => {
    const r = h('conv1')!;
    assert.match(r.markdown, /\*\*whisper_enc\/conv1\*\* — HN layer of type `conv`/);
    assert.match(r.markdown, /\/conv1\/Conv/);
    assert.match(r.markdown, /model\.py:21/);
    assert.equal(text.slice(r.span.start, r.span.end), 'conv1');
  });

  it('counts what a pattern matches, names the line that creates a script layer, flags an unknown one', () => {
    assert.match(h('{ew_add*}')!.markdown, /matches 3 layer\(s\): `ew_add1`, `ew_add2`, `ew_add3`/);
    assert.match(h('n1', 2)!.markdown, /created by `normalization` on line 1/);
    assert.match(h('conv99')!.markdown, /no such layer/);
    assert.match(h('conv1', 0, false)!.markdown, /no HAR is known/);
  });
});

describe('alls go-to-definition', () => {
  const text =
    'n1 = normalization([0, 0, 0], [1, 1, 1])\nquantization_param([conv1, conv4], precision_mode=a16_w16)\nquantization_param(n1, precision_mode=a8_w8)\nquantization_param(whisper_enc/conv6, precision_mode=a8_w8)\n';
  const script = parseScript(text);
  const d = (needle: string, nth = 0) => {
    let i = -1;
    for (let k = 0; k <= nth; k++) i = text.indexOf(needle, i + 1);
    return definition(script, i + 1, { catalog });
  };

  it('goes from a layer to the Python line it came from', () => {
    const t = d('conv1')[0]!;
    assert.equal(t.kind, 'source');
    assert.deepEqual(t.kind === 'source' && t.location, { file: path.join(fixtures, 'tinywhisper', 'model.py'), line: 21, module: 'conv1' });
    const s = d('whisper_enc/conv6')[0]!;
    assert.equal(s.kind === 'source' && s.location.line, 58);
  });

  it('falls back to the ONNX node when the layer has no source line', () => {
    assert.deepEqual(d('conv4'), [
      { kind: 'onnx', file: path.join(fixtures, 'whisper_enc.onnx'), node: '/layers.0/self_attn/k_proj/MatMul', layer: 'whisper_enc/conv4' },
    ]);
  });

  it('goes to the line of the script that creates a layer', () => {
    const t = d('n1', 1)[0]!;
    assert.equal(t.kind, 'script');
    assert.equal(t.kind === 'script' && text.slice(t.span.start, t.span.end), 'n1');
  });

  it('has nothing for commands and keywords', () => {
    assert.deepEqual(d('quantization_param'), []);
    assert.deepEqual(d('precision_mode'), []);
  });
});

describe('alls outline', () => {
  it('lists the layers a script creates and its other commands', () => {
    const text =
      'n1 = normalization([0.0], [1.0])\n# comment\na_d0, a_dc = defuse(a, 1)\nquantization_param({ew_add*}, precision_mode=a16_w16)\ncontext_0.place(0, [conv1])\ntranspose()\n';
    const s = symbols(parseScript(text));
    assert.deepEqual(
      s.map((x) => `${x.kind}:${x.name}:${x.detail}`),
      [
        'layer:n1:normalization(…)',
        'layer:a_d0:defuse(…)',
        'layer:a_dc:defuse(…)',
        'command:quantization_param {ew_add*}:',
        'command:context_0.place 0:',
        'command:transpose:',
      ],
    );
    assert.equal(text.slice(s[1]!.selection.start, s[1]!.selection.end), 'a_d0');
  });
});
