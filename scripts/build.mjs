// Bundles the extension host code, the CLI, the webviews and workers with esbuild, and
// regenerates the project-file JSON schema from the zod schema.
//   node scripts/build.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
  define: { __VERSION__: JSON.stringify(pkg.version) },
  // jsonc-parser's UMD build requires files by relative path at run time; its ESM build bundles cleanly
  mainFields: ['module', 'main'],
};

/** Every webview/worker entry: webview/<name>/main.ts -> dist/webview/<name>.js */
function webviewEntries() {
  const dir = path.join(root, 'webview');
  if (!fs.existsSync(dir)) return {};
  const out = {};
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    if (d.isDirectory() && fs.existsSync(path.join(dir, d.name, 'main.ts'))) out[d.name] = path.join(dir, d.name, 'main.ts');
  }
  return out;
}

/**
 * Activation stays fast because the extension bundle holds only the adapters: the core (zod,
 * protobuf, execa, parsers), which runs on first use, is a second bundle, dist/core.js, built from
 * src/core/api.ts. The one `import('../core/api')` in src/adapters/core.ts (the facade) becomes a
 * `require('./core.js')`; the lint rule `hailo/layering` keeps every other core import in the
 * adapters type-only, so no core module is copied into dist/extension.js.
 */
const coreApi = path.join(root, 'src', 'core', 'api.ts');
const lazyCorePlugin = {
  name: 'lazy-core',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, async (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const r = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: 'import-statement' });
      if (r.errors.length || r.path !== coreApi) return undefined;
      return { path: 'core-api', namespace: 'lazy-core' };
    });
    b.onResolve({ filter: /^\.\/core\.js$/ }, (args) => (args.namespace === 'lazy-core' ? { path: './core.js', external: true } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy-core' }, () => ({ contents: "module.exports = require('./core.js');", loader: 'js' }));
  },
};

/** dist/core.js: the core's API for the extension host, one copy of each module. */
function coreBuild() {
  return { ...common, entryPoints: { core: coreApi }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20' };
}

const builds = [
  {
    ...common,
    entryPoints: { extension: 'src/extension.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    plugins: [lazyCorePlugin],
  },
  // The CLI is ES modules split per command (each command's imports are a chunk of their own), so
  // `--version` or a small lint evaluates only what it uses; dist/cli.js starts it.
  {
    ...common,
    entryPoints: { main: 'src/cli/bin.ts' },
    outdir: 'dist/cli',
    outExtension: { '.js': '.mjs' },
    platform: 'node',
    format: 'esm',
    splitting: true,
    target: 'node20',
    // bundled CommonJS packages (protobufjs) call require(); __dirname finds the Python driver
    banner: {
      js: "import { createRequire as __hwCreateRequire } from 'node:module'; import { fileURLToPath as __hwFileURLToPath } from 'node:url'; import { dirname as __hwDirname } from 'node:path'; const require = __hwCreateRequire(import.meta.url); const __filename = __hwFileURLToPath(import.meta.url); const __dirname = __hwDirname(__filename);",
    },
  },
  // the fidelity check's ONNX stage runs on a worker thread, off the extension host's thread
  { ...common, entryPoints: { fidelityWorker: 'src/core/fidelity/onnxWorker.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20' },
];
const web = webviewEntries();
if (Object.keys(web).length) {
  builds.push({ ...common, entryPoints: web, outdir: 'dist/webview', platform: 'browser', format: 'iife', target: 'es2022' });
}

async function genSchema() {
  const tmp = path.join(root, 'dist', '.gen-schema.cjs');
  await esbuild.build({ ...common, sourcemap: false, minify: false, entryPoints: ['scripts/gen-schema.ts'], outfile: tmp, platform: 'node', format: 'cjs' });
  const require = createRequire(import.meta.url);
  delete require.cache[tmp];
  const text = require(tmp).schemaText();
  const out = path.join(root, 'media', 'schemas', 'hailo.schema.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  if (!fs.existsSync(out) || fs.readFileSync(out, 'utf8') !== text) fs.writeFileSync(out, text);
  fs.rmSync(tmp, { force: true });
}

/** The rule docs opened by "Explain" and the Problems panel links, from the README. */
async function genRuleDocs() {
  const tmp = path.join(root, 'dist', '.gen-rule-docs.cjs');
  await esbuild.build({ ...common, sourcemap: false, minify: false, entryPoints: ['scripts/gen-rule-docs.ts'], outfile: tmp, platform: 'node', format: 'cjs' });
  const require = createRequire(import.meta.url);
  delete require.cache[tmp];
  const text = require(tmp).ruleDocsText(path.join(root, 'README.md'));
  const out = path.join(root, 'media', 'docs', 'rules.md');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  if (!fs.existsSync(out) || fs.readFileSync(out, 'utf8') !== text) fs.writeFileSync(out, text);
  fs.rmSync(tmp, { force: true });
}

/** The Python drivers run by the extension and the CLI ship as-is: src/python/*.py -> dist/python/ */
function copyPython() {
  const src = path.join(root, 'src', 'python');
  if (!fs.existsSync(src)) return;
  const out = path.join(root, 'dist', 'python');
  fs.mkdirSync(out, { recursive: true });
  for (const f of fs.readdirSync(src)) if (f.endsWith('.py')) fs.copyFileSync(path.join(src, f), path.join(out, f));
}

/** dist/cli.js, the package's `bin`: starts the ES-module CLI (Node 20 has no require() of ESM). */
function writeCliLauncher() {
  const file = path.join(root, 'dist', 'cli.js');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.rmSync(path.join(root, 'dist', 'cli.js.map'), { force: true });
  fs.writeFileSync(
    file,
    "#!/usr/bin/env node\n'use strict';\n// hailo-workbench: the CLI itself is dist/cli/ (ES modules, one chunk per command)\nimport('./cli/main.mjs');\n",
  );
  fs.chmodSync(file, 0o755);
}

/**
 * ONNX Runtime for the fidelity check's ONNX stage: onnxruntime-web's JavaScript is bundled, its
 * WebAssembly build and loader ship beside the bundles in dist/ort/.
 */
function copyOrt() {
  const require = createRequire(import.meta.url);
  const src = path.dirname(require.resolve('onnxruntime-web'));
  const out = path.join(root, 'dist', 'ort');
  fs.mkdirSync(out, { recursive: true });
  for (const f of ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) fs.copyFileSync(path.join(src, f), path.join(out, f));
}

const t0 = Date.now();
// chunk names carry content hashes: drop the previous build's
fs.rmSync(path.join(root, 'dist', 'cli'), { recursive: true, force: true });
await genSchema();
await genRuleDocs();
copyPython();
copyOrt();
if (watch) {
  writeCliLauncher();
  for (const b of builds) await (await esbuild.context(b)).watch();
  await (await esbuild.context(coreBuild())).watch();
  console.log('[build] watching');
} else {
  await Promise.all([...builds, coreBuild()].map((b) => esbuild.build(b)));
  writeCliLauncher();
  console.log(`[build] ${production ? 'production ' : ''}bundles in ${Date.now() - t0} ms`);
}
