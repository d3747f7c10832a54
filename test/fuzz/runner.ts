import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FuzzCase } from './generators';

/** How a case ended. Everything but 'result' and 'typed-error' is a failure. */
export type Outcome = 'result' | 'typed-error' | 'crash' | 'hang' | 'over-memory' | 'silent-exit' | 'unnamed-error';
export const OUTCOMES: Outcome[] = ['result', 'typed-error', 'crash', 'hang', 'over-memory', 'silent-exit', 'unnamed-error'];
export const FAILURES = new Set<Outcome>(['crash', 'hang', 'over-memory', 'silent-exit', 'unnamed-error']);

export interface Limits {
  timeMs: number;
  /** Peak resident memory allowed. */
  memBytes: number;
}

export interface CaseResult {
  c: FuzzCase;
  outcome: Outcome;
  code: number | null;
  signal: string | null;
  ms: number;
  maxRssBytes: number;
  stderr: string;
}

const ROOT = path.resolve(__dirname, '..', '..');
/** The CLI under test; HAILO_FUZZ_CLI points the campaign at another build (e.g. an older commit's). */
export const CLI = process.env.HAILO_FUZZ_CLI ? path.resolve(process.env.HAILO_FUZZ_CLI) : path.join(ROOT, 'dist', 'cli.js');

/** Runs one case in a child process (heap cap, wall-clock limit) and classifies the ending. */
export function runCase(c: FuzzCase, dir: string, limits: Limits): Promise<CaseResult> {
  const heapMb = Math.max(64, Math.floor(limits.memBytes / 1024 / 1024));
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, '--require', path.join(__dirname, 'rss.cjs'), CLI, ...c.args], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdoutBytes = 0;
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdoutBytes += d.length));
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 256 * 1024) stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limits.timeMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Date.now() - t0;
      const m = /FUZZ_MAXRSS_KB=(\d+)/.exec(stderr);
      const maxRssBytes = m ? Number(m[1]) * 1024 : 0;
      stderr = stderr.replace(/\n?FUZZ_MAXRSS_KB=\d+\n?/, '');
      let outcome: Outcome;
      if (timedOut) outcome = 'hang';
      else if (/heap out of memory|Allocation failed/i.test(stderr) || maxRssBytes > limits.memBytes) outcome = 'over-memory';
      else if (signal || (code !== 0 && code !== 1 && code !== 2) || /internal error|\n\s+at .+:\d+:\d+\)?\n/.test(stderr)) outcome = 'crash';
      else if (code === 0 && stdoutBytes === 0) outcome = 'silent-exit';
      else if (code === 2) outcome = stderr.includes(c.target) ? 'typed-error' : 'unnamed-error';
      else outcome = stdoutBytes > 0 ? 'result' : 'silent-exit';
      resolve({ c, outcome, code, signal, ms, maxRssBytes, stderr: stderr.trim() });
    });
  });
}

/** Runs cases with `parallel` children at a time. */
export async function runAll(cases: { c: FuzzCase; dir: string }[], limits: Limits, parallel: number, onDone?: (r: CaseResult) => void): Promise<CaseResult[]> {
  const results: CaseResult[] = new Array(cases.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, cases.length) }, async () => {
      while (next < cases.length) {
        const i = next++;
        const { c, dir } = cases[i]!;
        results[i] = await runCase(c, dir, limits);
        onDone?.(results[i]!);
      }
    }),
  );
  return results;
}

/** How to write a failing case again. */
export function regenerate(c: FuzzCase): string {
  if (c.seed === 0) return `reproducer "${c.mutation}": npx tsx test/fuzz/main.ts --reproducers --keep DIR`;
  return `npx tsx test/fuzz/main.ts --kind ${c.kind} --seed ${c.seed} --index ${c.index} --keep DIR (then: cd DIR && node dist/cli.js ${c.args.join(' ')})`;
}

export function describe(r: CaseResult): string {
  return `${r.c.kind} #${r.c.index} seed ${r.c.seed} (${r.c.mutation}${r.c.elsewhere ? `; fixed in ${r.c.elsewhere}` : ''}): ${r.outcome}, exit ${r.code ?? r.signal}, ${r.ms} ms, ${(r.maxRssBytes / 1024 / 1024).toFixed(0)} MiB\n    ${r.stderr.split('\n').slice(0, 4).join('\n    ')}\n    regenerate: ${regenerate(r.c)}`;
}

/** Outcome counts per kind, as a text table. */
export function table(results: CaseResult[]): string {
  const kinds = [...new Set(results.map((r) => r.c.kind))];
  const cols = ['kind', 'cases', ...OUTCOMES, 'peak MiB', 'slowest ms'];
  const rows = kinds.map((k) => {
    const rs = results.filter((r) => r.c.kind === k);
    return [
      k,
      String(rs.length),
      ...OUTCOMES.map((o) => String(rs.filter((r) => r.outcome === o).length)),
      (Math.max(...rs.map((r) => r.maxRssBytes)) / 1024 / 1024).toFixed(0),
      String(Math.max(...rs.map((r) => r.ms))),
    ];
  });
  const w = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ');
  return [line(cols), ...rows.map(line)].join('\n');
}

export function rmrf(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
