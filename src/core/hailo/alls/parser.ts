/**
 * Tokenizer and parser of `.alls` model scripts. No official grammar is published; the rules here
 * are those Hailo's own scripts and the DFC's parse errors show:
 *
 *   script    = { statement NEWLINE }            (one statement per line; `#` starts a comment line)
 *   statement = [ targets "=" ] [ object "." ] command "(" [ arg { "," arg } ] ")"
 *   targets   = name { "," name } | "{}"
 *   arg       = [ key "=" ] value
 *   value     = name | number | duration | string | pattern | list | mapping
 *   list      = "[" [ value { "," value } ] "]"
 *   mapping   = "{" value ":" value { "," value ":" value } "}"
 *   duration  = number ( "s" | "m" | "h" | "d" | "ms" | "min" )      (allocator_param(timeout=30m))
 *
 * A statement continues over line breaks while a "(", "[" or mapping "{" is open. Names may be
 * scoped (`net/conv6`), contain "-" after the first character (`sh_from_conv15_to_conv18_d0-3`) and
 * "." before a digit (`centerpose_regnetx_1.6gf_fpn/conv4`, `mobilenet_v2_1.0`); a "." before a
 * letter calls a command on an object (`context_0.compilation_param(...)`). Patterns are glob text
 * in braces (`{ew_add*}`, `{conv_feature_splitter[0-9]*_[2-3]}`); braces holding a ":" are a
 * mapping (`{net/matmul1: [net/matmul2, net/matmul3]}`). `None` is a plain name value.
 *
 * Limits (hostile input): a line longer than MAX_LINE_LENGTH is reported and not tokenized, lists
 * and mappings nested deeper than MAX_NESTING_DEPTH are a syntax error (the parser recurses once
 * per level, so the limit also bounds the stack).
 *
 * The parser never throws: every problem becomes a ParseProblem with a precise span, and parsing
 * resumes at the next statement, so an editor can show every mistake at once.
 */

export interface Span {
  /** Offsets into the script text, end exclusive. */
  start: number;
  end: number;
}

export type TokenKind = 'name' | 'number' | 'duration' | 'string' | 'pattern' | 'punct' | 'comment' | 'newline' | 'invalid';

/** Lines longer than this are reported and skipped (generated scripts stay under a few kB per line). */
export const MAX_LINE_LENGTH = 1024 * 1024;
/** Lists and mappings nested deeper than this are a syntax error (real scripts nest at most 2). */
export const MAX_NESTING_DEPTH = 64;

export interface Token extends Span {
  kind: TokenKind;
  /** Source text of the token (for strings and patterns: with the quotes/braces). */
  text: string;
  /** Strings and patterns: false when the closing quote or brace is missing. */
  terminated?: boolean;
}

export interface NameNode extends Span {
  text: string;
}

export type Value =
  | ({ kind: 'name' } & NameNode)
  | ({ kind: 'number'; value: number } & NameNode)
  /** `30m`: value in seconds. */
  | ({ kind: 'duration'; seconds: number } & NameNode)
  /** text: the content without quotes. */
  | ({ kind: 'string'; quote: '"' | "'" } & NameNode)
  /** text: the content without braces. */
  | ({ kind: 'pattern' } & NameNode)
  | ({ kind: 'list'; items: Value[] } & Span)
  /** `{a: [b, c], d: e}`. */
  | ({ kind: 'mapping'; entries: { key: Value; value: Value }[] } & Span);

export interface Arg extends Span {
  key?: NameNode;
  /** Undefined when the argument is incomplete (`key=` followed by nothing). */
  value?: Value;
}

export interface Statement extends Span {
  /** Names left of "=", or an empty list for `{} = ...`; undefined without an assignment. */
  targets?: NameNode[];
  /** Span of the whole left-hand side including "=", when there is one. */
  targetSpan?: Span;
  /** `context_0` in `context_0.place(...)`. */
  object?: NameNode;
  command?: NameNode;
  args: Arg[];
  /** Offsets of "(" and ")" (undefined when missing). */
  open?: number;
  close?: number;
  /** True when the statement has a syntax error (it is then only partly filled in). */
  broken: boolean;
  /** A comment after the statement on its last line. */
  trailingComment?: Span;
}

