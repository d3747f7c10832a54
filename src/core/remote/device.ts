import * as path from 'node:path';
import { HailoError, isCancelled } from '../errors';
import { hefArchToHwArch, type HefInfo } from '../hailo/hailort';
import {
  compareVersions,
  hailortForDfc,
  hwArchForDeviceArchitecture,
  parseIdentify,
  parseScan,
  parseToolVersions,
  parseVersion,
  type IdentifiedDevice,
  type ScannedDevice,
} from '../hailo/versions';
import { stripAnsi } from '../format';
import { nullLogger } from '../logger';
import type { Device, Model } from '../project/schema';
import type { RemoteHost } from './host';
import { rjoin } from './quote';
import { RunRecord, RunStep, newRunId, pruneRuns, writeRun, type DeviceStepName } from './run';
import { executeRun, finishRun, type RunnerContext } from './runner';
import { deviceDriver } from './deviceDriver';
import { uploadInputs } from './upload';

/**
 * Devices (a Raspberry Pi 5 with a Hailo-8L, any host with a Hailo PCIe board and HailoRT): what
 * "Check Device" finds, and "Deploy and Benchmark": the HEF uploaded content-addressed, checked
 * with `hailortcli parse-hef` against the device, then `hailortcli benchmark` (and `run` with
 * latency measurement where asked) as detached steps of the shared run engine.
 */

export type DeviceProblemCode =
  'NO_HAILORTCLI' | 'NO_DEVICE' | 'VERSION_MISMATCH' | 'DEVICE_BUSY' | 'PCIE_GEN2' | 'PCIE_SLOW' | 'IDENTIFY_FAILED' | 'DESC_PAGE_SIZE' | 'ARCH_MISMATCH';

export interface DeviceProblem {
  code: DeviceProblemCode;
  /** error: nothing runs until it is fixed; warning: runs, but results or loading are at risk; info: worth knowing. */
  severity: 'error' | 'warning' | 'info';
  message: string;
  /** What to do about it. */
  fix: string;
}

export interface PcieLink {
  address: string;
  /** `5.0 GT/s PCIe` as sysfs prints it. */
  currentSpeed: string;
  maxSpeed?: string;
  width?: number;
  maxWidth?: number;
  /** PCIe generation of the current speed (2.5 GT/s = 1, 5 = 2, 8 = 3, 16 = 4). */
  gen?: number;
  maxGen?: number;
}

export interface DeviceCheck {
  /** Where OpenSSH really connects. */
  resolved?: string;
  hailortCli?: string;
  libhailort?: string;
  /** The hailo_pci kernel driver version (sysfs). */
  driver?: string;
  devices: ScannedDevice[];
  identify?: IdentifiedDevice;
  /** `/proc/device-tree/model`, e.g. `Raspberry Pi 5 Model B Rev 1.0`. */
  platform?: string;
  isPi5: boolean;
  pcie?: PcieLink;
  /** Processes that hold /dev/hailo* open (`<pid> <comm>`). */
  users: string[];
  problems: DeviceProblem[];
  /** The raw output of the check, for the log. */
  output: string;
}

/**
 * One round trip: versions, scan, identify, the driver version and the PCIe link of every Hailo
 * function (vendor 0x1e60) from sysfs, the board model, and the processes holding /dev/hailo*.
 * `HWB_SYSFS` (default /sys) lets the same script read a copy of sysfs on a machine without the board.
 */
