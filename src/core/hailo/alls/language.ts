import type { SourceLocation } from '../../graph/model';
import {
  allCommands,
  commandMarkdown,
  commandSpec,
  paramMarkdown,
  paramsFor,
  positionalFor,
  sectionMarkdown,
  type CommandSpec,
  type ParamSpec,
  type PositionalSpec,
} from './commands';
import { LayerIndex, layerDetail, layerMarkdown, type CatalogLayer, type LayerCatalog } from './layers';
import { lineColumn, tokenize, type Script, type Span, type Statement, type Token } from './parser';

/**
 * Completion, hover and go-to-definition for model scripts, free of the VS Code API: the adapter
 * maps these plain results onto CompletionItem, Hover and Location.
 */

export interface LanguageContext {
  catalog?: LayerCatalog;
  index?: LayerIndex;
}

export type CompletionKind = 'command' | 'keyword' | 'value' | 'section' | 'layer' | 'pattern';

export interface CompletionEntry {
  label: string;
  kind: CompletionKind;
  detail?: string;
  /** Markdown. */
  documentation?: string;
  /** Text to insert; a snippet (with $1, $0) when `snippet` is set. */
  insertText?: string;
  snippet?: boolean;
  sortText?: string;
  /** Open the completion list again after inserting (after `key=`). */
  retrigger?: boolean;
}

export interface CompletionResult {
  /** The text the chosen item replaces (the partly typed word). */
  replace: Span;
  items: CompletionEntry[];
}

export interface HoverResult {
  span: Span;
  markdown: string;
}

export type DefinitionTarget =
  | { kind: 'source'; location: SourceLocation; layer: string }
  | { kind: 'script'; span: Span; layer: string }
  | { kind: 'onnx'; file?: string; node: string; layer: string };

/** What a token is in its statement. */
interface TokenRole {
  token: Token;
  role: 'target' | 'object' | 'command' | 'key' | 'value' | 'other';
  cmd?: CommandSpec;
  cmdName?: string;
  section?: string;
  /** For values: the keyword they belong to, or the positional index. */
  key?: string;
  positional?: number;
  /** Number of positional arguments in the whole statement (for alignEnd commands). */
  positionalCount?: number;
  depth: number;
}

/**
 * Walk the tokens of one statement (or of its beginning, up to the cursor) and tell each token's
 * role. Tolerant of every syntax error: it only tracks brackets, commas and "=".
 */
function walk(tokens: Token[]): { roles: TokenRole[]; state: WalkState } {
  const roles: TokenRole[] = [];
  const st: WalkState = { depth: 0, afterAssign: false, positional: 0, key: undefined, closed: false, argHasContent: false, usedKeys: new Set() };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    const base = {
      token: t,
      depth: st.depth,
      ...(st.cmd ? { cmd: st.cmd } : {}),
      ...(st.cmdName ? { cmdName: st.cmdName } : {}),
      ...(st.section ? { section: st.section } : {}),
    };
    if (st.depth === 0) {
      if (t.kind === 'punct' && t.text === '=') {
        st.afterAssign = true;
        roles.push({ ...base, role: 'other' });
      } else if (t.kind === 'punct' && t.text === '(') {
        st.depth = 1;
        st.positional = 0;
        st.key = undefined;
        st.argHasContent = false;
        roles.push({ ...base, role: 'other' });
      } else if (t.kind === 'name' && next?.kind === 'punct' && next.text === '.') {
        roles.push({ ...base, role: 'object' });
      } else if (t.kind === 'name' && next?.kind === 'punct' && next.text === '(') {
        st.cmdName = t.text;
        st.cmd = commandSpec(t.text);
        roles.push({ ...base, cmdName: t.text, ...(st.cmd ? { cmd: st.cmd } : {}), role: 'command' });
      } else if ((t.kind === 'name' || t.kind === 'pattern') && !st.afterAssign && !st.cmdName) {
        roles.push({ ...base, role: 'target' });
      } else if (t.kind === 'punct' && t.text === ')' && st.cmdName) {
        st.closed = true;
        roles.push({ ...base, role: 'other' });
      } else roles.push({ ...base, role: 'other' });
      continue;
    }
    // inside the argument list
    if (t.kind === 'punct' && (t.text === '(' || t.text === '[')) {
      st.depth++;
      st.argHasContent = true;
      roles.push({ ...base, role: 'other' });
      continue;
    }
    if (t.kind === 'punct' && (t.text === ')' || t.text === ']')) {
      st.depth--;
      roles.push({ ...base, role: 'other' });
      if (st.depth === 0) {
        if (st.argHasContent && st.key === undefined) st.positional++;
        st.closed = true;
      }
      continue;
    }
    if (st.depth === 1 && t.kind === 'punct' && t.text === ',') {
      if (st.argHasContent && st.key === undefined) st.positional++;
      st.key = undefined;
      st.argHasContent = false;
      roles.push({ ...base, role: 'other' });
      continue;
    }
    if (st.depth === 1 && t.kind === 'name' && next?.kind === 'punct' && next.text === '=') {
      st.key = t.text;
      st.usedKeys.add(t.text);
      roles.push({ ...base, role: 'key', key: t.text });
      continue;
    }
    if (t.kind === 'punct' && t.text === '=') {
      roles.push({ ...base, role: 'other' });
      continue;
    }
    if (st.depth === 1 && st.key === undefined && st.positional === 0 && !st.argHasContent && t.kind === 'name' && st.cmd?.sections) st.section = t.text;
    roles.push({
      ...base,
      ...(st.section ? { section: st.section } : {}),
      role: 'value',
      ...(st.key !== undefined ? { key: st.key } : { positional: st.positional }),
    });
    st.argHasContent = true;
  }
  return { roles, state: st };
}

