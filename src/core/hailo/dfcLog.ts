import { TextDecoder } from 'node:util';
import { stripAnsi } from '../format';
import { HailoError } from '../errors';
import { groupCompilerLayers, type CompilerLayerGroup } from './dfcLogLayers';
import { mergeHeader, parseSystemHeaderLine, type SystemHeader } from './versions';

/**
 * A streaming parser of Hailo Dataflow Compiler console output (the `hailo` CLI, the Python
 * ClientRunner API, the Model Zoo's `hailomz`), as it arrives from a terminal or a log file:
 * ANSI colours, `\r` progress redraws (tqdm, Keras), TensorFlow/absl noise, Python tracebacks and
 * un-prefixed continuation lines (allocator tables, "Found valid partition to N contexts").
 *
 *     const p = new DfcLogParser();
 *     p.onEvent((e) => ...);          // optional: live events
 *     p.push(chunk);                  // string or Buffer, split anywhere (even inside a UTF-8 char)
 *     const summary = p.end();        // JSON-serialisable DfcLogSummary
 *
 * Everything is decided per complete line, so the summary is the same however the input is split.
 */

export type DfcStep = 'parse' | 'optimize' | 'compile';
export type StepStatus = 'running' | 'succeeded' | 'failed' | 'incomplete';

export interface DfcStepRecord {
  step: DfcStep;
  status: StepStatus;
  /** 1-based log line where the step started / ended. */
  startLine: number;
  endLine?: number;
  /** As printed by the tool, e.g. "00:00:01.00" or "5s". */
  durationText?: string;
  durationSec?: number;
  /** Parse attempts (the parser retries with recommended end nodes). */
  attempts?: number;
}

export type ErrorCategory = 'parser' | 'model-script' | 'optimize' | 'compile' | 'runtime' | 'other';

export interface DfcLogError {
  category: ErrorCategory;
  /** Short class name: `UnsupportedOperationError`, `BackendAllocatorException`, `MappingFailed`... */
  errorClass?: string;
  /** The dotted class path when printed (`hailo_sdk_client.model_translator.exceptions.ParsingWithRecommendationException`). */
  qualifiedClass?: string;
  message: string;
  /** 1-based line in the log. */
  line: number;
  step?: DfcStep;
  /** ONNX node the error is about (parser errors: `... in op <node>: ...`). */
  node?: string;
  /** HN layer the error names (`... for layer bilstm_model/input_layer1 ...`, `ew mult layer ew_mult1 ...`), scoped as printed. */
  layer?: string;
  /** Model script position from a `Parsing failed at:` + `>!<` report. */
  alls?: { text: string; column: number; line?: number; file?: string };
}

export interface DfcLogMessage {
  level: 'info' | 'warning' | 'error';
  text: string;
  line: number;
  step?: DfcStep;
}

export interface TracebackFrame {
  file: string;
  line: number;
  fn: string;
}

export interface DfcTraceback {
  startLine: number;
  endLine: number;
  frames: TracebackFrame[];
  exceptionClass?: string;
  qualifiedClass?: string;
  message?: string;
  /** Earlier exceptions of a chain ("During handling of the above exception ..."). */
  chained?: { exceptionClass: string; message: string }[];
  /** The log ended inside the traceback. */
  truncated?: boolean;
}

export interface NodeMapping {
  onnx: string;
  hn: string;
}

export interface OptimizationAlgorithm {
  name: string;
  status: 'running' | 'done' | 'skipped';
  durationText?: string;
  durationSec?: number;
  line: number;
}

export interface UtilizationRow {
  cluster: string;
  controlPct: number;
  computePct: number;
  memoryPct: number;
}

export interface ContextUtilization {
  /** `<net>_context_0`; undefined when the table had no title (single-context runs). */
  context?: string;
  index: number;
  clusters: UtilizationRow[];
  total?: Omit<UtilizationRow, 'cluster'>;
  line: number;
}

export interface FeasibilityEntry {
  layer: string;
  result: string;
  /** The context being validated when the layer was listed, if the log said. */
  context?: string;
  line: number;
}

export interface DfcLogSummary {
  version: 1;
  header: SystemHeader;
  /** The tool that produced the log, as far as it shows. */
  producer: 'hailo-cli' | 'client-runner' | 'model-zoo' | 'unknown';
  netName?: string;
  steps: DfcStepRecord[];
  outcome: 'succeeded' | 'failed' | 'incomplete' | 'unknown';
  errors: DfcLogError[];
  warnings: DfcLogMessage[];
  /** Notable info messages (advice, detected structures, calibration notices). */
  notices: DfcLogMessage[];
  tracebacks: DfcTraceback[];
  parse: {
    startNodes: NodeMapping[];
    /** 1-based line of the (last) `Start nodes mapped ...` / `End nodes mapped ...` line. */
    startNodesLine?: number;
    endNodesLine?: number;
    /** ONNX end nodes as listed by `End nodes mapped from original model:`. */
    endNodes: string[];
    /** When the end nodes are printed as `'onnx': 'hn'` pairs. */
    endNodeMap: NodeMapping[];
    recommendedEndNodes?: { nodes: string[]; form: 'exception' | 'prompt'; line: number; truncated?: boolean };
    retriedWithEndNodes?: string[];
    /** End nodes the parser suggests for HailoRT post-processing (NMS). */
    postprocessEndNodes?: string[];
    nmsStructure?: string;
  };
  optimize: {
    modelScript?: string;
    calibrationEntries?: number;
    finetuneEntries?: number;
    optimizationLevelReduced?: { level: number; reason: string; line: number };
    cpuFallback: boolean;
    algorithms: OptimizationAlgorithm[];
    snr: { layer: string; db: number; line: number }[];
    calibrationNotNormalized?: string;
  };
  compile: {
    contextMode?: 'single' | 'multi';
    contexts?: number;
    singleContextFailed: boolean;
    resourceLimits?: Record<string, number>;
    partitionSearch: { contexts: number; improvementPct?: number; line: number }[];
    partitionerIterations?: number;
    partitionTimeText?: string;
    mappingTimePerContext?: string;
    mapping?: { status: 'succeeded' | 'failed'; durationText?: string; durationSec?: number; line: number };
    utilization: ContextUtilization[];
    feasibility: FeasibilityEntry[];
    /** Feasibility layers grouped by their HN base layer (see dfcLogLayers.ts). */
    layerGroups: CompilerLayerGroup[];
    /** Contexts named by `Validating <ctx> layer by layer` / `Compiling kernels of <ctx>`. */
    contextNames: string[];
    /** The allocator's per-context report: `Iterations: N` and `Reverts on <what>: N`. */
    mappingStats: { context?: string; iterations?: number; reverts: Record<string, number>; line: number }[];
    bandwidthMbps?: { inputs?: number; outputs?: number; ddr?: number; interContext?: number };
    failureReason?: string;
  };
  artifacts: { kind: 'har' | 'hef'; path: string; line: number }[];
  /** The success and failure markers the tool printed, in log order. */
  markers: { kind: MarkerKind; line: number }[];
  stats: { lines: number; noiseLines: number; progressRedraws: number; truncatedLines: number; droppedEntries: number };
}

export type MarkerKind =
  | 'parse-succeeded'
  | 'parse-failed'
  | 'optimize-succeeded'
  | 'feasibility-validated'
  | 'partition-succeeded'
  | 'partition-failed'
  | 'mapping-succeeded'
  | 'mapping-failed'
  | 'kernels-compiled'
  | 'compile-succeeded'
  | 'compile-failed'
  | 'har-saved'
  | 'hef-saved';

export type DfcLogLineKind = 'info' | 'warning' | 'error' | 'noise' | 'traceback' | 'plain' | 'blank';

export type DfcLogEvent =
  | { type: 'line'; line: number; kind: DfcLogLineKind; text: string }
  | { type: 'progress'; text: string }
  | { type: 'header'; header: Partial<SystemHeader> }
  | { type: 'step'; record: DfcStepRecord }
  | { type: 'error'; error: DfcLogError }
  | { type: 'warning'; message: DfcLogMessage }
  | { type: 'recommendation'; nodes: string[]; form: 'exception' | 'prompt' }
  | { type: 'node-mapping'; side: 'start' | 'end'; nodes: string[]; map: NodeMapping[] }
  | { type: 'algorithm'; algorithm: OptimizationAlgorithm }
  | { type: 'snr'; layer: string; db: number }
  | { type: 'contexts'; mode: 'single' | 'multi'; count?: number }
  | { type: 'utilization'; context: ContextUtilization }
  | { type: 'traceback'; traceback: DfcTraceback };

