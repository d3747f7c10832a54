/**
 * Interpretation of the layer names the Hailo compiler generates. The compiler's graph rewrites
 * (defuse, feature splitting, automatic reshapes, shortcuts, context boundaries...) are visible
 * only as layer names in the compile log's feasibility list, the profiler and the compiled HAR's
 * auto model script. Each name is reduced to the HN layer it was made from (the "base") and what
 * was done to it (the "kind"); the base layer's `original_names` then lead back to ONNX.
 *
 * The meanings are inferred from names seen in real logs and scripts; nothing here is documented
 * by the compiler's vendor, so callers present them as interpretations.
 */

export type GeneratedKind =
  /** A plain HN layer name (`conv12`, `normalization3`, `input_layer1`). */
  | 'layer'
  /** Spatial defuse part or collector: `conv2_sd0`, `conv2_sdc`. */
  | 'spatial-defuse'
  /** Feature defuse part, collector or feature splitter: `dw3_d0`, `dw3_dc`, `dw3_fs`. */
  | 'defuse'
  /** Defuse of a layer into supported primitives, with layout steps: `dw1_defuse_1x1`, `format_conversion7_defuse_width_feature_reshape`. */
  | 'defuse-primitive'
  /** Width splitter: `conv2_ws`, `ws_from_conv108_ws_to_conv108_sd0-3_182`. */
  | 'width-splitter'
  /** Channel splitter: `conv_feature_splitter1_1`. */
  | 'feature-splitter'
  /** Reshape inserted between two layers: `auto_reshape_from_A_to_B`, `auto_spatial_reshape_from_...`. */
  | 'auto-reshape'
  /** Layout step of a layer: `matmul2_reshape`, `resize4_transposed`, `resize4_transposed_input`. */
  | 'layout'
  /** Data passed around other layers: `sh_from_A_to_B`, `shortcut_from_A_to_B`. */
  | 'shortcut'
  /** Concat inserted to re-join defused parts: `concat_w_from_conv108_sd0-3_to_conv108_sdc`. */
  | 'concat'
  /** Mux/demux pair sharing a path: `mux_..._to_conv36_matmul1`. */
  | 'mux'
  | 'demux'
  /** Portal between layers: `portal_a_b`. */
  | 'portal'
  /** A part of a decomposed Softmax: `reduce_max_softmax1`, `ew_sub_softmax1`, `reduce_sum_softmax1`, `ew_mult_softmax1`. */
  | 'softmax-part'
  /** Tensor passed between contexts through DRAM: `<net>_<net>_context_0_to_<net>_context_1_2757`. */
  | 'context-boundary'
  | 'unknown';

export interface GeneratedName {
  /** The name as given, without a `<net>/` scope. */
  name: string;
  kind: GeneratedKind;
  /** The HN layer this one was made from, when the name says so (unscoped). */
  base?: string;
  /** Other HN layers the name refers to (targets of a shortcut, reshape or mux). */
  related: string[];
  /** The suffix that identifies the piece: "sd0", "sdc", "d1", "ws", "1x1", "reduce_max"... */
  part?: string;
  /** `softmaxN` group of a softmax part. */
  group?: string;
  /** For a context boundary. */
  context?: { net: string; from: number; to: number; id: number };
  /** For a plain layer name: type stem and 1-based index (`conv`, 12). */
  stem?: string;
  index?: number;
}

const SOFTMAX_PARTS = ['reduce_max', 'ew_sub', 'reduce_sum', 'ew_mult', 'activation', 'exp'] as const;
const SOFTMAX_PART_RES = SOFTMAX_PARTS.map((part) => [part, new RegExp(`^${part}_softmax(\\d+)$`)] as const);

const PLAIN = /^([a-z][a-z_]*?[a-z])(\d+)$/;
const CONTEXT = /^(.+)_context_(\d+)_to_(.+)_context_(\d+)_(\d+)$/;

/** Strip a `<net>/` scope. */
export function unscoped(name: string): string {
  const i = name.lastIndexOf('/');
  return i >= 0 ? name.slice(i + 1) : name;
}

/**
 * The plain-layer prefix of a name: `conv20_defuse_reshape_f` -> `conv20`; `conv108_sd0-3` ->
 * `conv108`; `input_layer1` -> `input_layer1`. Undefined when the name does not start with one.
 */
