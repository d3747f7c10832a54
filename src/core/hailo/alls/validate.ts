import type { Finding, Severity } from '../../finding';
import { commandSpec, allCommands, paramsFor, positionalFor, type CommandSpec, type ParamSpec, type PositionalSpec, type ValueKind } from './commands';
import { LayerIndex, type LayerCatalog } from './layers';
import { flattenValues, parseScript, type Script, type Span, type Statement, type Value } from './parser';
import { didYouMean, suggest, editDistance } from './suggest';

/**
 * Validation of a model script. Severities follow how sure the evidence is:
 * - error: the DFC certainly rejects it (syntax, a bare `normalization(...)`, a misspelt command,
 *   keyword or value of a closed set, a layer or scope that is not in the HN);
 * - warning: very likely wrong, but only by what Hailo's scripts show;
 * - info: outside what has been seen, which may still be valid.
 * No real script from Hailo may produce an error; the unit tests hold every sample to that.
 */

export const ALLS_CODES = {
  syntax: 'ALLS001',
  unknownCommand: 'ALLS002',
  unknownKeyword: 'ALLS003',
  badValue: 'ALLS004',
  missingAssignment: 'ALLS005',
  unknownLayer: 'ALLS006',
  unknownScope: 'ALLS007',
  emptyPattern: 'ALLS008',
  style: 'ALLS009',
  arguments: 'ALLS010',
  unexpectedAssignment: 'ALLS011',
  unknownSection: 'ALLS012',
  duplicateKeyword: 'ALLS013',
} as const;

/** A finding located in the script text. */
export interface AllsFinding extends Finding {
  span: Span;
  /** Quick fixes: replace `span` with `text` (an empty span inserts). */
  edits?: AllsEdit[];
}

export interface AllsEdit {
  title: string;
  span: Span;
  text: string;
}

const replaceWith = (span: Span, names: string[]): AllsEdit[] => names.map((n) => ({ title: `Change to ${n}`, span: { start: span.start, end: span.end }, text: n }));

export interface ValidateOptions {
  /** The model's HN layers; without it layer names are not checked. */
  catalog?: LayerCatalog;
  /** Prebuilt index over `catalog` (built when omitted). */
  index?: LayerIndex;
  /**
   * The network name the project declares (hailo.json `netName` or `name`), used to check scoped
   * names when no HN is known.
   */
  netName?: string;
}

export function validateText(text: string, opts: ValidateOptions = {}): { script: Script; findings: AllsFinding[] } {
  const script = parseScript(text);
  return { script, findings: validateScript(script, opts) };
}

export function validateScript(script: Script, opts: ValidateOptions = {}): AllsFinding[] {
  const v = new Validator(script, opts);
  return v.run();
}

class Validator {
  private readonly out: AllsFinding[] = [];
  private readonly index: LayerIndex | undefined;
  /** Names created by the script itself (left of "="), unscoped and scoped. */
  private readonly defined = new Set<string>();
  /** Scope names the script itself introduces (`net = network_group([net])`). */
  private readonly scriptScopes = new Set<string>();

  constructor(
    private readonly script: Script,
    private readonly opts: ValidateOptions,
  ) {
    this.index = opts.index ?? (opts.catalog ? new LayerIndex(opts.catalog) : undefined);
  }

  private add(code: string, severity: Severity, message: string, span: Span, extra: Partial<AllsFinding> = {}): void {
    this.out.push({ code, severity, message, nodes: [], span: { start: span.start, end: Math.max(span.end, span.start) }, ...extra });
  }

  run(): AllsFinding[] {
    for (const p of this.script.problems) {
      if (p.code === 'syntax') this.add(ALLS_CODES.syntax, 'error', `Syntax error: ${p.message}`, p);
      else this.add(ALLS_CODES.style, 'warning', p.message, p);
    }
    for (const s of this.script.statements) {
      for (const t of s.targets ?? []) {
        this.defined.add(t.text);
        const slash = t.text.lastIndexOf('/');
        if (slash > 0) this.defined.add(t.text.slice(slash + 1));
      }
      if (s.command?.text === 'network_group') {
        for (const v of flattenValues(s.args[0]?.value)) if (v.kind === 'name') this.scriptScopes.add(v.text);
        for (const t of s.targets ?? []) this.scriptScopes.add(t.text);
      }
    }
    for (const s of this.script.statements) if (!s.broken && s.command) this.statement(s, s.command.text);
    return this.out.sort((a, b) => a.span.start - b.span.start);
  }

