import * as vscode from 'vscode';

/**
 * Every `hailo.*` setting, read in one place with its type and default. Each key here has a
 * matching entry under `contributes.configuration` in package.json (a unit test checks both ways).
 */
export const SETTINGS = {
  pythonPath: { key: 'pythonPath', default: '' as string },
  lintOnOpen: { key: 'lint.onOpen', default: true as boolean },
  lintOnSave: { key: 'lint.onSave', default: true as boolean },
  sshPath: { key: 'ssh.path', default: 'ssh' as string },
  sshConnectTimeout: { key: 'ssh.connectTimeout', default: 15 as number },
  runsKeep: { key: 'runs.keep', default: 50 as number },
  sshConfigFile: { key: 'ssh.configFile', default: '' as string },
  limitsMaxJsonMiB: { key: 'limits.maxJsonMiB', default: 64 as number },
  limitsArchiveMaxInflatedGiB: { key: 'limits.archiveMaxInflatedGiB', default: 32 as number },
  limitsArchiveMaxCompressionRatio: { key: 'limits.archiveMaxCompressionRatio', default: 100 as number },
  limitsMaxOnnxNodes: { key: 'limits.maxOnnxNodes', default: 2000000 as number },
  deviceBenchmarkSeconds: { key: 'device.benchmarkSeconds', default: 15 as number },
  deviceMeasureLatencyRun: { key: 'device.measureLatencyRun', default: false as boolean },
} as const;

export type SettingName = keyof typeof SETTINGS;
type SettingValue<K extends SettingName> = (typeof SETTINGS)[K]['default'];

export function setting<K extends SettingName>(name: K, scope?: vscode.ConfigurationScope): SettingValue<K> {
  const s = SETTINGS[name];
  const v = vscode.workspace.getConfiguration('hailo', scope).get<SettingValue<K>>(s.key);
  return (v ?? s.default) as SettingValue<K>;
}

/** Effective settings, for the log at start-up. */
export function effectiveSettings(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) out[`hailo.${SETTINGS[name].key}`] = setting(name);
  return out;
}