export const DEVICE_CHECK_SCRIPT = `S=\${HWB_SYSFS:-/sys}
sec() { printf '\\nHWB-SECTION %s\\n' "$1"; }
if ! command -v hailortcli >/dev/null 2>&1; then sec none; exit 0; fi
sec version; hailortcli --version 2>&1 | head -c 4000
sec scan; hailortcli scan 2>&1 | head -c 20000
sec identify; hailortcli fw-control identify 2>&1 | head -c 20000
sec driver; cat "$S/module/hailo_pci/version" 2>/dev/null
sec model; tr -d '\\000' < "$S/firmware/devicetree/base/model" 2>/dev/null
sec pcie
for d in "$S"/bus/pci/devices/*; do
  [ "$(cat "$d/vendor" 2>/dev/null)" = 0x1e60 ] || continue
  printf '%s|%s|%s|%s|%s\\n' "\${d##*/}" "$(cat "$d/current_link_speed" 2>/dev/null)" "$(cat "$d/max_link_speed" 2>/dev/null)" "$(cat "$d/current_link_width" 2>/dev/null)" "$(cat "$d/max_link_width" 2>/dev/null)"
done
sec users
for p in /proc/[0-9]*; do
  for f in "$p"/fd/*; do
    case "$(readlink "$f" 2>/dev/null)" in /dev/hailo*) printf '%s %s\\n' "\${p##*/}" "$(cat "$p/comm" 2>/dev/null)"; break ;; esac
  done
done 2>/dev/null
sec end
exit 0`;

export function sections(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(?:^|\n)HWB-SECTION (\S+)\n/g;
  const marks: { name: string; start: number; end: number }[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) marks.push({ name: m[1]!, start: m.index, end: m.index + m[0].length });
  marks.forEach((mk, i) => {
    out[mk.name] = text.slice(mk.end, i + 1 < marks.length ? marks[i + 1]!.start : text.length).replace(/\n+$/, '');
  });
  return out;
}

export function pcieGen(speed: string | undefined): number | undefined {
  const m = /([\d.]+)\s*GT\/s/.exec(speed ?? '');
  if (!m) return undefined;
  const gt = Number(m[1]);
  return gt >= 32 ? 5 : gt >= 16 ? 4 : gt >= 8 ? 3 : gt >= 5 ? 2 : gt >= 2.5 ? 1 : undefined;
}

export function parsePcieLinks(text: string): PcieLink[] {
  return text
    .split('\n')
    .filter((l) => l.includes('|'))
    .map((l) => {
      const [address, cur, max, w, mw] = l.split('|');
      const link: PcieLink = { address: address!.trim(), currentSpeed: (cur ?? '').trim() };
      if (max?.trim()) link.maxSpeed = max.trim();
      if (w && /^\d+$/.test(w.trim())) link.width = Number(w.trim());
      if (mw && /^\d+$/.test(mw.trim())) link.maxWidth = Number(mw.trim());
      const g = pcieGen(link.currentSpeed);
      if (g) link.gen = g;
      const mg = pcieGen(link.maxSpeed);
      if (mg) link.maxGen = mg;
      return link;
    });
}

const majorMinor = (v: string | undefined) => {
  const p = parseVersion(v);
  return p ? `${p[0]}.${p[1]}` : undefined;
};

