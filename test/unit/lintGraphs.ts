import { scopeFromNodeName, type Dim, type GraphModel, type GraphNode } from '../../src/core/graph/model';
import type { LintableModel } from '../../src/core/analysis/lint';

/** Builds small in-memory graphs for lint tests (the same shape as what the ONNX reader produces). */
export class GraphBuilder {
  readonly g: GraphModel = { kind: 'onnx', name: 'test', nodes: [], inputs: [], outputs: [], values: {} };
  readonly initializers = new Map<string, { dims: number[]; dtype: string }>();
  private n = 0;
  opset = 17;
  domains: string[] = [];

  input(name: string, shape: Dim[] | undefined): this {
    this.g.inputs.push({ name, shape, dtype: 'float32' });
    this.g.values[name] = { name, shape, dtype: 'float32' };
    return this;
  }
  output(name: string): this {
    const v = this.g.values[name];
    this.g.outputs.push({ name, shape: v?.shape, dtype: 'float32' });
    return this;
  }
  init(name: string, dims: number[]): string {
    this.initializers.set(name, { dims, dtype: 'float32' });
    this.g.values[name] = { name, shape: dims, dtype: 'float32', initializer: true };
    return name;
  }
  /** Add a node; `outShape` sets the shape of its first output. Returns the first output name. */
  node(op: string, inputs: string[], outShape?: Dim[], attrs: Record<string, unknown> = {}, name?: string, domain = ''): string {
    const id = name ?? `/${op}_${this.n++}`;
    const out = `${id}_output_0`;
    const node: GraphNode = { id, op, domain, scope: scopeFromNodeName(id), inputs, outputs: [out], attrs };
    this.g.nodes.push(node);
    this.g.values[out] = { name: out, shape: outShape, dtype: 'float32' };
    return out;
  }
  model(): LintableModel {
    let paramCount = 0;
    for (const t of this.initializers.values()) paramCount += t.dims.reduce((a, b) => a * b, 1);
    return {
      file: '/tmp/test.onnx',
      defaultOpset: this.opset,
      opsetImports: [{ domain: '', version: this.opset }],
      unknownDomains: this.domains,
      graph: this.g,
      initializers: this.initializers,
      paramCount,
      paramBytes: paramCount * 4,
    };
  }
}

/**
 * A Whisper-style toy encoder: two Conv1d front-end layers (the second with stride 2), then
 * `blocks` pre-norm transformer blocks with eager attention and an Erf GELU MLP.
 */
