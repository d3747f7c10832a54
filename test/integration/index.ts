// Entry of the integration suite inside the VS Code extension host (the extensionTestsPath
// contract of @vscode/test-electron: export run(), reject on failure). Bundled with each
// test/integration/*.integration.test.ts by test/harness/integration.ts into out/integration/.
// Works the same under code-server (npm test) and desktop VS Code (test/harness/desktop.mjs).
import fs from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';

interface Failure {
  title: string;
  error: string;
}

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  const grep = process.env.HAILO_TEST_GREP;
  if (grep) mocha.grep(grep);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.integration.test.js'))
    .sort();
  for (const f of files) mocha.addFile(path.join(__dirname, f));

  const counts = { passed: 0, failed: 0, skipped: 0 };
  const failures: Failure[] = [];
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', () => counts.passed++);
    runner.on('pending', () => counts.skipped++);
    runner.on('fail', (test, err: Error) => {
      counts.failed++;
      failures.push({ title: test.fullTitle(), error: err?.stack ?? String(err) });
    });
  });
  const summary = `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
  console.log(`integration: ${files.length} file(s), ${summary}`);
  const out = process.env.HAILO_TEST_RESULTS;
  if (out) fs.writeFileSync(out, JSON.stringify({ files, ...counts, failures }, null, 2));
  if (counts.failed) throw new Error(`${counts.failed} integration test(s) failed`);
}
