/**
 * What the rewrite ledger needs from DFC console logs and model scripts: the parse log's
 * start/end node mappings, the DFC version, the compile log's layer names (the feasibility list)
 * with their line numbers, and context assignments (`context_N = context([...])` in the
 * compiler's auto model script). Logs are matched byte for byte as the tools print them: ANSI
 * colour codes are stripped, `\r` progress redraws split into lines, un-prefixed lines tolerated.
 */

export interface LogLine {
  /** 1-based line number in the original text (counting `\n` only, as editors do). */
  line: number;
  text: string;
}

export interface ParseLogSummary {
  /** ONNX input tensor name -> HN layer (scoped). */
  startNodes: { onnx: string; hn: string; line: number }[];
  /** ONNX node names where the HN ends. */
  endNodes: { onnx: string; line: number }[];
  dfcVersion?: string;
  netName?: string;
}

export interface CompileLogSummary {
  /** Compiler layer names in the order printed, with their status ("Pass", "Fail", ...). */
  layers: { name: string; status: string; line: number }[];
  /** Number of contexts (`Applying selected partition to N contexts`), 1 for single-context runs. */
  contexts?: number;
  /** Layers by context, when the log or a model script names them. */
  contextOf: Map<string, number>;
  dfcVersion?: string;
  success?: boolean;
}

// eslint-disable-next-line no-control-regex -- ANSI escapes are what is being removed
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Split console text into clean lines, keeping the editor line number of each. */
export function logLines(text: string): LogLine[] {
  const out: LogLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    // a \r redraw keeps only what was printed last on that line, but every segment may hold a message
    for (const seg of lines[i]!.replace(ANSI, '').split('\r')) {
      const t = seg.replace(/\s+$/, '');
      if (t) out.push({ line: i + 1, text: t });
    }
  }
  return out;
}

function stripLevel(t: string): string {
  return t.replace(/^\s*\[(?:info|warning|error|debug)\]\s?/, '');
}

/** Quoted names from "'a': 'b', 'c'" lists. */
function quoted(s: string): string[] {
  return [...s.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1]!);
}

export function summarizeParseLog(text: string): ParseLogSummary {
  const out: ParseLogSummary = { startNodes: [], endNodes: [] };
  for (const { line, text: raw } of logLines(text)) {
    const t = stripLevel(raw);
    let m: RegExpExecArray | null;
    if ((m = /^Start nodes mapped from original model: (.*?)\.?$/.exec(t))) {
      for (const pair of m[1]!.matchAll(/'((?:[^'\\]|\\.)*)'\s*:\s*'((?:[^'\\]|\\.)*)'/g)) out.startNodes.push({ onnx: pair[1]!, hn: pair[2]!, line });
    } else if ((m = /^End nodes mapped from original model: (.*?)\.?$/.exec(t))) {
      // a later line (a retry) replaces an earlier one
      out.endNodes = quoted(m[1]!).map((onnx) => ({ onnx, line }));
    } else if ((m = /^Hailo DFC Version: (\S+)/.exec(t))) {
      out.dfcVersion = m[1]!;
    } else if ((m = /^Translation started on ONNX model (\S+)/.exec(t))) {
      out.netName = m[1]!;
    }
  }
  return out;
}

export function summarizeCompileLog(text: string): CompileLogSummary {
  const out: CompileLogSummary = { layers: [], contextOf: new Map() };
  let inFeasibility = false;
  let currentContext: number | undefined;
  for (const { line, text: raw } of logLines(text)) {
    const t = stripLevel(raw);
    let m: RegExpExecArray | null;
    if ((m = /^Hailo DFC Version: (\S+)/.exec(t))) out.dfcVersion = m[1]!;
    else if ((m = /^Applying selected partition to (\d+) contexts/.exec(t))) out.contexts = Number(m[1]);
    else if (/^Using Single-context flow/.test(t) && out.contexts === undefined) out.contexts = 1;
    else if (/^Validating layers feasibility/.test(t)) inFeasibility = true;
    else if (/^Layers feasibility validated/.test(t)) inFeasibility = false;
    else if ((m = /^Validating (\S+)_context_(\d+) layer by layer/.exec(t))) currentContext = Number(m[2]);
    else if (/Successful Compilation/.test(t)) out.success = true;
    else if (/^(Mapping Failed|Failed to produce compiled graph)/.test(t)) out.success = false;
    else if (inFeasibility && (m = /^([A-Za-z_][\w\-/]*): (Pass|Fail\w*|Skip\w*|Error\w*)\s*$/.exec(t))) {
      const name = m[1]!.slice(m[1]!.lastIndexOf('/') + 1);
      out.layers.push({ name, status: m[2]!, line });
      if (currentContext !== undefined) out.contextOf.set(name, currentContext);
    }
  }
  return out;
}