/** What the check found, and the problems it explains (pure: unit-tested on captured output). */
export function interpretDeviceCheck(output: string, device?: Pick<Device, 'hwArch'>): DeviceCheck {
  const s = sections(output.replace(/\r/g, ''));
  const check: DeviceCheck = { devices: [], users: [], isPi5: false, problems: [], output };
  if ('none' in s) {
    check.problems.push({
      code: 'NO_HAILORTCLI',
      severity: 'error',
      message: '`hailortcli` is not installed (not on the PATH of a login shell)',
      fix: 'Install HailoRT: on Raspberry Pi OS `sudo apt install hailo-all`, then reboot.',
    });
    return check;
  }
  const all = stripAnsi(output);
  const v = parseToolVersions(s.version ?? '');
  if (v.hailortCli) check.hailortCli = v.hailortCli;
  if (v.libhailort) check.libhailort = v.libhailort;
  check.devices = parseScan(s.scan ?? '');
  const ids = parseIdentify(s.identify ?? '');
  const id = ids.find((d) => d.architecture || d.firmwareVersion);
  if (id) check.identify = id;
  if (s.driver?.trim()) check.driver = s.driver.trim().split('\n')[0]!.trim();
  if (s.model?.trim()) check.platform = s.model.replace(/\0/g, '').trim();
  check.isPi5 = /Raspberry Pi 5/i.test(check.platform ?? '');
  const links = parsePcieLinks(s.pcie ?? '');
  const addr = check.identify?.deviceId ?? check.devices[0]?.id;
  check.pcie = links.find((l) => l.address === addr) ?? links[0];
  check.users = (s.users ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

  const p = check.problems;
  if (/HAILO_DEVICE_IN_USE|in use by another process/i.test(all)) {
    p.push({
      code: 'DEVICE_BUSY',
      severity: 'error',
      message: `the device is busy: another process holds it${check.users.length ? ` (${check.users.join(', ')})` : ''}`,
      fix: 'Stop the other user of the device (a GStreamer/rpicam-apps pipeline, a Python script, hailortcli in another shell), or run it through the HailoRT multi-process service; then check again.',
    });
  }
  if (/max_desc_page_size given \d+ is bigger than hw max desc page size/i.test(all)) {
    p.push({
      code: 'DESC_PAGE_SIZE',
      severity: 'error',
      message: 'the hailo_pci driver uses a descriptor page size this host does not support',
      fix: 'Add `options hailo_pci force_desc_page_size=4096` to /etc/modprobe.d/hailo_pci.conf and reboot.',
    });
  }
  if (/Hailo devices not found/i.test(s.scan ?? '') || (!check.devices.length && !check.identify && !p.some((x) => x.code === 'DEVICE_BUSY'))) {
    p.push({
      code: 'NO_DEVICE',
      severity: 'error',
      message: 'no Hailo device found (`hailortcli scan` lists none)',
      fix: check.isPi5
        ? 'Check the M.2 HAT / AI HAT+ ribbon cable and that the module is seated; `lspci` should list "Hailo Technologies" and /dev/hailo0 should exist. Install `hailo-all` (kernel 6.6.31 or later) and reboot.'
        : 'Check that the board is seated and listed by `lspci`, that the hailo_pci driver is loaded (`lsmod | grep hailo`) and that /dev/hailo0 exists.',
    });
  } else if (!check.identify && !p.some((x) => x.code === 'DEVICE_BUSY')) {
    p.push({
      code: 'IDENTIFY_FAILED',
      severity: 'error',
      message: `\`hailortcli fw-control identify\` failed: ${(s.identify ?? '').trim().split('\n').filter(Boolean).slice(-1)[0] ?? 'no output'}`,
      fix: 'Read the message above; a version mismatch between driver, firmware and library is the usual cause.',
    });
  }
  // driver, firmware and library must be the same version
  const mismatch: string[] = [];
  const cli = check.hailortCli;
  if (check.libhailort && cli && majorMinor(check.libhailort) !== majorMinor(cli)) mismatch.push(`libhailort ${check.libhailort} vs HailoRT-CLI ${cli}`);
  if (check.identify?.firmwareVersion && cli && majorMinor(check.identify.firmwareVersion) !== majorMinor(cli))
    mismatch.push(`firmware ${check.identify.firmwareVersion} vs HailoRT ${cli}`);
  if (check.driver && cli && majorMinor(check.driver) !== majorMinor(cli)) mismatch.push(`driver ${check.driver} vs HailoRT ${cli}`);
  const drv = /Driver version \(([^)]+)\) is different from library version \(([^)]+)\)/.exec(all);
  if (drv && !mismatch.some((x) => x.startsWith('driver'))) mismatch.push(`driver ${drv[1]} vs library ${drv[2]}`);
  if (/HAILO_UNSUPPORTED_FW_VERSION/.test(all) && !mismatch.some((x) => x.startsWith('firmware')))
    mismatch.push('the firmware is not supported by this HailoRT (HAILO_UNSUPPORTED_FW_VERSION)');
  if (mismatch.length) {
    p.push({
      code: 'VERSION_MISMATCH',
      severity: 'error',
      message: `driver, firmware and HailoRT library versions differ: ${mismatch.join('; ')}`,
      fix: 'Install one HailoRT release for all three: on Raspberry Pi OS `sudo apt update && sudo apt full-upgrade` (or `sudo apt install --reinstall hailo-all`), then reboot so the new driver and firmware load.',
    });
  }
  const devArch = check.identify?.architecture;
  if (devArch && device?.hwArch && hwArchForDeviceArchitecture(devArch) && hwArchForDeviceArchitecture(devArch) !== device.hwArch) {
    p.push({
      code: 'ARCH_MISMATCH',
      severity: 'warning',
      message: `hailo.json says this device is ${device.hwArch}, but it reports ${devArch}`,
      fix: `Set "hwArch": "${hwArchForDeviceArchitecture(devArch)}" for this device in hailo.json, and compile for it.`,
    });
  }
  const link = check.pcie;
  if (link?.gen && check.isPi5 && link.gen < 3) {
    p.push({
      code: 'PCIE_GEN2',
      severity: 'info',
      message: `the PCIe link runs at ${link.currentSpeed}${link.width ? ` x${link.width}` : ''} (Gen ${link.gen}), the Raspberry Pi 5 default`,
      fix: 'Gen 3 is a documented configuration change that raises host-bound throughput: add `dtparam=pciex1_gen=3` to /boot/firmware/config.txt (or raspi-config → Advanced Options → PCIe Speed) and reboot.',
    });
  } else if (link?.gen && link.maxGen && link.gen < link.maxGen && !check.isPi5) {
    p.push({
      code: 'PCIE_SLOW',
      severity: 'info',
      message: `the PCIe link runs at ${link.currentSpeed} (Gen ${link.gen}) although the device supports ${link.maxSpeed}`,
      fix: 'Check the slot and the BIOS/firmware PCIe settings; streaming FPS of I/O-heavy models depends on the link.',
    });
  }
  return check;
}

