import type { Finding, Severity } from '../../finding';
import {
  commandSpec,
  allCommands,
  paramsFor,
  positionalFor,
  TABLE_DFC_VERSION,
  type CommandSpec,
  type ParamSpec,
  type PositionalSpec,
  type ValueKind,
} from './commands';
import { compileGlob, LayerIndex, SortedNames, type LayerCatalog } from './layers';
import { flattenValues, parseScript, type Script, type Span, type Statement, type Value } from './parser';
import { didYouMean, suggest } from './suggest';

/**
 * Validation of a model script. Severities follow how sure the evidence is:
 * - error: the DFC certainly rejects it (syntax, a bare `normalization(...)`, a misspelt command,
 *   keyword or value of a closed set, a layer or scope that is not in the HN);
 * - warning: very likely wrong (a path without quotes, a keyword given twice, a pattern that
 *   matches no layer of the HN);
 * - hint: well-formed but not in the command table ("not in Hailo Workbench's table for DFC
 *   x.y"), which a newer or older DFC may well accept.
 * No real script from Hailo may produce an error or a warning; the unit tests and the corpus check
 * (test/bench/allsCorpus.bench.ts) hold every script they can find to that.
 *
 * At most MAX_FINDINGS_PER_FILE findings are kept; one summary finding then counts the rest.
 */

/** Findings kept per script; past it one summary finding says how many more there were. */
export const MAX_FINDINGS_PER_FILE = 1000;
/**
 * Name comparisons spent matching `{patterns}` against the HN and the script's own names, per
 * script. Real scripts need a few thousand; past the budget the remaining patterns are not matched
 * (one hint says so), so thousands of patterns against thousands of names cannot take minutes.
 */
export const MAX_PATTERN_COMPARISONS = 2_000_000;

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
  limit: 'ALLS014',
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