export interface ParseProblem extends Span {
  code: 'syntax' | 'trailing-comment' | 'single-quote' | 'trailing-comma' | 'limit';
  message: string;
}

export interface Script {
  text: string;
  statements: Statement[];
  problems: ParseProblem[];
  comments: Span[];
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_\-/]/;
const DURATION_UNIT = /^(?:ms|min|s|m|h|d)/;
const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Split the text into tokens. Newlines are kept as tokens (the parser decides which ones end a
 * statement); whitespace is dropped.
 */
export function tokenize(text: string, from = 0, to = text.length): Token[] {
  const out: Token[] = [];
  let i = from;
  while (i < to) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff') {
      i++;
      continue;
    }
    if (c === '\n') {
      out.push({ kind: 'newline', text: '\n', start: i, end: i + 1 });
      i++;
      continue;
    }
    if (c === '#') {
      let j = i;
      while (j < to && text[j] !== '\n') j++;
      let end = j;
      while (end > i && text[end - 1] === '\r') end--;
      out.push({ kind: 'comment', text: text.slice(i, end), start: i, end });
      i = j;
      continue;
    }
    if (NAME_START.test(c)) {
      let j = i + 1;
      // "." belongs to the name before a digit (regnetx_1.6gf, mobilenet_v2_1.0)
      while (j < to && (NAME_CHAR.test(text[j]!) || (text[j] === '.' && j + 1 < to && isDigit(text.charCodeAt(j + 1))))) j++;
      // a name never ends in "/" or "-": leave them for the error to point at
      while (j > i + 1 && (text[j - 1] === '/' || text[j - 1] === '-' || text[j - 1] === '.')) j--;
      out.push({ kind: 'name', text: text.slice(i, j), start: i, end: j });
      i = j;
      continue;
    }
    const num = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(text.slice(i, Math.min(to, i + 64)));
    if (num && (/\d/.test(c) || ((c === '-' || c === '+' || c === '.') && /[\d.]/.test(text[i + 1] ?? '')))) {
      let j = i + num[0].length;
      const unit = DURATION_UNIT.exec(text.slice(j, Math.min(to, j + 4)));
      if (unit && /^\d/.test(num[0]) && !(j + unit[0].length < to && NAME_CHAR.test(text[j + unit[0].length]!))) {
        j += unit[0].length;
        out.push({ kind: 'duration', text: text.slice(i, j), start: i, end: j });
        i = j;
        continue;
      }
      // "1abc" is one bad token, not a number and a name
      if (j < to && NAME_START.test(text[j]!)) {
        while (j < to && NAME_CHAR.test(text[j]!)) j++;
        out.push({ kind: 'invalid', text: text.slice(i, j), start: i, end: j });
      } else out.push({ kind: 'number', text: num[0], start: i, end: j });
      i = j;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < to && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' && text[j + 1] !== '\n' ? 2 : 1;
      const terminated = j < to && text[j] === c;
      const end = terminated ? j + 1 : Math.min(j, to);
      out.push({ kind: 'string', text: text.slice(i, end), start: i, end, terminated });
      i = end;
      continue;
    }
    if (c === '{') {
      let j = i + 1;
      while (j < to && text[j] !== '}' && text[j] !== '\n' && text[j] !== ',' && text[j] !== ')' && text[j] !== '(' && text[j] !== ':') j++;
      if (j < to && text[j] === ':') {
        // a mapping: "{" is punctuation and the keys and values are tokens of their own
        out.push({ kind: 'punct', text: '{', start: i, end: i + 1 });
        i++;
        continue;
      }
      const terminated = j < to && text[j] === '}';
      const end = terminated ? j + 1 : j;
      out.push({ kind: 'pattern', text: text.slice(i, end), start: i, end, terminated });
      i = end;
      continue;
    }
    if ('()[],=.:}'.includes(c)) {
      out.push({ kind: 'punct', text: c, start: i, end: i + 1 });
      i++;
      continue;
    }
    // anything else: one bad character (a whole run of them reads better as one error)
    let j = i + 1;
    while (j < to && !/[\sA-Za-z0-9_#"'{}()[\],=.:]/.test(text[j]!)) j++;
    out.push({ kind: 'invalid', text: text.slice(i, j), start: i, end: j });
    i = j;
  }
  return out;
}