/** "Check Device": connect and run the check script (one round trip). */
export async function checkDevice(host: RemoteHost, device: Device, signal?: AbortSignal): Promise<DeviceCheck> {
  const r0 = await host.resolve?.(signal);
  const r = await host.execScript(DEVICE_CHECK_SCRIPT, [], { signal, check: false });
  const check = interpretDeviceCheck(r.stdout.toString('utf8') + (r.stderr ? `\n${r.stderr}` : ''), device);
  if (r0) check.resolved = `${r0.user}@${r0.hostname}:${r0.port}`;
  return check;
}

/** One-line summary of a check. */
export function describeDevice(c: DeviceCheck): string {
  const id = c.identify;
  const bits = [
    id?.architecture,
    id?.firmwareVersion ? `firmware ${id.firmwareVersion}` : undefined,
    c.hailortCli ? `HailoRT ${c.hailortCli}` : undefined,
    id?.deviceId ?? c.devices[0]?.id,
    c.pcie?.gen ? `PCIe Gen ${c.pcie.gen}${c.pcie.width ? ` x${c.pcie.width}` : ''}` : undefined,
  ];
  return bits.filter(Boolean).join(', ');
}

// ---------------------------------------------------------------- HEF vs device

export interface Compatibility {
  /** Why the HEF must not run on this device; undefined when it may. */
  refuse?: string;
  warnings: string[];
}

const FIVE_X = /^hailo(10|15)/;

/**
 * Whether a HEF (from parse-hef) may run on a device (from identify) under its HailoRT, and with
 * the DFC version that compiled it when known. After HailoRT 4.23 `device_internal.cpp`: a Hailo-8L
 * accepts only hailo8l HEFs; a Hailo-8 accepts hailo8, hailo8r and hailo8l (the last slower);
 * HailoRT 4.x refuses 5.x architectures and 5.x runs Hailo-10H/15 only.
 */
