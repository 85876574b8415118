// ONNX Runtime's CPU convolutions work on blocks of channels (NCHWc): 16 per block with AVX-512, 8 with AVX2 or
// NEON. A convolution whose channel counts are not a multiple of the block falls back to slower kernels with layout
// conversions around it, so a pruned model should keep its channel counts in multiples of the block.
import { readFileSync } from 'node:fs';
import { arch } from 'node:os';

/** The block for a Linux /proc/cpuinfo text (x86 flags), or by architecture where flags are not listed. */
export function channelBlockOf(cpuinfo: string | undefined, machine: string): number {
  const flags = cpuinfo?.match(/^flags\s*:(.*)$/m)?.[1]?.split(/\s+/) ?? [];
  if (flags.includes('avx512f')) return 16;
  if (flags.includes('avx2')) return 8;
  if (machine === 'arm64') return 8;
  return 1;
}

let cached: number | undefined;

/** This machine's block (read once). */
export function channelBlock(): number {
  if (cached === undefined) {
    let cpuinfo: string | undefined;
    try {
      cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      cpuinfo = undefined;
    }
    cached = channelBlockOf(cpuinfo, arch());
  }
  return cached;
}