  private statement(s: Statement, name: string): void {
    const cmd = commandSpec(name);
    const cmdSpan = s.command!;
    if (!cmd) {
      const near = suggest(name, allCommands().map((c) => c.name));
      if (near.length) this.add(ALLS_CODES.unknownCommand, 'error', `Unknown command "${name}".${didYouMean(near)}`, cmdSpan, { fix: `Replace with ${near[0]}.`, edits: replaceWith(cmdSpan, near) });
      else this.add(ALLS_CODES.unknownCommand, 'warning', `"${name}" is not a model script command known to Hailo Workbench; the DFC rejects commands it does not know.`, cmdSpan);
      return;
    }
    if (s.object && !cmd.method) this.add(ALLS_CODES.syntax, 'error', `${name} is not called on an object: write ${name}(...) without "${s.object.text}."`, s.object);

    // assignment
    if (s.targets === undefined) {
      if (cmd.assignment === 'required') {
        this.add(ALLS_CODES.missingAssignment, 'error', `${name}(...) creates a layer and must be assigned: write "${suggestedTarget(cmd)} = ${name}(...)". The DFC fails on this line with "Parsing failed at: >!<${name}(...)".`, cmdSpan, { fix: `Prefix the line with "${suggestedTarget(cmd)} = ".`, edits: [assignEdit(cmd, s)] });
      } else if (cmd.assignment === 'expected') {
        this.add(ALLS_CODES.missingAssignment, 'warning', `${name}(...) creates layers and is always assigned in Hailo's scripts: write "name = ${name}(...)".`, cmdSpan, { edits: [assignEdit(cmd, s)] });
      }
    } else if (cmd.assignment === 'never') {
      this.add(ALLS_CODES.unexpectedAssignment, 'warning', `${name}(...) does not create a layer; Hailo's scripts never assign it.`, s.targetSpan ?? cmdSpan);
    }

    const positionals = s.args.filter((a) => !a.key);
    const firstKeyed = s.args.findIndex((a) => a.key);
    let misplaced = false;
    s.args.forEach((a, i) => {
      if (!a.key && firstKeyed >= 0 && i > firstKeyed) {
        this.add(ALLS_CODES.syntax, 'error', 'Positional argument after a keyword argument.', a);
        misplaced = true;
      }
    });

    // section (first argument) of model_optimization_config and the pre/post optimization commands
    let section: string | undefined;
    if (cmd.sections) {
      const first = positionals[0]?.value;
      if (!first) {
        this.add(ALLS_CODES.arguments, 'error', `${name} needs the ${cmd.positional[0]?.name ?? 'section'} as its first argument: one of ${cmd.sections.map((x) => x.name).join(', ')}.`, cmdSpan);
      } else if (first.kind !== 'name') {
        this.add(ALLS_CODES.unknownSection, 'error', `The first argument of ${name} is a ${cmd.positional[0]?.name ?? 'section'} name, not a ${first.kind}.`, first);
      } else {
        section = first.text;
        if (!cmd.sections.some((x) => x.name === section)) {
          const near = suggest(section, cmd.sections.map((x) => x.name));
          const what = cmd.positional[0]?.name ?? 'section';
          if (near.length) this.add(ALLS_CODES.unknownSection, 'error', `Unknown ${what} "${section}" for ${name}.${didYouMean(near)}`, first, { edits: replaceWith(first, near) });
          else this.add(ALLS_CODES.unknownSection, 'info', `${what} "${section}" of ${name} is not among those seen in Hailo's scripts (${cmd.sections.map((x) => x.name).join(', ')}).`, first);
        }
      }
    } else {
      // positional arguments against the command's positional specs
      const max = cmd.variadic ? Infinity : cmd.positional.length;
      const min = cmd.positional.filter((p) => !p.optional).length;
      if (misplaced) {
        // already reported; counting would only repeat it
      } else if (positionals.length > max) {
        const extra = positionals[max]!;
        this.add(ALLS_CODES.arguments, 'warning', `${name} takes ${max === 0 ? 'no positional arguments' : `at most ${max} positional argument(s)`} (${cmd.signature}).`, extra);
      } else if (positionals.length < min) {
        this.add(ALLS_CODES.arguments, cmd.assignment === 'required' ? 'error' : 'warning', `${name} needs ${min} positional argument(s): ${cmd.signature}.`, cmdSpan);
      }
      positionals.forEach((a, i) => {
        const spec = positionalFor(cmd, i, positionals.length);
        if (spec && a.value) this.checkValue(cmd, spec, a.value, `argument ${spec.name} of ${name}`);
      });
    }

    // keywords
    const { params, closed } = paramsFor(cmd, section);
    const seen = new Map<string, Span>();
    for (const a of s.args) {
      if (!a.key) continue;
      const key = a.key.text;
      if (seen.has(key)) this.add(ALLS_CODES.duplicateKeyword, 'warning', `${key} is given twice in this command.`, a.key);
      seen.set(key, a.key);
      const p = params.find((x) => x.name === key);
      if (!p) {
        const where = section ? `${name}(${section}, ...)` : name;
        const near = suggest(key, params.map((x) => x.name));
        if ((closed || cmd.category !== 'compiler') && near.length) this.add(ALLS_CODES.unknownKeyword, 'error', `Unknown keyword "${key}" for ${where}.${didYouMean(near)}`, a.key, { fix: `Replace with ${near[0]}.`, edits: replaceWith(a.key, near) });
        else if (closed) this.add(ALLS_CODES.unknownKeyword, 'warning', `${where} has no keyword "${key}" (known: ${params.map((x) => x.name).join(', ') || 'none'}).`, a.key);
        else if (near.length && !isAnyKeywordOf(key)) this.add(ALLS_CODES.unknownKeyword, 'warning', `"${key}" is not a keyword seen for ${where}.${didYouMean(near)}`, a.key, { edits: replaceWith(a.key, near) });
        else if (!isAnyKeywordOf(key)) this.add(ALLS_CODES.unknownKeyword, 'info', `"${key}" is not a keyword seen for ${where} in Hailo's scripts; check the DFC documentation of your version.`, a.key);
        continue;
      }
      if (a.value) this.checkValue(cmd, p, a.value, `${key}`);
    }
  }

