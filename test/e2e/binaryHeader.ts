/**
 * Reads what an executable file is from its first bytes: ELF (e_machine), Mach-O (cputype, thin or
 * universal) or PE (the COFF machine field). Used to check each platform .vsix carries only its own
 * platform's native code.
 */

export type BinaryFormat = 'elf' | 'macho' | 'pe';
export type CpuArch = 'x64' | 'arm64' | 'ia32' | 'arm' | 'riscv64' | `other:${string}`;

export interface BinaryKind {
  format: BinaryFormat;
  /** One architecture, or several for a universal Mach-O. */
  archs: CpuArch[];
}

const ELF_MACHINES: Record<number, CpuArch> = { 0x03: 'ia32', 0x28: 'arm', 0x3e: 'x64', 0xb7: 'arm64', 0xf3: 'riscv64' };
const MACHO_CPUS: Record<number, CpuArch> = { 0x01000007: 'x64', 0x0100000c: 'arm64', 7: 'ia32', 12: 'arm' };
const PE_MACHINES: Record<number, CpuArch> = { 0x8664: 'x64', 0xaa64: 'arm64', 0x14c: 'ia32', 0x1c4: 'arm' };

const named = <T extends number>(table: Record<number, CpuArch>, value: T): CpuArch => table[value] ?? `other:0x${value.toString(16)}`;

/**
 * The kind of executable `head` (the file's first few KB) starts, or undefined for anything else.
 *
 * @example binaryKind(readFileSync('usearch.node').subarray(0, 4096)) // { format: 'elf', archs: ['x64'] }
 */
export function binaryKind(head: Buffer): BinaryKind | undefined {
  if (head.length < 8) return undefined;
  // ELF: \x7fELF; e_machine at 18, in the byte order EI_DATA (offset 5) names.
  if (head.readUInt32BE(0) === 0x7f454c46 && head.length >= 20) {
    const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
    return { format: 'elf', archs: [named(ELF_MACHINES, machine)] };
  }
  // Thin Mach-O, 64 or 32 bit, little-endian on disk: cputype follows the magic.
  const magicLE = head.readUInt32LE(0);
  if (magicLE === 0xfeedfacf || magicLE === 0xfeedface) return { format: 'macho', archs: [named(MACHO_CPUS, head.readUInt32LE(4))] };
  // Universal Mach-O: big-endian header, then nfat_arch entries of 20 bytes (32-bit) starting with cputype.
  // Java class files share the magic, but their next field (a version) is far above any arch count.
  if (head.readUInt32BE(0) === 0xcafebabe) {
    const count = head.readUInt32BE(4);
    if (count === 0 || count > 16 || head.length < 8 + count * 20) return undefined;
    return { format: 'macho', archs: Array.from({ length: count }, (_, index) => named(MACHO_CPUS, head.readUInt32BE(8 + index * 20))) };
  }
  // PE: "MZ", e_lfanew at 0x3c pointing at "PE\0\0", then the COFF machine field.
  if (head.readUInt16BE(0) === 0x4d5a && head.length >= 0x40) {
    const pe = head.readUInt32LE(0x3c);
    if (pe + 6 > head.length || head.readUInt32BE(pe) !== 0x50450000) return undefined;
    return { format: 'pe', archs: [named(PE_MACHINES, head.readUInt16LE(pe + 4))] };
  }
  return undefined;
}
