import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KINDS, makeCase, writeBases, writeReproducers, type Bases, type FuzzCase } from '../fuzz/generators';
import { CLI, describe as describeResult, FAILURES, runAll, table } from '../fuzz/runner';

/** Cases per kind in the unit tier; `npm run fuzz` runs more. */
const CASES_PER_KIND = 10;
const SEED = 20261206;
const LIMITS = { timeMs: 20_000, memBytes: 1024 * 1024 * 1024 };

describe('fuzz: hostile inputs through the CLI end in a result or a typed error naming the file', function () {
  this.timeout(240_000);
  let root: string;
  let bases: Bases;
  before(async function () {
    if (!fs.existsSync(CLI)) {
      console.log(`      skipped: ${CLI} is missing (run npm run build)`);
      this.skip();
    }
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'hailo-fuzz-unit-'));
    bases = await writeBases(path.join(root, '_bases'));
  });
  after(() => root && fs.rmSync(root, { recursive: true, force: true }));

  const check = (results: Awaited<ReturnType<typeof runAll>>) => {
    console.log(table(results).replace(/^/gm, '      '));
    const bad = results.filter((r) => FAILURES.has(r.outcome));
    assert.equal(bad.length, 0, `crash, hang, over-memory, silent exit or unnamed error:\n${bad.map(describeResult).join('\n')}`);
  };

  it('the minimal reproducers of every issue-12 class (generated)', async () => {
    const all = await writeReproducers(path.join(root, 'repro'), bases);
    const results = await runAll(
      all.map((c) => ({ c, dir: path.join(root, 'repro', c.mutation) })),
      LIMITS,
      2,
    );
    check(results);
    const by = (m: string) => results.find((r) => r.c.mutation === m)!;
    assert.equal(by('har-gzip-symlink').outcome, 'typed-error');
    assert.match(by('har-gzip-symlink').stderr, /symbolic link/);
    assert.match(by('har-gzip-bomb').stderr, /decompression bomb/);
    assert.match(by('har-json-members-total').stderr, /add up to more than/);
    assert.match(by('hn-nested-brackets').stderr, /nested deeper than 256 levels/);
    assert.notEqual(by('hn-chain-10k').outcome, 'hang');
    assert.notEqual(by('dfclog-80k-tracebacks').outcome, 'hang');
    assert.match(by('har-fifo').stderr, /named pipe \(FIFO\); only regular files are read/);
    assert.equal(by('onnx-add-no-inputs').outcome, 'result');
    assert.equal(by('hailojson-deep').code, 1);
  });

  it(`${CASES_PER_KIND} seeded cases per kind (${KINDS.join(', ')}), each in a child process with ${LIMITS.timeMs / 1000} s and 1 GiB`, async () => {
    const todo: { c: FuzzCase; dir: string }[] = [];
    for (const kind of KINDS) {
      for (let i = 0; i < CASES_PER_KIND; i++) {
        const dir = path.join(root, `${kind}-${i}`);
        todo.push({ c: await makeCase(bases, kind, SEED, i, dir), dir });
      }
    }
    check(await runAll(todo, LIMITS, 2));
  });
});