interface WalkState {
  depth: number;
  afterAssign: boolean;
  cmd?: CommandSpec;
  cmdName?: string;
  section?: string;
  positional: number;
  key: string | undefined;
  closed: boolean;
  argHasContent: boolean;
  usedKeys: Set<string>;
}

/** Offset where the statement around `offset` starts (for completion in half-typed text). */
function statementStart(script: Script, offset: number): number {
  let best: Statement | undefined;
  for (const s of script.statements) {
    if (s.start > offset) break;
    best = s;
  }
  const lineStart = script.text.lastIndexOf('\n', offset - 1) + 1;
  if (!best) return lineStart;
  // a statement whose "(" is still open continues onto later lines, unless this line starts a new
  // word at column 0 (Hailo's wrapped lines are indented; a new command is not)
  const unclosed = best.open !== undefined && best.close === undefined;
  if (unclosed && best.start < lineStart && /^(?:[A-Za-z_]\w*)?$/.test(script.text.slice(lineStart, offset))) return lineStart;
  if (offset <= best.end || unclosed) return best.start;
  return lineStart;
}

function positionalCountOf(script: Script, offset: number): number | undefined {
  for (const s of script.statements) if (offset >= s.start && offset <= s.end) return s.args.filter((a) => !a.key).length;
  return undefined;
}

/** Names the script creates (left of "="), with the statement that creates each. */
function scriptDefinitions(script: Script): Map<string, { span: Span; statement: Statement }> {
  const out = new Map<string, { span: Span; statement: Statement }>();
  for (const s of script.statements) for (const t of s.targets ?? []) if (!out.has(t.text)) out.set(t.text, { span: t, statement: s });
  return out;
}

function indexOf(ctx: LanguageContext): LayerIndex | undefined {
  return ctx.index ?? (ctx.catalog ? new LayerIndex(ctx.catalog) : undefined);
}

// ------------------------------------------------------------------------------------ completion

