// Start-up of the command line: `hailo-workbench --version` and `--help` (which load no command)
// and `lint --help` (which loads one command), against a bare `node -e 0` measured in the same
// run, interleaved round by round. Medians of wall time, spawn to exit.
//   npm run bench -- --only cli        BENCH_ROUNDS=15 (default)
// Measures dist/ as built (`npm run build` first).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../reference';

const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 15));
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

function wall(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

if (!fs.existsSync(CLI)) {
  console.error(`${CLI} is missing: run npm run build first`);
  process.exit(1);
}
const cases: [string, string[]][] = [
  ['node -e 0 (baseline)', ['-e', '0']],
  ['hailo-workbench --version', [CLI, '--version']],
  ['hailo-workbench --help', [CLI, '--help']],
  ['hailo-workbench lint --help', [CLI, 'lint', '--help']],
];
const times = cases.map(() => [] as number[]);
for (const [, args] of cases) wall(args); // warm the file cache
for (let r = 0; r < ROUNDS; r++) cases.forEach(([, args], i) => times[i]!.push(wall(args)));
const base = median(times[0]!);
console.log(`CLI start-up, median of ${ROUNDS} runs each (wall time, spawn to exit)`);
console.log('case'.padEnd(32) + 'median ms'.padStart(10) + 'ratio'.padStart(8));
cases.forEach(([name], i) => {
  const m = median(times[i]!);
  console.log(name.padEnd(32) + m.toFixed(1).padStart(10) + `${(m / base).toFixed(2)}x`.padStart(8));
});