/** A line that starts a new statement (used to stop an unclosed "(" from swallowing the file). */
const STATEMENT_START = /^(?:[A-Za-z_][\w\-/.]*(?:\s*,\s*[A-Za-z_][\w\-/.]*)*\s*=\s*[A-Za-z_]\w*\s*\(|\{\}\s*=|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?\s*\()/;

/**
 * Group tokens into statements: a newline ends a statement unless a "(" or "[" is open, and even
 * then when the next line plainly starts a new statement at column 0.
 */
function splitStatements(text: string, tokens: Token[]): { groups: Token[][]; comments: Span[] } {
  const groups: Token[][] = [];
  const comments: Span[] = [];
  let cur: Token[] = [];
  let depth = 0;
  const flush = () => {
    if (cur.length) groups.push(cur);
    cur = [];
    depth = 0;
  };
  for (const t of tokens) {
    if (t.kind === 'comment') {
      comments.push({ start: t.start, end: t.end });
      if (cur.length) cur.push(t); // trailing or inside a wrapped statement: the parser reports it
      continue;
    }
    if (t.kind === 'newline') {
      if (depth <= 0) {
        flush();
        continue;
      }
      const rest = text.slice(t.end, text.indexOf('\n', t.end) < 0 ? text.length : text.indexOf('\n', t.end));
      if (STATEMENT_START.test(rest)) flush();
      continue;
    }
    if (t.kind === 'punct') {
      if (t.text === '(' || t.text === '[' || t.text === '{') depth++;
      else if (t.text === ')' || t.text === ']' || t.text === '}') depth--;
    }
    cur.push(t);
  }
  flush();
  return { groups, comments };
}

class StatementParser {
  private i = 0;
  readonly problems: ParseProblem[] = [];
  private readonly toks: Token[];
  private readonly comments: Token[];
  constructor(
    tokens: Token[],
    private readonly stmt: Statement,
  ) {
    this.toks = tokens.filter((t) => t.kind !== 'comment');
    this.comments = tokens.filter((t) => t.kind === 'comment');
  }

  private peek(k = 0): Token | undefined {
    return this.toks[this.i + k];
  }
  private isPunct(t: Token | undefined, p: string): boolean {
    return t?.kind === 'punct' && t.text === p;
  }
  private fail(message: string, at: Span): never {
    throw new SyntaxFailure(message, at);
  }
  private describe(t: Token | undefined): string {
    if (!t) return 'end of line';
    if (t.kind === 'string') return `string ${t.text}`;
    return `"${t.text}"`;
  }
  private endSpan(): Span {
    const last = this.toks[this.toks.length - 1]!;
    return { start: last.end, end: last.end };
  }

  parse(): void {
    const s = this.stmt;
    for (const c of this.comments) {
      this.problems.push({
        code: 'trailing-comment',
        message: "comment after a command: Hailo's scripts only put comments on lines of their own; the DFC may not accept it here",
        start: c.start,
        end: c.end,
      });
      s.trailingComment = { start: c.start, end: c.end };
    }
    try {
      this.parseStatement();
    } catch (e) {
      if (!(e instanceof SyntaxFailure)) throw e;
      s.broken = true;
      this.problems.push({ code: 'syntax', message: e.message, start: e.at.start, end: Math.max(e.at.end, e.at.start) });
    }
  }

  private parseStatement(): void {
    const s = this.stmt;
    // left-hand side: "{} =" or "a, b, c ="
    const eqAt = this.findTopLevelAssign();
    if (eqAt >= 0) {
      const lhs = this.toks.slice(0, eqAt);
      s.targets = [];
      s.targetSpan = { start: lhs[0]?.start ?? this.toks[eqAt]!.start, end: this.toks[eqAt]!.end };
      if (lhs.length === 0) this.fail('missing layer name before "="', this.toks[eqAt]!);
      if (lhs.length === 1 && lhs[0]!.kind === 'pattern') {
        if (lhs[0]!.text.replace(/\s/g, '') !== '{}') this.fail('only "{}" or layer names may stand left of "="', lhs[0]!);
      } else {
        for (let k = 0; k < lhs.length; k++) {
          const t = lhs[k]!;
          if (k % 2 === 0) {
            if (t.kind !== 'name') this.fail(`expected a layer name left of "=", found ${this.describe(t)}`, t);
            s.targets.push({ text: t.text, start: t.start, end: t.end });
          } else if (!this.isPunct(t, ',')) this.fail(`expected "," or "=" after the layer name, found ${this.describe(t)}`, t);
        }
        if (lhs.length % 2 === 0) this.fail('missing layer name after ","', lhs[lhs.length - 1]!);
      }
      this.i = eqAt + 1;
    }
    let t = this.peek();
    if (!t) this.fail('missing command after "="', this.endSpan());
    if (t.kind !== 'name') this.fail(`expected a command name, found ${this.describe(t)}`, t);
    let name: NameNode = { text: t.text, start: t.start, end: t.end };
    this.i++;
    if (this.isPunct(this.peek(), '.')) {
      const m = this.peek(1);
      if (m?.kind !== 'name') this.fail(`expected a command name after ".", found ${this.describe(m)}`, m ?? this.endSpan());
      s.object = name;
      name = { text: m.text, start: m.start, end: m.end };
      this.i += 2;
    }
    if (name.text.includes('/') || name.text.includes('-') || name.text.includes('.')) {
      this.fail(`"${name.text}" is not a command name`, name);
    }
    s.command = name;
    t = this.peek();
    if (!t) this.fail(`expected "(" after ${name.text}: every command is written name(arguments)`, { start: name.end, end: name.end });
    if (!this.isPunct(t, '(')) this.fail(`expected "(" after ${name.text}, found ${this.describe(t)}`, t);
    s.open = t.start;
    this.i++;
    // arguments
    if (this.isPunct(this.peek(), ')')) {
      s.close = this.peek()!.start;
      this.i++;
    } else {
      for (;;) {
        const a = this.parseArg();
        s.args.push(a);
        const n = this.peek();
        if (this.isPunct(n, ',')) {
          this.i++;
          if (this.isPunct(this.peek(), ')')) {
            this.problems.push({ code: 'trailing-comma', message: 'trailing "," before ")": not seen in Hailo\'s scripts', start: n!.start, end: n!.end });
            s.close = this.peek()!.start;
            this.i++;
            break;
          }
          continue;
        }
        if (this.isPunct(n, ')')) {
          s.close = n!.start;
          this.i++;
          break;
        }
        if (!n) this.fail(`missing ")" to close ${name.text}(`, { start: s.open, end: s.open + 1 });
        if (this.isPunct(n, '.') && a.value?.kind === 'name') {
          this.fail(`unexpected "." after ${a.value.text}: a file path must be written in double quotes ("${a.value.text}...")`, n!);
        }
        this.fail(`expected "," or ")" in the arguments of ${name.text}, found ${this.describe(n)}`, n);
      }
    }
    const extra = this.peek();
    if (extra) this.fail(`unexpected ${this.describe(extra)} after the command: one command per line`, extra);
  }

  /** Index of the "=" that ends a left-hand side (a "=" before any "("). */
  private findTopLevelAssign(): number {
    for (let k = 0; k < this.toks.length; k++) {
      const t = this.toks[k]!;
      if (t.kind === 'punct' && (t.text === '(' || t.text === '[')) return -1;
      if (this.isPunct(t, '=')) return k;
    }
    return -1;
  }

  private parseArg(): Arg {
    const t = this.peek();
    if (!t) this.fail('missing argument', this.endSpan());
    if (t.kind === 'name' && this.isPunct(this.peek(1), '=')) {
      const key: NameNode = { text: t.text, start: t.start, end: t.end };
      this.i += 2;
      const v = this.peek();
      if (!v || this.isPunct(v, ',') || this.isPunct(v, ')')) this.fail(`missing value after ${key.text}=`, v ?? this.endSpan());
      const value = this.parseValue();
      return { key, value, start: key.start, end: value.end };
    }
    const value = this.parseValue();
    return { value, start: value.start, end: value.end };
  }

  private parseValue(depth = 0): Value {
    const t = this.peek();
    if (!t) this.fail('missing value', this.endSpan());
    switch (t.kind) {
      case 'name':
        this.i++;
        return { kind: 'name', text: t.text, start: t.start, end: t.end };
      case 'number':
        this.i++;
        return { kind: 'number', text: t.text, value: Number(t.text), start: t.start, end: t.end };
      case 'duration': {
        this.i++;
        const m = /^([\d.]+)(ms|min|s|m|h|d)$/.exec(t.text)!;
        const scale = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600, d: 86400 }[m[2] as 'ms' | 'min' | 's' | 'm' | 'h' | 'd'];
        return { kind: 'duration', text: t.text, seconds: Number(m[1]) * scale, start: t.start, end: t.end };
      }
      case 'string': {
        if (!t.terminated) this.fail('string is missing its closing quote', t);
        this.i++;
        const quote = t.text[0] as '"' | "'";
        if (quote === "'") {
          this.problems.push({
            code: 'single-quote',
            message: "single-quoted string: Hailo's own scripts quote paths with double quotes (scripts built in Python also pass single quotes)",
            start: t.start,
            end: t.end,
          });
        }
        return { kind: 'string', quote, text: t.text.slice(1, -1), start: t.start, end: t.end };
      }
      case 'pattern': {
        if (!t.terminated) this.fail('layer pattern is missing its closing "}"', t);
        this.i++;
        const inner = t.text.slice(1, -1).trim();
        if (!inner) this.fail('empty layer pattern "{}"', t);
        if (!/^[A-Za-z0-9_\-/*?[\]!.]+$/.test(inner)) this.fail(`"${t.text}" is not a layer pattern: use layer names with * and [0-9] classes`, t);
        return { kind: 'pattern', text: inner, start: t.start, end: t.end };
      }
      case 'punct':
        if (t.text === '[' || t.text === '{') {
          if (depth >= MAX_NESTING_DEPTH) this.fail(`lists nested more than ${MAX_NESTING_DEPTH} deep: not a model script`, t);
          return t.text === '[' ? this.parseList(depth + 1) : this.parseMapping(depth + 1);
        }
        if (t.text === '.') this.fail('unexpected "." (a file path must be written in double quotes: "../config.json")', t);
        this.fail(`expected a value, found ${this.describe(t)}`, t);
      // falls through (fail throws)
      default:
        this.fail(t.kind === 'invalid' ? `unexpected "${t.text}"` : `expected a value, found ${this.describe(t)}`, t);
    }
  }

  private parseMapping(depth: number): Value {
    const open = this.peek()!;
    this.i++;
    const entries: { key: Value; value: Value }[] = [];
    for (;;) {
      const key = this.parseValue(depth);
      const colon = this.peek();
      if (!this.isPunct(colon, ':')) this.fail(`expected ":" after a key of the mapping, found ${this.describe(colon)}`, colon ?? this.endSpan());
      this.i++;
      const value = this.parseValue(depth);
      entries.push({ key, value });
      const n = this.peek();
      if (this.isPunct(n, ',')) {
        this.i++;
        continue;
      }
      if (this.isPunct(n, '}')) {
        this.i++;
        return { kind: 'mapping', entries, start: open.start, end: n!.end };
      }
      if (!n || this.isPunct(n, ')')) this.fail('missing "}" to close the mapping', { start: open.start, end: open.end });
      this.fail(`expected "," or "}" in the mapping, found ${this.describe(n)}`, n);
    }
  }

  private parseList(depth: number): Value {
    const open = this.peek()!;
    this.i++;
    const items: Value[] = [];
    if (this.isPunct(this.peek(), ']')) {
      const close = this.peek()!;
      this.i++;
      return { kind: 'list', items, start: open.start, end: close.end };
    }
    for (;;) {
      items.push(this.parseValue(depth));
      const n = this.peek();
      if (this.isPunct(n, ',')) {
        this.i++;
        if (this.isPunct(this.peek(), ']')) {
          const close = this.peek()!;
          this.problems.push({ code: 'trailing-comma', message: 'trailing "," before "]": not seen in Hailo\'s scripts', start: n!.start, end: n!.end });
          this.i++;
          return { kind: 'list', items, start: open.start, end: close.end };
        }
        continue;
      }
      if (this.isPunct(n, ']')) {
        this.i++;
        return { kind: 'list', items, start: open.start, end: n!.end };
      }
      if (!n || this.isPunct(n, ')')) this.fail('missing "]" to close the list', { start: open.start, end: open.end });
      this.fail(`expected "," or "]" in the list, found ${this.describe(n)}`, n);
    }
  }
}

class SyntaxFailure extends Error {
  constructor(
    message: string,
    readonly at: Span,
  ) {
    super(message);
  }
}

/** Parse a whole script. Never throws. */
export function parseScript(text: string): Script {
  const problems: ParseProblem[] = [];
  const tokens = tokenizeWithinLimits(text, problems);
  const { groups, comments } = splitStatements(text, tokens);
  const statements: Statement[] = [];
  for (const g of groups) {
    const first = g[0]!;
    const last = g[g.length - 1]!;
    const stmt: Statement = { start: first.start, end: last.end, args: [], broken: false };
    // a group made of a comment alone cannot happen (comments only join non-empty groups)
    const p = new StatementParser(g, stmt);
    p.parse();
    problems.push(...p.problems);
    statements.push(stmt);
  }
  return { text, statements, problems, comments };
}

/**
 * Tokens of the whole text, except lines longer than MAX_LINE_LENGTH: each of those becomes one
 * 'limit' problem and a line break, so one pathological line neither costs the rest of the file
 * nor hides it.
 */
function tokenizeWithinLimits(text: string, problems: ParseProblem[]): Token[] {
  if (text.length <= MAX_LINE_LENGTH) return tokenize(text);
  const out: Token[] = [];
  let from = 0;
  let lineStart = 0;
  while (lineStart <= text.length) {
    const nl = text.indexOf('\n', lineStart);
    const lineEnd = nl < 0 ? text.length : nl;
    if (lineEnd - lineStart > MAX_LINE_LENGTH) {
      for (const t of tokenize(text, from, lineStart)) out.push(t);
      problems.push({
        code: 'limit',
        message: `line of ${lineEnd - lineStart} characters, over the limit of ${MAX_LINE_LENGTH}: not checked`,
        start: lineStart,
        end: lineStart + 1,
      });
      from = lineEnd;
    }
    if (nl < 0) break;
    lineStart = nl + 1;
  }
  for (const t of tokenize(text, from, text.length)) out.push(t);
  return out;
}

/** The statement whose text covers an offset (its end included, so a cursor after ")" counts). */
export function statementAt(script: Script, offset: number): Statement | undefined {
  for (const s of script.statements) if (offset >= s.start && offset <= s.end) return s;
  return undefined;
}

/** Start offsets of the lines of a text, for line/column lookups in O(log lines). */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  get lineCount(): number {
    return this.starts.length;
  }
  /** 0-based line and character of an offset ("\n" line ends; "\r" counts as a character). */
  at(offset: number): { line: number; character: number } {
    const end = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= end) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: end - this.starts[lo]! };
  }
}

let lastIndex: LineIndex | undefined;

/**
 * 0-based line and character of an offset ("\n" line ends; "\r" counts as a character). The
 * line index of the last text asked about is kept, so a loop over the findings of one script
 * costs O(log lines) per call, not a scan from the start.
 */
export function lineColumn(text: string, offset: number): { line: number; character: number } {
  if (lastIndex?.text !== text) lastIndex = new LineIndex(text);
  return lastIndex.at(offset);
}

/** Every value of a (possibly nested) list, flattened; a non-list value yields itself. */
export function flattenValues(v: Value | undefined): Value[] {
  const out: Value[] = [];
  // iterative: nesting is bounded by the parser, but a flat walk costs nothing
  const stack: Value[] = v ? [v] : [];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.kind === 'list') for (let k = x.items.length - 1; k >= 0; k--) stack.push(x.items[k]!);
    else if (x.kind === 'mapping') for (let k = x.entries.length - 1; k >= 0; k--) stack.push(x.entries[k]!.value, x.entries[k]!.key);
    else out.push(x);
  }
  return out;
}
