// The VS Code platform targets Isartor is packaged for, and which native binaries each one carries
// (read by scripts/package.mjs and by the test that inspects the packages).

/**
 * Per target: the per-platform npm packages it needs, by scope (node-llama-cpp's CPU or Metal build,
 * the CUDA and Vulkan variants being hundreds of MB that need drivers; sharp's binary and libvips,
 * which transformers.js loads with itself; reflink, which node-llama-cpp's downloader loads), onnxruntime-node's `bin/napi-v*` folder (null: none
 * published), usearch's prebuild platform, and the executable format and CPU its binaries must have.
 */
export const TARGETS = {
  'linux-x64': { packages: { '@node-llama-cpp': ['linux-x64'], '@img': ['sharp-linux-x64', 'sharp-libvips-linux-x64'], '@reflink': ['reflink-linux-x64-gnu'] }, ort: 'linux/x64', usearch: 'linux-x64', format: 'elf', arch: 'x64' },
  'linux-arm64': { packages: { '@node-llama-cpp': ['linux-arm64'], '@img': ['sharp-linux-arm64', 'sharp-libvips-linux-arm64'], '@reflink': ['reflink-linux-arm64-gnu'] }, ort: 'linux/arm64', usearch: 'linux-arm64', format: 'elf', arch: 'arm64' },
  'darwin-arm64': { packages: { '@node-llama-cpp': ['mac-arm64-metal'], '@img': ['sharp-darwin-arm64', 'sharp-libvips-darwin-arm64'], '@reflink': ['reflink-darwin-arm64'] }, ort: 'darwin/arm64', usearch: 'darwin-arm64', format: 'macho', arch: 'arm64' },
  // onnxruntime-node publishes no macOS x64 build.
  'darwin-x64': { packages: { '@node-llama-cpp': ['mac-x64'], '@img': ['sharp-darwin-x64', 'sharp-libvips-darwin-x64'], '@reflink': ['reflink-darwin-x64'] }, ort: null, usearch: 'darwin-x64', format: 'macho', arch: 'x64' },
  // usearch publishes no Windows prebuild; sharp's Windows package carries libvips itself.
  'win32-x64': { packages: { '@node-llama-cpp': ['win-x64'], '@img': ['sharp-win32-x64'], '@reflink': ['reflink-win32-x64-msvc'] }, ort: 'win32/x64', usearch: null, format: 'pe', arch: 'x64' },
};

/** The package whose optionalDependencies pin each scope's platform packages. */
export const SCOPE_OWNERS = { '@node-llama-cpp': 'node-llama-cpp', '@img': 'sharp', '@reflink': '@reflink/reflink' };
/** Which folders of a scope are platform packages (the others, like @img/colour, always ship). */
export const PLATFORM_PACKAGE = { '@node-llama-cpp': () => true, '@img': (name) => name.startsWith('sharp-'), '@reflink': (name) => name.startsWith('reflink-') };

/**
 * The usearch prebuild folder for a target among those installed: `darwin-arm64+x64` (one universal
 * Mach-O for both Macs) serves either darwin target.
 */
export function usearchPrebuildFor(target, prebuilds) {
  const wanted = TARGETS[target].usearch;
  if (!wanted) return undefined;
  const [os, arch] = wanted.split('-');
  return prebuilds.find((name) => name === wanted) ?? prebuilds.find((name) => name.startsWith(`${os}-`) && name.slice(os.length + 1).split('+').includes(arch));
}

/** What a target's package lacks and what that means for the user, one line each. */
export function describeMissing(target) {
  const spec = TARGETS[target];
  const lines = [];
  if (!spec.ort) lines.push('no onnxruntime-node binary (none published for this platform): the neural L1b embedder is unavailable; the built-in lexical embedder serves L1b');
  if (!spec.usearch) lines.push('no usearch binary (none published for this platform): L1b searches each partition exactly, without an approximate index');
  return lines;
}
