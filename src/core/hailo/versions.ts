import { stripAnsi } from '../format';

/**
 * Version and device facts from the text the Hailo tools print:
 * - the system header every `hailo` CLI run starts with (`[info] Hailo DFC Version: 3.30.0` ...),
 * - `hailortcli --version` (`HailoRT-CLI version 4.23.0`) and its libhailort mismatch notice,
 * - `hailortcli scan` (`[-] Device: 0000:01:00.0`),
 * - `hailortcli fw-control identify` (firmware version, `Device Architecture: HAILO8L` ...).
 * Pure functions over text; ANSI colour codes and `\r` redraws are tolerated.
 */

/** The 8-line `[info]` header of a `hailo ...` CLI run. Every field is optional: logs get cut. */
export interface SystemHeader {
  /** `Current Time: 13:38:40, 02/13/25` as printed (HH:MM:SS, MM/DD/YY). */
  time?: string;
  /** The same instant as ISO 8601 without zone (the tool prints local time), when it parses. */
  timeIso?: string;
  cpu?: { architecture?: string; model?: string; cores?: number; utilizationPct?: number };
  memory?: { totalGB?: number; availableGB?: number };
  os?: string;
  kernel?: string;
  dfcVersion?: string;
  /** The version, or null when the header says `Not Installed`. */
  hailortVersion?: string | null;
  /** The PCIe line as printed, e.g. "No Hailo PCIe device was found". */
  pcie?: string;
  /** The command line inside ``Running `...` ``. */
  command?: string;
}

// remote/dfc.ts and remote/logLines.ts import it from here

