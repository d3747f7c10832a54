/**
 * Layer names the Hailo compiler prints (feasibility lists, context names) tell which layers it
 * created or split. These functions classify one name and group a list, so the rewrite ledger can
 * map every compiler layer back to the HN layer it came from (and from there to ONNX through the
 * HN's `original_names`).
 */

export type CompilerLayerKind =
  | 'original'
  | 'spatial-defuse'
  | 'width-split'
  | 'feature-defuse'
  | 'feature-splitter'
  | 'defuse-op'
  | 'layout-reshape'
  | 'auto-reshape'
  | 'shortcut'
  | 'concat'
  | 'mux'
  | 'demux'
  | 'context-boundary'
  | 'transposed'
  | 'portal';

export interface CompilerLayerName {
  name: string;
  kind: CompilerLayerKind;
  /** The HN layer this one was derived from (`conv2_sd0` -> `conv2`); the name itself for originals. */
  base: string;
  /** Other HN layers named inside the generated name (`auto_reshape_from_A_to_B` -> [A, B]). */
  related?: string[];
}

/** Drop a `<net>/` scope. */
function unscoped(name: string): string {
  const i = name.lastIndexOf('/');
  return i < 0 ? name : name.slice(i + 1);
}

/** Classify one compiler layer name. Unknown shapes count as `original` (an HN layer name). */
export function classifyCompilerLayer(fullName: string): CompilerLayerName {
  const name = unscoped(fullName.trim());
  let m: RegExpExecArray | null;
  const r = (kind: CompilerLayerKind, base: string, related?: string[]): CompilerLayerName =>
    related && related.length ? { name, kind, base, related } : { name, kind, base };

  // inter-context tensors group per boundary: `context_0_to_context_1`
  if ((m = /^(.+)_context_(\d+)_to_(.+)_context_(\d+)(?:_\d+)?$/.exec(name)))
    return r('context-boundary', `context_${m[2]}_to_context_${m[4]}`, [`context_${m[2]}`, `context_${m[4]}`]);
  if ((m = /^auto_reshape_from_(.+)_to_(.+)$/.exec(name))) return r('auto-reshape', m[2]!, [m[1]!, m[2]!]);
  if ((m = /^(?:sh|shortcut)_from_(.+?)_to_(.+)$/.exec(name))) return r('shortcut', m[1]!, [m[1]!, m[2]!]);
  if ((m = /^concat_w_from_(.+?)_to_(.+)$/.exec(name))) return r('concat', m[2]!, [m[1]!, m[2]!]);
  if ((m = /^concat_to_(.+?)_from_(.+)$/.exec(name))) return r('concat', m[1]!, [m[1]!, m[2]!]);
  if ((m = /^(mux|demux)_(?:.+_)?to_(.+)$/.exec(name))) return r(m[1] as 'mux' | 'demux', m[2]!);
  if ((m = /^portal_(.+)$/.exec(name))) return r('portal', m[1]!);
  if ((m = /^ws_from_(.+?)_to_(.+)$/.exec(name))) return r('width-split', m[1]!.replace(/_ws$/, ''), [m[1]!, m[2]!]);
  if ((m = /^(.+?)_defuse_(?:.+)$/.exec(name))) return r('defuse-op', m[1]!);
  if ((m = /^conv_feature_splitter(\d+)_(\d+)$/.exec(name))) return r('feature-splitter', `conv_feature_splitter${m[1]}`);
  if ((m = /^feature_splitter(\d+)$/.exec(name))) return r('feature-splitter', name);
  if ((m = /^(.+)_sd(?:\d+|c)$/.exec(name))) return r('spatial-defuse', m[1]!);
  if ((m = /^(.+)_ws$/.exec(name))) return r('width-split', m[1]!);
  if ((m = /^(.+)_(?:d\d+|dc|fs)$/.exec(name))) return r('feature-defuse', m[1]!);
  if ((m = /^(.+)_transposed(?:_input)?$/.exec(name))) return r('transposed', m[1]!);
  if ((m = /^(.+\d)_reshape$/.exec(name))) return r('layout-reshape', m[1]!);
  return r('original', name);
}

export interface CompilerLayerGroup {
  /** HN base layer. */
  base: string;
  /** Every listed layer derived from it (the base itself included when listed), in log order. */
  layers: string[];
  /** Kinds of rewrite seen for this base, without `original`. */
  kinds: CompilerLayerKind[];
}

/** Group compiler layer names by their HN base layer, in order of first appearance. */
export function groupCompilerLayers(names: readonly string[]): CompilerLayerGroup[] {
  const groups = new Map<string, CompilerLayerGroup>();
  for (const n of names) {
    const c = classifyCompilerLayer(n);
    let g = groups.get(c.base);
    if (!g) groups.set(c.base, (g = { base: c.base, layers: [], kinds: [] }));
    if (!g.layers.includes(c.name)) g.layers.push(c.name);
    if (c.kind !== 'original' && !g.kinds.includes(c.kind)) g.kinds.push(c.kind);
  }
  return [...groups.values()];
}
