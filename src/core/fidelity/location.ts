import * as jsonc from 'jsonc-parser';

/**
 * Where a fidelity finding goes in hailo.json: the model's `fidelity` section (its `thresholds`
 * for a limit, `stageThresholds.<stage>` when that stage has its own), else the model's `name`.
 * Offsets into the text; undefined when the model is not in it.
 */
export function fidelityLocation(
  text: string,
  modelName: string,
  opts: { stage?: string; limit?: boolean } = {},
): { offset: number; length: number } | undefined {
  const root = jsonc.parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!root) return undefined;
  const models = jsonc.findNodeAtLocation(root, ['models']);
  const index = (models?.children ?? []).findIndex((m) => jsonc.findNodeAtLocation(m, ['name'])?.value === modelName);
  if (index < 0) return undefined;
  const paths: (string | number)[][] = [];
  if (opts.limit && opts.stage) paths.push(['models', index, 'fidelity', 'stageThresholds', opts.stage]);
  if (opts.limit) paths.push(['models', index, 'fidelity', 'thresholds']);
  paths.push(['models', index, 'fidelity'], ['models', index, 'name']);
  for (const p of paths) {
    const n = jsonc.findNodeAtLocation(root, p);
    if (!n) continue;
    // the key of a property reads better than a whole object
    const key = n.parent?.type === 'property' ? n.parent.children?.[0] : undefined;
    const at = key ?? n;
    return { offset: at.offset, length: at.length };
  }
  return undefined;
}