const replaceWith = (span: Span, names: string[]): AllsEdit[] =>
  names.map((n) => ({ title: `Change to ${n}`, span: { start: span.start, end: span.end }, text: n }));

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
  /** The DFC version of the target the script is for, when known (named in hints); else the HAR's. */
  dfcVersion?: string;
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

  /** Findings past MAX_FINDINGS_PER_FILE: counted by severity, not kept. */
  private readonly dropped: Record<Severity, number> = { error: 0, warning: 0, info: 0, hint: 0 };
  private firstDropped: Span | undefined;
  private patternComparisons = 0;
  private patternsSkipped = 0;
  private patternBudgetReported = false;
  private definedSorted: SortedNames | undefined;
  private readonly patternResults = new Map<string, boolean>();

  private get full(): boolean {
    return this.out.length >= MAX_FINDINGS_PER_FILE;
  }

  private add(code: string, severity: Severity, message: string, span: Span, extra: Partial<AllsFinding> = {}): void {
    if (this.full) {
      this.dropped[severity]++;
      this.firstDropped ??= span;
      return;
    }
    this.out.push({ code, severity, message, nodes: [], span: { start: span.start, end: Math.max(span.end, span.start) }, ...extra });
  }

  /** "not in Hailo Workbench's table for DFC 3.33", with the target's version when known. */
  private notInTable(): string {
    const target = this.opts.dfcVersion ?? this.index?.catalog.dfcVersion;
    return `not in Hailo Workbench's table for DFC ${TABLE_DFC_VERSION}${target && !target.startsWith(TABLE_DFC_VERSION) ? ` (the target runs DFC ${target}; check its documentation)` : ''}`;
  }

  run(): AllsFinding[] {
    for (const p of this.script.problems) {
      if (p.code === 'syntax') this.add(ALLS_CODES.syntax, 'error', `Syntax error: ${p.message}`, p);
      else if (p.code === 'limit') this.add(ALLS_CODES.limit, 'warning', `Not checked: ${p.message}.`, p);
      else if (p.code === 'trailing-comment' || p.code === 'single-quote') this.add(ALLS_CODES.style, 'hint', p.message, p);
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
    const out = this.out.sort((a, b) => a.span.start - b.span.start);
    const more = this.dropped.error + this.dropped.warning + this.dropped.info + this.dropped.hint;
    if ((more || this.patternsSkipped) && this.firstDropped) {
      const worst = (['error', 'warning', 'info', 'hint'] as const).find((x) => this.dropped[x] > 0) ?? 'hint';
      const parts = (['error', 'warning', 'info', 'hint'] as const).filter((x) => this.dropped[x]).map((x) => `${this.dropped[x]} ${x}(s)`);
      const skipped = this.patternsSkipped ? `${this.patternsSkipped} pattern(s) not matched against the HN` : '';
      out.push({
        code: ALLS_CODES.limit,
        severity: worst,
        message: `${more} more finding(s) not shown (${[...parts, skipped].filter(Boolean).join(', ')}): at most ${MAX_FINDINGS_PER_FILE} are reported per script.`,
        nodes: [],
        span: { start: this.firstDropped.start, end: this.firstDropped.end },
      });
    }
    return out;
  }

  private statement(s: Statement, name: string): void {
    const cmd = commandSpec(name);
    const cmdSpan = s.command!;
    if (!cmd) {
      const near = suggest(
        name,
        allCommands().map((c) => c.name),
      );
      if (near.length && !s.object)
        this.add(ALLS_CODES.unknownCommand, 'error', `Unknown command "${name}".${didYouMean(near)}`, cmdSpan, {
          fix: `Replace with ${near[0]}.`,
          edits: replaceWith(cmdSpan, near),
        });
      else
        this.add(
          ALLS_CODES.unknownCommand,
          'hint',
          `Command "${name}" is ${this.notInTable()}.${didYouMean(near)}`,
          cmdSpan,
          near.length ? { edits: replaceWith(cmdSpan, near) } : {},
        );
      return;
    }
    if (s.object && !cmd.method)
      this.add(ALLS_CODES.syntax, 'hint', `${name} called on "${s.object.text}" is ${this.notInTable()} (it knows ${name}(...) without an object).`, s.object);

    // assignment
    if (s.targets === undefined) {
      if (cmd.assignment === 'required') {
        this.add(
          ALLS_CODES.missingAssignment,
          'error',
          `${name}(...) creates a layer and must be assigned: write "${suggestedTarget(cmd)} = ${name}(...)". The DFC fails on this line with "Parsing failed at: >!<${name}(...)".`,
          cmdSpan,
          { fix: `Prefix the line with "${suggestedTarget(cmd)} = ".`, edits: [assignEdit(cmd, s)] },
        );
      } else if (cmd.assignment === 'expected') {
        this.add(
          ALLS_CODES.missingAssignment,
          'hint',
          `${name}(...) creates layers and is assigned in every script Hailo Workbench's table for DFC ${TABLE_DFC_VERSION} was built from: write "name = ${name}(...)".`,
          cmdSpan,
          { edits: [assignEdit(cmd, s)] },
        );
      }
    } else if (cmd.assignment === 'never') {
      this.add(
        ALLS_CODES.unexpectedAssignment,
        'hint',
        `${name}(...) with an assignment is ${this.notInTable()}: it does not create a layer.`,
        s.targetSpan ?? cmdSpan,
      );
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
        this.add(
          ALLS_CODES.arguments,
          'error',
          `${name} needs the ${cmd.positional[0]?.name ?? 'section'} as its first argument: one of ${cmd.sections.map((x) => x.name).join(', ')}.`,
          cmdSpan,
        );
      } else if (first.kind !== 'name') {
        this.add(
          ALLS_CODES.unknownSection,
          'error',
          `The first argument of ${name} is a ${cmd.positional[0]?.name ?? 'section'} name, not a ${first.kind}.`,
          first,
        );
      } else {
        section = first.text;
        if (!cmd.sections.some((x) => x.name === section)) {
          const near = suggest(
            section,
            cmd.sections.map((x) => x.name),
          );
          const what = cmd.positional[0]?.name ?? 'section';
          if (near.length)
            this.add(ALLS_CODES.unknownSection, 'error', `Unknown ${what} "${section}" for ${name}.${didYouMean(near)}`, first, {
              edits: replaceWith(first, near),
            });
          else
            this.add(
              ALLS_CODES.unknownSection,
              'hint',
              `${what} "${section}" of ${name} is ${this.notInTable()} (known: ${cmd.sections.map((x) => x.name).join(', ')}).`,
              first,
            );
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
        this.add(ALLS_CODES.arguments, 'hint', `${name} with more than ${max} positional argument(s) is ${this.notInTable()} (${cmd.signature}).`, extra);
      } else if (positionals.length < min) {
        this.add(
          ALLS_CODES.arguments,
          cmd.assignment === 'required' ? 'error' : 'hint',
          `${name} needs ${min} positional argument(s): ${cmd.signature}.`,
          cmdSpan,
        );
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
        // past the findings cap the finding is only counted: suggestions only where they decide the severity
        const near =
          this.full && !closed && cmd.category === 'compiler'
            ? []
            : suggest(
                key,
                params.map((x) => x.name),
              );
        // a near miss of a keyword of a closed list, or of a model or quantization command, is a typo
        if ((closed || cmd.category !== 'compiler') && near.length && !isAnyKeywordOf(key))
          this.add(ALLS_CODES.unknownKeyword, 'error', `Unknown keyword "${key}" for ${where}.${didYouMean(near)}`, a.key, {
            fix: `Replace with ${near[0]}.`,
            edits: replaceWith(a.key, near),
          });
        else if (!isAnyKeywordOf(key) || closed)
          this.add(
            ALLS_CODES.unknownKeyword,
            'hint',
            `Keyword "${key}" of ${where} is ${this.notInTable()}.${didYouMean(near)}`,
            a.key,
            near.length ? { edits: replaceWith(a.key, near) } : {},
          );
        continue;
      }
      if (a.value) this.checkValue(cmd, p, a.value, `${key}`);
    }
  }

  /** Check a value against the spec of its argument, then its layer names. */
  private checkValue(cmd: CommandSpec, spec: ParamSpec | PositionalSpec, v: Value, what: string): void {
    const kind: ValueKind = spec.kind;
    const fail = (sev: Severity, msg: string, at: Span = v) => this.add(ALLS_CODES.badValue, sev, msg, at);
    // None resets a setting to its default in DFC scripts (performance_param(fps=None))
    if (v.kind === 'name' && v.text === 'None') return;
    const unseen = (msg: string, at: Span = v) => fail('hint', `${msg} That form is ${this.notInTable()}.`, at);
    switch (kind) {
      case 'int':
      case 'number': {
        if (kind === 'int' && v.kind === 'name' && spec.values?.length) return this.checkEnum(spec, v, what);
        if (v.kind === 'duration') return spec.name.endsWith('timeout') ? undefined : unseen(`${what} is given as a duration (${v.text}).`);
        if (v.kind !== 'number') return unseen(`${what} expects a number, not ${describe(v)}.`);
        if (kind === 'int' && !Number.isInteger(v.value)) return unseen(`${what} expects a whole number, not ${v.text}.`);
        const p = spec as ParamSpec;
        if (p.max !== undefined && v.value > p.max)
          return p.rangeSure
            ? fail('error', `${what} is ${v.text}; allowed values are ${p.min ?? 0} to ${p.max}.`)
            : unseen(`${what} is ${v.text}; known values are ${p.min ?? 0} to ${p.max}.`);
        if (p.min !== undefined && v.value < p.min)
          return p.rangeSure
            ? fail('error', `${what} is ${v.text}; it must be at least ${p.min}.`)
            : unseen(`${what} is ${v.text}; known values start at ${p.min}.`);
        return;
      }
      case 'bool':
      case 'switch':
      case 'enum':
        if (v.kind === 'list' || v.kind === 'string' || v.kind === 'pattern' || v.kind === 'mapping' || v.kind === 'duration') {
          return unseen(`${what} expects ${valueList(spec)}, not ${describe(v)}.`);
        }
        return this.checkEnum(spec, v, what);
      case 'numbers':
      case 'ints': {
        const items = v.kind === 'list' ? v.items : [v];
        for (const it of items) {
          if (it.kind !== 'number') return unseen(`${what} expects a list of numbers, e.g. [0.0, 1.0]; found ${describe(it)}.`, it);
          if (kind === 'ints' && !Number.isInteger(it.value)) return unseen(`${what} expects whole numbers; found ${it.text}.`, it);
        }
        return;
      }
      case 'string':
        // nms_postprocess(yolov5, ...): a value another positional takes, not a forgotten path
        if (v.kind === 'name' && cmd.positional.some((p) => p.values?.includes(v.text))) return;
        if (v.kind === 'name' || v.kind === 'number') return fail('warning', `${what} is a file path and must be in double quotes: "${v.text}".`);
        if (v.kind !== 'string') return unseen(`${what} expects a quoted path, not ${describe(v)}.`);
        return;
      case 'names':
        for (const it of flattenValues(v)) if (it.kind !== 'name') return unseen(`${what} expects names, not ${describe(it)}.`, it);
        return;
      case 'layer':
      case 'layers': {
        const items = v.kind === 'list' ? v.items : v.kind === 'mapping' ? flattenValues(v) : [v];
        for (const it of items) {
          if (it.kind === 'name') this.checkLayer(cmd, it.text, it);
          else if (it.kind === 'pattern') {
            if (kind === 'layer' && cmd.name !== 'compilation_param') unseen(`${what} expects one layer name, not a pattern.`, it);
            this.checkPattern(cmd, it.text, it);
          } else if (it.kind === 'list') unseen(`${what}: a nested list where layer names are expected.`, it);
          else if (it.kind === 'string' || it.kind === 'number' || it.kind === 'duration')
            fail('error', `${what} expects a layer name, not ${describe(it)}.`, it);
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
    // a number is never a typo of another number (compiler_optimization_level=2 is not "1")
    const near =
      v.kind === 'number'
        ? []
        : suggest(
            text,
            values.filter((x) => !/^[-\d.]/.test(x)),
          );
    const closed = spec.closed === true || spec.kind === 'bool';
    if (closed && near.length) {
      this.add(ALLS_CODES.badValue, 'error', `${what}=${text} is not valid: use ${valueList(spec)}.${didYouMean(near)}`, v, {
        fix: `Replace with ${near[0]}.`,
        edits: replaceWith(v, near),
      });
    } else {
      this.add(
        ALLS_CODES.badValue,
        'hint',
        `${what}=${text} is ${this.notInTable()} (known: ${values.join(', ')}).${didYouMean(near)}`,
        v,
        near.length ? { edits: replaceWith(v, near) } : {},
      );
    }
  }

  private checkLayer(cmd: CommandSpec, ref: string, at: Span): void {
    const slash = ref.lastIndexOf('/');
    const scope = slash > 0 ? ref.slice(0, slash) : undefined;
    if (!this.index) {
      // no HN: the project's network name is the only scope we can check against
      const net = this.opts.netName;
      if (scope && net && scope !== net && !this.scriptScopes.has(scope)) {
        this.add(
          ALLS_CODES.unknownScope,
          'warning',
          `Scope "${scope}" is not the network name "${net}" of this model in hailo.json; the DFC reports "Invalid scope name" when they differ (renaming the ONNX file changes the default name).`,
          { start: at.start, end: at.start + scope.length },
          {
            nodes: [ref],
            fix: `Write ${net}/${ref.slice(slash + 1)} or the unscoped ${ref.slice(slash + 1)}.`,
            edits: replaceWith(at, [`${net}/${ref.slice(slash + 1)}`, ref.slice(slash + 1)]),
          },
        );
      }
      return;
    }
    if (cmd.compilerNames) return;
    if (this.defined.has(ref)) return;
    if (this.full) {
      // past the cap the finding is only counted: a cheap lookup, no suggestions
      if (!this.index.get(ref)) this.add(ALLS_CODES.unknownLayer, 'error', '', at);
      return;
    }
    if (scope && this.defined.has(ref.slice(slash + 1)) && (this.index.scopes.has(scope) || this.scriptScopes.has(scope))) return;
    const r = this.index.resolve(ref, this.scriptScopes);
    const origin = this.index.catalog.origin ? ` of ${this.index.catalog.origin}` : '';
    if (r.kind === 'found') return;
    if (r.kind === 'bad-scope') {
      const scopes = r.scopes.length ? r.scopes.map((x) => `"${x}"`).join(', ') : '(none)';
      const name = ref.slice(slash + 1);
      this.add(
        ALLS_CODES.unknownScope,
        'error',
        `Invalid scope name "${r.scope}": the HN${origin} has the scope(s) ${scopes}.${r.layers.length ? ` Did you mean "${r.layers[0]!.scopedName}"?` : ''}`,
        { start: at.start, end: at.start + r.scope.length },
        {
          nodes: [ref],
          ...(r.layers[0] ? { fix: `Write ${r.layers[0].scopedName} or the unscoped ${name}.`, edits: replaceWith(at, [r.layers[0].scopedName, name]) } : {}),
        },
      );
      return;
    }
    this.add(ALLS_CODES.unknownLayer, 'error', `No layer "${ref}" in the HN${origin}.${didYouMean(r.suggestions)}`, at, {
      nodes: [ref],
      ...(r.suggestions[0] ? { fix: `Replace with ${r.suggestions[0]}.`, edits: replaceWith(at, r.suggestions) } : {}),
    });
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
        this.add(
          ALLS_CODES.unknownScope,
          'error',
          `Invalid scope name "${scope}" in pattern {${pattern}}: the HN has the scope(s) ${scopes}.`,
          { start: at.start + 1, end: at.start + 1 + scope.length },
          { nodes: [pattern] },
        );
        return;
      }
    }
    let matched = this.patternResults.get(pattern);
    if (matched === undefined) {
      if (this.full) {
        // past the findings cap nobody sees the result: no matching work, only a count
        this.patternsSkipped++;
        this.firstDropped ??= at;
        return;
      }
      if (this.patternComparisons > MAX_PATTERN_COMPARISONS) {
        if (!this.patternBudgetReported) {
          this.patternBudgetReported = true;
          this.add(
            ALLS_CODES.limit,
            'hint',
            `Patterns from here on are not matched against the HN: this script needs more than ${MAX_PATTERN_COMPARISONS} name comparisons for them.`,
            at,
          );
        }
        return;
      }
      const glob = compileGlob(pattern);
      const inHn = this.index.matchesAny(glob, pattern.includes('/'));
      this.patternComparisons += inHn.compared;
      matched = inHn.any;
      if (!matched) {
        this.definedSorted ??= new SortedNames(this.defined);
        const own = this.definedSorted.withPrefix(glob.prefix);
        this.patternComparisons += own.length;
        matched = own.some((d) => glob.test(d));
      }
      this.patternResults.set(pattern, matched);
    }
    if (!matched) {
      this.add(
        ALLS_CODES.emptyPattern,
        'warning',
        `Pattern {${pattern}} matches no layer of the HN${this.index.catalog.origin ? ` of ${this.index.catalog.origin}` : ''}, so this line has no effect.`,
        at,
        { nodes: [pattern] },
      );
    }
  }
}

/** Is this keyword known for any command? (An open command may share keys with others.) */
let anyKeyword: Set<string> | undefined;
function isAnyKeywordOf(key: string): boolean {
  anyKeyword ??= new Set(allCommands().flatMap((c) => [...c.params.map((p) => p.name), ...(c.sections ?? []).flatMap((s) => s.params.map((p) => p.name))]));
  return anyKeyword.has(key);
}

function describe(v: Value): string {
  switch (v.kind) {
    case 'list':
      return 'a list';
    case 'mapping':
      return 'a mapping';
    case 'duration':
      return `the duration ${v.text}`;
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