export function toyEncoder(
  opts: { blocks?: number; steps?: number; width?: number; heads?: number; mels?: number; layerNorm?: 'native' | 'decomposed'; batch?: Dim } = {},
): GraphBuilder {
  const { blocks = 2, steps = 1500, width = 64, heads = 4, mels = 80, layerNorm = 'native', batch = 1 } = opts;
  const b = new GraphBuilder();
  const T = steps * 2;
  const d = width / heads;
  b.input('mel', [batch, mels, T]);
  let x = b.node(
    'Conv',
    ['mel', b.init('conv1.weight', [width, mels, 3]), b.init('conv1.bias', [width])],
    [batch, width, T],
    { kernel_shape: [3], pads: [1, 1] },
    '/conv1/Conv',
  );
  x = gelu(b, x, [batch, width, T], '/gelu1');
  x = b.node(
    'Conv',
    [x, b.init('conv2.weight', [width, width, 3]), b.init('conv2.bias', [width])],
    [batch, width, steps],
    { kernel_shape: [3], pads: [1, 1], strides: [2] },
    '/conv2/Conv',
  );
  x = gelu(b, x, [batch, width, steps], '/gelu2');
  x = b.node('Transpose', [x], [batch, steps, width], { perm: [0, 2, 1] }, '/Transpose');
  x = b.node('Add', [x, b.init('positional_embedding', [steps, width])], [batch, steps, width], {}, '/Add');
  const S: Dim[] = [batch, steps, width];
  for (let i = 0; i < blocks; i++) {
    const p = `/blocks.${i}`;
    const ln = (y: string, name: string) =>
      layerNorm === 'native'
        ? b.node(
            'LayerNormalization',
            [y, b.init(`${name}.w`, [width]), b.init(`${name}.b`, [width])],
            S,
            { axis: -1, epsilon: 1e-5 },
            `${p}/${name}/LayerNormalization`,
          )
        : handLayerNorm(b, y, S, `${p}/${name}`);
    const h = ln(x, 'attn_ln');
    const q = b.node('MatMul', [h, b.init(`${p}.q`, [width, width])], S, {}, `${p}/attn/query/MatMul`);
    const k = b.node('MatMul', [h, b.init(`${p}.k`, [width, width])], S, {}, `${p}/attn/key/MatMul`);
    const v = b.node('MatMul', [h, b.init(`${p}.v`, [width, width])], S, {}, `${p}/attn/value/MatMul`);
    const split = (y: string, n: string, perm: number[], outShape: Dim[]) => {
      const r = b.node('Reshape', [y, b.init(`${p}.${n}.shape`, [4])], [batch, steps, heads, d], {}, `${p}/attn/Reshape_${n}`);
      return b.node('Transpose', [r], outShape, { perm }, `${p}/attn/Transpose_${n}`);
    };
    const qh = split(q, 'q', [0, 2, 1, 3], [batch, heads, steps, d]);
    const kh = split(k, 'k', [0, 2, 3, 1], [batch, heads, d, steps]);
    const vh = split(v, 'v', [0, 2, 1, 3], [batch, heads, steps, d]);
    const qk = b.node('MatMul', [qh, kh], [batch, heads, steps, steps], {}, `${p}/attn/MatMul`);
    const sm = b.node('Softmax', [qk], [batch, heads, steps, steps], { axis: -1 }, `${p}/attn/Softmax`);
    const av = b.node('MatMul', [sm, vh], [batch, heads, steps, d], {}, `${p}/attn/MatMul_1`);
    const t = b.node('Transpose', [av], [batch, steps, heads, d], { perm: [0, 2, 1, 3] }, `${p}/attn/Transpose`);
    const m = b.node('Reshape', [t, b.init(`${p}.merge.shape`, [3])], S, {}, `${p}/attn/Reshape`);
    const o = b.node('MatMul', [m, b.init(`${p}.out`, [width, width])], S, {}, `${p}/attn/out/MatMul`);
    x = b.node('Add', [x, o], S, {}, `${p}/Add`);
    const h2 = ln(x, 'mlp_ln');
    const f1 = b.node('MatMul', [h2, b.init(`${p}.fc1`, [width, width * 4])], [batch, steps, width * 4], {}, `${p}/mlp/mlp.0/MatMul`);
    const g = gelu(b, f1, [batch, steps, width * 4], `${p}/mlp/mlp.1`);
    const f2 = b.node('MatMul', [g, b.init(`${p}.fc2`, [width * 4, width])], S, {}, `${p}/mlp/mlp.2/MatMul`);
    x = b.node('Add', [x, f2], S, {}, `${p}/Add_1`);
  }
  const out = b.node('LayerNormalization', [x, b.init('ln_post.w', [width]), b.init('ln_post.b', [width])], S, { axis: -1 }, '/ln_post/LayerNormalization');
  b.g.values[out]!.name = out;
  b.output(out);
  return b;
}

export function gelu(b: GraphBuilder, x: string, s: Dim[], p: string): string {
  const dv = b.node('Div', [x, b.init(`${p}.sqrt2`, [])], s, {}, `${p}/Div`);
  const erf = b.node('Erf', [dv], s, {}, `${p}/Erf`);
  const add = b.node('Add', [erf, b.init(`${p}.one`, [])], s, {}, `${p}/Add`);
  const mul = b.node('Mul', [x, add], s, {}, `${p}/Mul`);
  return b.node('Mul', [mul, b.init(`${p}.half`, [])], s, {}, `${p}/Mul_1`);
}

export function handLayerNorm(b: GraphBuilder, x: string, s: Dim[], p: string): string {
  const red = [...s.slice(0, -1), 1];
  const mean = b.node('ReduceMean', [x], red, { axes: [-1], keepdims: 1 }, `${p}/ReduceMean`);
  const d = b.node('Sub', [x, mean], s, {}, `${p}/Sub`);
  const sq = b.node('Pow', [d, b.init(`${p}.two`, [])], s, {}, `${p}/Pow`);
  const v = b.node('ReduceMean', [sq], red, { axes: [-1], keepdims: 1 }, `${p}/ReduceMean_1`);
  const e = b.node('Add', [v, b.init(`${p}.eps`, [])], red, {}, `${p}/Add`);
  const r = b.node('Sqrt', [e], red, {}, `${p}/Sqrt`);
  return b.node('Div', [d, r], s, {}, `${p}/Div`);
}
