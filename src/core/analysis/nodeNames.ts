/**
 * Parser node names (`startNodes`/`endNodes` in hailo.json, the parser's recommended end nodes)
 * checked against the ONNX graph: `--start-node-names`/`--end-node-names` take ONNX node names,
 * and a name that is not in the model makes the parse fail far from its cause.
 */

export interface NodeNameGraph {
  nodes: readonly { id: string; outputs: readonly string[] }[];
}

export type NameCheck =
  | { name: string; status: 'ok'; node: string }
  /** Not a node name as written, but it names exactly one node another way (see `how`). */
  | { name: string; status: 'mapped'; node: string; how: string }
  | { name: string; status: 'missing'; why: string; suggestions: string[] };

function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, cur[j]!);
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** Up to 3 node names close to `name` (same last segment first, then by edit distance). */
function suggest(name: string, ids: readonly string[]): string[] {
  const last = name.split('/').pop() ?? name;
  const max = Math.max(2, Math.floor(name.length / 5));
  const scored: { id: string; d: number }[] = [];
  for (const id of ids) {
    const d = editDistance(name, id, max);
    if (d <= max) scored.push({ id, d });
    else if (last.length >= 3 && id.endsWith(`/${last}`)) scored.push({ id, d: max + 1 });
  }
  return scored
    .sort((a, b) => a.d - b.d || a.id.localeCompare(b.id))
    .slice(0, 3)
    .map((x) => x.id);
}

/**
 * Check each name against the graph. Accepted as they are: node names. Mapped to a node: the same
 * name with or without the leading "/" torch puts on node names, the name of a tensor (the node
 * that produces it), and a name cut short in a log (`truncated`: a prefix of exactly one node name).
 */
export function checkNodeNames(names: readonly string[], graph: NodeNameGraph, opts: { truncated?: boolean } = {}): NameCheck[] {
  const ids = graph.nodes.map((n) => n.id);
  const idSet = new Set(ids);
  const producer = new Map<string, string>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) producer.set(o, n.id);
  return names.map((name, i): NameCheck => {
    if (idSet.has(name)) return { name, status: 'ok', node: name };
    const alt = name.startsWith('/') ? name.slice(1) : `/${name}`;
    if (idSet.has(alt))
      return { name, status: 'mapped', node: alt, how: name.startsWith('/') ? 'without the leading "/"' : 'with the leading "/" of the ONNX node name' };
    const p = producer.get(name) ?? producer.get(alt);
    if (p) return { name, status: 'mapped', node: p, how: `the node that produces tensor "${name}"` };
    // a name cut short in a log: only when the list was cut, only its last entry, only a unique completion
    if (opts.truncated && i === names.length - 1 && name.length >= 8) {
      const cands = ids.filter((id) => id.startsWith(name) || id.startsWith(alt));
      if (cands.length === 1) return { name, status: 'mapped', node: cands[0]!, how: 'the only node whose name starts with this cut-short name' };
    }
    const suggestions = suggest(name, ids);
    return {
      name,
      status: 'missing',
      why: `no node of the ONNX model is named "${name}"${suggestions.length ? ` (did you mean ${suggestions.map((s) => `"${s}"`).join(', ')}?)` : ''}`,
      suggestions,
    };
  });
}

/** One sentence per missing name, for errors and diagnostics. */
export function missingNamesText(checks: readonly NameCheck[], what: string, file: string): string | undefined {
  const missing = checks.filter((c): c is Extract<NameCheck, { status: 'missing' }> => c.status === 'missing');
  if (!missing.length) return undefined;
  return `${missing.length} of the ${what} ${missing.length === 1 ? 'is' : 'are'} not in ${file}: ${missing.map((m) => m.why).join('; ')}.`;
}