/** Strip a `[info] ` style prefix (coloured or not); returns the text, or undefined when there is none. */
function infoText(line: string): string | undefined {
  const m = /^\s*\[(?:\[[0-9;]*m)?(?:info|warning|error)(?:\[[0-9;]*m)?\]\s?(.*)$/.exec(stripAnsi(line));
  return m ? m[1]! : undefined;
}

function num(s: string | undefined): number | undefined {
  if (s === undefined || s.trim() === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** `13:38:40, 02/13/25` -> `2025-02-13T13:38:40`. */
function headerTimeIso(t: string): string | undefined {
  const m = /^(\d{1,2}):(\d{2}):(\d{2}),\s*(\d{1,2})\/(\d{1,2})\/(\d{2,4})$/.exec(t.trim());
  if (!m) return undefined;
  const [, hh, mi, ss, mo, dd, yy] = m;
  const year = yy!.length === 2 ? 2000 + Number(yy) : Number(yy);
  const p = (x: string | number) => String(x).padStart(2, '0');
  if (Number(mo) < 1 || Number(mo) > 12 || Number(dd) < 1 || Number(dd) > 31 || Number(hh) > 23) return undefined;
  return `${year}-${p(mo!)}-${p(dd!)}T${p(hh!)}:${mi}:${ss}`;
}

/**
 * One header line (with or without its `[info] ` prefix) into the header fields it carries;
 * undefined when the line is not a header line.
 */
export function parseSystemHeaderLine(line: string): Partial<SystemHeader> | undefined {
  const text = infoText(line) ?? stripAnsi(line).trim();
  let m: RegExpExecArray | null;
  if ((m = /^Current Time: (.+)$/.exec(text))) {
    const time = m[1]!.trim();
    const iso = headerTimeIso(time);
    return iso ? { time, timeIso: iso } : { time };
  }
  if ((m = /^CPU: (.*)$/.exec(text))) {
    const body = m[1]!;
    const field = (name: string) => new RegExp(`(?:^|, )${name}: ([^,]*)`).exec(body)?.[1]?.trim();
    const cpu: NonNullable<SystemHeader['cpu']> = {};
    const arch = field('Architecture');
    if (arch) cpu.architecture = arch;
    // the model name may itself contain commas; it runs up to ", Number Of Cores"
    const model = /Model: (.*?)(?:, Number Of Cores:|, Utilization:|$)/.exec(body)?.[1]?.trim();
    if (model) cpu.model = model;
    const cores = num(field('Number Of Cores'));
    if (cores !== undefined) cpu.cores = cores;
    const util = num(field('Utilization')?.replace(/%$/, ''));
    if (util !== undefined) cpu.utilizationPct = util;
    return { cpu };
  }
  if ((m = /^Memory: (.*)$/.exec(text))) {
    const memory: NonNullable<SystemHeader['memory']> = {};
    const total = /Total: ([\d.]+)\s*GB/.exec(m[1]!)?.[1];
    const avail = /Available: ([\d.]+)\s*GB/.exec(m[1]!)?.[1];
    if (total !== undefined) memory.totalGB = Number(total);
    if (avail !== undefined) memory.availableGB = Number(avail);
    return { memory };
  }
  if ((m = /^System info: (.*)$/.exec(text))) {
    const out: Partial<SystemHeader> = {};
    const os = /OS: ([^,]*)/.exec(m[1]!)?.[1]?.trim();
    const kernel = /Kernel: ([^,]*)/.exec(m[1]!)?.[1]?.trim();
    if (os) out.os = os;
    if (kernel) out.kernel = kernel;
    return out;
  }
  if ((m = /^Hailo DFC Version: (\S+)/.exec(text))) return { dfcVersion: m[1]! };
  if ((m = /^HailoRT Version: (.+)$/.exec(text))) {
    const v = m[1]!.trim();
    return { hailortVersion: /^not installed$/i.test(v) ? null : v };
  }
  if ((m = /^PCIe: (.+)$/.exec(text))) return { pcie: m[1]!.trim() };
  if ((m = /^Running `(.*)`\s*$/.exec(text))) return { command: m[1]! };
  return undefined;
}

/** The system header fields found anywhere in a text. */
export function parseSystemHeader(text: string): SystemHeader {
  const out: SystemHeader = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = lastRedraw(raw);
    if (!/^\s*\[/.test(stripAnsi(line))) continue;
    const part = parseSystemHeaderLine(line);
    if (part) mergeHeader(out, part);
  }
  return out;
}

/** Merge header fields; nested objects are merged, not replaced. */
export function mergeHeader(into: SystemHeader, part: Partial<SystemHeader>): void {
  for (const [k, v] of Object.entries(part) as [keyof SystemHeader, unknown][]) {
    if (v && typeof v === 'object' && into[k] && typeof into[k] === 'object') Object.assign(into[k] as object, v);
    else (into as Record<string, unknown>)[k] = v;
  }
}

function lastRedraw(line: string): string {
  const i = line.lastIndexOf('\r');
  return i < 0 ? line : line.slice(i + 1);
}

/** A semantic version triple; undefined when the text is not `X.Y.Z` (suffixes ignored). */
export function parseVersion(v: string | undefined | null): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec((v ?? '').trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) return a.localeCompare(b);
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/**
 * DFC <-> HailoRT pairs that ship together (Hailo Model Zoo change log). A DFC newer or older
 * than the runtime is not guaranteed to produce HEFs the runtime loads.
 */
export const DFC_HAILORT_PAIRS: readonly { dfc: string; hailort: string; modelZoo: string }[] = [
  { dfc: '3.26.0', hailort: '4.16.0', modelZoo: '2.10' },
  { dfc: '3.27.0', hailort: '4.18.0', modelZoo: '2.11' },
  { dfc: '3.28.0', hailort: '4.18.0', modelZoo: '2.12' },
  { dfc: '3.29.0', hailort: '4.19.0', modelZoo: '2.13' },
  { dfc: '3.30.0', hailort: '4.20.0', modelZoo: '2.14' },
  { dfc: '3.31.0', hailort: '4.21.0', modelZoo: '2.15' },
  { dfc: '3.32.0', hailort: '4.22.0', modelZoo: '2.16' },
  { dfc: '3.33.0', hailort: '4.23.0', modelZoo: '2.17' },
  { dfc: '3.33.1', hailort: '4.23.0', modelZoo: '2.18' },
];

/** The HailoRT version released with a DFC version, when known (matched on major.minor.patch). */
export function hailortForDfc(dfc: string): string | undefined {
  return DFC_HAILORT_PAIRS.find((p) => compareVersions(p.dfc, dfc) === 0)?.hailort;
}

/** Versions of the tools found on a machine, from whatever version output was captured. */
export interface ToolVersions {
  dfc?: string;
  /** HailoRT as the DFC header reports it; null when the header says "Not Installed". */
  hailort?: string | null;
  hailortCli?: string;
  /** From the libhailort mismatch notice of hailortcli. */
  libhailort?: string;
  /** Problems worth telling the user, e.g. a CLI/library mismatch. */
  problems: string[];
}

/**
 * Tool versions from the output of `hailo --version`, `hailortcli --version` or any `hailo ...`
 * run. The header lines (`Hailo DFC Version:`, `HailoRT Version:`) are the documented form; the
 * other spellings (`Hailo Dataflow Compiler v3.x`, `HailoRT v4.x`, pip's `Version:` after
 * `Name: hailo-dataflow-compiler`) are accepted too so a version probe needs no exact command.
 */
export function parseToolVersions(text: string): ToolVersions {
  const out: ToolVersions = { problems: [] };
  let pipName: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = stripAnsi(lastRedraw(raw)).trim();
    if (!line) continue;
    const body = infoText(line) ?? line;
    let m: RegExpExecArray | null;
    const header = parseSystemHeaderLine(body);
    if (header?.dfcVersion) out.dfc = header.dfcVersion;
    else if (header && 'hailortVersion' in header) out.hailort = header.hailortVersion ?? null;
    else if ((m = /^HailoRT-CLI version (\S+)/.exec(body))) out.hailortCli = m[1]!;
    else if ((m = /libhailort version \(([^)]+)\) does not match HailoRT-CLI version \(([^)]+)\)/.exec(body))) {
      out.libhailort = m[1]!;
      out.hailortCli ??= m[2]!;
      out.problems.push(`libhailort ${m[1]} does not match HailoRT-CLI ${m[2]}; driver, firmware and library versions must be the same.`);
    } else if ((m = /^Hailo Dataflow Compiler\s+v?(\d+\.\d+\.\d+\S*)/i.exec(body))) out.dfc = m[1]!;
    else if ((m = /^HailoRT\s+v(\d+\.\d+\.\d+\S*)/i.exec(body))) out.hailort = m[1]!;
    else if ((m = /^Name: (\S+)/.exec(body))) pipName = m[1]!.toLowerCase().replace(/_/g, '-');
    else if ((m = /^Version: (\S+)/.exec(body)) && pipName) {
      if (pipName === 'hailo-dataflow-compiler') out.dfc = m[1]!;
      else if (pipName === 'hailort') out.hailort = m[1]!;
      pipName = undefined;
    } else if ((m = /Driver version \(([^)]+)\) is different from library version \(([^)]+)\)/.exec(body))) {
      out.problems.push(`The hailo_pci driver (${m[1]}) and libhailort (${m[2]}) versions differ; install matching versions.`);
    }
  }
  if (out.dfc && typeof out.hailort === 'string') {
    const expected = hailortForDfc(out.dfc);
    if (expected && parseVersion(out.hailort)?.slice(0, 2).join('.') !== parseVersion(expected)?.slice(0, 2).join('.')) {
      out.problems.push(`DFC ${out.dfc} ships with HailoRT ${expected}, but HailoRT ${out.hailort} is installed.`);
    }
  }
  return out;
}

