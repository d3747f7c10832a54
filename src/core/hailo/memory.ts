import type { GraphModel } from '../graph/model';

/**
 * A rough on-chip memory estimate for Hailo NPUs: weights and the largest activation against the
 * chip's SRAM, and from that a forecast of single- vs multi-context compilation. It is an
 * estimate, not what the compiler will do: the compiler also partitions for compute and control
 * resources, so a model that fits by memory can still need several contexts.
 */

const MB = 1024 * 1024;

export interface OnChipMemory {
  sramBytes: number;
  /** Where the figure comes from and how sure it is. */
  basis: string;
}

/**
 * Hailo-8: 20 MB of on-chip SRAM (secondary source: a community post on production Hailo
 * deployments, "YOLOv8s ≈ 12 MB fits, YOLOv8m ≈ 25 MB needs context switching").
 * Hailo-8L: no published figure; hailo8l compile logs list only clusters 0, 1, 4, 5 of the 8
 * Hailo-8 clusters, so half the Hailo-8 memory is assumed.
 */
export const ON_CHIP_MEMORY: Readonly<Record<string, OnChipMemory>> = {
  hailo8: { sramBytes: 20 * MB, basis: 'Hailo-8: 20 MB on-chip SRAM (secondary source)' },
  hailo8r: { sramBytes: 20 * MB, basis: 'Hailo-8R: assumed equal to Hailo-8 (20 MB)' },
  hailo8l: {
    sramBytes: 10 * MB,
    basis: "Hailo-8L: ≈10 MB assumed (half of Hailo-8's 20 MB; hailo8l compile logs use 4 of the 8 clusters; not a published figure)",
  },
};

/** The compile logs' default `max_memory_utilization (weights)=60%` per context. */
export const WEIGHTS_UTILIZATION = 0.6;

export interface MemoryEstimate {
  hwArch: string;
  paramCount: number;
  /** Weights at 8 bits (the default a8_w8 quantization). */
  weightBytes: number;
  largestActivation: { name: string; shape: number[]; bytes: number } | undefined;
  memory: OnChipMemory | undefined;
  /** SRAM bytes the compiler uses for weights per context by default. */
  budgetBytes: number | undefined;
  /** Lower bound on the number of contexts from weights alone. */
  minContexts: number | undefined;
  forecast: 'single-context' | 'multi-context' | 'unknown';
  assumptions: string[];
}

export interface MemoryInput {
  graph: GraphModel;
  paramCount: number;
  initializers: ReadonlyMap<string, { dims: number[] }>;
}

export function estimateMemory(model: MemoryInput, hwArch: string): MemoryEstimate {
  let paramCount = model.paramCount;
  if (!paramCount) {
    for (const t of model.initializers.values()) paramCount += t.dims.reduce((a, b) => a * b, 1);
  }
  const weightBytes = paramCount; // 8-bit weights
  let largest: MemoryEstimate['largestActivation'];
  for (const v of Object.values(model.graph.values)) {
    if (v.initializer || model.initializers.has(v.name) || !v.shape) continue;
    if (!v.shape.every((d): d is number => typeof d === 'number' && d >= 0)) continue;
    const bytes = v.shape.reduce((a, b) => a * b, 1);
    if (!largest || bytes > largest.bytes) largest = { name: v.name, shape: v.shape, bytes };
  }
  const memory = ON_CHIP_MEMORY[hwArch];
  const assumptions = [
    'weights quantized to 8 bits (a8_w8, the default; 16-bit layers double their share, 4-bit compression halves it)',
    'activations at 8 bits; layers stream rows, so only the largest activation is counted, twice (in and out)',
    `the compiler uses at most ${WEIGHTS_UTILIZATION * 100}% of on-chip memory for weights per context (max_memory_utilization default in compile logs)`,
  ];
  if (!memory) {
    return {
      hwArch,
      paramCount,
      weightBytes,
      largestActivation: largest,
      memory,
      budgetBytes: undefined,
      minContexts: undefined,
      forecast: 'unknown',
      assumptions,
    };
  }
  assumptions.unshift(memory.basis);
  const budgetBytes = memory.sramBytes * WEIGHTS_UTILIZATION;
  const minContexts = Math.max(1, Math.ceil(weightBytes / budgetBytes));
  const actBytes = (largest?.bytes ?? 0) * 2;
  const forecast = minContexts === 1 && weightBytes + actBytes <= memory.sramBytes ? 'single-context' : 'multi-context';
  return { hwArch, paramCount, weightBytes, largestActivation: largest, memory, budgetBytes, minContexts, forecast, assumptions };
}