export function complete(script: Script, offset: number, ctx: LanguageContext = {}): CompletionResult | undefined {
  const text = script.text;
  const start = statementStart(script, offset);
  // the partly typed word before the cursor (a layer name may hold "/" and "-")
  const word = /[A-Za-z_][A-Za-z0-9_\-/]*$|[-+]?\d[\w.]*$/.exec(text.slice(start, offset));
  const wordStart = word ? offset - word[0].length : offset;
  const tokens = tokenize(text, start, wordStart).filter((t) => t.kind !== 'newline');
  const last = tokens[tokens.length - 1];
  if (last?.kind === 'comment') return undefined;
  if (last?.kind === 'string' && (!last.terminated || last.end === wordStart)) return undefined;

  let replace: Span = { start: wordStart, end: offset };
  const prefix = word?.[0] ?? '';
  let inPattern = false;
  if (last?.kind === 'pattern' && !last.terminated && last.end === wordStart) {
    inPattern = true;
    tokens.pop();
    if (last.text.length > 1) return undefined; // "{conv_*" and more: glob syntax the list cannot help with
  }
  // extend the replaced range over the rest of the word after the cursor
  let end = replace.end;
  while (end < text.length && /[A-Za-z0-9_\-/]/.test(text[end]!)) end++;
  replace = { start: replace.start, end };

  const { state } = walk(tokens);
  const index = indexOf(ctx);
  const defs = scriptDefinitions(script);

  if (state.closed) return undefined;
  if (state.depth === 0) {
    // command position: at the start of a line or after "="
    const prev = tokens[tokens.length - 1];
    if (prev && !(prev.kind === 'punct' && prev.text === '=')) return undefined;
    return { replace, items: commandItems(!state.afterAssign) };
  }
  const cmd = state.cmd;
  if (!cmd) return { replace, items: [] };
  const prev = tokens[tokens.length - 1];
  const layerItemsFor = () => layerItems(index, defs, prefix, inPattern);

  if (inPattern) return { replace, items: layerItemsFor() };

  // value of a keyword: "key=" or "key=[a, " ...
  if (state.key !== undefined) {
    const { params } = paramsFor(cmd, state.section);
    const p = params.find((x) => x.name === state.key);
    if (!p) return { replace, items: [] };
    return { replace, items: valueItems(cmd, p, state.depth > 1, layerItemsFor) };
  }
  // a positional slot or a keyword: after "(" or "," (or inside a positional list)
  const atArgStart = prev?.kind === 'punct' && (prev.text === '(' || prev.text === ',' || prev.text === '[');
  if (!atArgStart) return { replace, items: [] };
  const items: CompletionEntry[] = [];
  if (state.depth === 1 && cmd.sections && state.positional === 0) {
    for (const s of cmd.sections)
      items.push({
        label: s.name,
        kind: 'section',
        detail: `${cmd.name} ${cmd.positional[0]?.name ?? 'section'}`,
        documentation: sectionMarkdown(cmd, s),
        sortText: `0${s.name}`,
      });
    return { replace, items };
  }
  const count = Math.max(positionalCountOf(script, offset) ?? 0, state.positional + 1);
  const slot = cmd.sections ? undefined : cmd.alignEnd ? cmd.positional[state.positional] : positionalFor(cmd, state.positional, count);
  const slotForEnd = cmd.alignEnd && !cmd.sections ? cmd.positional[cmd.positional.length - 1] : undefined;
  if (slot) items.push(...valueItems(cmd, slot, state.depth > 1, layerItemsFor));
  if (slotForEnd && slotForEnd !== slot && state.depth === 1) items.push(...valueItems(cmd, slotForEnd, false, layerItemsFor));
  if (state.depth === 1) {
    const { params } = paramsFor(cmd, state.section);
    for (const p of params) {
      if (state.usedKeys.has(p.name)) continue;
      items.push({
        label: `${p.name}=`,
        kind: 'keyword',
        detail: `${cmd.name}${state.section ? ` ${state.section}` : ''} keyword`,
        documentation: paramMarkdown(cmd, p),
        insertText: `${p.name}=`,
        retrigger: true,
        sortText: `1${p.name}`,
      });
    }
  }
  return { replace, items: dedupe(items) };
}

function commandItems(withAssignment: boolean): CompletionEntry[] {
  return allCommands().map((c) => {
    const target = c.name === 'normalization' ? 'normalization1' : c.name === 'network_group' ? 'net' : `${c.name}1`;
    const assign = withAssignment && (c.assignment === 'required' || c.assignment === 'expected');
    const sortGroup = c.category === 'compiler' ? '2' : c.category === 'quantization' ? '1' : '0';
    return {
      label: c.name,
      kind: 'command' as const,
      detail: c.signature,
      documentation: commandMarkdown(c),
      insertText: assign ? `\${1:${target}} = ${c.name}($0)` : `${c.name}($0)`,
      snippet: true,
      sortText: `${sortGroup}${c.name}`,
      retrigger: true,
    };
  });
}

