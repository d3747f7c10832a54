import * as jsonc from 'jsonc-parser';

/**
 * The mechanical fixes behind lint findings, as text edits (vscode-free): set a model's opset to
 * 17 or remove its `dynamicAxes` in hailo.json, add the line a rule recommends to the model's
 * `.alls` script. The code-action adapter turns them into quick fixes.
 */

export interface TextEdit {
  offset: number;
  length: number;
  content: string;
}

/** What hailo.json says of the model a finding belongs to (a project `Model` fits). */
export interface FixModel {
  name: string;
  opset?: number | undefined;
  dynamicAxes?: Record<string, Record<string, string>> | undefined;
  modelScript?: string | undefined;
  onnx: string;
}

export type ProjectChange = { kind: 'opset'; opset: number } | { kind: 'removeDynamicAxes' } | { kind: 'modelScript'; path: string };

export type FixPlan = { title: string; kind: 'project'; change: ProjectChange } | { title: string; kind: 'alls'; lines: string[] };

/** Hailo's transformer recipe lines, as in its Whisper encoder scripts (reference alls-samples). */
export const LAYER_NORM_ALLS = 'pre_quantization_optimization(layer_norm_decomposition, bit_decomposition_mode=uniform_precision, equalization=disabled)';
export const MATMUL_ALLS = [
  'pre_quantization_optimization(matmul_correction, layers={matmul*}, correction_type=zp_comp_block)',
  'pre_quantization_optimization(matmul_equalization, layers={matmul*}, matmul_bias=enabled)',
];

/** The quick fixes a finding offers, given its code and message and the model it belongs to. */
export function fixesFor(code: string, message: string, model: FixModel): FixPlan[] {
  const out: FixPlan[] = [];
  const opset = model.opset ?? 17;
  const setOpset17: FixPlan = { title: `Set "opset": 17 for model "${model.name}" in hailo.json`, kind: 'project', change: { kind: 'opset', opset: 17 } };
  if (code === 'HW007' && /opset \d+/.test(message) && opset !== 17) out.push(setOpset17);
  if (code === 'HW011' && opset < 17) out.push(setOpset17);
  if (code === 'HW001' && model.dynamicAxes && Object.keys(model.dynamicAxes).length && /^Graph input/.test(message)) {
    out.push({ title: `Remove "dynamicAxes" from model "${model.name}" in hailo.json`, kind: 'project', change: { kind: 'removeDynamicAxes' } });
  }
  if (code === 'HW010' && !/more than the last axis/.test(message)) {
    out.push({ title: `Add Hailo's LayerNorm recipe to ${model.modelScript ?? 'a new model script'}`, kind: 'alls', lines: [LAYER_NORM_ALLS] });
  }
  if (code === 'HW013') {
    out.push({ title: `Add Hailo's attention MatMul recipe to ${model.modelScript ?? 'a new model script'}`, kind: 'alls', lines: MATMUL_ALLS });
  }
  return out;
}

function formatting(text: string): jsonc.FormattingOptions {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /\n( +|\t)"/.exec(text)?.[1];
  return indent === '\t' ? { insertSpaces: false, tabSize: 1, eol } : { insertSpaces: true, tabSize: indent ? Math.min(indent.length, 8) : 2, eol };
}

/** Index of the named model in `models`, or -1. */
export function modelIndex(projectText: string, modelName: string): number {
  const root = jsonc.parseTree(projectText, [], { allowTrailingComma: true, disallowComments: false });
  const models = root && root.type === 'object' ? jsonc.findNodeAtLocation(root, ['models']) : undefined;
  if (!models || models.type !== 'array' || !models.children) return -1;
  return models.children.findIndex((m) => {
    const n = jsonc.findNodeAtLocation(m, ['name']);
    return n?.type === 'string' && n.value === modelName;
  });
}

/** Edits to hailo.json text that make one change to the named model, keeping comments; undefined when the model is not there. */
export function projectEdits(projectText: string, modelName: string, change: ProjectChange): TextEdit[] | undefined {
  const index = modelIndex(projectText, modelName);
  if (index < 0) return undefined;
  const formattingOptions = formatting(projectText);
  const at = (key: string) => ['models', index, key];
  switch (change.kind) {
    case 'opset':
      return jsonc.modify(projectText, at('opset'), change.opset, { formattingOptions });
    case 'removeDynamicAxes':
      return jsonc.modify(projectText, at('dynamicAxes'), undefined, { formattingOptions });
    case 'modelScript':
      return jsonc.modify(projectText, at('modelScript'), change.path, { formattingOptions });
  }
}

/** Normalised form of an .alls command line for comparison (spaces and comments dropped). */
function normLine(l: string): string {
  return l.replace(/#.*$/, '').replace(/\s+/g, '');
}

/**
 * The text to append to an .alls script so it holds `lines` (those already there are skipped);
 * undefined when every line is present.
 */
export function allsAppend(allsText: string, lines: readonly string[]): TextEdit | undefined {
  const have = new Set(allsText.split(/\r?\n/).map(normLine).filter(Boolean));
  const missing = lines.filter((l) => !have.has(normLine(l)));
  if (!missing.length) return undefined;
  const eol = allsText.includes('\r\n') ? '\r\n' : '\n';
  const lead = allsText.length && !allsText.endsWith('\n') ? eol : '';
  return { offset: allsText.length, length: 0, content: lead + missing.join(eol) + eol };
}

/** Where a new model script goes for a model without one: beside its ONNX, `<onnx stem>.alls`. */
export function defaultModelScript(model: FixModel): string {
  return model.onnx.replace(/\.onnx$/i, '') + '.alls';
}

/**
 * One-line rewrites of the user's Python where the lint's fix is mechanical and keeps the meaning:
 * a spatial mean with keepdim (HW016, "export it as a GlobalAveragePool") becomes
 * `torch.nn.functional.adaptive_avg_pool2d(x, 1)`, which has the same [B, C, 1, 1] result.
 * Undefined when the line does not hold exactly that pattern.
 */
export function pythonLineFix(code: string, message: string, line: string, fileText?: string): { title: string; text: string } | undefined {
  // the names the file has for torch.nn.functional (no import is added)
  let fn = 'torch.nn.functional';
  if (fileText !== undefined) {
    const fAlias = /^\s*import\s+torch\.nn\.functional\s+as\s+(\w+)/m.exec(fileText)?.[1];
    if (fAlias) fn = fAlias;
    else if (/^\s*import\s+torch\b/m.test(fileText)) fn = 'torch.nn.functional';
    else if (/^\s*from\s+torch\s+import\s+[^\n]*\bnn\b/m.test(fileText)) fn = 'nn.functional';
    else return undefined;
  }
  if (code === 'HW016' && /spatial mean/.test(message)) {
    const re = /([A-Za-z_][\w.]*(?:\([^()]*\))?)\.mean\(\s*(?:dim\s*=\s*)?[([]\s*(?:2\s*,\s*3|-2\s*,\s*-1)\s*,?\s*[)\]]\s*,\s*keepdim\s*=\s*True\s*\)/;
    const m = re.exec(line);
    if (!m) return undefined;
    const text = line.slice(0, m.index) + `${fn}.adaptive_avg_pool2d(${m[1]}, 1)` + line.slice(m.index + m[0].length);
    return { title: 'Use adaptive_avg_pool2d(x, 1) (a GlobalAveragePool) instead of the spatial mean', text };
  }
  return undefined;
}
