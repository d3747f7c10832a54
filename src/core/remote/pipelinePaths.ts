/** The optimized HAR beside a model's HAR (`enc.har` -> `enc_optimized.har`). */
export function optimizedHarPath(har: string): string {
  return har.replace(/\.har$/i, '') + '_optimized.har';
}