function valueItems(cmd: CommandSpec, spec: ParamSpec | PositionalSpec, inList: boolean, layers: () => CompletionEntry[]): CompletionEntry[] {
  switch (spec.kind) {
    case 'layer':
    case 'layers':
      if (!inList && spec.kind === 'layers') {
        return [...layers(), { label: '{*}', kind: 'pattern', detail: 'every layer', insertText: '{*}', sortText: '9{*}' }];
      }
      return layers();
    default: {
      const values = spec.values ?? [];
      return values.map((v) => ({
        label: v,
        kind: 'value' as const,
        detail: `${'name' in spec ? spec.name : ''} of ${cmd.name}`,
        documentation: spec.doc,
        sortText: `0${v}`,
      }));
    }
  }
}

function layerItems(
  index: LayerIndex | undefined,
  defs: Map<string, { span: Span; statement: Statement }>,
  prefix: string,
  inPattern: boolean,
): CompletionEntry[] {
  const items: CompletionEntry[] = [];
  const scoped = prefix.includes('/');
  if (index) {
    for (const l of index.catalog.layers) {
      const label = scoped ? l.scopedName : l.name;
      items.push({ label, kind: 'layer', detail: layerDetail(l), documentation: layerMarkdown(l, index.catalog), sortText: `0${sortKey(l.name)}` });
    }
    if (!scoped)
      for (const s of index.scopes)
        items.push({ label: `${s}/`, kind: 'layer', detail: 'network scope', insertText: `${s}/`, retrigger: true, sortText: `2${s}` });
    if (inPattern) {
      const stems = new Set(index.catalog.layers.map((l) => l.name.replace(/\d+$/, '')));
      for (const s of stems) items.push({ label: `${s}*`, kind: 'pattern', detail: `every ${s} layer (${index.match(`${s}*`).length})`, sortText: `1${s}` });
    }
  }
  for (const [name, d] of defs) {
    if (index?.get(name)) continue;
    items.push({ label: name, kind: 'layer', detail: `created by ${d.statement.command?.text ?? 'this script'}`, sortText: `1${sortKey(name)}` });
  }
  return items;
}

/** conv2 before conv10. */
function sortKey(name: string): string {
  return name.replace(/\d+/g, (d) => d.padStart(6, '0'));
}

function dedupe(items: CompletionEntry[]): CompletionEntry[] {
  const seen = new Set<string>();
  return items.filter((i) => (seen.has(`${i.kind}:${i.label}`) ? false : (seen.add(`${i.kind}:${i.label}`), true)));
}

// ------------------------------------------------------------------------------------ hover

function roleAt(script: Script, offset: number): TokenRole | undefined {
  const s = script.statements.find((x) => offset >= x.start && offset <= x.end);
  if (!s) return undefined;
  const tokens = tokenize(script.text, s.start, s.end).filter((t) => t.kind !== 'newline' && t.kind !== 'comment');
  const { roles } = walk(tokens);
  const positionalCount = s.args.filter((a) => !a.key).length;
  const r =
    roles.find((x) => offset >= x.token.start && offset < x.token.end) ??
    roles.find((x) => offset === x.token.end && (x.token.kind === 'name' || x.token.kind === 'pattern'));
  return r ? { ...r, positionalCount } : undefined;
}

