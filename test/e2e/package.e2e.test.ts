// The .vsix: packaged with @vscode/vsce through the .vscodeignore whitelist, installed with
// `code-server --install-extension`, and working in the workbench (the Hailo view lists the model).
// The package is made from a staging copy, so the repository's dist/ is left as it is.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, testPaths } from '../harness/codeServer';
import { useWorkbench } from '../harness/e2e';
import { openActivity, step, treeRows, waitFor } from '../harness/workbench';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string; publisher: string };
const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'hailo-vsix-'));
const vsix = path.join(staging, `${pkg.name}-${pkg.version}.vsix`);

/** Copy what `npm run package` sees (manifest, docs, bundles, assets) and run vsce there. */
function makeVsix(): string[] {
  const src = path.join(staging, 'src');
  fs.mkdirSync(src);
  for (const f of ['package.json', 'README.md', 'LICENSE', '.vscodeignore']) fs.copyFileSync(path.join(REPO_ROOT, f), path.join(src, f));
  for (const d of ['dist', 'media', 'syntaxes']) fs.cpSync(path.join(REPO_ROOT, d), path.join(src, d), { recursive: true });
  // files the whitelist must keep out
  fs.mkdirSync(path.join(src, 'src'));
  fs.writeFileSync(path.join(src, 'src', 'leak.ts'), 'export {};\n');
  fs.writeFileSync(path.join(src, 'dist', 'leak.js.map'), '{}\n');
  const vsce = path.join(REPO_ROOT, 'node_modules', '.bin', 'vsce');
  execFileSync(vsce, ['package', '--no-dependencies', '--no-rewrite-relative-links', '--out', vsix], { cwd: src, stdio: 'pipe', timeout: 120_000 });
  const listing = execFileSync(vsce, ['ls', '--no-dependencies'], { cwd: src, encoding: 'utf8', timeout: 60_000 });
  return listing
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

describe('e2e: the .vsix', function () {
  let files: string[] = [];
  before(function () {
    this.timeout(180_000);
    files = makeVsix();
  });
  after(() => fs.rmSync(staging, { recursive: true, force: true }));

  it('ships only the bundles and the assets', function () {
    assert.ok(fs.existsSync(vsix), vsix);
    assert.ok(files.includes('dist/extension.js') && files.includes('package.json') && files.includes('LICENSE'), files.join(', '));
    assert.ok(files.includes('dist/cli.js') && files.includes('dist/cli/main.mjs'), 'the command line and its launcher');
    // bundles: .js (CommonJS) and .mjs (the command line's ES-module chunks, dist/cli/)
    const outside = files.filter(
      (f) => !/^(dist\/.+\.m?js|dist\/python\/.+\.py|dist\/ort\/[\w.-]+\.wasm|media\/.+|syntaxes\/.+|package\.json|README\.md|LICENSE)$/.test(f),
    );
    assert.deepEqual(outside, [], `not on the whitelist: ${outside.join(', ')}`);
    assert.ok(!files.some((f) => f.endsWith('.map') || f.endsWith('.ts')), 'no source maps or sources');
    assert.ok(files.includes('media/docs/rules.md'), 'the rule docs ship: Explain and the Problems links work offline');
    assert.ok(files.includes('media/readme/problems-on-pytorch-lines.png'), 'the README pictures ship with the README');
    assert.ok(fs.statSync(vsix).size < 10 * 1024 * 1024, 'the package stays small');
  });

  describe('installed into code-server', function () {
    const wb = useWorkbench({ workspace: 'example', extension: vsix });

    it('installs with --install-extension and shows the example in the Hailo view', async function () {
      const installed = fs.readdirSync(wb.server.extensionsDir).filter((d) => d.startsWith(`${pkg.publisher}.${pkg.name}-`));
      assert.deepEqual(installed, [`${pkg.publisher}.${pkg.name}-${pkg.version}`]);
      const dir = path.join(wb.server.extensionsDir, installed[0]!);
      assert.ok(fs.existsSync(path.join(dir, 'dist', 'extension.js')));
      assert.ok(!fs.existsSync(path.join(dir, 'node_modules')), 'no node_modules in the package');
      assert.equal(fs.lstatSync(dir).isSymbolicLink(), false, 'a real install, not the repository');
      await openActivity(wb.page, 'Hailo');
      const rows = await waitFor(
        async () => {
          const r = await treeRows(wb.page, 'Models');
          return r.some((x) => x.startsWith('whisper_tiny_encoder')) ? r : undefined;
        },
        { what: 'the example model in the Models view', timeout: 20_000 },
      );
      assert.match(rows.join('\n'), /ONNX build\/encoder\.onnx · present/);
      await step(wb.page, 'vsix-models-view');
      // the code-server used is the one the README promises compatibility with
      assert.match(testPaths().codeServerVersion, /^4\.139\./);
    });
  });
});