export function hefCompatibility(hef: HefInfo, device: { architecture?: string; hailort?: string }, dfc?: string): Compatibility {
  const warnings: string[] = [];
  const hefArchs = hef.compatible.map(hefArchToHwArch);
  const dev = device.architecture ? hwArchForDeviceArchitecture(device.architecture) : undefined;
  const rtMajor = parseVersion(device.hailort)?.[0];
  if (!hefArchs.length) return { refuse: '`hailortcli parse-hef` printed no architecture: the file is not a HEF this HailoRT can read', warnings };
  const shown = hef.compatible.join(', ');
  if (rtMajor === 4 && hefArchs.every((a) => FIVE_X.test(a)))
    return { refuse: `the HEF is for ${shown}, which needs HailoRT 5.x; the device runs HailoRT ${device.hailort}`, warnings };
  if (rtMajor !== undefined && rtMajor >= 5 && hefArchs.every((a) => !FIVE_X.test(a)))
    return { refuse: `the HEF is for ${shown}; HailoRT ${device.hailort} runs Hailo-10H/15 HEFs only (Hailo-8/8L need HailoRT 4.x)`, warnings };
  if (dev) {
    const accepts =
      dev === 'hailo8l' ? ['hailo8l'] : dev === 'hailo8' ? ['hailo8', 'hailo8r', 'hailo8l'] : dev === 'hailo8r' ? ['hailo8r', 'hailo8', 'hailo8l'] : [dev];
    if (!hefArchs.some((a) => accepts.includes(a))) {
      return {
        refuse: `the HEF was compiled for ${shown}, but the device is ${device.architecture}${dev === 'hailo8l' ? ' (a Hailo-8L accepts only hailo8l HEFs)' : ''}: compile with --hw-arch ${dev}`,
        warnings,
      };
    }
    if (dev === 'hailo8' && hefArchs.includes('hailo8l') && !hefArchs.includes('hailo8'))
      warnings.push('the HEF was compiled for Hailo-8L and runs slower on this Hailo-8: compile with --hw-arch hailo8');
  }
  if (dfc && device.hailort) {
    const dfcMajor = parseVersion(dfc)?.[0];
    if (dfcMajor !== undefined && rtMajor !== undefined && dfcMajor >= 5 !== rtMajor >= 5)
      return {
        refuse: `the HEF was built by DFC ${dfc}, which does not pair with HailoRT ${device.hailort} (DFC 3.x goes with HailoRT 4.x, DFC 5.x with HailoRT 5.x)`,
        warnings,
      };
    const expected = hailortForDfc(dfc);
    if (expected && majorMinor(expected) !== majorMinor(device.hailort)) {
      warnings.push(
        `DFC ${dfc} ships with HailoRT ${expected}, the device has ${device.hailort}${compareVersions(expected, device.hailort) > 0 ? ': a HEF from a newer compiler than the runtime is not guaranteed to load' : ''}`,
      );
    }
  }
  return { warnings };
}

// ---------------------------------------------------------------- deploy

export interface DeployOptions {
  model: Model;
  device: Device;
  /** Local HEF. */
  hef: string;
  /** Seconds per benchmark phase (hailortcli default 15). */
  seconds?: number;
  /** Also `hailortcli run --measure-latency --measure-overall-latency` (5.x: `run2 ... -j`). */
  measureRun?: boolean;
  /** Benchmark repetitions in this run (default: the device's `benchmarkRepeats`, else 3). */
  repeats?: number;
  /** DFC version that compiled the HEF, when a run recorded it. */
  dfcVersion?: string;
  /** The git commit of the workspace. */
  commit?: string;
  /** A check made just before (else one is made). */
  check?: DeviceCheck;
}

