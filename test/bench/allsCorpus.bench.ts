/**
 * Real-script check of the model script validator: every `.alls` file under the Hailo reference
 * pack (`$HAILO_REFERENCE_DIR/hailo`, default ../shared/reference/hailo) and, when set, under
 * `$HAILO_ALLS_CORPUS` (any folder of real scripts, e.g. Model Zoo `cfg/alls` trees of several
 * releases) is validated without a HAR. Every one of them was compiled by Hailo with the DFC of its
 * release, so the validator must report no error and no warning on any of them (hints are allowed).
 *
 * Prints per source: files, statements, errors, warnings, hints, and the first findings that are
 * errors or warnings with file:line:column; exits 1 when there is any. Also prints the time per
 * script against a baseline measured in the same run (split into lines + one regex per line),
 * after one warm-up pass over all scripts.
 * A source that is absent is reported as skipped, with the variable that sets it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lineColumn } from '../../src/core/hailo/alls/parser';
import { validateText, type AllsFinding } from '../../src/core/hailo/alls/validate';
import { REFERENCE_DIR } from '../reference';

const SHOW = Number(process.env.ALLS_CORPUS_SHOW ?? 40);

function allsFiles(dir: string): string[] {
  const out: string[] = [];
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile() && e.name.endsWith('.alls')) out.push(p);
    }
  }
  return out.sort();
}

const LINE = /^\s*(?:[\w\-/., ]+=\s*)?[A-Za-z_][\w.]*\s*\(.*\)\s*$/;
function baseline(text: string): number {
  let ok = 0;
  for (const l of text.split('\n')) if (LINE.test(l)) ok++;
  return ok;
}

interface Totals {
  files: number;
  statements: number;
  error: number;
  warning: number;
  info: number;
  hint: number;
  filesWithErrors: number;
  filesWithWarnings: number;
  ms: number;
  baselineMs: number;
  bad: string[];
  hintCodes: Map<string, number>;
}

function check(label: string, dir: string, envName: string): Totals | undefined {
  if (!fs.existsSync(dir)) {
    console.log(`${label}: skipped, ${dir} not found (set ${envName})`);
    return undefined;
  }
  const files = allsFiles(dir);
  const t: Totals = {
    files: files.length,
    statements: 0,
    error: 0,
    warning: 0,
    info: 0,
    hint: 0,
    filesWithErrors: 0,
    filesWithWarnings: 0,
    ms: 0,
    baselineMs: 0,
    bad: [],
    hintCodes: new Map(),
  };
  const texts = new Map(files.map((f) => [f, fs.readFileSync(f, 'utf8')]));
  // warm-up: the first pass pays for compiling the validator, not for the scripts
  for (const text of texts.values()) {
    baseline(text);
    validateText(text);
  }
  for (const f of files) {
    const text = texts.get(f)!;
    let t0 = performance.now();
    baseline(text);
    t.baselineMs += performance.now() - t0;
    t0 = performance.now();
    const { script, findings } = validateText(text);
    t.ms += performance.now() - t0;
    t.statements += script.statements.length;
    const count = (s: AllsFinding['severity']) => findings.filter((x) => x.severity === s).length;
    for (const s of ['error', 'warning', 'info', 'hint'] as const) t[s] += count(s);
    if (count('error')) t.filesWithErrors++;
    if (count('warning')) t.filesWithWarnings++;
    for (const x of findings) {
      if (x.severity === 'hint' || x.severity === 'info') {
        const key = `${x.code} ${x.message.replace(/ is not in Hailo Workbench.*$/, '')}`;
        t.hintCodes.set(key, (t.hintCodes.get(key) ?? 0) + 1);
        continue;
      }
      const lc = lineColumn(text, x.span.start);
      t.bad.push(`${path.relative(dir, f)}:${lc.line + 1}:${lc.character + 1}: ${x.severity} ${x.code} ${x.message}`);
    }
  }
  console.log(`${label}: ${dir}`);
  console.log(
    `  files ${t.files}, statements ${t.statements}: errors ${t.error} (in ${t.filesWithErrors} files), warnings ${t.warning} (in ${t.filesWithWarnings} files), info ${t.info}, hints ${t.hint}`,
  );
  console.log(
    `  time: ${t.ms.toFixed(1)} ms for all files, ${(t.ms / Math.max(1, t.files)).toFixed(2)} ms per file, ${(t.ms / Math.max(0.001, t.baselineMs)).toFixed(1)}x baseline (split + one regex per line: ${t.baselineMs.toFixed(1)} ms)`,
  );
  for (const b of t.bad.slice(0, SHOW)) console.log(`  ${b}`);
  if (t.bad.length > SHOW) console.log(`  ... ${t.bad.length - SHOW} more (ALLS_CORPUS_SHOW=N shows more)`);
  const hints = [...t.hintCodes].sort((a, b) => b[1] - a[1]).slice(0, 15);
  if (hints.length) console.log(`  most frequent hints:\n${hints.map(([k, n]) => `    ${String(n).padStart(5)}  ${k}`).join('\n')}`);
  return t;
}

function main(): void {
  const results = [check('reference pack', path.join(REFERENCE_DIR, 'hailo'), 'HAILO_REFERENCE_DIR')];
  const extra = process.env.HAILO_ALLS_CORPUS;
  if (extra) results.push(check('HAILO_ALLS_CORPUS', path.resolve(extra), 'HAILO_ALLS_CORPUS'));
  else console.log('HAILO_ALLS_CORPUS: skipped, not set (a folder of real .alls scripts to check as well)');
  const ran = results.filter((r): r is Totals => !!r);
  const files = ran.reduce((n, r) => n + r.files, 0);
  const errors = ran.reduce((n, r) => n + r.error, 0);
  const warnings = ran.reduce((n, r) => n + r.warning, 0);
  const hints = ran.reduce((n, r) => n + r.hint + r.info, 0);
  console.log(`total: ${files} files, ${errors} errors, ${warnings} warnings, ${hints} hints`);
  process.exitCode = errors || warnings ? 1 : 0;
}

main();
