import * as fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { dfcAdvice } from '../analysis/dfcAdvice';
import { ruleHelpUri } from '../analysis/lintRules';
import { HailoError, throwIfAborted } from '../errors';
import { DfcLogParser, type DfcLogSummary } from './dfcLog';

/** Parse a log file by streaming it through the parser (logs of optimize runs get large). */
export async function parseDfcLogFile(file: string, signal?: AbortSignal): Promise<DfcLogSummary> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new HailoError('LOG_READ_FAILED', `${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`}`, { file, cause: e });
  }
  if (!stat.isFile()) throw new HailoError('LOG_READ_FAILED', `${file}: not a regular file`, { file });
  const parser = new DfcLogParser();
  const stream = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of stream) {
      throwIfAborted(signal);
      parser.push(chunk as Buffer);
    }
  } catch (e) {
    stream.destroy();
    if (e instanceof HailoError) throw e;
    throw new HailoError('LOG_READ_FAILED', `${file}: cannot read (${String(e)})`, { file, cause: e });
  }
  return parser.end();
}

function pct(n: number | undefined): string {
  return n === undefined ? '?' : `${n}%`;
}

/**
 * A human summary of a parsed log: plain text for the terminal, or Markdown for a preview.
 * Lines are named `<file>:<line>` so terminals and editors can jump to them.
 */
export function formatDfcLogSummary(s: DfcLogSummary, opts: { file?: string; markdown?: boolean } = {}): string {
  const md = opts.markdown === true;
  const out: string[] = [];
  const h = (t: string) => out.push(md ? `\n## ${t}\n` : `\n${t}`);
  const li = (t: string) => out.push(md ? `- ${t}` : `  ${t}`);
  const code = (t: string) => (md ? `\`${t.replace(/`/g, "'")}\`` : t);
  // in Markdown the log references are links that open the log at the line
  const at = (line: number) =>
    opts.file ? (md ? `[${opts.file}:${line}](${pathToFileURL(opts.file).href}#L${line})` : `${opts.file}:${line}`) : `line ${line}`;
  const advise = (cls: string | undefined) => {
    const a = dfcAdvice(cls);
    if (!a) return '';
    const rule = a.rule ? (md ? ` See [${a.rule}](${ruleHelpUri(a.rule)}).` : ` See ${a.rule}.`) : '';
    return md ? `\n  - *What to do:* ${a.advice}${rule}` : `\n    what to do: ${a.advice}${rule}`;
  };

  out.push(md ? `# DFC log: ${s.outcome}${s.netName ? ` (${code(s.netName)})` : ''}` : `outcome: ${s.outcome}${opts.file ? ` (${opts.file})` : ''}`);
  const hd = s.header;
  if (hd.dfcVersion !== undefined || hd.hailortVersion !== undefined || hd.command) {
    h('Tool');
    if (hd.dfcVersion) li(`DFC ${hd.dfcVersion}`);
    if (hd.hailortVersion !== undefined) li(`HailoRT ${hd.hailortVersion ?? 'not installed'}`);
    if (hd.cpu?.cores !== undefined || hd.memory?.totalGB !== undefined)
      li(`machine: ${hd.cpu?.cores ?? '?'} cores, ${hd.memory?.totalGB ?? '?'} GB RAM (${hd.memory?.availableGB ?? '?'} GB free)`);
    if (hd.command) li(`command: ${code(hd.command)}`);
  }
  if (s.steps.length) {
    h('Steps');
    for (const st of s.steps) {
      const dur = st.durationText ? ` in ${st.durationText}` : '';
      const tries = st.attempts && st.attempts > 1 ? ` (${st.attempts} attempts)` : '';
      li(`${st.step}: ${st.status}${dur}${tries}`);
    }
  }
  if (s.errors.length) {
    h(`Errors (${s.errors.length})`);
    for (const e of s.errors) {
      const where = e.node
        ? ` in ONNX node ${code(e.node)}`
        : e.alls
          ? ` in the model script at column ${e.alls.column}${e.alls.line ? `, line ${e.alls.line}` : ''}: ${code(e.alls.text)}`
          : '';
      li(`${e.errorClass ?? e.category}${where}: ${e.message.split('\n')[0]} (${at(e.line)})${advise(e.errorClass)}`);
    }
  }
  const p = s.parse;
  if (p.recommendedEndNodes) {
    h('Parser recommendation');
    li(`end nodes: ${p.recommendedEndNodes.nodes.map(code).join(', ')}${p.recommendedEndNodes.truncated ? ' (list cut in the log)' : ''}`);
  }
  if (p.startNodes.length || p.endNodes.length) {
    h('Node mapping');
    for (const m of p.startNodes) li(`start ${code(m.onnx)} -> ${code(m.hn)}`);
    if (p.endNodeMap.length) for (const m of p.endNodeMap) li(`end ${code(m.onnx)} -> ${code(m.hn)}`);
    else if (p.endNodes.length) li(`end ${p.endNodes.map(code).join(', ')}`);
    if (p.retriedWithEndNodes) li(`parser retried with end nodes ${p.retriedWithEndNodes.map(code).join(', ')}`);
    if (p.postprocessEndNodes) li(`for HailoRT post-processing use end nodes ${p.postprocessEndNodes.map(code).join(' ')}`);
  }
  const o = s.optimize;
  if (o.algorithms.length || o.snr.length || o.optimizationLevelReduced) {
    h('Optimization');
    if (o.optimizationLevelReduced) li(`optimization level reduced to ${o.optimizationLevelReduced.level} because ${o.optimizationLevelReduced.reason}`);
    if (o.calibrationEntries !== undefined) li(`calibration entries: ${o.calibrationEntries}`);
    if (o.cpuFallback) li('ran on the CPU (no suitable GPU)');
    for (const a of o.algorithms) if (a.status !== 'skipped') li(`${a.name}: ${a.status}${a.durationText ? ` in ${a.durationText}` : ''}`);
    const skipped = o.algorithms.filter((a) => a.status === 'skipped').map((a) => a.name);
    if (skipped.length) li(`skipped: ${skipped.join(', ')}`);
    for (const r of o.snr) li(`SNR ${code(r.layer)}: ${r.db} dB`);
    if (o.calibrationNotNormalized) li('the calibration set does not look normalised (see the log)');
  }
  const c = s.compile;
  if (c.contextMode || c.utilization.length || c.mapping) {
    h('Compilation');
    if (c.contextMode) li(c.contextMode === 'single' ? 'single context' : `multi-context${c.contexts ? `: ${c.contexts} contexts` : ''}`);
    if (c.partitionTimeText) li(`partitioning: ${c.partitionerIterations ?? '?'} iterations in ${c.partitionTimeText}`);
    if (c.mapping) li(`mapping ${c.mapping.status}${c.mapping.durationText ? ` (${c.mapping.durationText})` : ''}`);
    if (c.failureReason) li(`failure: ${c.failureReason}`);
    for (const u of c.utilization) {
      const t = u.total;
      li(
        `${u.context ? code(u.context) : `context ${u.index}`}: control ${pct(t?.controlPct)}, compute ${pct(t?.computePct)}, memory ${pct(t?.memoryPct)} over ${u.clusters.length} clusters`,
      );
    }
    const reverted = c.mappingStats.filter((st) => Object.values(st.reverts).some((v) => v > 0));
    for (const st of reverted)
      li(
        `${st.context ? code(st.context) : 'mapping'}: reverts ${Object.entries(st.reverts)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    if (c.bandwidthMbps) {
      const b = c.bandwidthMbps;
      li(`bandwidth per frame: inputs ${b.inputs ?? '?'} Mbps, outputs ${b.outputs ?? '?'} Mbps, inter-context ${b.interContext ?? '?'} Mbps`);
    }
    const rewritten = c.layerGroups.filter((g) => g.kinds.length);
    if (c.feasibility.length) li(`${c.feasibility.length} layers listed by the feasibility check; ${rewritten.length} HN layers rewritten by the compiler`);
    for (const g of rewritten.slice(0, md ? 200 : 30)) li(`${code(g.base)}: ${g.kinds.join(', ')} -> ${g.layers.map(code).join(', ')}`);
  }
  if (s.warnings.length) {
    h(`Warnings (${s.warnings.length})`);
    for (const w of s.warnings) li(`${w.text.split('\n')[0]} (${at(w.line)})`);
  }
  if (s.notices.length) {
    h('Notes');
    for (const n of s.notices) li(`${n.text.split('\n')[0]} (${at(n.line)})`);
  }
  if (s.artifacts.length) {
    h('Artifacts');
    for (const a of s.artifacts) li(`${a.kind.toUpperCase()} ${code(a.path)}`);
  }
  out.push(
    md ? `\n_${s.stats.lines} lines, ${s.stats.noiseLines} TensorFlow lines, ${s.stats.progressRedraws} progress redraws_` : `\n${s.stats.lines} lines read`,
  );
  return out.join('\n') + '\n';
}
