// The extension's entry point (package.json "main" -> dist/loader.js). It loads the bundle
// dist/extension.js like require() would, but through V8's code cache: parsing and compiling the
// bundle is most of the activation time, and with the cache V8 skips it. The cache lives under the
// user's own cache folder (never a shared temp folder: a planted cache entry would be code), is
// keyed by the bundle's content, the Node version and V8's cache tag, and is written after
// activation, off the measured path. Any problem with the cache falls back to a plain require().
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

type Exports = Record<string, unknown>;

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME && path.isAbsolute(process.env.XDG_CACHE_HOME) ? process.env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'hailo-workbench', 'v8-code-cache');
}

function load(): Exports {
  const file = path.join(__dirname, 'extension.js');
  let script: vm.Script;
  let cacheFile: string;
  let hadCache: boolean;
  try {
    const source = fs.readFileSync(file, 'utf8');
    const key = createHash('sha256').update(source).update(process.version).update(process.arch).update(String(v8.cachedDataVersionTag())).digest('hex').slice(0, 32);
    cacheFile = path.join(cacheDir(), `extension-${key}.bin`);
    let cachedData: Buffer | undefined;
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {}
    script = new vm.Script(Module.wrap(source), { filename: file, ...(cachedData ? { cachedData } : {}) });
    hadCache = cachedData !== undefined && !script.cachedDataRejected;
  } catch {
    return createRequire(file)(file) as Exports;
  }

  const mod = new Module(file);
  mod.filename = file;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  const wrapper = script.runInThisContext() as (exports: Exports, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;

  const exports = mod.exports as Exports;
  if (hadCache) return exports;
  // written a moment after activate() has finished, so the cache also holds the functions
  // activation compiled, and the write is not on the activation path
  const writeCache = () => {
    const t = setTimeout(() => {
      try {
        fs.mkdirSync(path.dirname(cacheFile), { recursive: true, mode: 0o700 });
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(tmp, cacheFile);
        // one entry per bundle: drop those of earlier builds
        for (const f of fs.readdirSync(path.dirname(cacheFile))) {
          if (/^extension-[0-9a-f]+\.bin$/.test(f) && f !== path.basename(cacheFile)) fs.rmSync(path.join(path.dirname(cacheFile), f), { force: true });
        }
      } catch {}
    }, 1000);
    t.unref?.();
  };
  const activate = exports.activate as ((...a: unknown[]) => unknown) | undefined;
  if (typeof activate !== 'function') return exports;
  return {
    ...exports,
    activate: async (...a: unknown[]) => {
      try {
        return await activate(...a);
      } finally {
        writeCache();
      }
    },
  };
}

const extension = load();
export const activate = extension.activate;
export const deactivate = extension.deactivate;