export function leadingLayer(name: string, known?: ReadonlySet<string>): string | undefined {
  if (known) {
    // longest known prefix ending at a '_' boundary or the end
    let best: string | undefined;
    for (let i = name.length; i > 0; i--) {
      if (i < name.length && name[i] !== '_') continue;
      const head = name.slice(0, i);
      if (known.has(head)) {
        best = head;
        break;
      }
    }
    if (best) return best;
  }
  const m = /^([a-z][a-z_]*?[a-z]\d+)(?=$|_|-)/.exec(name);
  return m?.[1];
}

/** Split "A_to_B" where both sides look like layer references; prefers sides that are known layers. */
function splitFromTo(rest: string, known?: ReadonlySet<string>): [string, string] | undefined {
  const cuts: number[] = [];
  for (let i = rest.indexOf('_to_'); i >= 0; i = rest.indexOf('_to_', i + 1)) cuts.push(i);
  if (!cuts.length) return undefined;
  let best: [string, string] | undefined;
  let bestScore = -1;
  for (const c of cuts) {
    const a = rest.slice(0, c);
    const b = rest.slice(c + 4);
    if (!a || !b) continue;
    const score = sideScore(a, known) + sideScore(b, known);
    if (score > bestScore) {
      bestScore = score;
      best = [a, b];
    }
  }
  return best;
}

function sideScore(s: string, known?: ReadonlySet<string>): number {
  if (known?.has(s)) return 3;
  if (PLAIN.test(s)) return 2;
  if (leadingLayer(s, known)) return 1;
  return 0;
}

/** Layers named in a reference list like "conv58-60_dw2" or "conv36_matmul1" (known names preferred). */
function layersIn(s: string, known?: ReadonlySet<string>): string[] {
  if (known?.has(s)) return [s];
  const out: string[] = [];
  for (const m of s.matchAll(/([a-z][a-z_]*?[a-z])(\d+)(?:-(\d+))?/g)) {
    // drop generated words glued in front ("sh_from_conv57") and defuse suffixes ("dw2_sd0")
    const stem = m[1]!
      .split('_')
      .filter((p) => p && !GLUE.has(p))
      .join('_');
    if (!stem || SUFFIX_STEMS.has(stem)) continue;
    const first = Number(m[2]);
    const last = m[3] !== undefined && Number(m[3]) > first && Number(m[3]) - first < 64 ? Number(m[3]) : first;
    for (let i = first; i <= last; i++) out.push(`${stem}${i}`);
  }
  return [...new Set(out)];
}

const GLUE = new Set(['from', 'to', 'sh', 'w', 'mux', 'demux', 'concat', 'shortcut']);
const SUFFIX_STEMS = new Set(['sd', 'd', 'dc', 'sdc', 'ws', 'fs']);

/**
 * Interpret one compiler layer name. `known` (HN layer names, unscoped) resolves ambiguous splits
 * such as names that themselves contain `_to_`.
 */
