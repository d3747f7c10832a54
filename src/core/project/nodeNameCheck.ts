import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jsonc from 'jsonc-parser';
import { checkNodeNames } from '../analysis/nodeNames';
import { errorMessage } from '../errors';
import { openOnnx } from '../onnx';
import type { ProjectProblem } from './load';
import { modelPaths } from './load';
import type { ProjectFile } from './schema';

/**
 * `startNodes`/`endNodes` of each model checked against its ONNX, when the ONNX exists: a name
 * the model does not have is an error (the parse would fail on it), a name that matches a node
 * only another way (without the leading "/", a tensor name) is information.
 */
export interface NodeNameProblem extends Omit<ProjectProblem, 'severity'> {
  severity: 'error' | 'warning' | 'info';
}

export async function nodeNameProblems(project: ProjectFile, projectFile: string, text: string): Promise<NodeNameProblem[]> {
  const root = path.dirname(projectFile);
  const tree = jsonc.parseTree(text, [], { allowTrailingComma: true });
  const out: NodeNameProblem[] = [];
  for (const [mi, m] of project.models.entries()) {
    const lists = (['startNodes', 'endNodes'] as const).filter((k) => m[k]?.length);
    if (!lists.length) continue;
    const onnx = modelPaths(m, root).onnx;
    if (!fs.existsSync(onnx)) continue; // nothing to check against yet
    let graph;
    try {
      graph = (await openOnnx(onnx)).graph;
    } catch (e) {
      const at = ['models', mi, 'onnx'];
      out.push({
        message: `model "${m.name}": ${lists.join(' and ')} not checked: ${errorMessage(e).split('\n')[0]}`,
        path: at,
        ...span(tree, at),
        severity: 'warning',
      });
      continue;
    }
    for (const key of lists) {
      checkNodeNames(m[key]!, graph).forEach((c, i) => {
        if (c.status === 'ok') return;
        const at = ['models', mi, key, i];
        const message =
          c.status === 'missing'
            ? `model "${m.name}": ${key}[${i}] "${c.name}": ${c.why.replace('no node of the ONNX model', `no node of ${m.onnx}`)}`
            : `model "${m.name}": ${key}[${i}] "${c.name}" is not a node name of ${m.onnx} as written; it matches "${c.node}" (${c.how})`;
        out.push({ message, path: at, ...span(tree, at), severity: c.status === 'missing' ? 'error' : 'info' });
      });
    }
  }
  return out;
}

function span(tree: jsonc.Node | undefined, at: (string | number)[]): { offset: number; length: number } {
  const n = tree ? jsonc.findNodeAtLocation(tree, at) : undefined;
  return { offset: n?.offset ?? 0, length: n?.length ?? 0 };
}