/** One device from `hailortcli scan`. */
export interface ScannedDevice {
  kind: 'pcie' | 'ethernet';
  /** PCIe id (`0001:01:00.0`) or board IP. */
  id: string;
}

/** `hailortcli scan`: the devices listed; an empty list for `Hailo devices not found`. */
export function parseScan(text: string): ScannedDevice[] {
  const out: ScannedDevice[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = stripAnsi(lastRedraw(raw)).trim();
    let m: RegExpExecArray | null;
    if ((m = /^\[-\] Device: (\S+)/.exec(line))) out.push({ kind: 'pcie', id: m[1]! });
    else if ((m = /^\[-\] Board IP: (\S+)/.exec(line))) out.push({ kind: 'ethernet', id: m[1]! });
  }
  return out;
}

/** `hailortcli fw-control identify`, one block per device. */
export interface IdentifiedDevice {
  /** From `Executing on device:`; absent when the wrapper printed none. */
  deviceId?: string;
  controlProtocolVersion?: number;
  firmwareVersion?: string;
  /** The flags in parentheses after the firmware version, e.g. ["release", "app", "extended context switch buffer"]. */
  firmwareFlags?: string[];
  loggerVersion?: number;
  /** `Hailo-8` even on a Hailo-8L; use `architecture`. */
  boardName?: string;
  /** `HAILO8`, `HAILO8L`, `HAILO8_B0`, `HAILO15H`, ... */
  architecture?: string;
  /** The `--hw-arch` value that matches the architecture, when known. */
  hwArch?: string;
  /** Undefined when not printed (HailoRT >= 4.22) or unset (`<N/A>` / `N/A`). */
  serialNumber?: string;
  partNumber?: string;
  productName?: string;
  /** `--extended` adds e.g. `Neural Network Core Clock Rate: 400MHz`; the core clock in MHz. */
  coreClockMHz?: number;
  /** Other `Key: value` lines of the block (`--extended`: boot source, features, LCS...). */
  other?: Record<string, string>;
}

