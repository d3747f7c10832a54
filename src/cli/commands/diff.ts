import * as path from 'node:path';
import { HailoError } from '../../core/errors';
import { LEDGER_KINDS, type LedgerStage } from '../../core/analysis/ledger';
import { sortFindings } from '../../core/finding';
import { runLedger } from '../../core/analysis/ledgerRun';
import type { CliCommand } from '../args';

export const diffCommand: CliCommand = {
  name: 'diff',
  help: `Usage: hailo-workbench diff MODEL.onnx MODEL.har|MODEL.hn [--parse-log F] [--compile-log F]
                            [--stage parse|optimize|compile] [--format text|json] [--all]

Compares the ONNX graph with the HN network description inside a HAR (or a .hn file) and
classifies every ONNX node and every HN layer: kept, fused, decomposed, removed, added, layout
(shape changed), host (outside the parsed network) or unmatched. The parse log gives the
start/end node mapping; the compile log gives the compiler's generated layers and contexts.

Text output lists the entries that are not kept (--all lists every entry), then the findings.
Exit code 0 when every item is matched, 1 when some are unmatched or a finding is a warning,
2 when an input cannot be read.`,
  options: [
    { name: 'parse-log', value: true },
    { name: 'compile-log', value: true },
    { name: 'stage', value: true, choices: ['parse', 'optimize', 'compile'] },
    { name: 'format', value: true, choices: ['text', 'json'] },
    { name: 'all' },
  ],
  async run(args, io) {
    if (args.positionals.length !== 2) throw new HailoError('INVALID_ARGUMENT', 'expects two files: MODEL.onnx and MODEL.har (or MODEL.hn)');
    const abs = (p: string) => path.resolve(io.cwd, p);
    const r = await runLedger({
      onnxFile: abs(args.positionals[0]!),
      hailoFile: abs(args.positionals[1]!),
      ...(args.values['parse-log'] ? { parseLogFile: abs(args.values['parse-log']) } : {}),
      ...(args.values['compile-log'] ? { compileLogFile: abs(args.values['compile-log']) } : {}),
      ...(args.values.stage ? { stage: args.values.stage as LedgerStage } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    });
    const l = r.ledger;
    const findings = sortFindings(r.findings);
    const problems = l.counts.unmatched > 0 || findings.some((f) => f.severity === 'error' || f.severity === 'warning');
    if (args.values.format === 'json') {
      io.out(JSON.stringify({ ...r.files, har: r.har, ledger: l, findings, warnings: r.warnings, timings: r.timings }, null, 2));
      return problems ? 1 : 0;
    }
    const rel = (f?: string) => {
      if (!f) return '';
      const r = path.relative(io.cwd, f);
      return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : f;
    };
    io.out(`${rel(r.files.onnx)} vs ${rel(r.files.hn)} (${l.stage}${l.dfcVersion ? `, DFC ${l.dfcVersion}` : ''}${r.har ? `, HAR ${r.har.state}` : ''})`);
    io.out(
      `${l.stats.onnxNodes} ONNX nodes, ${l.stats.hnLayers} HN layers: ${LEDGER_KINDS.filter((k) => l.counts[k])
        .map((k) => `${l.counts[k]} ${k}`)
        .join(', ')}`,
    );
    if (l.contexts)
      io.out(
        `contexts: ${l.contexts.count ?? '?'}${l.contexts.boundaries.length ? `, ${l.contexts.boundaries.length} boundary tensor(s)` : ''}${l.contexts.assigned ? `, ${l.contexts.assigned} layer(s) assigned` : ''}`,
      );
    if (l.stats.structuralMatches) io.out(`${l.stats.structuralMatches} match(es) by graph structure only (flagged)`);
    io.out('');
    for (const kind of LEDGER_KINDS) {
      if (kind === 'kept' && !args.flags.all) continue;
      const es = l.entries.filter((e) => e.kind === kind);
      if (!es.length) continue;
      io.out(`${kind} (${es.length})`);
      for (const e of es) io.out(`  ${e.scope ? `[${e.scope}] ` : ''}${e.note}${e.source ? `  (${rel(e.source.file)}:${e.source.line})` : ''}`);
      io.out('');
    }
    if (l.unattributedCompilerLayers.length) io.out(`compiler layers with no HN base layer: ${l.unattributedCompilerLayers.map((p) => p.name).join(', ')}\n`);
    const shown = findings.filter((f) => f.severity !== 'hint');
    if (shown.length) io.out('findings');
    for (const f of shown) {
      const at = f.source ? `${rel(f.source.file)}:${f.source.line}: ` : `${rel(r.files.onnx)}: `;
      io.out(`  ${at}${f.severity} ${f.code}: ${f.message}`);
    }
    for (const w of r.warnings) io.err(`warning: ${w}`);
    return problems ? 1 : 0;
  },
};