/**
 * `context_N = context([a, b, ...])` lines of a model script (the compiler writes them into the
 * auto script of a compiled HAR) -> layer -> context index.
 */
export function contextsFromModelScript(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const noComments = text.replace(/#[^\n]*/g, '');
  for (const m of noComments.matchAll(/\bcontext_(\d+)\s*=\s*context\s*\(\s*\[([^\]]*)\]\s*\)/g)) {
    const ctx = Number(m[1]);
    for (const raw of m[2]!.split(',')) {
      const name = raw.trim();
      if (name) out.set(name.slice(name.lastIndexOf('/') + 1), ctx);
    }
  }
  return out;
}

/**
 * Summaries from the project's DFC log parser (src/core/hailo/dfcLog.ts), which reads the same
 * lines for the log view and diagnostics, so both features agree on what a log says. Line numbers
 * of the node mappings come from this module's own scan. Falls back to this module's extractor
 * alone when that parser cannot be loaded.
 */
export async function summarizeLogs(text: string): Promise<{ parse: ParseLogSummary; compile: CompileLogSummary; via: 'dfcLog' | 'ledgerLogs' }> {
  const own = { parse: summarizeParseLog(text), compile: summarizeCompileLog(text) };
  let dfc: typeof import('../hailo/dfcLog');
  try {
    dfc = await import('../hailo/dfcLog');
  } catch {
    return { ...own, via: 'ledgerLogs' };
  }
  const s = dfc.parseDfcLog(text);
  const lineOfStart = new Map(own.parse.startNodes.map((x) => [`${x.onnx}\0${x.hn}`, x.line]));
  const lineOfEnd = new Map(own.parse.endNodes.map((x) => [x.onnx, x.line]));
  const parse: ParseLogSummary = {
    startNodes: s.parse.startNodes.map((x) => ({ onnx: x.onnx, hn: x.hn, line: lineOfStart.get(`${x.onnx}\0${x.hn}`) ?? 0 })),
    endNodes: (s.parse.endNodes.length ? s.parse.endNodes : s.parse.endNodeMap.map((m) => m.onnx)).map((onnx) => ({ onnx, line: lineOfEnd.get(onnx) ?? 0 })),
    ...((s.header.dfcVersion ?? own.parse.dfcVersion) ? { dfcVersion: (s.header.dfcVersion ?? own.parse.dfcVersion)! } : {}),
    ...((s.netName ?? own.parse.netName) ? { netName: (s.netName ?? own.parse.netName)! } : {}),
  };
  const contextOf = new Map(own.compile.contextOf);
  for (const f of s.compile.feasibility) {
    const m = f.context ? /_context_(\d+)$/.exec(f.context) : null;
    if (m) contextOf.set(f.layer.slice(f.layer.lastIndexOf('/') + 1), Number(m[1]));
  }
  const compile: CompileLogSummary = {
    layers: s.compile.feasibility.map((f) => ({ name: f.layer.slice(f.layer.lastIndexOf('/') + 1), status: f.result, line: f.line })),
    contextOf,
    ...((s.compile.contexts ?? own.compile.contexts) !== undefined ? { contexts: (s.compile.contexts ?? own.compile.contexts)! } : {}),
    ...((s.header.dfcVersion ?? own.compile.dfcVersion) ? { dfcVersion: (s.header.dfcVersion ?? own.compile.dfcVersion)! } : {}),
    ...(s.outcome === 'succeeded' ? { success: true } : s.outcome === 'failed' ? { success: false } : own.compile.success !== undefined ? { success: own.compile.success } : {}),
  };
  return { parse, compile, via: 'dfcLog' };
}