const ARCH_TO_HW_ARCH: Record<string, string> = {
  HAILO8: 'hailo8',
  HAILO8_A0: 'hailo8',
  HAILO8_B0: 'hailo8',
  HAILO8R: 'hailo8r',
  HAILO8L: 'hailo8l',
  HAILO15H: 'hailo15h',
  HAILO15M: 'hailo15m',
  HAILO15L: 'hailo15l',
  HAILO10H: 'hailo10h',
};

/** The DFC `--hw-arch` for a device architecture as HailoRT prints it. */
export function hwArchForDeviceArchitecture(arch: string): string | undefined {
  return ARCH_TO_HW_ARCH[arch.trim().toUpperCase()];
}

function optionalField(v: string): string | undefined {
  const t = v.trim();
  return t === '' || /^<?N\/A>?$/i.test(t) ? undefined : t;
}

export function parseIdentify(text: string): IdentifiedDevice[] {
  const out: IdentifiedDevice[] = [];
  let cur: IdentifiedDevice | undefined;
  const current = (): IdentifiedDevice => {
    if (!cur) out.push((cur = {}));
    return cur;
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = stripAnsi(lastRedraw(raw)).trim();
    let m: RegExpExecArray | null;
    if ((m = /^Executing on device: (\S+)/.exec(line))) {
      out.push((cur = { deviceId: m[1]! }));
      continue;
    }
    if ((m = /^Control Protocol Version: (\d+)/.exec(line))) {
      // a second block without "Executing on device" starts with this line
      if (cur?.controlProtocolVersion !== undefined) cur = undefined;
      current().controlProtocolVersion = Number(m[1]);
    } else if ((m = /^Firmware Version: (\S+)(?:\s+\(([^)]*)\))?/.exec(line))) {
      const d = current();
      d.firmwareVersion = m[1]!;
      if (m[2] !== undefined)
        d.firmwareFlags = m[2]
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
    } else if ((m = /^Logger Version: (\d+)/.exec(line))) current().loggerVersion = Number(m[1]);
    else if ((m = /^Board Name: (.+)$/.exec(line))) current().boardName = m[1]!.trim();
    else if ((m = /^Device Architecture: (\S+)/.exec(line))) {
      const d = current();
      d.architecture = m[1]!;
      const hw = hwArchForDeviceArchitecture(m[1]!);
      if (hw) d.hwArch = hw;
    } else if ((m = /^Serial Number: (.*)$/.exec(line))) {
      const v = optionalField(m[1]!);
      if (v) current().serialNumber = v;
    } else if ((m = /^Part Number: (.*)$/.exec(line))) {
      const v = optionalField(m[1]!);
      if (v) current().partNumber = v;
    } else if ((m = /^Product Name: (.*)$/.exec(line))) {
      const v = optionalField(m[1]!);
      if (v) current().productName = v;
    } else if ((m = /^Neural Network Core Clock Rate: ([\d.]+)\s*MHz/i.exec(line)) && cur) {
      cur.coreClockMHz = Number(m[1]);
    } else if ((m = /^([A-Z][\w ]{1,40}): (.+)$/.exec(line)) && cur && cur.controlProtocolVersion !== undefined) {
      (cur.other ??= {})[m[1]!] = m[2]!.trim();
    }
  }
  return out.filter((d) => Object.keys(d).length > 0);
}