  /** Check a value against the spec of its argument, then its layer names. */
  private checkValue(cmd: CommandSpec, spec: ParamSpec | PositionalSpec, v: Value, what: string): void {
    const kind: ValueKind = spec.kind;
    const fail = (sev: Severity, msg: string, at: Span = v) => this.add(ALLS_CODES.badValue, sev, msg, at);
    switch (kind) {
      case 'int':
      case 'number': {
        if (kind === 'int' && v.kind === 'name' && spec.values?.length) return this.checkEnum(spec, v, what);
        if (v.kind !== 'number') return fail('warning', `${what} expects a number, not ${describe(v)}.`);
        if (kind === 'int' && !Number.isInteger(v.value)) return fail('warning', `${what} expects a whole number, not ${v.text}.`);
        const p = spec as ParamSpec;
        if (p.max !== undefined && v.value > p.max) return fail(p.rangeSure ? 'error' : 'warning', `${what} is ${v.text}; ${p.rangeSure ? 'allowed' : 'known'} values are ${p.min ?? 0} to ${p.max}.`);
        if (p.min !== undefined && v.value < p.min) return fail(p.rangeSure ? 'error' : 'warning', `${what} is ${v.text}; it must be at least ${p.min}.`);
        return;
      }
      case 'bool':
      case 'switch':
      case 'enum':
        if (v.kind === 'list' || v.kind === 'string' || v.kind === 'pattern') {
          return fail(spec.closed || kind === 'bool' ? 'error' : 'warning', `${what} expects ${valueList(spec)}, not ${describe(v)}.`);
        }
        return this.checkEnum(spec, v, what);
      case 'numbers':
      case 'ints': {
        const items = v.kind === 'list' ? v.items : [v];
        for (const it of items) {
          if (it.kind !== 'number') return fail('warning', `${what} expects a list of numbers, e.g. [0.0, 1.0]; found ${describe(it)}.`, it);
          if (kind === 'ints' && !Number.isInteger(it.value)) return fail('warning', `${what} expects whole numbers; found ${it.text}.`, it);
        }
        return;
      }
      case 'string':
        // nms_postprocess(yolov5, ...): a value another positional takes, not a forgotten path
        if (v.kind === 'name' && cmd.positional.some((p) => p.values?.includes(v.text))) return;
        if (v.kind === 'name' || v.kind === 'number') return fail('warning', `${what} is a file path and must be in double quotes: "${v.text}".`);
        if (v.kind !== 'string') return fail('warning', `${what} expects a quoted path, not ${describe(v)}.`);
        return;
      case 'names':
        for (const it of flattenValues(v)) if (it.kind !== 'name') return fail('warning', `${what} expects names, not ${describe(it)}.`, it);
        return;
      case 'layer':
      case 'layers': {
        const items = v.kind === 'list' ? v.items : [v];
        for (const it of items) {
          if (it.kind === 'name') this.checkLayer(cmd, it.text, it);
          else if (it.kind === 'pattern') {
            if (kind === 'layer' && cmd.name !== 'compilation_param') fail('warning', `${what} expects one layer name, not a pattern.`, it);
            this.checkPattern(cmd, it.text, it);
          } else if (it.kind === 'list') fail('warning', `${what}: nested lists are not layer names.`, it);
          else fail('error', `${what} expects a layer name, not ${describe(it)}.`, it);
        }
        return;
      }
      case 'any':
        return;
    }
  }