/** Repetitions of the benchmark in one run: 1..10, default 3 (the fewest that show a spread). */
export const DEFAULT_BENCHMARK_REPEATS = 3;
export function benchmarkRepeats(n: number | undefined): number {
  return n === undefined || !Number.isFinite(n) ? DEFAULT_BENCHMARK_REPEATS : Math.min(10, Math.max(1, Math.round(n)));
}

/** The line printed before each repetition of the benchmark (`HWB-REPEAT 2/3`). */
export const REPEAT_MARK = /^HWB-REPEAT (\d+)\/(\d+)$/;

/**
 * Runs the benchmark argv `$@` n times in one step, a `HWB-REPEAT i/n` line before each, each
 * with its own `--csv <base>-<i>.csv` when a base is given; stops at the first failure with its
 * exit code. The script is constant: the HEF path and the rest travel as positional arguments.
 */
const REPEAT_SCRIPT = [
  'n=$1; csv=$2; shift 2; i=1',
  'while [ "$i" -le "$n" ]; do',
  '  printf \'HWB-REPEAT %s/%s\\n\' "$i" "$n"',
  '  if [ -n "$csv" ]; then "$@" --csv "$csv-$i.csv"; else "$@"; fi',
  '  rc=$?; [ "$rc" -ne 0 ] && exit "$rc"',
  '  i=$((i+1))',
  'done',
].join('\n');

export function repeatCsv(base: string, repeats: number, i: number): string {
  return repeats > 1 ? `${base}-${i}.csv` : `${base}.csv`;
}

export function repeatedBenchmarkArgv(bench: string[], repeats: number, csvBase: string): string[] {
  if (repeats <= 1) return csvBase ? [...bench, '--csv', repeatCsv(csvBase, 1, 1)] : bench;
  return ['sh', '-c', REPEAT_SCRIPT, 'hailo-workbench-benchmark', String(repeats), csvBase, ...bench];
}

