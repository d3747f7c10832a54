/**
 * ONNX reading benchmark. Generates (once, cached outside the repo) Whisper-style encoders:
 * tiny and small at opsets 13 and 17, a > 1 GB model with external data, and a 2.25 GiB
 * single-file model (sparse). Per model, each measurement runs in its own child process so peak
 * RSS is its own: fs.readFile of the file, onnx-proto's full ModelProto.decode, openOnnx
 * (read + shapes) and, when the lint is present, open + shapes + lint.
 *
 *   npm run bench -- --only onnx        env: HAILO_BENCH_CACHE (cache folder), BENCH_RUNS (default 3)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';

const GEN_VERSION = 1;
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const RSS_LIMIT_MB = 300;
const TIME_RATIO_LIMIT = 1.5;

interface BenchModel {
  name: string;
  file: string;
  dataFile?: string;
  make(): Promise<void>;
}

interface ChildResult {
  ms?: number;
  rssMB: number;
  error?: string;
  modelBytesRead?: number;
  dataBytesRead?: number;
  nodes?: number;
  findings?: number;
  lint?: boolean;
}

async function child(mode: string, file: string, dataFile: string | undefined): Promise<void> {
  const out: ChildResult = { rssMB: 0 };
  const t0 = performance.now();
  try {
    if (mode === 'readFile') {
      await fs.promises.readFile(file);
    } else if (mode === 'decode') {
      const t = performance.now();
      const m = onnx.ModelProto.decode(await fs.promises.readFile(file));
      out.ms = performance.now() - t;
      out.nodes = m.graph?.node?.length ?? 0;
    } else {
      const { openOnnx, countingFileSystem } = await import('../../src/core/onnx');
      const lint = mode === 'lint' ? await import('../../src/core/analysis/lint').catch(() => undefined) : undefined;
      const cfs = countingFileSystem();
      const t = performance.now();
      const m = await openOnnx(file, { fs: cfs });
      if (lint?.lintModel) {
        const constants = lint.readLintConstants ? await lint.readLintConstants(m) : undefined;
        out.findings = lint.lintModel(m, { hwArch: 'hailo8l', ...(constants ? { constants } : {}) }).length;
        out.lint = true;
      }
      out.ms = performance.now() - t;
      out.nodes = m.graph.nodes.length;
      out.modelBytesRead = cfs.bytesRead.get(m.file) ?? 0;
      if (dataFile) out.dataBytesRead = cfs.bytesRead.get(path.resolve(dataFile)) ?? 0;
    }
    out.ms ??= performance.now() - t0;
  } catch (e) {
    out.error = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
  out.rssMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function runChild(mode: string, m: BenchModel): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', __filename, '--child', mode, m.file, m.dataFile ?? ''], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ChildResult;
  } catch {
    return { rssMB: 0, error: `child failed (${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}` };
  }
}

function measure(mode: string, m: BenchModel): ChildResult {
  const runs = Array.from({ length: RUNS }, () => runChild(mode, m));
  const ok = runs.filter((r) => !r.error);
  if (!ok.length) return runs[0]!;
  const ms = ok.map((r) => r.ms!).sort((a, b) => a - b)[Math.floor(ok.length / 2)]!;
  return { ...ok[0]!, ms, rssMB: Math.max(...ok.map((r) => r.rssMB)) };
}

async function models(cache: string): Promise<BenchModel[]> {
  const gen = await import('../fixtures/onnx/gen');
  const W = gen.WHISPER_SIZES;
  const f = (n: string) => path.join(cache, `${n}-v${GEN_VERSION}.onnx`);
  const list: BenchModel[] = [];
  for (const size of ['tiny', 'small'] as const) {
    for (const opset of [13, 17]) {
      const file = f(`whisper-${size}-op${opset}`);
      list.push({ name: `whisper-${size} op${opset}`, file, make: async () => void gen.writeWhisper(file, { ...W[size], opset }) });
    }
  }
  const ext = f('whisper-wide-op17-external');
  list.push({
    name: 'wide op17 external',
    file: ext,
    dataFile: `${ext}.data`,
    make: async () => void gen.writeWhisper(ext, { ...W.wide, opset: 17, external: true }),
  });
  const huge = f('sparse-2.25GiB');
  list.push({ name: 'single file 2.25 GiB', file: huge, make: async () => void gen.writeSparseHuge(huge) });
  return list;
}

const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
const fmt = (r: ChildResult) => (r.error ? `refused (${r.error})` : `${r.ms!.toFixed(0)} ms, ${r.rssMB.toFixed(0)} MB RSS`);

async function main(): Promise<void> {
  const cache = process.env.HAILO_BENCH_CACHE ?? path.join(os.tmpdir(), 'hailo-workbench-bench', 'onnx');
  fs.mkdirSync(cache, { recursive: true });
  const list = await models(cache);
  for (const m of list) {
    const done = `${m.file}.done`;
    if (fs.existsSync(done)) continue;
    const t = performance.now();
    await m.make();
    fs.writeFileSync(done, '');
    console.log(`generated ${path.basename(m.file)} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const base = runChild('noop', { name: 'noop', file: '/dev/null', make: async () => undefined });
  console.log(`cache: ${cache}; ${RUNS} run(s) per measurement, median time, max peak RSS; an idle child process peaks at ${base.rssMB.toFixed(0)} MB RSS`);
  const verdicts: string[] = [];
  let failed = 0;
  const verdict = (ok: boolean, what: string) => {
    verdicts.push(`${ok ? 'PASS' : 'FAIL'}  ${what}`);
    if (!ok) failed++;
  };
  for (const m of list) {
    const size = fs.statSync(m.file).size;
    const dataSize = m.dataFile ? fs.statSync(m.dataFile).size : 0;
    const read = measure('readFile', m);
    const decode = size < 2 ** 31 ? measure('decode', m) : { rssMB: 0, error: 'over 2 GiB' };
    const open = measure('open', m);
    const lint = measure('lint', m);
    console.log(`\n${m.name}: ${mb(size)}${dataSize ? ` + ${mb(dataSize)} external data` : ''}, ${open.nodes ?? '?'} nodes`);
    console.log(`  fs.readFile                  ${fmt(read)}`);
    console.log(`  readFile + onnx-proto decode ${fmt(decode)}`);
    console.log(
      `  openOnnx (read + shapes)     ${fmt(open)}${read.ms && open.ms ? `  = ${(open.ms / read.ms).toFixed(2)}x readFile` : ''}${decode.ms && open.ms ? `, ${(open.ms / decode.ms).toFixed(3)}x decode` : ''}; read ${mb(open.modelBytesRead ?? 0)} of the file`,
    );
    if (lint.lint)
      console.log(
        `  open + shapes + lint         ${fmt(lint)}${read.ms && lint.ms ? `  = ${(lint.ms / read.ms).toFixed(2)}x readFile` : ''}; ${lint.findings} findings`,
      );
    else console.log('  open + shapes + lint         (src/core/analysis/lint.ts not present)');
    const full = lint.lint ? lint : open;
    if (open.error || (lint.lint && lint.error)) verdict(false, `${m.name}: ${open.error ?? lint.error}`);
    verdict(Math.max(open.rssMB, full.rssMB) < RSS_LIMIT_MB, `${m.name}: peak RSS ${Math.max(open.rssMB, full.rssMB).toFixed(0)} MB < ${RSS_LIMIT_MB} MB`);
    if (m.name.startsWith('whisper-small') && read.ms && full.ms) {
      verdict(
        full.ms <= TIME_RATIO_LIMIT * read.ms,
        `${m.name}: open+shapes${lint.lint ? '+lint' : ''} ${(full.ms / read.ms).toFixed(2)}x readFile <= ${TIME_RATIO_LIMIT}x`,
      );
    }
    if (m.dataFile)
      verdict(
        open.dataBytesRead === 0 && full.dataBytesRead === 0,
        `${m.name}: external weights file not read at open (${open.dataBytesRead ?? '?'} bytes read)`,
      );
    if (size >= 2 ** 31) verdict(!open.error && !!read.error, `${m.name}: readFile refuses it, openOnnx reads it`);
  }
  console.log(`\n${verdicts.join('\n')}`);
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[2] === '--child') {
  const [mode, file, dataFile] = process.argv.slice(3);
  if (mode === 'noop') process.stdout.write(`${JSON.stringify({ ms: 0, rssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
  else void child(mode!, file!, dataFile || undefined);
} else {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
