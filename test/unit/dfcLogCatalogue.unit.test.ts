import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDfcLog } from '../../src/core/hailo/dfcLog';
import { REFERENCE_DIR } from '../reference';

/** Every log of the catalogue (test/fixtures/logs/catalogue.json) against what it must yield. */
interface Entry {
  file: string;
  source: 'reference' | 'own';
  outcome: string;
  steps: string[];
  errors: string[];
  recommendedEndNodes?: number;
  contexts?: number | null;
  dfcVersion?: string;
  note?: string;
}

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'logs');
const SAMPLES = path.join(REFERENCE_DIR, 'hailo', 'log-samples');
const catalogue = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'catalogue.json'), 'utf8')) as { logs: Entry[] };

describe('dfcLog: fixture catalogue', () => {
  it('lists every own fixture log and every reference log sample', function () {
    const own = fs
      .readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.log'))
      .sort();
    assert.deepEqual(
      catalogue.logs
        .filter((e) => e.source === 'own')
        .map((e) => e.file)
        .sort(),
      own,
    );
    if (!fs.existsSync(SAMPLES)) {
      console.log(`      skipped the reference half: ${SAMPLES} not found (set HAILO_REFERENCE_DIR)`);
      return;
    }
    const ref = fs
      .readdirSync(SAMPLES)
      .filter((f) => /\.(log|txt)$/.test(f))
      .sort();
    assert.deepEqual(
      catalogue.logs
        .filter((e) => e.source === 'reference')
        .map((e) => e.file)
        .sort(),
      ref,
    );
  });

  for (const e of catalogue.logs) {
    it(`${e.source}: ${e.file}`, function () {
      const file = path.join(e.source === 'own' ? FIXTURES : SAMPLES, e.file);
      if (!fs.existsSync(file)) {
        console.log(`      skipped: ${file} not found (set HAILO_REFERENCE_DIR to the reference pack)`);
        this.skip();
      }
      const s = parseDfcLog(fs.readFileSync(file));
      assert.equal(s.outcome, e.outcome, 'outcome');
      assert.deepEqual(
        s.steps.map((x) => `${x.step}:${x.status}`),
        e.steps,
        'steps',
      );
      assert.deepEqual(
        s.errors.map((x) => x.errorClass ?? x.category),
        e.errors,
        'errors',
      );
      assert.equal(s.parse.recommendedEndNodes?.nodes.length, e.recommendedEndNodes, 'recommended end nodes');
      const contexts = s.compile.contextMode === undefined ? undefined : s.compile.contextMode === 'single' ? 1 : (s.compile.contexts ?? null);
      assert.equal(contexts, e.contexts, 'contexts');
      assert.equal(s.header.dfcVersion, e.dfcVersion, 'DFC version');
    });
  }
});
