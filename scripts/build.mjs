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
 * Activation stays fast because the extension bundle holds only the adapters: every
 * `await import('../core/...')` in src/adapters (or src/extension.ts) is turned into a lookup in a
 * second bundle, dist/core.js, which Node loads on the first such import. esbuild cannot split
 * CommonJS output, so this plugin does the one split that matters: the VS Code glue, which runs at
 * activation, from the core (zod, protobuf, execa, parsers), which runs on first use.
 */
const srcCore = path.join(root, 'src', 'core') + path.sep;
const lazyCore = new Set();
const lazyCorePlugin = {
  name: 'lazy-core',
  setup(b) {
    b.onResolve({ filter: /^\.\/core\.js$/ }, (args) => (args.namespace === 'lazy-core' ? { path: './core.js', external: true } : undefined));
    b.onResolve({ filter: /^\.\.?\// }, async (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      if (!args.importer.startsWith(path.join(root, 'src', 'adapters')) && args.importer !== path.join(root, 'src', 'extension.ts')) return undefined;
      const r = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: 'import-statement' });
      if (r.errors.length || !r.path.startsWith(srcCore)) return undefined;
      lazyCore.add(r.path);
      return { path: r.path, namespace: 'lazy-core' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-core' }, (args) => ({
      contents: `module.exports = require('./core.js').load(${JSON.stringify(path.relative(root, args.path))});`,
      loader: 'js',
    }));
  },
};

/** dist/core.js: every core module the adapters import lazily, in one bundle (one copy of each module). */
function coreBuild() {
  const mods = [...lazyCore].sort();
  const contents =
    mods.map((p, i) => `import * as m${i} from ${JSON.stringify(p)};`).join('\n') +
    `\nconst modules = { ${mods.map((p, i) => `${JSON.stringify(path.relative(root, p))}: m${i}`).join(', ')} };\n` +
    'export function load(key) { const m = modules[key]; if (!m) throw new Error(`dist/core.js has no module ${key}: rebuild`); return m; }\n';
  return { ...common, stdin: { contents, resolveDir: root, sourcefile: 'core-entry.js', loader: 'js' }, outfile: 'dist/core.js', platform: 'node', format: 'cjs', target: 'node20' };
}

const builds = [
  { ...common, entryPoints: { extension: 'src/extension.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], plugins: [lazyCorePlugin] },
  { ...common, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', banner: { js: '#!/usr/bin/env node' } },
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

/** The Python drivers run by the extension and the CLI ship as-is: src/python/*.py -> dist/python/ */
function copyPython() {
  const src = path.join(root, 'src', 'python');
  if (!fs.existsSync(src)) return;
  const out = path.join(root, 'dist', 'python');
  fs.mkdirSync(out, { recursive: true });
  for (const f of fs.readdirSync(src)) if (f.endsWith('.py')) fs.copyFileSync(path.join(src, f), path.join(out, f));
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
await genSchema();
copyPython();
copyOrt();
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  // the core bundle's module list comes from the extension build; rebuild it after each change
  await (await esbuild.context({ ...coreBuild(), plugins: [{ name: 'note', setup(b) { b.onEnd(() => console.log('[build] core: restart watch if lazy imports changed')); } }] })).watch();
  console.log('[build] watching');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  await esbuild.build(coreBuild());
  fs.chmodSync(path.join(root, 'dist', 'cli.js'), 0o755);
  console.log(`[build] ${production ? 'production ' : ''}bundles in ${Date.now() - t0} ms`);
}
