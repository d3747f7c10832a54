/**
 * DFC log parser throughput: the largest real log sample (else the largest own fixture log),
 * repeated to about 4 MB, fed as 64 KiB Buffer chunks the way a tailed remote log arrives. The
 * baseline, in the same run on the same bytes and chunks, is the least any line consumer does:
 * decode UTF-8 as a stream and split into lines. Medians of alternated repetitions; prints MB/s
 * and the parser's cost as a multiple of the baseline. Times are this process's CPU time (user +
 * system), which other load on a shared machine disturbs far less than wall time; wall time is
 * printed too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TextDecoder } from 'node:util';
import { DfcLogParser, parseDfcLog } from '../../src/core/hailo/dfcLog';
import { REFERENCE_DIR } from '../reference';

const ROOT = path.resolve(__dirname, '..', '..');
const SAMPLES = path.join(REFERENCE_DIR, 'hailo', 'log-samples');
const OWN = path.join(ROOT, 'test', 'fixtures', 'logs');
const TARGET_BYTES = 4 * 1024 * 1024;
const CHUNK = 64 * 1024;
const REPS = Number(process.env.BENCH_REPS ?? 7);

function largest(dir: string): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.(log|txt)$/.test(f))
    .map((f) => path.join(dir, f))
    .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
  return files[0];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function chunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += CHUNK) out.push(buf.subarray(i, i + CHUNK));
  return out;
}

/** Baseline: streaming UTF-8 decode + line split, counting lines so nothing is optimised away. */
function baseline(parts: Buffer[]): number {
  const dec = new TextDecoder('utf-8');
  let rest = '';
  let lines = 0;
  for (const p of parts) {
    const text = rest + dec.decode(p, { stream: true });
    const ls = text.split('\n');
    rest = ls.pop()!;
    lines += ls.length;
  }
  return lines + (rest ? 1 : 0);
}

function parse(parts: Buffer[]): number {
  const p = new DfcLogParser();
  for (const c of parts) p.push(c);
  return p.end().stats.lines;
}

function main(): void {
  const source = largest(SAMPLES) ?? largest(OWN);
  if (!source) {
    console.log('dfclog bench skipped: no log sample found');
    return;
  }
  if (!source.startsWith(SAMPLES)) console.log(`(reference pack not found at ${SAMPLES}; using the own fixture)`);
  const one = fs.readFileSync(source);
  // join copies on line boundaries so line counts add up
  const unit = one[one.length - 1] === 0x0a ? one : Buffer.concat([one, Buffer.from('\n')]);
  const copies = Math.max(1, Math.round(TARGET_BYTES / unit.length));
  const buf = Buffer.concat(Array.from({ length: copies }, () => unit));
  const parts = chunks(buf);
  const mb = buf.length / 1e6;

  // warm-up, and the two must agree on the number of lines
  const lb = baseline(parts);
  const lp = parse(parts);
  if (lb !== lp) throw new Error(`line counts differ: baseline ${lb}, parser ${lp}`);

  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  // no forced GC between repetitions: a parser tailing a log runs in a warm heap, and a full
  // collection before each run only makes it regrow the heap inside the timed part
  const time = (fn: () => void): [number, number] => {
    const c = cpu();
    const w = performance.now();
    fn();
    return [cpu() - c, performance.now() - w];
  };
  const tb: [number, number][] = [];
  const tp: [number, number][] = [];
  for (let r = 0; r < REPS; r++) {
    tb.push(time(() => baseline(parts)));
    tp.push(time(() => parse(parts)));
  }
  const [cb, wb] = [median(tb.map((x) => x[0])), median(tb.map((x) => x[1]))];
  const [cp, wp] = [median(tp.map((x) => x[0])), median(tp.map((x) => x[1]))];
  const row = (name: string, c: number, w: number) =>
    console.log(
      `${name.padEnd(34)} ${c.toFixed(1).padStart(8)} ms cpu ${(mb / (c / 1000)).toFixed(1).padStart(8)} MB/s   (wall ${w.toFixed(1)} ms, ${(mb / (w / 1000)).toFixed(1)} MB/s)`,
    );
  console.log(`input: ${path.basename(source)} x ${copies} = ${mb.toFixed(2)} MB, ${lp} lines, ${CHUNK / 1024} KiB chunks, ${REPS} reps (median)`);
  row('baseline: decode + split lines', cb, wb);
  row('DfcLogParser (full summary)', cp, wp);
  console.log(`ratio parser/baseline: ${(cp / cb).toFixed(2)}x cpu time (${(wp / wb).toFixed(2)}x wall)`);
}

/**
 * Hostile input: N Python tracebacks chained by "During handling of the above exception ...".
 * Linear parsing means the time per traceback stays flat from 10,000 to 80,000.
 */
function chainedTracebacks(): void {
  const gen = (n: number) => {
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      if (i) parts.push('', 'During handling of the above exception, another exception occurred:', '');
      parts.push('Traceback (most recent call last):', `  File "/x/y.py", line ${i + 1}, in f`, '    raise E()', `ValueError: boom ${i}`);
    }
    return parts.join('\n') + '\n';
  };
  const perTb = (n: number) => {
    const text = gen(n);
    const runs: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      parseDfcLog(text);
      runs.push(performance.now() - t0);
    }
    return median(runs) / n;
  };
  const small = perTb(10_000);
  const large = perTb(80_000);
  console.log(
    `chained tracebacks: ${(small * 1000).toFixed(2)} µs each at 10,000, ${(large * 1000).toFixed(2)} µs each at 80,000; ratio ${(large / small).toFixed(2)}x (1x = linear)`,
  );
}

main();
chainedTracebacks();
