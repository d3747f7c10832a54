/**
 * Just enough Python reading for CodeLenses: top-level classes that subclass `nn.Module` and
 * top-level functions, with what a factory returns when that is a plain `return ClassName(...)`.
 * Regex and indentation based on purpose; it never executes or imports the user's code.
 */
import * as jsonc from 'jsonc-parser';

export interface PyClass {
  name: string;
  /** 0-based line of the `class` statement. */
  line: number;
  bases: string[];
  /** Subclasses torch.nn.Module directly (nn.Module, torch.nn.Module, Module imported from torch.nn). */
  isModule: boolean;
  /** `__init__` takes no arguments besides self (or every one has a default), or there is no __init__. */
  noArgInit: boolean;
}

export interface PyFunction {
  name: string;
  line: number;
  /** Has no required parameters. */
  noArgs: boolean;
  /** Class names the body returns as `return Name(...)`. */
  returns: string[];
}

export interface PySourceOutline {
  classes: PyClass[];
  functions: PyFunction[];
}

const CLASS_RE = /^class\s+([A-Za-z_]\w*)\s*(?:\(([^)]*)\))?\s*:/;
const DEF_RE = /^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/;
const RETURN_CALL_RE = /^\s+return\s+([A-Za-z_][\w.]*)\s*\(/;

/** Text of a `def` signature from its line to the closing parenthesis (may span lines). */
function signature(lines: string[], start: number): { params: string; end: number } {
  let depth = 0;
  let text = '';
  for (let i = start; i < lines.length && i < start + 50; i++) {
    const l = lines[i]!.replace(/#.*$/, '');
    for (const ch of l) {
      if (ch === '(') depth++;
      if (depth > 0) text += ch;
      if (ch === ')') {
        depth--;
        if (depth === 0) return { params: text.slice(1, -1), end: i };
      }
    }
    text += ' ';
  }
  return { params: text.slice(1), end: start };
}

/** Split parameters at top-level commas (defaults may hold calls and tuples). */
function splitParams(params: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of params) {
    if ('([{'.includes(ch)) depth++;
    if (')]}'.includes(ch)) depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function requiredParams(params: string, dropSelf: boolean): string[] {
  const ps = splitParams(params);
  if (dropSelf) ps.shift();
  return ps.filter((p) => p !== '/' && p !== '*' && !p.startsWith('*') && !p.includes('='));
}

function moduleNames(text: string): { moduleBases: Set<string> } {
  // names that mean torch.nn.Module in this file
  const bases = new Set(['nn.Module', 'torch.nn.Module']);
  const m = /^from\s+torch\.nn\s+import\s+(.+)$/m.exec(text);
  if (m) {
    for (const part of m[1]!.replace(/[()]/g, '').split(',')) {
      const [name, alias] = part.trim().split(/\s+as\s+/);
      if (name === 'Module') bases.add(alias ?? 'Module');
    }
  }
  for (const a of text.matchAll(/^import\s+torch\.nn\s+as\s+(\w+)/gm)) bases.add(`${a[1]}.Module`);
  for (const a of text.matchAll(/^from\s+torch\s+import\s+nn\s+as\s+(\w+)/gm)) bases.add(`${a[1]}.Module`);
  return { moduleBases: bases };
}

export function outlinePython(text: string): PySourceOutline {
  const lines = text.split(/\r?\n/);
  const { moduleBases } = moduleNames(text);
  const classes: PyClass[] = [];
  const functions: PyFunction[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const c = CLASS_RE.exec(l);
    if (c) {
      const bases = (c[2] ?? '')
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean);
      // the class body: following lines indented more than column 0 (or blank/comments)
      let noArgInit = true;
      for (let j = i + 1; j < lines.length; j++) {
        const b = lines[j]!;
        if (b.trim() && !/^\s/.test(b) && !b.trimStart().startsWith('#')) break;
        const d = /^(\s+)def\s+__init__\s*\(/.exec(b);
        if (d) {
          noArgInit = requiredParams(signature(lines, j).params, true).length === 0;
          break;
        }
      }
      classes.push({ name: c[1]!, line: i, bases, isModule: bases.some((b) => moduleBases.has(b)), noArgInit });
      continue;
    }
    const d = DEF_RE.exec(l);
    if (d) {
      const sig = signature(lines, i);
      const returns: string[] = [];
      for (let j = sig.end + 1; j < lines.length; j++) {
        const b = lines[j]!;
        if (b.trim() && !/^\s/.test(b) && !b.trimStart().startsWith('#')) break;
        const r = RETURN_CALL_RE.exec(b);
        if (r) returns.push(r[1]!.split('.').pop()!);
      }
      functions.push({ name: d[1]!, line: i, noArgs: requiredParams(sig.params, false).length === 0, returns });
    }
  }
  // classes that subclass a Module subclass defined in the same file are Modules too
  let changed = true;
  while (changed) {
    changed = false;
    const mods = new Set(classes.filter((c) => c.isModule).map((c) => c.name));
    for (const c of classes) {
      if (!c.isModule && c.bases.some((b) => mods.has(b))) {
        c.isModule = true;
        changed = true;
      }
    }
  }
  return { classes, functions };
}

/** `pkg/sub/mod.py` (relative to the project root) -> "pkg.sub.mod"; `pkg/__init__.py` -> "pkg". */
export function moduleNameOf(relativePath: string): string | undefined {
  const p = relativePath.replace(/\\/g, '/');
  if (!p.endsWith('.py') || p.startsWith('../') || p.startsWith('/')) return undefined;
  const parts = p.slice(0, -3).split('/');
  if (parts.at(-1) === '__init__') parts.pop();
  if (!parts.length || parts.some((x) => !/^[A-Za-z_]\w*$/.test(x))) return undefined;
  return parts.join('.');
}

export interface ExportLens {
  line: number;
  kind: 'export' | 'add';
  /** For "export": the model name in hailo.json. */
  model?: string;
  /** For "add": the class and the entry that would be written. */
  className?: string;
  entry?: string;
}

/**
 * The lenses of a Python file: "Export to ONNX" on the factory named by a model entry and on the
 * class it returns; "Add to hailo.json" on the other nn.Module classes (with the entry that would
 * be written: `module:Class` for a no-argument constructor, else a no-argument factory returning
 * it; none when neither exists).
 */
export function exportLenses(outline: PySourceOutline, moduleName: string, models: { name: string; entry?: string }[]): ExportLens[] {
  const lenses: ExportLens[] = [];
  const named = new Set<string>();
  for (const m of models) {
    if (!m.entry) continue;
    const [mod, fn] = m.entry.split(':');
    if (mod !== moduleName || !fn) continue;
    const f = outline.functions.find((x) => x.name === fn);
    const cls = outline.classes.find((x) => x.name === fn);
    if (f) {
      lenses.push({ line: f.line, kind: 'export', model: m.name });
      named.add(fn);
      for (const r of f.returns) {
        const c = outline.classes.find((x) => x.name === r && x.isModule);
        if (c && !named.has(c.name)) {
          lenses.push({ line: c.line, kind: 'export', model: m.name });
          named.add(c.name);
        }
      }
    } else if (cls) {
      lenses.push({ line: cls.line, kind: 'export', model: m.name });
      named.add(cls.name);
    }
  }
  for (const c of outline.classes) {
    if (!c.isModule || named.has(c.name)) continue;
    const factory = outline.functions.find((f) => f.noArgs && f.returns.includes(c.name));
    const entry = c.noArgInit ? `${moduleName}:${c.name}` : factory ? `${moduleName}:${factory.name}` : undefined;
    lenses.push({ line: c.line, kind: 'add', className: c.name, ...(entry ? { entry } : {}) });
  }
  return lenses.sort((a, b) => a.line - b.line);
}

/** A model name from a class name: "AudioEncoder" -> "audio-encoder". */
export function modelNameFromClass(className: string): string {
  return className
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]/g, '-');
}

export interface NewModelEntry {
  name: string;
  entry: string;
  inputs: { name: string; shape: number[] }[];
  /** The outputs the module returned when it ran once (names the export uses, shapes the lint checks). */
  outputs?: { name: string; shape: number[] }[];
  onnx: string;
}

/** A model entry as JSON text, one key per line, small arrays inline. */
function modelJson(model: NewModelEntry, indent: string, eol: string): string {
  const inner = indent + '  ';
  const inputs = model.inputs.map((i) => `{ "name": ${JSON.stringify(i.name)}, "shape": [${i.shape.join(', ')}] }`).join(', ');
  return [
    '{',
    `${inner}"name": ${JSON.stringify(model.name)},`,
    `${inner}"entry": ${JSON.stringify(model.entry)},`,
    `${inner}"inputs": [${inputs}],`,
    ...(model.outputs?.length
      ? [`${inner}"outputs": [${model.outputs.map((o) => `{ "name": ${JSON.stringify(o.name)}, "shape": [${o.shape.join(', ')}] }`).join(', ')}],`]
      : []),
    `${inner}"onnx": ${JSON.stringify(model.onnx)}`,
    `${indent}}`,
  ].join(eol);
}

/**
 * Text edits that append a model to `models` in hailo.json text, keeping every comment and the
 * formatting of what is there (creates `models` when missing). Throws when the name is taken or
 * the text is not a JSON object.
 */
export function addModelEdits(text: string, model: NewModelEntry, eol = '\n'): jsonc.Edit[] {
  const errors: jsonc.ParseError[] = [];
  const tree = jsonc.parseTree(text, errors, { allowTrailingComma: true });
  if (!tree || tree.type !== 'object' || errors.length) throw new Error('hailo.json is not a valid JSON object; fix it first');
  const models = jsonc.findNodeAtLocation(tree, ['models']);
  if (!models) {
    return jsonc.modify(text, ['models'], [model], { formattingOptions: { insertSpaces: true, tabSize: 2, eol } });
  }
  if (models.type !== 'array') throw new Error('"models" in hailo.json is not an array');
  const existing = jsonc.getNodeValue(models) as { name?: string }[];
  if (existing.some((m) => m?.name === model.name)) throw new Error(`a model named "${model.name}" already exists in hailo.json`);
  const lineStart = (offset: number) => text.lastIndexOf('\n', offset - 1) + 1;
  const indentAt = (offset: number) => /^[ \t]*/.exec(text.slice(lineStart(offset)))![0];
  const last = models.children?.at(-1);
  if (!last) {
    const base = indentAt(models.offset);
    return [{ offset: models.offset, length: models.length, content: `[${eol}${base}  ${modelJson(model, base + '  ', eol)}${eol}${base}]` }];
  }
  const indent = indentAt(last.offset);
  const end = last.offset + last.length;
  // after the last element: an optional comma and a comment on the same line stay with it
  const tail = /^([ \t]*)(,?)([ \t]*(?:\/\/[^\n]*|\/\*.*?\*\/)?)/.exec(text.slice(end))!;
  const edits: jsonc.Edit[] = [];
  if (!tail[2]) edits.push({ offset: end, length: 0, content: ',' });
  const at = end + tail[0].length;
  edits.push({ offset: at, length: 0, content: `${eol}${indent}${modelJson(model, indent, eol)}${tail[2] ? ',' : ''}` });
  return edits;
}