export interface DfcLogParserOptions {
  /** Longest line kept, in characters; the rest of a longer line is dropped (default 1 MiB). */
  maxLineLength?: number;
}

const DEFAULT_MAX_LINE = 1 << 20;

/** `HH:MM:SS.ss`, `Xh Ym Zs Wms` and friends, to seconds. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  let m = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(t);
  if (m) return round3(Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]));
  m = /^(\d+):(\d{2}(?:\.\d+)?)$/.exec(t);
  if (m) return round3(Number(m[1]) * 60 + Number(m[2]));
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)\s*(ms|h|m|s)\b/g)];
  if (
    !parts.length ||
    parts
      .map((p) => p[0])
      .join(' ')
      .replace(/\s+/g, '') !== t.replace(/\s+/g, '')
  )
    return undefined;
  let s = 0;
  for (const p of parts) {
    const v = Number(p[1]);
    s += p[2] === 'h' ? v * 3600 : p[2] === 'm' ? v * 60 : p[2] === 's' ? v : v / 1000;
  }
  return round3(s);
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** `['a', "b"]` -> ["a", "b"] (Python repr of a list of strings); undefined when not a list. */
export function parsePythonStringList(text: string): { items: string[]; complete: boolean } | undefined {
  const s = text.trim();
  if (!s.startsWith('[')) return undefined;
  const items: string[] = [];
  let i = 1;
  for (;;) {
    while (i < s.length && /[\s,]/.test(s[i]!)) i++;
    if (i >= s.length) return { items, complete: false };
    const q = s[i]!;
    if (q === ']') return { items, complete: true };
    if (q !== "'" && q !== '"') return undefined;
    let v = '';
    i++;
    for (; i < s.length && s[i] !== q; i++) {
      if (s[i] === '\\' && i + 1 < s.length) v += s[++i]!;
      else v += s[i]!;
    }
    if (i >= s.length) {
      items.push(v);
      return { items, complete: false };
    }
    items.push(v);
    i++;
  }
}

/** `'a': 'x', 'b': 'y'` pairs or `'a', 'b'` names, as printed by the node-mapping lines. */
function parseQuotedMapping(text: string): { names: string[]; map: NodeMapping[] } {
  const quoted: { v: string; end: number; start: number }[] = [];
  const re = /'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) quoted.push({ v: (m[1] ?? m[2])!.replace(/\\(.)/g, '$1'), start: m.index, end: re.lastIndex });
  const map: NodeMapping[] = [];
  const names: string[] = [];
  for (let i = 0; i < quoted.length; i++) {
    const a = quoted[i]!;
    const b = quoted[i + 1];
    if (b && /^\s*:\s*$/.test(text.slice(a.end, b.start))) {
      map.push({ onnx: a.v, hn: b.v });
      names.push(a.v);
      i++;
    } else names.push(a.v);
  }
  return { names, map };
}

