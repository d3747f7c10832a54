import * as jsonc from 'jsonc-parser';
import * as path from 'node:path';
import type { ProjectFile } from '../project/schema';

/**
 * What the editor does with a DFC log beyond placing its findings (src/core/placement.ts): find the
 * hailo.json model the log belongs to, and write the parser's recommended end nodes into it.
 */

export { END_NODES_CODE } from '../placement';

/** The model of hailo.json a log belongs to: by explicit name, by ONNX path, by network name. */
export function modelForLog(project: ProjectFile, projectRoot: string, hint: { modelName?: string; onnxFile?: string; netName?: string }): string | undefined {
  const models = project.models;
  if (hint.modelName && models.some((m) => m.name === hint.modelName)) return hint.modelName;
  if (hint.onnxFile) {
    const want = path.resolve(hint.onnxFile);
    const m = models.find((x) => path.resolve(projectRoot, x.onnx) === want);
    if (m) return m.name;
  }
  if (hint.netName) {
    const m = models.find((x) => (x.netName ?? x.name) === hint.netName) ?? models.find((x) => path.basename(x.onnx).replace(/\.onnx$/i, '') === hint.netName);
    if (m) return m.name;
  }
  return models.length === 1 ? models[0]!.name : undefined;
}

/**
 * Edits that set `models[i].endNodes` of the named model in hailo.json text, keeping comments and
 * formatting. Undefined when the model is not in the file or the file is not a JSON object.
 */
export function endNodesEdits(projectText: string, modelName: string, nodes: string[]): jsonc.Edit[] | undefined {
  const root = jsonc.parseTree(projectText, [], { allowTrailingComma: true, disallowComments: false });
  if (!root || root.type !== 'object') return undefined;
  const models = jsonc.findNodeAtLocation(root, ['models']);
  if (!models || models.type !== 'array' || !models.children) return undefined;
  const index = models.children.findIndex((m) => {
    const n = jsonc.findNodeAtLocation(m, ['name']);
    return n?.type === 'string' && n.value === modelName;
  });
  if (index < 0) return undefined;
  const eol = projectText.includes('\r\n') ? '\r\n' : '\n';
  const indent = /\n( +|\t)"/.exec(projectText)?.[1];
  const formattingOptions: jsonc.FormattingOptions =
    indent === '\t' ? { insertSpaces: false, tabSize: 1, eol } : { insertSpaces: true, tabSize: indent ? Math.min(indent.length, 8) : 2, eol };
  return jsonc.modify(projectText, ['models', index, 'endNodes'], nodes, { formattingOptions });
}
