import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KINDS, makeCase, writeBases, writeReproducers, type FuzzCase, type Kind } from './generators';
import { CLI, describe, FAILURES, rmrf, runAll, table } from './runner';

/**
 * `npm run fuzz`: a longer seeded campaign through the CLI, one child process per case with a
 * time and memory limit, then a table per kind. Options:
 *   --cases N        cases per kind (default 300)
 *   --seed S         campaign seed (default: today's date as a number)
 *   --kind K         one kind only (onnx, har, hn, hailojson, dfclog)
 *   --index I        one case only (with --kind and --seed); with --keep, writes it and stops
 *   --keep DIR       write the cases into DIR and keep them
 *   --reproducers    the minimal reproducers of every issue-12 class instead
 *   --time-ms T, --mem-mb M   limits per case (default 20000 ms, 1024 MiB)
 */
async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const opt = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (!fs.existsSync(CLI)) {
    console.error(`${CLI} is missing: run npm run build first`);
    return 2;
  }
  const cases = Number(opt('cases') ?? 300);
  const seed = Number(opt('seed') ?? new Date().toISOString().slice(0, 10).replace(/-/g, ''));
  const kinds = (opt('kind') ? [opt('kind')] : KINDS) as Kind[];
  const index = opt('index') !== undefined ? Number(opt('index')) : undefined;
  const keep = opt('keep');
  const limits = { timeMs: Number(opt('time-ms') ?? 20000), memBytes: Number(opt('mem-mb') ?? 1024) * 1024 * 1024 };
  const root = keep ? path.resolve(keep) : fs.mkdtempSync(path.join(os.tmpdir(), 'hailo-fuzz-'));
  const bases = await writeBases(path.join(root, '_bases'));
  const todo: { c: FuzzCase; dir: string }[] = [];
  if (argv.includes('--reproducers')) {
    for (const c of await writeReproducers(path.join(root, 'reproducers'), bases)) todo.push({ c, dir: path.join(root, 'reproducers', c.mutation) });
  } else {
    for (const kind of kinds) {
      const indices = index !== undefined ? [index] : Array.from({ length: cases }, (_, i) => i);
      for (const i of indices) {
        const dir = path.join(root, `${kind}-${seed}-${i}`);
        todo.push({ c: await makeCase(bases, kind, seed, i, dir), dir });
      }
    }
  }
  if (keep && index !== undefined) {
    console.log(`written: ${todo.map((t) => `${t.dir}: node ${CLI} ${t.c.args.join(' ')}`).join('\n')}`);
    return 0;
  }
  console.log(`fuzz: ${todo.length} case(s), seed ${seed}, limits ${limits.timeMs} ms and ${limits.memBytes / 1024 / 1024} MiB per case, in ${root}`);
  let done = 0;
  const results = await runAll(todo, limits, Math.max(1, Math.min(2, os.cpus().length)), (r) => {
    done++;
    if (FAILURES.has(r.outcome)) console.log(`FAIL ${describe(r)}`);
    const t = todo.find((x) => x.c === r.c)!;
    if (!keep && !argv.includes('--reproducers')) rmrf(t.dir);
    if (done % 100 === 0) console.log(`  ${done}/${todo.length}`);
  });
  console.log(`\n${table(results)}`);
  const failing = results.filter((r) => FAILURES.has(r.outcome));
  const failed = failing.length;
  const elsewhere = failing.filter((r) => r.c.elsewhere);
  console.log(
    `\n${failed} failing case(s) of ${results.length}${elsewhere.length ? `, ${elsewhere.length} of them in code fixed elsewhere (${[...new Set(elsewhere.map((r) => r.c.elsewhere))].join('; ')})` : ''}`,
  );
  if (!keep) rmrf(root);
  return failed ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(e);
    process.exitCode = 2;
  },
);