  private checkEnum(spec: ParamSpec | PositionalSpec, v: Value, what: string): void {
    if (v.kind !== 'name' && v.kind !== 'number') return;
    const values = spec.values;
    if (!values?.length) return;
    const text = v.text;
    const numeric = v.kind === 'number' ? String(v.value) : undefined;
    if (values.includes(text) || (numeric !== undefined && values.includes(numeric))) return;
    const closed = spec.closed === true || spec.kind === 'bool';
    const near = suggest(text, values);
    if (closed && (near.length || spec.kind === 'bool')) {
      this.add(ALLS_CODES.badValue, 'error', `${what}=${text} is not valid: use ${valueList(spec)}.${didYouMean(near)}`, v, near[0] ? { fix: `Replace with ${near[0]}.`, edits: replaceWith(v, near) } : {});
    } else if (closed) {
      this.add(ALLS_CODES.badValue, 'warning', `${what}=${text} is not a known value: use ${valueList(spec)}.`, v);
    } else if (near.length && !values.some((x) => editDistance(x, text, 0) === 0)) {
      this.add(ALLS_CODES.badValue, 'warning', `${what}=${text} is not among the values seen (${values.join(', ')}).${didYouMean(near)}`, v, { edits: replaceWith(v, near) });
    } else {
      this.add(ALLS_CODES.badValue, 'info', `${what}=${text} is not among the values seen in Hailo's scripts (${values.join(', ')}).`, v);
    }
  }