export function interpretLayerName(raw: string, known?: ReadonlySet<string>): GeneratedName {
  const name = unscoped(raw.trim());
  const g = (kind: GeneratedKind, extra: Partial<GeneratedName> = {}): GeneratedName => ({ name, kind, related: [], ...extra });

  const ctx = CONTEXT.exec(name);
  if (ctx) {
    // "<net>_<net>_context_i_to_<net>_context_j_N": the first group is "<net>_<net>"
    const net = ctx[3]!;
    return g('context-boundary', { context: { net, from: Number(ctx[2]), to: Number(ctx[4]), id: Number(ctx[5]) } });
  }

  for (const [part, re] of SOFTMAX_PART_RES) {
    const m = re.exec(name);
    if (m) return g('softmax-part', { part, group: `softmax${m[1]}`, base: `softmax${m[1]}` });
  }

  // A name that is itself an HN layer is a layer, whatever it looks like.
  if (known?.has(name)) {
    const p = PLAIN.exec(name);
    return g('layer', p ? { stem: p[1]!, index: Number(p[2]) } : {});
  }

  let m: RegExpExecArray | null;
  if ((m = /^auto_(?:spatial_)?reshape_from_(.+)$/.exec(name))) {
    const ft = splitFromTo(m[1]!, known);
    if (ft) {
      const from = leadingLayer(ft[0], known) ?? ft[0];
      const to = leadingLayer(ft[1], known);
      return g('auto-reshape', { base: from, related: [from, ...(to && to !== from ? [to] : [])] });
    }
    const from = leadingLayer(m[1]!, known);
    return g('auto-reshape', from ? { base: from, related: [from] } : {});
  }
  if ((m = /^(?:sh|shortcut)_from_(.+)$/.exec(name))) {
    // nested shortcuts ("sh_from_sh_from_conv57_to_..."): the innermost source is the base
    let rest = m[1]!;
    while (/^(?:sh|shortcut)_from_/.test(rest)) rest = rest.replace(/^(?:sh|shortcut)_from_/, '');
    const ft = splitFromTo(rest, known);
    const from = leadingLayer(ft ? ft[0] : rest, known);
    const related = ft ? layersIn(ft[1].replace(/_\d+$/, ''), known) : [];
    return g('shortcut', { ...(from ? { base: from } : {}), related: from ? [from, ...related.filter((r) => r !== from)] : related });
  }
  if ((m = /^ws_from_(.+)$/.exec(name))) {
    const base = leadingLayer(m[1]!, known);
    return g('width-splitter', { ...(base ? { base } : {}), part: 'ws', related: base ? [base] : [] });
  }
  if ((m = /^concat(?:_w)?_to_(.+?)_from_.+$/.exec(name)) || (m = /^concat(?:_w)?_from_.+_to_(.+)$/.exec(name))) {
    // the collector ("conv108_sdc") names the layer whose parts are re-joined
    const base = leadingLayer(m[1]!, known);
    return g('concat', { ...(base ? { base } : {}), related: base ? [base] : [] });
  }
  if ((m = /^(mux|demux)_(.+)_to_(.+)$/.exec(name))) {
    const targets = layersIn(m[3]!, known);
    return g(m[1] as 'mux' | 'demux', { ...(targets[0] ? { base: targets[0] } : {}), related: targets });
  }
  if ((m = /^portal_(.+)$/.exec(name))) {
    const rel = layersIn(m[1]!, known);
    return g('portal', { ...(rel[0] ? { base: rel[0] } : {}), related: rel });
  }
  if ((m = /^conv_feature_splitter(\d+)_(\d+)$/.exec(name))) {
    return g('feature-splitter', { part: `${m[1]}_${m[2]}` });
  }

  const lead = leadingLayer(name, known);
  if (lead && lead !== name) {
    const suffix = name.slice(lead.length + 1);
    if (/^sd(\d+|c)$/.test(suffix)) return g('spatial-defuse', { base: lead, part: suffix, related: [lead] });
    if (/^d(\d+|c)$/.test(suffix) || suffix === 'fs') return g('defuse', { base: lead, part: suffix, related: [lead] });
    if (suffix === 'ws') return g('width-splitter', { base: lead, part: 'ws', related: [lead] });
    if (suffix.startsWith('defuse')) return g('defuse-primitive', { base: lead, part: suffix, related: [lead] });
    if (/^(reshape|transposed|transposed_input)$/.test(suffix) || /reshape|transpose/.test(suffix)) {
      return g('layout', { base: lead, part: suffix, related: [lead] });
    }
    // a defused part of a defused part ("conv1_sd0_d1"): interpret the head
    const inner = interpretLayerName(name.slice(0, name.lastIndexOf('_')), known);
    if (inner.kind !== 'unknown' && inner.base) return { ...inner, name };
  }

  const p = PLAIN.exec(name);
  if (p) return g('layer', { stem: p[1]!, index: Number(p[2]) });
  // a name chosen in a model script ("norm_layer = normalization(...)") is a layer too
  if (!lead && /^[A-Za-z_]\w*$/.test(name)) return g('layer');
  return g('unknown', lead ? { base: lead, related: [lead] } : {});
}

/** True for names the compiler (not the parser) creates. */
export function isCompilerGenerated(kind: GeneratedKind): boolean {
  return kind !== 'layer' && kind !== 'unknown';
}
