import * as jsonc from 'jsonc-parser';
import * as path from 'node:path';
import { HailoError } from '../errors';
import { checkJsonShape } from '../limits';
import { readRegularTextFile } from '../regularFile';
import { ProjectFile, type Model } from './schema';

/** A problem in the project file, located by JSON path and by character offsets. */
export interface ProjectProblem {
  message: string;
  /** JSON path, e.g. ["models", 0, "inputs", 1, "shape"]. */
  path: (string | number)[];
  offset: number;
  length: number;
  severity: 'error' | 'warning';
}

export interface ParsedProject {
  file: string;
  /** Undefined when the file has problems that make it unusable. */
  project: ProjectFile | undefined;
  problems: ProjectProblem[];
  text: string;
}

/** jsonc-parser's ParseErrorCode values (a const enum, so written out here) and their text. */
const PARSE_ERROR_TEXT: Record<number, string> = {
  1: 'invalid symbol',
  2: 'invalid number',
  3: 'property name expected',
  4: 'value expected',
  5: 'colon expected',
  6: 'comma expected',
  7: 'closing brace expected',
  8: 'closing bracket expected',
  9: 'end of file expected',
  10: 'invalid comment',
  11: 'unexpected end of comment',
  12: 'unexpected end of string',
  13: 'unexpected end of number',
  14: 'invalid unicode escape',
  15: 'invalid escape character',
  16: 'invalid character',
};

/** Parse and validate project file text (JSONC: comments and trailing commas allowed). */
export function parseProjectText(text: string, file: string): ParsedProject {
  // the JSONC parser and the validator recurse: nesting is bounded before either runs
  const shape = checkJsonShape(text, { comments: true });
  if (shape)
    return {
      file,
      project: undefined,
      problems: [{ message: `JSON ${shape.message}; not a project file`, path: [], offset: shape.offset, length: 1, severity: 'error' }],
      text,
    };
  const errors: jsonc.ParseError[] = [];
  const root = jsonc.parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const problems: ProjectProblem[] = errors.map((e) => ({
    message: `JSON syntax: ${PARSE_ERROR_TEXT[e.error] ?? 'error'}`,
    path: [],
    offset: e.offset,
    length: Math.max(1, e.length),
    severity: 'error',
  }));
  if (!root || errors.length) return { file, project: undefined, problems, text };

  const value: unknown = jsonc.getNodeValue(root);
  const result = ProjectFile.safeParse(value);
  if (result.success) return { file, project: result.data, problems, text };

  for (const issue of result.error.issues) {
    const p = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    // unknown keys: point at the key itself, not the enclosing object
    if (issue.code === 'unrecognized_keys') {
      const parent = jsonc.findNodeAtLocation(root, p);
      for (const key of issue.keys) {
        const prop = parent?.children?.find((c) => c.children?.[0]?.value === key)?.children?.[0];
        problems.push({
          message: `unknown property "${key}"`,
          path: [...p, key],
          offset: prop?.offset ?? parent?.offset ?? 0,
          length: prop?.length ?? 1,
          severity: 'error',
        });
      }
      continue;
    }
    const { node, exact } = nearestNode(root, p);
    const where = exact ? '' : ` (at ${formatPath(p)})`;
    problems.push({
      message: `${formatPath(p)}: ${issue.message}${where && !p.length ? '' : ''}`,
      path: p,
      offset: node.offset,
      length: node.type === 'object' || node.type === 'array' ? 1 : node.length,
      severity: 'error',
    });
  }
  return { file, project: undefined, problems, text };
}

function nearestNode(root: jsonc.Node, p: (string | number)[]): { node: jsonc.Node; exact: boolean } {
  for (let n = p.length; n >= 0; n--) {
    const node = jsonc.findNodeAtLocation(root, p.slice(0, n));
    if (node) {
      // point at the property key when the value is missing or is a container
      return { node, exact: n === p.length };
    }
  }
  return { node: root, exact: false };
}

export function formatPath(p: (string | number)[]): string {
  if (!p.length) return '(root)';
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

/** Read and validate a project file from disk. Throws PROJECT_NOT_FOUND when it is missing. */
export async function loadProjectFile(file: string): Promise<ParsedProject> {
  let text: string;
  try {
    text = await readRegularTextFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTREG') throw new HailoError('PROJECT_INVALID', (e as Error).message, { file, cause: e });
    throw new HailoError('PROJECT_NOT_FOUND', `${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? e})`}`, { file, cause: e });
  }
  return parseProjectText(text, file);
}

/** Like loadProjectFile, but throws PROJECT_INVALID with every problem when the file is invalid. */
export async function requireProject(file: string): Promise<{ project: ProjectFile; root: string }> {
  const parsed = await loadProjectFile(file);
  if (!parsed.project) {
    const lines = parsed.problems.map((p) => `  ${lineOf(parsed.text, p.offset)}: ${p.message}`);
    throw new HailoError('PROJECT_INVALID', `${file} is not a valid project file:\n${lines.join('\n')}`, { file });
  }
  return { project: parsed.project, root: path.dirname(file) };
}

/** Line starts of the last text asked about: many problems in one file cost one pass, not one pass each. */
let lineCache: { text: string; starts: number[] } | undefined;

/** "line:column" (1-based) of a character offset, by binary search over a line index. */
export function lineOf(text: string, offset: number): string {
  if (lineCache?.text !== text) {
    const starts = [0];
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    lineCache = { text, starts };
  }
  const { starts } = lineCache;
  const at = Math.max(0, Math.min(offset, text.length));
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return `${lo + 1}:${at - starts[lo]! + 1}`;
}

export function findModel(project: ProjectFile, name: string | undefined): Model {
  if (!project.models.length) throw new HailoError('INVALID_ARGUMENT', 'the project file has no models');
  if (name === undefined) {
    if (project.models.length === 1) return project.models[0]!;
    throw new HailoError('INVALID_ARGUMENT', `several models in the project file; choose one of: ${project.models.map((m) => m.name).join(', ')}`);
  }
  const m = project.models.find((x) => x.name === name);
  if (!m) throw new HailoError('INVALID_ARGUMENT', `no model named "${name}" (have: ${project.models.map((x) => x.name).join(', ')})`);
  return m;
}

/** Resolved artifact paths of a model, absolute. */
export function modelPaths(model: Model, projectRoot: string) {
  const abs = (p: string) => path.resolve(projectRoot, p);
  const onnx = abs(model.onnx);
  const stem = onnx.replace(/\.onnx$/i, '');
  return {
    onnx,
    har: model.har ? abs(model.har) : `${stem}.har`,
    hef: model.hef ? abs(model.hef) : `${stem}.hef`,
    modelScript: model.modelScript ? abs(model.modelScript) : undefined,
    calibSet: model.calibSet ? abs(model.calibSet) : undefined,
    sourceMap: `${onnx}.sourcemap.json`,
  };
}
