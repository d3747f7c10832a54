// The TypeScript twin of test/setup/lib.sh's hailo_clean_npm_env, for scripts that start as `npm start`:
// drops what the parent npm exported (npm_config_*, npm_package_*, npm_lifecycle_*, npm_execpath,
// INIT_CWD, NODE, ...) so nested npm/node-gyp/install scripts see a plain shell's environment.
// Keeps how to reach the registry (registry, scoped registries, proxies, certificates).
const KEEP = new Set([
  'npm_config_registry',
  'npm_config_proxy',
  'npm_config_https_proxy',
  'npm_config_http_proxy',
  'npm_config_noproxy',
  'npm_config_no_proxy',
  'npm_config_cafile',
  'npm_config_ca',
  'npm_config_strict_ssl',
]);

/** True when the variable comes from (or configures) a parent npm and is not a registry setting. */
export function isParentNpmVar(name: string): boolean {
  const k = name.toLowerCase();
  if (KEEP.has(k) || (k.startsWith('npm_config_') && k.endsWith(':registry'))) return false;
  return k.startsWith('npm_') || k === 'init_cwd' || k === 'node';
}

/** A copy of env without the parent npm's variables. */
export function cleanNpmEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !isParentNpmVar(k)) out[k] = v;
  return out;
}
