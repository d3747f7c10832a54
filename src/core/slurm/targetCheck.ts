import { HailoError } from '../errors';
import type { Target } from '../project/schema';
import type { TargetCheck } from '../remote/dfc';
import type { RemoteHost } from '../remote/host';
import { checkSlurmTarget, type CheckItem } from './check';

/**
 * Check Target for a `slurm` target, in the shape of every other target check: the Slurm commands
 * and controller on the login node, the partition and whether the request fits it, then a short
 * test job that finds the DFC on a compute node and proves the work folder is shared storage.
 */
export async function checkSlurmTargetOf(
  host: RemoteHost,
  target: Target,
  opts: { signal?: AbortSignal; onProgress?: (m: string) => void; jobTimeoutMs?: number; pollMs?: number } = {},
): Promise<TargetCheck> {
  if (!target.slurm)
    throw new HailoError('INVALID_ARGUMENT', `target "${target.name}": a "slurm" target needs a "slurm" object (partition, memory, timeLimit, ...)`);
  const r0 = await host.resolve?.(opts.signal);
  const resolved = r0 ? `${r0.user}@${r0.hostname}:${r0.port}` : undefined;
  const workDir = await host.absolute(target.workDir ?? '~/hailo-workbench', opts.signal);
  const items = await checkSlurmTarget(host, target.slurm, {
    workDir,
    signal: opts.signal,
    onProgress: opts.onProgress,
    ...(opts.jobTimeoutMs ? { jobTimeoutMs: opts.jobTimeoutMs } : {}),
    ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
  });
  const dfc = items.find((i) => i.id === 'dfc' && i.level === 'ok');
  const bad = items.filter((i) => i.level === 'error' || i.level === 'warning');
  return {
    reachable: true,
    ...(resolved ? { resolved } : {}),
    ...(dfc ? { dfc: /DFC (\S+)/.exec(dfc.title)?.[1] ?? 'found' } : {}),
    ...(bad.length ? { problem: bad.map((i) => `${i.title}${i.fix ? ` (${i.fix})` : ''}`).join('; ') } : {}),
    output: items.map(formatCheckItem).join('\n'),
    slurm: items,
  };
}

export function formatCheckItem(i: CheckItem): string {
  const mark = i.level === 'ok' ? 'ok  ' : i.level === 'warning' ? 'warn' : i.level === 'error' ? 'FAIL' : 'skip';
  return `${mark} ${i.title}: ${i.detail}${i.fix ? `\n     fix: ${i.fix}` : ''}`;
}