export async function startDeploy(ctx: RunnerContext, opts: DeployOptions): Promise<RunRecord> {
  const now = ctx.now ?? (() => new Date());
  const log = ctx.log ?? nullLogger;
  const { host } = ctx;
  const { model, device } = opts;
  if (ctx.keep) pruneRuns(ctx.runsDir, Math.max(1, ctx.keep - 1));
  ctx.events?.onProgress?.(`Checking ${device.name} (${device.host})`);
  const check = opts.check ?? (await checkDevice(host, device, ctx.signal));
  const blocking = check.problems.filter((p) => p.severity === 'error');
  if (blocking.length) throw new HailoError('DEVICE_PROBLEM', `${device.name} (${device.host}): ${blocking.map((p) => `${p.message}. ${p.fix}`).join(' ')}`);
  const hailort = check.hailortCli;
  const five = (parseVersion(hailort)?.[0] ?? 4) >= 5;
  const workDir = await host.absolute(device.workDir ?? '~/hailo-workbench', ctx.signal);
  const id = newRunId(model.name, now());
  const remoteDir = rjoin(workDir, 'runs', id);
  const hefName = `${(model.netName ?? model.name).replace(/[^A-Za-z0-9_.-]/g, '_')}.hef`;
  const hefRemote = rjoin(remoteDir, hefName);
  const seconds = String(Math.max(1, Math.round(opts.seconds ?? 15)));
  const repeats = benchmarkRepeats(opts.repeats ?? device.benchmarkRepeats);
  const steps: { step: DeviceStepName; argv: string[]; artifacts?: RunStep['artifacts'] }[] = [
    { step: 'parse-hef', argv: ['hailortcli', 'parse-hef', hefRemote] },
  ];
  const bench = ['hailortcli', 'benchmark', hefRemote, '--time-to-run', seconds];
  // HailoRT 5.x benchmark has no --csv; it prints its own summary
  const csvBase = five ? '' : rjoin(remoteDir, 'benchmark');
  steps.push({
    step: 'benchmark',
    argv: repeatedBenchmarkArgv(bench, repeats, csvBase),
    artifacts: csvBase ? Array.from({ length: repeats }, (_, i) => ({ kind: 'other' as const, remote: repeatCsv(csvBase, repeats, i + 1) })) : [],
  });
  if (opts.measureRun) {
    if (five) {
      // run2 -j: the statistics as JSON (HailoRT run2/live_stats.cpp); with latency measured run2 measures no FPS (benchmark did)
      const json = rjoin(remoteDir, 'run2.json');
      steps.push({
        step: 'run2',
        argv: ['hailortcli', 'run2', '--time-to-run', seconds, '--measure-latency', '--measure-overall-latency', '-j', json, 'set-net', hefRemote],
        artifacts: [{ kind: 'other', remote: json }],
      });
    } else steps.push({ step: 'run', argv: ['hailortcli', 'run', hefRemote, '--time-to-run', seconds, '--measure-latency', '--measure-overall-latency'] });
  }
  const run: RunRecord = RunRecord.parse({
    version: 1,
    id,
    kind: 'device',
    model: model.name,
    netName: model.netName ?? model.name,
    hwArch: device.hwArch ?? check.identify?.hwArch ?? 'hailo8l',
    target: { name: device.name, host: device.host, workDir },
    ...(opts.commit ? { commit: opts.commit } : {}),
    device: {
      name: device.name,
      ...((check.identify?.deviceId ?? check.devices[0]?.id) ? { id: check.identify?.deviceId ?? check.devices[0]?.id } : {}),
      ...(check.identify?.architecture ? { architecture: check.identify.architecture } : {}),
      ...(check.identify?.hwArch ? { hwArch: check.identify.hwArch } : {}),
      ...(check.identify?.boardName ? { board: check.identify.boardName } : {}),
      ...(check.identify?.firmwareVersion ? { firmware: check.identify.firmwareVersion } : {}),
      ...(hailort ? { hailort } : {}),
      ...(check.pcie?.gen ? { pcie: `Gen ${check.pcie.gen}${check.pcie.width ? ` x${check.pcie.width}` : ''}` } : {}),
    },
    remoteDir,
    createdAt: now().toISOString(),
    status: 'running',
    steps: steps.map((s) => RunStep.parse({ step: s.step, status: 'pending', command: s.argv, artifacts: s.artifacts ?? [], logOffset: 0 })),
    inputs: [],
    bytesSent: 0,
    toolVersions: {
      ...(hailort ? { hailort } : {}),
      ...(check.identify?.firmwareVersion ? { firmware: check.identify.firmwareVersion } : {}),
      ...(opts.dfcVersion ? { dfc: opts.dfcVersion } : {}),
    },
  });
  writeRun(ctx.runsDir, run);
  log.info(`Run ${id}: deploy ${path.basename(opts.hef)} of ${model.name} to ${device.name} (${device.host}, ${describeDevice(check)})`);
  try {
    ctx.events?.onProgress?.('Uploading the HEF');
    const up = await uploadInputs(host, {
      workDir,
      runDir: remoteDir,
      items: [{ role: 'hef', local: opts.hef, dest: hefName }],
      signal: ctx.signal,
      onProgress: (m) => ctx.events?.onProgress?.(m),
    });
    run.inputs = up.inputs;
    run.bytesSent = up.bytesSent;
    log.info(`HEF ${up.inputs[0]?.sha256.slice(0, 12)} ${up.bytesSent ? `sent (${up.bytesSent} bytes)` : 'already on the device (not sent again)'}`);
    writeRun(ctx.runsDir, run);
  } catch (e) {
    finishRun(ctx, run, isCancelled(e) ? 'cancelled' : 'failed');
    throw e;
  }
  return executeRun(ctx, run, deviceDriver());
}

export type { DeviceStepName };