  private checkLayer(cmd: CommandSpec, ref: string, at: Span): void {
    const slash = ref.lastIndexOf('/');
    const scope = slash > 0 ? ref.slice(0, slash) : undefined;
    if (!this.index) {
      // no HN: the project's network name is the only scope we can check against
      const net = this.opts.netName;
      if (scope && net && scope !== net && !this.scriptScopes.has(scope)) {
        this.add(ALLS_CODES.unknownScope, 'warning', `Scope "${scope}" is not the network name "${net}" of this model in hailo.json; the DFC reports "Invalid scope name" when they differ (renaming the ONNX file changes the default name).`, { start: at.start, end: at.start + scope.length }, { nodes: [ref], fix: `Write ${net}/${ref.slice(slash + 1)} or the unscoped ${ref.slice(slash + 1)}.`, edits: replaceWith(at, [`${net}/${ref.slice(slash + 1)}`, ref.slice(slash + 1)]) });
      }
      return;
    }
    if (cmd.compilerNames) return;
    if (this.defined.has(ref)) return;
    if (scope && this.defined.has(ref.slice(slash + 1)) && (this.index.scopes.has(scope) || this.scriptScopes.has(scope))) return;
    const r = this.index.resolve(ref, this.scriptScopes);
    const origin = this.index.catalog.origin ? ` of ${this.index.catalog.origin}` : '';
    if (r.kind === 'found') return;
    if (r.kind === 'bad-scope') {
      const scopes = r.scopes.length ? r.scopes.map((x) => `"${x}"`).join(', ') : '(none)';
      const name = ref.slice(slash + 1);
      this.add(ALLS_CODES.unknownScope, 'error', `Invalid scope name "${r.scope}": the HN${origin} has the scope(s) ${scopes}.${r.layers.length ? ` Did you mean "${r.layers[0]!.scopedName}"?` : ''}`, { start: at.start, end: at.start + r.scope.length }, { nodes: [ref], ...(r.layers[0] ? { fix: `Write ${r.layers[0].scopedName} or the unscoped ${name}.`, edits: replaceWith(at, [r.layers[0].scopedName, name]) } : {}) });
      return;
    }
    this.add(ALLS_CODES.unknownLayer, 'error', `No layer "${ref}" in the HN${origin}.${didYouMean(r.suggestions)}`, at, { nodes: [ref], ...(r.suggestions[0] ? { fix: `Replace with ${r.suggestions[0]}.`, edits: replaceWith(at, r.suggestions) } : {}) });
  }

  private checkPattern(cmd: CommandSpec, pattern: string, at: Span): void {
    if (!this.index || cmd.compilerNames) {
      if (!this.index) this.checkLayer(cmd, pattern, at); // scope check only
      return;
    }
    const slash = pattern.lastIndexOf('/');
    if (slash > 0) {
      const scope = pattern.slice(0, slash);
      if (!/[*?[]/.test(scope) && !this.index.scopes.has(scope) && !this.scriptScopes.has(scope)) {
        const scopes = [...this.index.scopes].map((x) => `"${x}"`).join(', ') || '(none)';
        this.add(ALLS_CODES.unknownScope, 'error', `Invalid scope name "${scope}" in pattern {${pattern}}: the HN has the scope(s) ${scopes}.`, { start: at.start + 1, end: at.start + 1 + scope.length }, { nodes: [pattern] });
        return;
      }
    }
    if (this.index.match(pattern).length === 0 && ![...this.defined].some((d) => globMatches(pattern, d))) {
      this.add(ALLS_CODES.emptyPattern, 'warning', `Pattern {${pattern}} matches no layer of the HN${this.index.catalog.origin ? ` of ${this.index.catalog.origin}` : ''}, so this line has no effect.`, at, { nodes: [pattern] });
    }
  }
}

function globMatches(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name);
}

/** Is this keyword known for any command? (An open command may share keys with others.) */
function isAnyKeywordOf(key: string): boolean {
  for (const c of allCommands()) {
    if (c.params.some((p) => p.name === key)) return true;
    if (c.sections?.some((s) => s.params.some((p) => p.name === key))) return true;
  }
  return false;
}

function describe(v: Value): string {
  switch (v.kind) {
    case 'list':
      return 'a list';
    case 'string':
      return `the string "${v.text}"`;
    case 'pattern':
      return `the pattern {${v.text}}`;
    case 'number':
      return `the number ${v.text}`;
    case 'name':
      return `"${v.text}"`;
  }
}

function valueList(spec: ParamSpec | PositionalSpec): string {
  const vals = spec.values ?? [];
  if (!vals.length) return 'a value';
  if (vals.length === 1) return vals[0]!;
  return `${vals.slice(0, -1).join(', ')} or ${vals[vals.length - 1]}`;
}

/** Insert "name = " before a command that creates layers. */
function assignEdit(cmd: CommandSpec, s: Statement): AllsEdit {
  const at = s.object?.start ?? s.command!.start;
  return { title: `Assign the result: ${suggestedTarget(cmd)} = ${cmd.name}(...)`, span: { start: at, end: at }, text: `${suggestedTarget(cmd)} = ` };
}

function suggestedTarget(cmd: CommandSpec): string {
  return cmd.name === 'normalization' ? 'normalization1' : `${cmd.name}1`;
}