export function hover(script: Script, offset: number, ctx: LanguageContext = {}): HoverResult | undefined {
  const r = roleAt(script, offset);
  if (!r) return undefined;
  const span = { start: r.token.start, end: r.token.end };
  const cmd = r.cmd;
  switch (r.role) {
    case 'command':
      if (!cmd) return { span, markdown: `\`${r.token.text}\` is not a known model script command.` };
      return { span, markdown: commandMarkdown(cmd) };
    case 'key': {
      if (!cmd) return undefined;
      const p = paramsFor(cmd, r.section).params.find((x) => x.name === r.key);
      return p ? { span, markdown: paramMarkdown(cmd, p) } : undefined;
    }
    case 'target':
      return layerHover(script, r.token.text, span, ctx);
    case 'value': {
      if (!cmd) return undefined;
      if (cmd.sections && r.positional === 0 && r.key === undefined && r.depth === 1) {
        const s = cmd.sections.find((x) => x.name === r.token.text);
        return s ? { span, markdown: sectionMarkdown(cmd, s) } : undefined;
      }
      const spec =
        r.key !== undefined
          ? paramsFor(cmd, r.section).params.find((x) => x.name === r.key)
          : cmd.sections
            ? undefined
            : positionalFor(cmd, r.positional ?? 0, r.positionalCount ?? 0);
      const isLayer = spec && (spec.kind === 'layer' || spec.kind === 'layers');
      if (r.token.kind === 'pattern') return patternHover(r.token.text.slice(1, -1), span, ctx);
      if (isLayer && r.token.kind === 'name') return layerHover(script, r.token.text, span, ctx);
      if (spec) return { span, markdown: `${'name' in spec ? `\`${spec.name}\`` : ''}: ${spec.doc}` };
      return undefined;
    }
    default:
      return undefined;
  }
}

function layerHover(script: Script, name: string, span: Span, ctx: LanguageContext): HoverResult | undefined {
  const index = indexOf(ctx);
  const l = index?.get(name);
  if (l && index) return { span, markdown: layerMarkdown(l, index.catalog) };
  const def = scriptDefinitions(script).get(name);
  if (def) {
    const { line } = lineColumn(script.text, def.statement.start);
    const cmd = def.statement.command?.text ?? '';
    return { span, markdown: `**${name}** — layer created by \`${cmd}\` on line ${line + 1} of this script` };
  }
  if (!index)
    return { span, markdown: `**${name}** — layer name (no HAR is known for this script, so it is not checked; set \`har\` or \`modelScript\` in hailo.json)` };
  return { span, markdown: `**${name}** — no such layer in the HN${index.catalog.origin ? ` of ${index.catalog.origin}` : ''}` };
}

function patternHover(pattern: string, span: Span, ctx: LanguageContext): HoverResult {
  const index = indexOf(ctx);
  if (!index) return { span, markdown: `Layer pattern \`{${pattern}}\`: \`*\` matches any text, \`[0-9]\` one character of a class.` };
  const m = index.match(pattern);
  const shown = m
    .slice(0, 12)
    .map((l) => `\`${l.name}\``)
    .join(', ');
  return { span, markdown: `Layer pattern \`{${pattern}}\` matches ${m.length} layer(s)${m.length ? `: ${shown}${m.length > 12 ? ', …' : ''}` : ''}.` };
}

// ------------------------------------------------------------------------------------ definition

export function definition(script: Script, offset: number, ctx: LanguageContext = {}): DefinitionTarget[] {
  const r = roleAt(script, offset);
  if (!r || r.token.kind !== 'name' || (r.role !== 'value' && r.role !== 'target')) return [];
  const name = r.token.text;
  const out: DefinitionTarget[] = [];
  const index = indexOf(ctx);
  const found: CatalogLayer | undefined = index?.get(name);
  if (found) {
    if (found.source) out.push({ kind: 'source', location: found.source, layer: found.scopedName });
    else if (found.originalNames[0])
      out.push({ kind: 'onnx', ...(index?.catalog.onnxFile ? { file: index.catalog.onnxFile } : {}), node: found.originalNames[0], layer: found.scopedName });
    return out;
  }
  if (r.role === 'value') {
    const def = scriptDefinitions(script).get(name);
    if (def && def.span.start !== r.token.start) out.push({ kind: 'script', span: def.span, layer: name });
  }
  return out;
}

// ------------------------------------------------------------------------------------ outline

export interface ScriptSymbol {
  name: string;
  detail: string;
  kind: 'layer' | 'command';
  /** The whole statement, and the part to select (the name). */
  span: Span;
  selection: Span;
}

/** The outline: one entry per layer a statement creates, else one per command with its first argument. */
export function symbols(script: Script): ScriptSymbol[] {
  const out: ScriptSymbol[] = [];
  for (const s of script.statements) {
    if (!s.command) continue;
    const span = { start: s.start, end: s.end };
    const call = `${s.object ? `${s.object.text}.` : ''}${s.command.text}`;
    if (s.targets?.length) {
      for (const t of s.targets) out.push({ name: t.text, detail: `${call}(…)`, kind: 'layer', span, selection: { start: t.start, end: t.end } });
      continue;
    }
    const first = s.args[0];
    const arg = first ? script.text.slice(first.start, first.end).replace(/\s+/g, ' ') : '';
    out.push({
      name: arg ? `${call} ${arg.length > 60 ? `${arg.slice(0, 59)}…` : arg}` : call,
      detail: '',
      kind: 'command',
      span,
      selection: { start: s.command.start, end: s.command.end },
    });
  }
  return out;
}