const LEVEL_PREFIX = /^\[(?:\[[0-9;]*m)?(info|warning|error)(?:\[[0-9;]*m)?\] ?/;
const HAILORT_PREFIX = /^\[HailoRT(?: CLI)?\] \[(?:\[[0-9;]*m)?(info|warning|error|critical)(?:\[[0-9;]*m)?\] ?/;
const MODEL_ZOO_PREFIX = /^<Hailo Model Zoo (\w+)> ?/;
const TF_NOISE = [
  /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+: [IWEF] /,
  /^[IWEF]\d{4} [\d:.]+\s+\d+ [\w.\-/]+:\d+\] /,
  /^WARNING: All log messages before absl::InitializeLog\(\) is called/,
  /^WARNING:(?:absl|tensorflow|root):/,
  /^To enable the following instructions: .* in other operations, rebuild TensorFlow/,
  /^Skipping registering GPU devices/,
];
/** First characters of the TF_NOISE patterns: a digit, I/W/E/F, T(o enable), S(kipping). */
function mayBeNoise(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 73 || c === 87 || c === 69 || c === 70 || c === 84 || c === 83;
}

/** A TensorFlow log line glued after a progress bar on the same line. */
const TF_GLUED = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+: [IWEF] \S/;
const QUALIFIED_EXCEPTION = /^\s*((?:[a-z_][\w]*\.)+)(_?[A-Z]\w*): ?(.*)$/;
const BARE_EXCEPTION = /^\s*([A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning)|KeyboardInterrupt|StopIteration)(?:: ?(.*))?$/;
/** Progress bars and allocator chatter: never the continuation of a message. */
const PROGRESS_LIKE = /\d+%\||━|^\[[.=<>]+\]|^Epoch \d+\/\d+|^\d+\/\d+ |^(?:Reverts on |Iterations: |Context:\d)|^[+\s]+$/;
/** Longer [info] lines are not matched against the general patterns (keeps hostile input linear). */
const MAX_CLASSIFIED = 16 * 1024;
/** Most entries kept per summary list; more are counted in stats.droppedEntries. */
const LIST_LIMIT = 20_000;
/** Longest error or notice text built from continuation lines. */
const MAX_MESSAGE = 64 * 1024;
/** Earlier exceptions kept per traceback chain; the rest are counted in stats.droppedEntries. */
export const MAX_CHAINED = 1000;
const PARSER_OP_ERROR = /^\s*(\w+Error) in op (.+?): (.*)$/;

/** The HN layer an error message names: `<type stem><index>`, optionally scoped by the net ("layer to create" is not one). */
function layerNamed(message: string): string | undefined {
  return /\blayer ((?:[A-Za-z_][\w-]*\/)?[a-z][a-z_]*\d+)\b/.exec(message)?.[1];
}

function pct(s: string): number {
  return Number(s.replace(/%$/, ''));
}

type Continuation =
  | { kind: 'exception'; error: DfcLogError; traceback?: DfcTraceback }
  | { kind: 'message'; message: DfcLogMessage }
  | { kind: 'error-text'; error: DfcLogError; joiner: string }
  | { kind: 'calibration' };

export class DfcLogParser {
  private readonly maxLine: number;
  private decoder: TextDecoder | undefined;
  private pending = '';
  /** Characters of the pending line beyond maxLine were dropped. */
  private pendingTruncated = false;
  private lineNo = 0;
  private listeners: ((e: DfcLogEvent) => void)[] = [];
  private ended = false;
  private s: DfcLogSummary;

  // parse state
  private step: DfcStepRecord | undefined;
  private tb: DfcTraceback | undefined;
  private tbExpectMessage = false;
  private cont: Continuation | undefined;
  private inSnr = false;
  private util: ContextUtilization | undefined;
  private utilTitle: string | undefined;
  private validatingContext: string | undefined;

  constructor(opts: DfcLogParserOptions = {}) {
    this.maxLine = opts.maxLineLength ?? DEFAULT_MAX_LINE;
    this.s = emptySummary();
  }

  /** Subscribe to live events; returns an unsubscribe function. */
  onEvent(listener: (e: DfcLogEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private emit(e: DfcLogEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** Feed more output. Buffers are decoded as UTF-8, keeping split characters for the next chunk. */
  push(chunk: string | Uint8Array): void {
    if (this.ended) throw new HailoError('INVALID_ARGUMENT', 'DfcLogParser: push() after end()');
    let text: string;
    if (typeof chunk === 'string') {
      // a string after bytes: flush what the decoder holds first
      if (this.decoder) text = this.decoder.decode() + chunk;
      else text = chunk;
      this.decoder = undefined;
    } else {
      this.decoder ??= new TextDecoder('utf-8', { fatal: false });
      text = this.decoder.decode(chunk, { stream: true });
    }
    if (text) this.feed(text);
  }

  /** No more input: flush the last line, close open steps, return the summary. */
  end(): DfcLogSummary {
    if (!this.ended) {
      if (this.decoder) {
        const rest = this.decoder.decode();
        this.decoder = undefined;
        if (rest) this.feed(rest);
      }
      if (this.pending.length || this.pendingTruncated) {
        const line = this.pending;
        this.pending = '';
        this.processRawLine(line);
      }
      this.finish();
      this.s.compile.layerGroups = groupCompilerLayers(this.s.compile.feasibility.map((f) => f.layer));
      this.ended = true;
    }
    // final: nothing changes it any more, so no copy
    return this.s;
  }

  /** A snapshot of what is known so far (a deep copy, safe to keep or serialise while parsing goes on). */
  summary(): DfcLogSummary {
    if (this.ended) return this.s;
    const out = structuredClone(this.s);
    out.compile.layerGroups = groupCompilerLayers(out.compile.feasibility.map((f) => f.layer));
    out.outcome = computeOutcome(out, false);
    return out;
  }

  private feed(text: string): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) {
        this.appendPending(text.slice(start));
        this.emitProgress();
        return;
      }
      this.appendPending(text.slice(start, nl));
      const line = this.pending;
      this.pending = '';
      this.processRawLine(line);
      this.pendingTruncated = false;
      start = nl + 1;
    }
  }

  private appendPending(part: string): void {
    if (!part) return;
    if (this.pendingTruncated) {
      // past the cap: only a later `\r` redraw with visible text can replace what is kept
      const r = visibleTailStart(part);
      if (r < 0) return;
      this.pending = part.slice(r);
      this.pendingTruncated = false;
      this.s.stats.truncatedLines--;
      this.appendCapped();
      return;
    }
    this.pending += part;
    this.appendCapped();
  }

  private appendCapped(): void {
    if (this.pending.length <= this.maxLine) return;
    // a long run of redraws: only the last visible segment (and what follows it) can survive
    const r = visibleTailStart(this.pending);
    if (r > 0) {
      this.pending = this.pending.slice(r);
      // what was dropped has been reported; the kept segment is index 1 now
      this.progressEmitted = Math.min(this.progressEmitted, 1);
    }
    if (this.pending.length > this.maxLine) {
      this.pending = this.pending.slice(0, this.maxLine);
      this.pendingTruncated = true;
      this.s.stats.truncatedLines++;
    }
  }

  /** Redraw segments of the unfinished line already reported as progress events. */
  private progressEmitted = 0;

  /** Report redraws of the unfinished line: segments closed by a `\r` that is not part of `\r\n`. */
  private emitProgress(): void {
    if (!this.listeners.length || !this.pending.includes('\r')) return;
    const segs = this.pending.split('\r');
    // the segment before the last `\r` is final only once text follows that `\r`
    const closed = segs[segs.length - 1] === '' ? segs.length - 2 : segs.length - 1;
    this.emitSegments(segs, closed);
  }

  private emitSegments(segs: string[], upTo: number): void {
    for (let i = this.progressEmitted; i < upTo; i++) {
      const text = stripAnsi(segs[i]!).trim();
      if (text) this.emit({ type: 'progress', text });
    }
    if (upTo > this.progressEmitted) this.progressEmitted = upTo;
  }

  private processRawLine(raw: string): void {
    this.lineNo++;
    let line = raw;
    // CRLF, then redraws: keep the final state of the line
    let end = line.length;
    while (end > 0 && line.charCodeAt(end - 1) === 13) end--;
    if (end !== line.length) line = line.slice(0, end);
    const r = line.lastIndexOf('\r');
    if (r >= 0) {
      const segs = line.split('\r');
      this.s.stats.progressRedraws += segs.length - 1;
      line = lastVisibleSegment(line);
      if (this.listeners.length) {
        // every segment but the one that stays on screen was a progress state
        let keep = segs.length - 1;
        while (keep > 0 && stripAnsi(segs[keep]!).trim() === '') keep--;
        this.emitSegments(segs, keep);
      }
    }
    this.progressEmitted = 0;
    if (line.includes('\x1b')) line = stripAnsi(line);
    if (line.includes('\b')) line = applyBackspaces(line);
    // a pasted table may have several `[info] | ... |` rows on one line
    if (line.includes('| [')) {
      const parts = line.split(/(?<=\|) (?=\[(?:info|warning|error)\] )/);
      if (parts.length > 1) {
        for (const p of parts) this.processLine(p);
        return;
      }
    }
    // TensorFlow lines carry `<file>:<line>] `; only then look for one glued on
    const glued = line.length > 30 && line.indexOf('] ', 12) >= 0 ? TF_GLUED.exec(line) : null;
    if (glued && glued.index > 0) {
      this.processLine(line.slice(0, glued.index));
      this.processLine(line.slice(glued.index));
      return;
    }
    this.processLine(line);
  }

  private processLine(line: string): void {
    const n = this.lineNo;
    this.s.stats.lines = n;
    const trimmed = line.trim();
    if (!trimmed) {
      this.onBlank();
      this.emitLine(n, 'blank', line);
      return;
    }

    // a traceback block: frames until the exception line
    if (this.tb && this.handleTraceback(line, n)) return;

    let m = LEVEL_PREFIX.exec(line);
    if (m) {
      const level = m[1] as 'info' | 'warning' | 'error';
      const text = line.slice(m[0].length);
      this.endContinuation();
      this.emitLine(n, level, text);
      this.onMessage(level, text, n);
      return;
    }
    if ((m = HAILORT_PREFIX.exec(line))) {
      const level = m[1] === 'critical' ? 'error' : (m[1] as 'info' | 'warning' | 'error');
      const text = line.slice(m[0].length);
      this.endContinuation();
      this.emitLine(n, level, text);
      if (level === 'warning') this.addWarning(text, n);
      else if (level === 'error') this.addError({ category: 'runtime', message: text, line: n }, text);
      return;
    }
    if ((m = MODEL_ZOO_PREFIX.exec(line))) {
      this.s.producer = 'model-zoo';
      const text = line.slice(m[0].length);
      const tag = m[1]!.toUpperCase();
      this.endContinuation();
      const level = tag.includes('ERROR') ? 'error' : tag.includes('WARN') ? 'warning' : 'info';
      this.emitLine(n, level, text);
      if (level === 'warning') this.addWarning(text, n);
      else if (level === 'error') this.addError({ category: 'other', message: text, line: n }, text);
      return;
    }
    if (mayBeNoise(line.charCodeAt(0)) && TF_NOISE.some((re) => re.test(line))) {
      this.s.stats.noiseLines++;
      this.emitLine(n, 'noise', line);
      return;
    }
    if (trimmed === 'Traceback (most recent call last):') {
      this.endContinuation();
      this.tb = { startLine: n, endLine: n, frames: [] };
      this.tbExpectMessage = false;
      this.emitLine(n, 'traceback', line);
      return;
    }
    this.onPlain(line, trimmed, n);
  }

  private emitLine(line: number, kind: DfcLogLineKind, text: string): void {
    if (this.listeners.length) this.emit({ type: 'line', line, kind, text });
  }

  private onBlank(): void {
    this.inSnr = false;
    if (this.cont?.kind === 'exception' || this.cont?.kind === 'message') this.endContinuation();
    if (this.util) this.closeUtilization();
  }

  // ---- tracebacks ---------------------------------------------------------------------------

  /** Returns true when the line belonged to the open traceback. */
  private handleTraceback(line: string, n: number): boolean {
    const tb = this.tb!;
    const fm = /^\s+File "(.*)", line (\d+), in (.*)$/.exec(line);
    if (fm) {
      if (tb.frames.length < 1000) tb.frames.push({ file: fm[1]!, line: Number(fm[2]), fn: fm[3]!.trim() });
      tb.endLine = n;
      this.emitLine(n, 'traceback', line);
      return true;
    }
    if (/^\s/.test(line) && !QUALIFIED_EXCEPTION.test(line)) {
      // source line of the last frame (or the `^^^^` marker)
      tb.endLine = n;
      this.emitLine(n, 'traceback', line);
      return true;
    }
    const ex = parseExceptionLine(line, true);
    if (ex) {
      tb.endLine = n;
      tb.exceptionClass = ex.cls;
      if (ex.qualified) tb.qualifiedClass = ex.qualified;
      tb.message = ex.message;
      this.emitLine(n, 'traceback', line);
      this.tb = undefined;
      this.finishTraceback(tb, ex, n);
      return true;
    }
    // something else: the traceback was cut here
    tb.truncated = true;
    this.tb = undefined;
    this.keep(this.s.tracebacks, tb);
    this.emit({ type: 'traceback', traceback: tb });
    return false;
  }

  private finishTraceback(tb: DfcTraceback, ex: ParsedException, n: number): void {
    // a chained traceback ("During handling ...") replaces the previous one
    const prev = this.pendingChain;
    if (prev) {
      // the earlier traceback is dropped, so its chain is taken over, not copied: linear in the chain
      const chain = prev.chained ?? [];
      if (prev.exceptionClass) {
        if (chain.length < MAX_CHAINED) chain.push({ exceptionClass: prev.exceptionClass, message: prev.message ?? '' });
        else this.s.stats.droppedEntries++;
      }
      tb.chained = chain;
      const i = this.s.tracebacks.lastIndexOf(prev);
      if (i >= 0) this.s.tracebacks.splice(i, 1);
      this.pendingChain = undefined;
    }
    this.keep(this.s.tracebacks, tb);
    const err = this.exceptionError(ex, n);
    this.cont = { kind: 'exception', error: err, traceback: tb };
    this.commitException(err, ex.message);
    this.emit({ type: 'traceback', traceback: tb });
  }

  private pendingChain: DfcTraceback | undefined;

  // ---- exceptions and errors ---------------------------------------------------------------

  private exceptionError(ex: ParsedException, n: number): DfcLogError {
    const err: DfcLogError = { category: categoryOf(ex.cls, ex.qualified, this.step?.step), errorClass: ex.cls, message: ex.message, line: n };
    if (ex.qualified) err.qualifiedClass = ex.qualified;
    if (this.step) err.step = this.step.step;
    if (err.category === 'parser') {
      // `ew mult layer ew_mult1 (translated from /blocks/blocks.0/attn/Mul) expects ...`
      const node = /\(translated from ([^()\s]+)\)/.exec(ex.message)?.[1];
      if (node) err.node = node;
    }
    const layer = layerNamed(ex.message);
    if (layer) err.layer = layer;
    return err;
  }

  /**
   * Record an exception now, and keep it open for continuation lines (the message may span lines:
   * the parser's error list, the `>!<` model-script line).
   */
  private commitException(err: DfcLogError, firstLine: string): void {
    const pos = /\(at char \d+\), \(line:(\d+), col:(\d+)\)/.exec(firstLine);
    if (pos) this.lastPyparsingPosition = { line: Number(pos[1]), column: Number(pos[2]) };
    // ParsingWithRecommendationException's own line is a header for the per-op errors below it
    if (err.errorClass === 'ParsingWithRecommendationException') this.mark('parse-failed', err.line);
    this.keep(this.s.errors, err);
    this.emit({ type: 'error', error: err });
    this.exceptionContinuation(err, firstLine, true);
    this.markStepFailed(err);
  }

  private markStepFailed(err: DfcLogError): void {
    const stepName = err.step ?? stepForCategory(err.category);
    if (!stepName) return;
    let rec = this.findStep(stepName);
    if (!rec && !this.step) {
      // an excerpt without the step's start line: the error itself shows which step failed
      rec = { step: stepName, status: 'failed', startLine: err.line };
      this.keep(this.s.steps, rec);
      this.step = rec;
    }
    if (rec && rec.status !== 'succeeded') {
      rec.status = 'failed';
      rec.endLine ??= err.line;
      this.emit({ type: 'step', record: { ...rec } });
    }
  }

  /** Lines that continue an exception message. */
  private exceptionContinuation(err: DfcLogError, text: string, first: boolean): void {
    const n = first ? err.line : this.lineNo;
    let m: RegExpExecArray | null;
    if ((m = PARSER_OP_ERROR.exec(text)) && !first) {
      const e: DfcLogError = { category: 'parser', errorClass: m[1]!, message: m[3]!.trim(), node: m[2]!.trim(), line: n };
      const layer = layerNamed(e.message);
      if (layer) e.layer = layer;
      if (this.step) e.step = this.step.step;
      else e.step = 'parse';
      this.keep(this.s.errors, e);
      this.emit({ type: 'error', error: e });
      return;
    }
    if ((m = /Please try to parse the model again, using these end node names: (.*)$/.exec(text))) {
      const nodes = m[1]!
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      this.setRecommendation(nodes, 'exception', n, false);
      return;
    }
    if (err.errorClass === 'BackendScriptParserException') {
      const marker = text.indexOf('>!<');
      if (marker >= 0) {
        const src = text.slice(0, marker) + text.slice(marker + 3);
        err.alls = { text: src, column: marker + 1 };
        const pos = this.lastPyparsingPosition;
        if (pos && pos.column === marker + 1) err.alls.line = pos.line;
        if (this.s.optimize.modelScript) err.alls.file = this.s.optimize.modelScript;
        return;
      }
    }
    if (!first && err.message.length < MAX_MESSAGE) err.message = err.message ? `${err.message}\n${text}` : text;
  }

  private lastPyparsingPosition: { line: number; column: number } | undefined;

  private addError(err: DfcLogError, _raw: string): void {
    if (this.step && !err.step) err.step = this.step.step;
    this.keep(this.s.errors, err);
    this.emit({ type: 'error', error: err });
    if (err.category !== 'runtime') this.markStepFailed(err);
  }

  private addWarning(text: string, n: number): DfcLogMessage {
    const w: DfcLogMessage = { level: 'warning', text, line: n };
    if (this.step) w.step = this.step.step;
    this.keep(this.s.warnings, w);
    this.emit({ type: 'warning', message: w });
    return w;
  }

  private addNotice(text: string, n: number, level: DfcLogMessage['level'] = 'info'): DfcLogMessage {
    const w: DfcLogMessage = { level, text, line: n };
    if (this.step) w.step = this.step.step;
    this.keep(this.s.notices, w);
    return w;
  }

  private endContinuation(): void {
    this.cont = undefined;
  }

  // ---- steps -------------------------------------------------------------------------------

  private findStep(step: DfcStep): DfcStepRecord | undefined {
    for (let i = this.s.steps.length - 1; i >= 0; i--) if (this.s.steps[i]!.step === step) return this.s.steps[i];
    return undefined;
  }

  private startStep(step: DfcStep, n: number): DfcStepRecord {
    const cur = this.step;
    if (cur && cur.step === step && cur.status === 'running') return cur;
    if (cur && cur.status === 'running' && cur.step !== step) {
      // the previous step ended without a marker we know: it got this far
      cur.status = 'incomplete';
      cur.endLine = n - 1;
      this.emit({ type: 'step', record: { ...cur } });
    }
    const rec: DfcStepRecord = { step, status: 'running', startLine: n };
    this.keep(this.s.steps, rec);
    this.step = rec;
    this.emit({ type: 'step', record: { ...rec } });
    return rec;
  }

  private endStep(step: DfcStep, status: StepStatus, n: number, durationText?: string): void {
    const rec = this.step?.step === step ? this.step : (this.findStep(step) ?? this.startStep(step, n));
    rec.status = status;
    rec.endLine = n;
    if (durationText !== undefined) {
      rec.durationText = durationText;
      const d = parseDuration(durationText);
      if (d !== undefined) rec.durationSec = d;
    }
    this.emit({ type: 'step', record: { ...rec } });
  }

  // ---- [info]/[warning]/[error] messages ---------------------------------------------------

  private onMessage(level: 'info' | 'warning' | 'error', text: string, n: number): void {
    if (this.s.producer === 'unknown') this.s.producer = 'client-runner';
    // utilization tables are [info]-prefixed rows
    if (text.startsWith('|') || text.startsWith('+-')) {
      this.onTableRow(text, n);
      return;
    }
    if (this.util) this.closeUtilization();

    const header = this.headerLine(text);
    if (header) {
      mergeHeader(this.s.header, header);
      this.emit({ type: 'header', header });
      if (header.command !== undefined) {
        this.s.producer = 'hailo-cli';
        const step = stepOfCommand(header.command);
        if (step) this.startStep(step, n);
      }
      return;
    }

    if (level === 'warning') {
      const w = this.addWarning(text, n);
      this.cont = { kind: 'message', message: w };
      this.onWarningText(text, n);
      return;
    }
    if (level === 'error') {
      this.onErrorText(text, n);
      return;
    }
    this.onInfo(text, n);
  }

  private headerLine(text: string): Partial<SystemHeader> | undefined {
    // cheap pre-check: header lines start with one of these words
    const c = text.charCodeAt(0);
    if (c !== 67 /* C */ && c !== 77 /* M */ && c !== 83 /* S */ && c !== 72 /* H */ && c !== 80 /* P */ && c !== 82 /* R */) return undefined;
    if (!/^(?:Current Time|CPU|Memory|System info|Hailo DFC Version|HailoRT Version|PCIe|Running `)/.test(text)) return undefined;
    return parseSystemHeaderLine(text);
  }

  private onWarningText(text: string, n: number): void {
    const m = /^Reducing optimization level to (\d+) \(.*?\) because (.*?)\.?$/.exec(text);
    if (m) this.s.optimize.optimizationLevelReduced = { level: Number(m[1]), reason: m[2]!, line: n };
  }

  private onErrorText(text: string, n: number): void {
    let m: RegExpExecArray | null;
    if ((m = /^Mapping Failed(?: \((?:allocation time: )?(.*?)\))?$/.exec(text))) {
      this.mark('mapping-failed', n);
      this.s.compile.mapping = { status: 'failed', line: n, ...(m[1] ? durationFields(m[1]) : {}) };
      this.addError({ category: 'compile', errorClass: 'MappingFailed', message: text, line: n }, text);
      return;
    }
    const ex = parseExceptionLine(text, false);
    if (ex) {
      const err = this.exceptionError(ex, n);
      if (err.category === 'other' && this.step) err.category = stepCategory(this.step.step);
      if (ex.cls === 'BackendAllocatorException') this.s.compile.failureReason = ex.message;
      this.cont = { kind: 'exception', error: err };
      this.commitException(err, ex.message);
      return;
    }
    const cat: ErrorCategory = this.step ? stepCategory(this.step.step) : 'other';
    const err: DfcLogError = { category: cat, message: text, line: n };
    if (/^Compiler could not find a valid partition to contexts/.test(text)) {
      this.mark('partition-failed', n);
      err.category = 'compile';
      err.errorClass = 'PartitionFailed';
      this.s.compile.failureReason ??= text;
    } else if (/^Failed to produce compiled graph/.test(text)) {
      this.mark('compile-failed', n);
      err.category = 'compile';
      err.errorClass = 'CompilationFailed';
    }
    this.addError(err, text);
    this.cont = { kind: 'error-text', error: err, joiner: '\n' };
  }

  private onInfo(text: string, n: number): void {
    if (text.length > MAX_CLASSIFIED) {
      // only node lists get this long; other patterns are not tried on hostile lengths
      if (/^(?:Start nodes mapped|End nodes mapped|According to recommendations|In order to use HailoRT)/.test(text)) this.onNodeListLine(text, n);
      return;
    }
    // SNR rows are `\t<layer> SNR:\t<x> dB`
    if (text.charCodeAt(0) === 9 || this.inSnr) {
      const m = /^\s*(\S+) SNR:\s*(-?[\d.]+|-?inf|nan)\s*dB/i.exec(text);
      if (m) {
        const db = Number(m[2]!.replace(/^(-?)inf$/i, '$1Infinity'));
        const row = { layer: m[1]!, db, line: n };
        this.keep(this.s.optimize.snr, row);
        this.emit({ type: 'snr', layer: row.layer, db });
        return;
      }
      this.inSnr = false;
    }
    for (const rule of DfcLogParser.INFO_RULES) {
      if (rule.when && !rule.when(this)) continue;
      let m: RegExpExecArray | null = null;
      if (typeof rule.match === 'string') {
        if (text !== rule.match) continue;
      } else if (rule.match instanceof RegExp) {
        if (!(m = rule.match.exec(text))) continue;
      } else if (!rule.match(text)) continue;
      if (rule.apply(this, m, text, n) !== false) return;
    }
  }

  /**
   * What `[info]` lines say, one rule per line kind, grouped by the DFC step that prints them and
   * tried in order. A rule matches the whole text (a string), a pattern, or a test; `when` limits it
   * to a parser state; `apply` returning false lets later rules see the line too. A new log line is
   * one entry here (and a captured example in a test).
   */
  private static readonly INFO_RULES: readonly InfoRule<DfcLogParser>[] = [
    // ---- parse
    {
      match: /^Translation started on ONNX model (.+)$/,
      apply: (p, m, _t, n) => {
        const cur = p.step;
        let rec: DfcStepRecord;
        if (cur?.step === 'parse' && cur.status === 'failed') {
          // a retry after the recommendation prompt was answered
          rec = cur;
          rec.status = 'running';
          delete rec.endLine;
        } else rec = p.startStep('parse', n);
        rec.attempts = (rec.attempts ?? 0) + 1;
        p.s.netName ??= m![1]!.trim();
      },
    },
    {
      match: /^Translation completed on ONNX model (.+?)(?: \(completion time: (.*?)\))?$/,
      apply: (p, m, _t, n) => {
        p.s.netName = m![1]!.trim();
        p.mark('parse-succeeded', n);
        p.endStep('parse', 'succeeded', n, m![2]);
      },
    },
    { match: (t) => /^[SEAI]/.test(t), apply: (p, _m, t, n) => p.onNodeListLine(t, n) },
    {
      match: /^NMS structure of (\S+) \(or equivalent architecture\) was detected/,
      apply: (p, m, t, n) => {
        p.s.parse.nmsStructure = m![1]!;
        p.addNotice(t, n);
      },
    },
    {
      match: /^Saved (HAR|HEF) to: (.+)$/,
      apply: (p, m, _t, n) => {
        p.keep(p.s.artifacts, { kind: m![1] === 'HAR' ? 'har' : 'hef', path: m![2]!.trim(), line: n });
        p.mark(m![1] === 'HAR' ? 'har-saved' : 'hef-saved', n);
      },
    },

    // ---- optimize
    { match: /^Loading model script commands to (\S+) from (.+)$/, apply: (p, m) => void (p.s.optimize.modelScript = m![2]!.trim()) },
    { match: 'Starting Model Optimization', apply: (p, _m, _t, n) => void p.startStep('optimize', n) },
    {
      match: 'Model Optimization is done',
      apply: (p, _m, _t, n) => {
        p.mark('optimize-succeeded', n);
        p.closeRunningAlgorithms();
        p.endStep('optimize', 'succeeded', n);
      },
    },
    { match: (t) => t.startsWith('No GPU chosen and no suitable GPU found'), apply: (p) => void (p.s.optimize.cpuFallback = true) },
    {
      match: /^Using dataset with (\d+) entries for (calibration|finetune)/,
      apply: (p, m) => {
        if (m![2] === 'calibration') p.s.optimize.calibrationEntries = Number(m![1]);
        else p.s.optimize.finetuneEntries = Number(m![1]);
      },
    },
    { match: /^(?:Model Optimization Algorithm )?(.+?) is done \(completion time is (.*?)\)$/, apply: (p, m, _t, n) => p.algorithm(m![1]!, 'done', n, m![2]) },
    {
      when: (p) => p.step?.step === 'optimize' || !p.step,
      match: (t) => /^(.+?) skipped$/.test(t) && !t.includes(':'),
      apply: (p, _m, t, n) => p.algorithm(/^(.+?) skipped$/.exec(t)![1]!, 'skipped', n),
    },
    { when: (p) => p.step?.step === 'optimize', match: /^Starting (.+)$/, apply: (p, m, _t, n) => p.algorithm(m![1]!, 'running', n) },
    { match: (t) => t.startsWith('Output layers signal-to-noise ratio (SNR)'), apply: (p) => void (p.inSnr = true) },
    {
      match: (t) => t.startsWith('The calibration set seems to not be normalized'),
      apply: (p, _m, t, n) => {
        p.s.optimize.calibrationNotNormalized = t;
        p.addNotice(t, n);
        p.cont = { kind: 'calibration' };
      },
    },

    // ---- compile
    {
      match: (t) =>
        t === 'Starting Hailo allocation and compilation flow' ||
        t.startsWith('Loading network parameters') ||
        t.startsWith('To achieve optimal performance, set the compiler_optimization_level'),
      apply: (p, _m, t, n) => {
        p.startStep('compile', n);
        if (t.startsWith('To achieve')) p.addNotice(t, n);
      },
    },
    {
      // these lines start the compile step of an excerpt, and are read again below
      match: (t) =>
        t.startsWith('Trying to compile the network in a single context') || t.startsWith('Single context flow failed') || t === 'Using Multi-context flow',
      apply: (p, _m, _t, n) => {
        if (p.step?.step !== 'compile') p.startStep('compile', n);
        return false;
      },
    },
    {
      match: 'Using Single-context flow',
      apply: (p) => {
        p.s.compile.contextMode = 'single';
        p.s.compile.contexts = 1;
        p.emit({ type: 'contexts', mode: 'single', count: 1 });
      },
    },
    { match: (t) => t.startsWith('Single context flow failed'), apply: (p) => void (p.s.compile.singleContextFailed = true) },
    {
      match: 'Using Multi-context flow',
      apply: (p) => {
        p.s.compile.contextMode = 'multi';
        p.emit({ type: 'contexts', mode: 'multi' });
      },
    },
    {
      match: /^Resources optimization params: (.*)$/,
      apply: (p, m) => {
        const limits: Record<string, number> = {};
        for (const x of m![1]!.matchAll(/([\w ()]+?)=([\d.]+)%/g)) limits[x[1]!.trim()] = Number(x[2]);
        p.s.compile.resourceLimits = limits;
      },
    },
    { match: () => true, apply: (p, _m, t, n) => p.partitionLine(t, n) },
    {
      match: /^Partitioner finished after (\d+) iterations, Time it took: (.*)$/,
      apply: (p, m) => {
        p.s.compile.partitionerIterations = Number(m![1]);
        p.s.compile.partitionTimeText = m![2]!.trim();
      },
    },
    {
      match: /^Applying selected partition to (\d+) contexts/,
      apply: (p, m) => {
        p.s.compile.contextMode = 'multi';
        p.s.compile.contexts = Number(m![1]);
        p.emit({ type: 'contexts', mode: 'multi', count: Number(m![1]) });
      },
    },
    {
      match: /^Running resources allocation \(mapping\) flow, time per context: (.*)$/,
      apply: (p, m) => {
        p.s.compile.mappingTimePerContext = m![1]!.trim();
        p.validatingContext = undefined;
      },
    },
    {
      match: /^(\S+) utilization:\s*$/,
      apply: (p, m) => {
        p.utilTitle = m![1]!;
        p.mapStat = undefined;
      },
    },
    {
      match: /^(\S+_context_\d+) \((\S+)\):$/,
      apply: (p, m, _t, n) => {
        p.mapStat = { context: m![1]!, reverts: {}, line: n };
        p.keep(p.s.compile.mappingStats, p.mapStat);
      },
    },
    { match: () => true, apply: (p, _m, t, n) => p.mappingStatLine(t, n) },
    { match: 'Layers feasibility validated successfully', apply: (p, _m, _t, n) => p.mark('feasibility-validated', n) },
    { match: 'Partition to contexts finished successfully', apply: (p, _m, _t, n) => p.mark('partition-succeeded', n) },
    {
      // DFC 5.x: `<net> Successful Partition and Allocation (duration: 8m 05s)`, `... Kernel Compilation ...`
      match: /^(?:\S+ )?Successful Partition and Allocation \(duration: (.*?)\)$/,
      apply: (p, m, _t, n) => {
        p.mark('mapping-succeeded', n);
        p.s.compile.mapping = { status: 'succeeded', line: n, ...durationFields(m![1]!) };
      },
    },
    { match: /^(?:\S+ )?Successful Kernel Compilation\b/, apply: (p, _m, _t, n) => p.mark('kernels-compiled', n) },
    {
      match: /^Successful Mapping(?: \((?:allocation time: )?(.*?)\))?$/,
      apply: (p, m, _t, n) => {
        p.mark('mapping-succeeded', n);
        p.s.compile.mapping = { status: 'succeeded', line: n, ...(m![1] ? durationFields(m![1]) : {}) };
      },
    },
    { match: /^Compiling kernels of (\S+?)\.*$/, apply: (p, m) => p.addContextName(m![1]!) },
    { match: /^Compiling (context_\d+)\.*$/, apply: (p, m) => p.addContextName(m![1]!) },
    {
      match: /^Bandwidth of (model inputs|DDR buffers|inter context tensors): ([\d.]+) Mbps(?:, outputs: ([\d.]+) Mbps)?/,
      apply: (p, m) => {
        const bw = (p.s.compile.bandwidthMbps ??= {});
        if (m![1] === 'model inputs') {
          bw.inputs = Number(m![2]);
          if (m![3] !== undefined) bw.outputs = Number(m![3]);
        } else if (m![1] === 'DDR buffers') bw.ddr = Number(m![2]);
        else bw.interContext = Number(m![2]);
      },
    },
    {
      match: /^(?:(\S+) )?Successful Compilation \((?:compilation time|duration): (.*?)\)$/,
      apply: (p, m, _t, n) => {
        p.mark('compile-succeeded', n);
        p.endStep('compile', 'succeeded', n, m![2]);
      },
    },
    { match: /^Mapping Failed(?: \((?:allocation time: )?(.*?)\))?$/, apply: (p, _m, t, n) => p.onErrorText(t, n) },
    {
      when: (p) => p.step?.step === 'compile' || !!p.s.compile.contextMode,
      match: /^([A-Za-z_][\w\-/]*): (Pass(?:ed)?|Fail\w*|Skip\w*|Error\w*)\s*$/,
      apply: (p, m, _t, n) => {
        const f: FeasibilityEntry = { layer: m![1]!, result: m![2]!, line: n };
        if (p.validatingContext) f.context = p.validatingContext;
        p.keep(p.s.compile.feasibility, f);
      },
    },
  ];

  /** Node-mapping and end-node list lines; true when the line was one. */
  private onNodeListLine(text: string, n: number): boolean {
    let m: RegExpExecArray | null;
    if ((m = /^Start nodes mapped from original model: (.*?)\.?$/.exec(text))) {
      const { names, map } = parseQuotedMapping(m[1]!);
      this.s.parse.startNodes = map.length ? map : names.map((x) => ({ onnx: x, hn: '' }));
      this.s.parse.startNodesLine = n;
      this.emit({ type: 'node-mapping', side: 'start', nodes: names, map });
      return true;
    }
    if ((m = /^End nodes mapped from original model: (.*?)\.?$/.exec(text))) {
      const { names, map } = parseQuotedMapping(m[1]!);
      this.s.parse.endNodes = names;
      this.s.parse.endNodeMap = map;
      this.s.parse.endNodesLine = n;
      this.emit({ type: 'node-mapping', side: 'end', nodes: names, map });
      return true;
    }
    if ((m = /^According to recommendations, retrying parsing with end node names: (.*?)\.?$/.exec(text))) {
      const list = parsePythonStringList(m[1]!);
      this.s.parse.retriedWithEndNodes = list?.items ?? m[1]!.split(/[\s,]+/).filter(Boolean);
      this.addNotice(text, n);
      return true;
    }
    if ((m = /^In order to use HailoRT post-processing capabilities, these end node names should be used: (.*)$/.exec(text))) {
      this.s.parse.postprocessEndNodes = m[1]!
        .replace(/\.\s*$/, '')
        .split(/\s+/)
        .filter(Boolean);
      this.addNotice(text, n);
      return true;
    }
    return false;
  }

  private partitionLine(text: string, n: number): boolean {
    const m = /^Found valid partition to (\d+) contexts(?:, Performance improved by (-?[\d.]+)%)?/.exec(text);
    if (!m) return false;
    const row: DfcLogSummary['compile']['partitionSearch'][number] = { contexts: Number(m[1]), line: n };
    if (m[2] !== undefined) row.improvementPct = Number(m[2]);
    this.keep(this.s.compile.partitionSearch, row);
    this.s.compile.contextMode ??= 'multi';
    return true;
  }

  private mapStat: DfcLogSummary['compile']['mappingStats'][number] | undefined;

  /** `Iterations: 4` / `Reverts on cluster mapping: 0`, prefixed or not. */
  private mappingStatLine(text: string, n: number): boolean {
    let m = /^Iterations: (\d+)$/.exec(text);
    if (m) {
      let st = this.mapStat;
      if (!st || st.iterations !== undefined || Object.keys(st.reverts).length) {
        st = { reverts: {}, line: n };
        this.keep(this.s.compile.mappingStats, st);
        this.mapStat = st;
      }
      st.iterations = Number(m[1]);
      return true;
    }
    m = /^Reverts on (.+?): (\d+)$/.exec(text);
    if (!m) return false;
    let st = this.mapStat;
    if (!st || m[1]! in st.reverts) {
      st = { reverts: {}, line: n };
      this.keep(this.s.compile.mappingStats, st);
      this.mapStat = st;
    }
    st.reverts[m[1]!] = Number(m[2]);
    return true;
  }

  /** Append to a summary list, up to LIST_LIMIT entries (a hostile log cannot exhaust memory). */
  private keep<T>(list: T[], item: T): void {
    if (list.length < LIST_LIMIT) list.push(item);
    else this.s.stats.droppedEntries++;
  }

  private mark(kind: MarkerKind, line: number): void {
    this.keep(this.s.markers, { kind, line });
  }

  private addContextName(name: string): void {
    if (this.s.compile.contextNames.length < 4096 && !this.s.compile.contextNames.includes(name)) this.s.compile.contextNames.push(name);
  }

  private algorithm(name: string, status: OptimizationAlgorithm['status'], n: number, durationText?: string): void {
    const algos = this.s.optimize.algorithms;
    let a = this.runningAlgorithms.get(name);
    if (!a) this.keep(algos, (a = { name, status, line: n }));
    if (status === 'running') this.runningAlgorithms.set(name, a);
    else this.runningAlgorithms.delete(name);
    a.status = status;
    if (status !== 'running') a.line = n;
    if (durationText !== undefined) Object.assign(a, durationFields(durationText));
    this.emit({ type: 'algorithm', algorithm: { ...a } });
  }

  private closeRunningAlgorithms(): void {
    // an algorithm that never printed "is done" before the step ended (cut short by the user)
    for (const a of this.runningAlgorithms.values()) a.status = 'done';
    this.runningAlgorithms.clear();
  }

  private readonly runningAlgorithms = new Map<string, OptimizationAlgorithm>();

  // ---- utilization tables ------------------------------------------------------------------

  private onTableRow(text: string, n: number): void {
    if (text.startsWith('+-')) return;
    const cells = text.split('|').map((c) => c.trim());
    // ["", "cluster_0", "100%", "40.6%", "47.7%", ""]
    if (cells.length < 5) return;
    const [, name, a, b, c] = cells as [string, string, string, string, string];
    if (name === 'Cluster') {
      this.openUtilization(n);
      return;
    }
    if (!/%$/.test(a)) return;
    const util = this.util ?? this.openUtilization(n);
    const vals = { controlPct: pct(a), computePct: pct(b), memoryPct: pct(c) };
    if (name === 'Total') {
      util.total = vals;
      this.closeUtilization();
    } else if (util.clusters.length < 256) util.clusters.push({ cluster: name, ...vals });
  }

  private openUtilization(n: number): ContextUtilization {
    if (this.util) this.closeUtilization();
    const u: ContextUtilization = { index: this.s.compile.utilization.length, clusters: [], line: n };
    if (this.utilTitle) {
      u.context = this.utilTitle;
      const idx = /_context_(\d+)$/.exec(this.utilTitle);
      if (idx) u.index = Number(idx[1]);
      this.addContextName(this.utilTitle);
    }
    this.utilTitle = undefined;
    this.util = u;
    return u;
  }

  private closeUtilization(): void {
    const u = this.util;
    if (!u) return;
    this.util = undefined;
    this.keep(this.s.compile.utilization, u);
    this.emit({ type: 'utilization', context: u });
  }

  // ---- un-prefixed lines -------------------------------------------------------------------

  private onPlain(line: string, trimmed: string, n: number): void {
    let m: RegExpExecArray | null;
    if (trimmed.length > MAX_CLASSIFIED && !trimmed.startsWith('Parsing failed with recommendations')) {
      // a data dump or a runaway progress line: not a message
      this.emitLine(n, 'plain', line);
      return;
    }
    // "Parsing failed with recommendations for end node names: [...]" (CLI prompt form)
    if ((m = /^Parsing failed with recommendations for end node names: (.*?)\.?$/.exec(trimmed))) {
      this.endContinuation();
      const list = parsePythonStringList(m[1]!);
      this.setRecommendation(list?.items ?? [], 'prompt', n, list ? !list.complete : true);
      this.mark('parse-failed', n);
      const rec = this.findStep('parse');
      if (rec && rec.status === 'running') {
        rec.status = 'failed';
        rec.endLine = n;
        this.emit({ type: 'step', record: { ...rec } });
      }
      this.emitLine(n, 'plain', line);
      return;
    }
    if (this.mappingStatLine(trimmed, n)) {
      this.emitLine(n, 'plain', line);
      return;
    }
    if (this.partitionLine(trimmed, n)) {
      this.emitLine(n, 'plain', line);
      return;
    }
    if ((m = /^Validating (\S+) layer by layer/.exec(trimmed))) {
      this.validatingContext = m[1]!;
      this.addContextName(m[1]!);
      this.emitLine(n, 'plain', line);
      return;
    }
    if ((m = /^Automri finished with too many resources on (\S+) with (\d+)\/(\d+) failures/.exec(trimmed))) {
      this.s.compile.failureReason = trimmed;
      this.addError({ category: 'compile', errorClass: 'TooManyResources', message: trimmed, line: n }, trimmed);
      this.emitLine(n, 'plain', line);
      return;
    }
    if ((m = /^Mapping Failed(?: \((?:allocation time: )?(.*?)\))?$/.exec(trimmed))) {
      this.onErrorText(trimmed, n);
      this.emitLine(n, 'error', line);
      return;
    }
    if ((m = /^compiler: (\S+?):(\d+):\s*(.*)$/.exec(trimmed))) {
      const err: DfcLogError = { category: 'compile', errorClass: 'CompilerAssertion', message: `${m[1]}:${m[2]}: ${m[3]}`.trim(), line: n };
      this.addError(err, trimmed);
      this.cont = { kind: 'error-text', error: err, joiner: ' ' };
      this.emitLine(n, 'error', line);
      return;
    }
    if (
      trimmed === 'During handling of the above exception, another exception occurred:' ||
      trimmed === 'The above exception was the direct cause of the following exception:'
    ) {
      this.endContinuation();
      this.pendingChain = this.s.tracebacks[this.s.tracebacks.length - 1];
      this.dropLastTracebackError();
      this.emitLine(n, 'traceback', line);
      return;
    }
    // argparse refusing the command line, the OOM killer, a native crash
    if ((m = /^(?:hailo|hailomz): error: (.*)$/.exec(trimmed))) {
      this.addError({ category: this.step ? stepCategory(this.step.step) : 'other', errorClass: 'UsageError', message: m[1]!, line: n }, trimmed);
      this.emitLine(n, 'error', line);
      return;
    }
    if (trimmed.includes('Killed') && /^(?:[^:]*: line \d+: +\d+ +)?Killed(?:\s|$)/.test(trimmed)) {
      this.addError(
        {
          category: this.step ? stepCategory(this.step.step) : 'other',
          errorClass: 'Killed',
          message: 'The process was killed (often the out-of-memory killer): ' + trimmed,
          line: n,
        },
        trimmed,
      );
      this.emitLine(n, 'error', line);
      return;
    }
    if (
      /(?:Segmentation fault|Aborted|Bus error)/.test(trimmed) &&
      /^(?:[^:]*: line \d+: +\d+ +)?(?:Segmentation fault|Aborted|Bus error)(?: \(core dumped\))?(?:\s|$)/.test(trimmed)
    ) {
      this.addError({ category: this.step ? stepCategory(this.step.step) : 'other', errorClass: 'Crashed', message: trimmed, line: n }, trimmed);
      this.emitLine(n, 'error', line);
      return;
    }
    // a pyparsing position, kept to give a model-script error its line
    if ((m = /\(at char \d+\), \(line:(\d+), col:(\d+)\)/.exec(trimmed))) {
      this.lastPyparsingPosition = { line: Number(m[1]), column: Number(m[2]) };
    }

    const c = this.cont;
    if (c) {
      if (c.kind === 'exception') {
        this.exceptionContinuation(c.error, trimmed, false);
        this.emitLine(n, 'error', line);
        return;
      }
      if (c.kind === 'error-text' && !PROGRESS_LIKE.test(trimmed)) {
        if (c.error.message.length < MAX_MESSAGE) c.error.message += `${c.joiner}${trimmed}`;
        this.emitLine(n, 'error', line);
        return;
      }
      if (c.kind === 'calibration' && (this.s.optimize.calibrationNotNormalized ?? '').length < MAX_MESSAGE) {
        this.s.optimize.calibrationNotNormalized += `\n${trimmed}`;
        const last = this.s.notices[this.s.notices.length - 1];
        if (last) last.text += `\n${trimmed}`;
        this.emitLine(n, 'info', line);
        return;
      }
      if (c.kind === 'message' && !PROGRESS_LIKE.test(trimmed) && c.message.text.length < MAX_MESSAGE) {
        c.message.text += `\n${trimmed}`;
        this.emitLine(n, c.message.level, line);
        return;
      }
    }

    // a free-standing exception line (a log that starts mid-traceback, or an API error print)
    const ex = parseExceptionLine(line, false);
    if (ex) {
      const err = this.exceptionError(ex, n);
      this.cont = { kind: 'exception', error: err };
      this.commitException(err, ex.message);
      this.emitLine(n, 'error', line);
      return;
    }
    // the tail of a traceback whose header was cut off
    if (/^\s+File ".*", line \d+, in /.test(line)) {
      this.lastFrameLine = n;
      this.emitLine(n, 'traceback', line);
      return;
    }
    if (/^\s{2,}\S/.test(line) && this.looksLikeFrameTail(n)) {
      this.emitLine(n, 'traceback', line);
      return;
    }
    this.emitLine(n, 'plain', line);
  }

  private lastFrameLine = -10;
  private looksLikeFrameTail(n: number): boolean {
    return this.lastFrameLine === n - 1;
  }

  /** The error of a traceback superseded by a chained one is folded into the new traceback. */
  private dropLastTracebackError(): void {
    const tb = this.pendingChain;
    if (!tb) return;
    for (let i = this.s.errors.length - 1; i >= 0; i--) {
      const e = this.s.errors[i]!;
      if (e.line === tb.endLine && e.errorClass === tb.exceptionClass) {
        this.s.errors.splice(i, 1);
        break;
      }
    }
  }

  private setRecommendation(nodes: string[], form: 'exception' | 'prompt', n: number, truncated: boolean): void {
    const rec: NonNullable<DfcLogSummary['parse']['recommendedEndNodes']> = { nodes, form, line: n };
    if (truncated) rec.truncated = true;
    this.s.parse.recommendedEndNodes = rec;
    this.emit({ type: 'recommendation', nodes, form });
  }

  private finish(): void {
    if (this.tb) {
      const tb = this.tb;
      tb.truncated = true;
      this.tb = undefined;
      this.keep(this.s.tracebacks, tb);
      this.emit({ type: 'traceback', traceback: tb });
      // a traceback with no exception line still means the step did not finish
      if (this.step && this.step.status === 'running') {
        this.step.status = 'failed';
        this.step.endLine = tb.endLine;
      }
    }
    if (this.util) this.closeUtilization();
    for (const st of this.s.steps) {
      if (st.status === 'running') {
        st.status = 'incomplete';
        this.emit({ type: 'step', record: { ...st } });
      }
    }
    this.s.outcome = computeOutcome(this.s, true);
  }
}

/** One rule of DfcLogParser's `[info]` line table (see INFO_RULES). */
interface InfoRule<P> {
  when?: (p: P) => boolean;
  match: string | RegExp | ((text: string) => boolean);
  /** false: the line was not consumed, later rules see it too. */
  apply: (p: P, m: RegExpExecArray | null, text: string, n: number) => void | boolean;
}

interface ParsedException {
  cls: string;
  qualified?: string;
  message: string;
}

function parseExceptionLine(line: string, inTraceback: boolean): ParsedException | undefined {
  let m = QUALIFIED_EXCEPTION.exec(line);
  if (m) {
    const qualified = m[1]! + m[2]!;
    const cls = m[2]!;
    // `hailo_sdk_client.tools.x: text` is not an exception unless the name says so or we are in a traceback
    if (inTraceback || /(?:Error|Exception|Exit|Interrupt|Warning|Shape|Failure)$/.test(cls)) {
      return { cls, qualified, message: m[3]!.trim() };
    }
    return undefined;
  }
  m = BARE_EXCEPTION.exec(line);
  if (m && (inTraceback || !/^\s/.test(line))) return { cls: m[1]!, message: (m[2] ?? '').trim() };
  if (inTraceback && (m = /^([A-Z]\w*)(?:: (.*))?$/.exec(line.trim()))) return { cls: m[1]!, message: (m[2] ?? '').trim() };
  return undefined;
}

const PARSER_CLASSES = /^(?:ParsingWithRecommendationException|MisspellNodeError|UnsupportedModelError|Unsupported\w+Error|UnexpectedNodeError)$/;

function categoryOf(cls: string, qualified: string | undefined, step: DfcStep | undefined): ErrorCategory {
  if (cls === 'BackendScriptParserException' || (qualified && /script_parser/.test(qualified))) return 'model-script';
  if (PARSER_CLASSES.test(cls) || (qualified && /model_translator/.test(qualified))) return 'parser';
  if (/^Backend(?:Allocator|Compiler)\w*Exception$/.test(cls)) return 'compile';
  if (qualified && /hailo_model_optimization|acceleras/.test(qualified)) return 'optimize';
  if (cls === 'BadInputsShape') return 'optimize';
  if (qualified?.startsWith('pyparsing.')) return 'model-script';
  return step ? stepCategory(step) : 'other';
}

function stepCategory(step: DfcStep): ErrorCategory {
  return step === 'parse' ? 'parser' : step;
}

function stepForCategory(c: ErrorCategory): DfcStep | undefined {
  return c === 'parser' ? 'parse' : c === 'optimize' ? 'optimize' : c === 'compile' ? 'compile' : undefined;
}

function stepOfCommand(cmd: string): DfcStep | undefined {
  const m = /(?:^|\s|\/)hailo\s+(parser|optimize|compiler)\b/.exec(cmd);
  if (!m) return undefined;
  return m[1] === 'parser' ? 'parse' : m[1] === 'optimize' ? 'optimize' : 'compile';
}

function durationFields(text: string): { durationText: string; durationSec?: number } {
  const d = parseDuration(text);
  return d === undefined ? { durationText: text } : { durationText: text, durationSec: d };
}

function computeOutcome(s: DfcLogSummary, ended: boolean): DfcLogSummary['outcome'] {
  const hardErrors = s.errors.filter((e) => e.category !== 'runtime');
  if (hardErrors.length || s.steps.some((st) => st.status === 'failed')) return 'failed';
  if (!s.steps.length) return 'unknown';
  if (s.steps.some((st) => st.status === 'running' || st.status === 'incomplete')) return 'incomplete';
  return ended ? 'succeeded' : 'incomplete';
}

function emptySummary(): DfcLogSummary {
  return {
    version: 1,
    header: {},
    producer: 'unknown',
    steps: [],
    outcome: 'unknown',
    errors: [],
    warnings: [],
    notices: [],
    tracebacks: [],
    parse: { startNodes: [], endNodes: [], endNodeMap: [] },
    optimize: { cpuFallback: false, algorithms: [], snr: [] },
    compile: { singleContextFailed: false, partitionSearch: [], utilization: [], feasibility: [], layerGroups: [], contextNames: [], mappingStats: [] },
    artifacts: [],
    markers: [],
    stats: { lines: 0, noiseLines: 0, progressRedraws: 0, truncatedLines: 0, droppedEntries: 0 },
  };
}

/** Index of the `\r` that starts the last non-blank segment; -1 when no such `\r`. */
function visibleTailStart(s: string): number {
  let end = s.length;
  for (;;) {
    const r = s.lastIndexOf('\r', end - 1);
    if (r < 0) return -1;
    if (stripAnsi(s.slice(r + 1, end)).trim() !== '') return r;
    end = r;
    if (end === 0) return -1;
  }
}

/** The text a terminal shows after `\r` redraws: the last segment that is not empty. */
function lastVisibleSegment(line: string): string {
  const segs = line.split('\r');
  for (let i = segs.length - 1; i >= 0; i--) if (stripAnsi(segs[i]!).trim() !== '') return segs[i]!;
  return '';
}

function applyBackspaces(s: string): string {
  const out: string[] = [];
  for (const ch of s) {
    if (ch === '\b') out.pop();
    else out.push(ch);
  }
  return out.join('');
}

/** Parse a whole log text at once. */
export function parseDfcLog(text: string | Uint8Array): DfcLogSummary {
  const p = new DfcLogParser();
  p.push(text);
  return p.end();
}
