/**
 * Builds the WebAssembly kernels of the `wasm` backend: compiles `assembly/index.ts` (AssemblyScript,
 * 128-bit SIMD) with the pinned `assemblyscript` devDependency and writes the binaries, base64-encoded,
 * into the TypeScript module `src/backends/wasm/kernels.generated.ts`, which the backend imports. Embedding
 * the bytes keeps the browser entry free of `node:` imports and of fetches.
 *
 * Four builds of the same sources (see {@link BUILDS}): plain SIMD and shared memory (worker threads),
 * each without and with relaxed SIMD (fused multiply-add in the SGEMM micro-kernel; Node 20 needs
 * `--experimental-wasm-relaxed-simd`). The backend picks one at start-up (src/backends/wasm/kernels.ts).
 * The four compilations run in parallel child processes.
 *
 * `npm run build:wasm` (also run by `npm ci`/`npm install` through `prepare`, and before `npm test` and
 * `npm run build`). The module records a SHA-256 of the sources, the compiler version and the flags; when
 * it matches, the build is skipped (about 1 s with tsx's start-up, instead of ~10 s). Options: `--force` rebuilds anyway,
 * `--check` only reports (exit 1 when the module is missing or stale), `--wat FILE` also writes the text
 * format of the plain build for reading.
 *
 * The generated module is not committed (src/backends/wasm/.gitignore): the kernel sources are the only
 * source of truth, there is no binary blob in diffs or merge conflicts, and every way to get the project's
 * dependencies (`npm ci`, `npm install`) builds it. test/backends/wasm/build.test.ts fails when it is stale.
 * @module
 */

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Directory of the AssemblyScript kernel sources. */
export const KERNEL_SOURCE_DIR = join(root, 'assembly');
/** The generated TypeScript module holding the compiled kernels. */
export const GENERATED_MODULE = join(root, 'src', 'backends', 'wasm', 'kernels.generated.ts');

/**
 * Compiler flags: fully optimized, no garbage-collected runtime (the kernels never allocate), memory
 * imported from JavaScript (`env.memory`, so the backend owns and grows it), assertions and the `abort`
 * import compiled out, 128-bit SIMD on (relaxed SIMD only in the builds with ASC_RELAXED_FLAGS).
 */
export const ASC_FLAGS: readonly string[] = [
  '-O3',
  '--runtime',
  'stub',
  '--importMemory',
  '--noAssert',
  '--use',
  'abort=',
  '--enable',
  'simd',
];

/**
 * Extra flags of the second build, for worker threads: the imported memory is declared shared (which
 * needs a declared maximum: 65536 pages, 4 GiB, matching SHARED_MAX_PAGES in src/backends/wasm/kernels.ts)
 * and the threads feature is on. The code is the same; only the memory import differs.
 */
export const ASC_THREADS_FLAGS: readonly string[] = [
  '--sharedMemory',
  '--maximumMemory',
  '65536',
  '--enable',
  'threads',
];

/**
 * Extra flags of the relaxed-SIMD builds: `ASC_FEATURE_RELAXED_SIMD` becomes true, so assembly/gemm.ts
 * uses `f32x4.relaxed_madd` and a taller register tile.
 */
export const ASC_RELAXED_FLAGS: readonly string[] = ['--enable', 'relaxed-simd'];

/** One build of the kernels: the exported constant of the generated module, and its extra flags. */
export interface KernelBuild {
  /** Short name (for messages). */
  readonly name: string;
  /** Name of the base64 constant in the generated module. */
  readonly constant: string;
  /** Flags after ASC_FLAGS. */
  readonly flags: readonly string[];
  /** TSDoc of the constant. */
  readonly doc: string;
}

/** The builds embedded in the generated module, in order. */
export const BUILDS: readonly KernelBuild[] = [
  {
    name: 'plain',
    constant: 'KERNELS_WASM_BASE64',
    flags: [],
    doc: 'The WebAssembly binary, base64-encoded.',
  },
  {
    name: 'threads',
    constant: 'KERNELS_THREADS_WASM_BASE64',
    flags: ASC_THREADS_FLAGS,
    doc: 'The same kernels compiled for an imported shared memory (worker threads), base64-encoded.',
  },
  {
    name: 'relaxed',
    constant: 'KERNELS_RELAXED_WASM_BASE64',
    flags: ASC_RELAXED_FLAGS,
    doc: 'The kernels with relaxed SIMD (fused multiply-add), base64-encoded.',
  },
  {
    name: 'relaxed threads',
    constant: 'KERNELS_RELAXED_THREADS_WASM_BASE64',
    flags: [...ASC_THREADS_FLAGS, ...ASC_RELAXED_FLAGS],
    doc: 'The relaxed-SIMD kernels for an imported shared memory (worker threads), base64-encoded.',
  },
];

/** The installed AssemblyScript compiler version (from its package.json). */
export function compilerVersion(): string {
  const pkg = JSON.parse(
    readFileSync(join(root, 'node_modules', 'assemblyscript', 'package.json'), 'utf8'),
  ) as {
    version: string;
  };
  return pkg.version;
}

/** The kernel source files (`assembly/*.ts`), sorted, as paths relative to the repository root. */
export function kernelSources(): string[] {
  return readdirSync(KERNEL_SOURCE_DIR)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => relative(root, join(KERNEL_SOURCE_DIR, f)).split('\\').join('/'));
}

/** SHA-256 (hex) of the kernel sources, the compiler version and the flags: the build's identity. */
export function sourceHash(): string {
  const h = createHash('sha256');
  h.update(`assemblyscript ${compilerVersion()}\n${ASC_FLAGS.join(' ')}\n`);
  for (const b of BUILDS) h.update(`${b.name} ${b.constant}: ${b.flags.join(' ')}\n`);
  for (const file of kernelSources()) {
    h.update(`${file}\n`);
    h.update(readFileSync(join(root, file)));
    h.update('\n');
  }
  return h.digest('hex');
}

/** The source hash recorded in the generated module, or null when the module is missing. */
export function builtHash(): string | null {
  if (!existsSync(GENERATED_MODULE)) return null;
  const m = /KERNELS_SOURCE_HASH = '([0-9a-f]{64})'/.exec(readFileSync(GENERATED_MODULE, 'utf8'));
  return m ? m[1]! : null;
}

/** Runs `command args` and resolves with its exit code and output. */
function run(command: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (e) => resolve({ code: null, output: `${output}${e.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * Compiles the kernels with the asc command line in a child Node process (loading the compiler through
 * tsx's module hooks takes ~25 s instead of ~4 s); resolves to the binary and, when asked, the text format.
 */
async function compile(
  wantText: boolean,
  extra: readonly string[] = [],
): Promise<{ binary: Uint8Array; text: string | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'neurite-wasm-'));
  try {
    const wasmFile = join(dir, 'kernels.wasm');
    const watFile = join(dir, 'kernels.wat');
    const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
    const argv = [asc, join(KERNEL_SOURCE_DIR, 'index.ts'), '--outFile', wasmFile, ...ASC_FLAGS, ...extra];
    if (wantText) argv.push('--textFile', watFile);
    const r = await run(process.execPath, argv);
    if (r.code !== 0 || !existsSync(wasmFile)) {
      throw new Error(`build-wasm: asc ${extra.join(' ')} failed (exit ${r.code}):\n${r.output}`);
    }
    return {
      binary: new Uint8Array(readFileSync(wasmFile)),
      text: wantText ? readFileSync(watFile, 'utf8') : null,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `tasks` with at most `limit` at a time; resolves to their results in order. */
async function inParallel<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, lane));
  return results;
}

/** Renders the generated module (formatted as biome formats it, so `npm run lint` passes). */
function render(binaries: readonly Uint8Array[], hash: string, version: string): string {
  const sizes = BUILDS.map((b, i) => `${b.name} ${binaries[i]!.length}`).join(', ');
  const lines = [
    '/**',
    ` * The compiled WebAssembly kernels, generated by scripts/build-wasm.ts from assembly/*.ts with`,
    ` * AssemblyScript ${version}. Bytes: ${sizes}.`,
    ' * Do not edit: run `npm run build:wasm`.',
    ' * @module',
    ' */',
    '',
    '/** SHA-256 of the kernel sources, compiler version and flags this module was built from. */',
    `export const KERNELS_SOURCE_HASH = '${hash}';`,
    '',
  ];
  BUILDS.forEach((b, i) => {
    lines.push(`/** ${b.doc} */`, `export const ${b.constant} =`);
    lines.push(`  '${Buffer.from(binaries[i]!).toString('base64')}';`, '');
  });
  return lines.join('\n');
}

async function main(argv: readonly string[]): Promise<void> {
  const force = argv.includes('--force');
  const check = argv.includes('--check');
  const watAt = argv.indexOf('--wat');
  const watFile = watAt >= 0 ? argv[watAt + 1] : undefined;
  const hash = sourceHash();
  const built = builtHash();
  const where = relative(root, GENERATED_MODULE);
  if (check) {
    if (built === hash) {
      console.log(`build-wasm: ${where} is up to date`);
      return;
    }
    console.error(
      `build-wasm: ${where} is ${built === null ? 'missing' : 'stale'}: run \`npm run build:wasm\``,
    );
    process.exitCode = 1;
    return;
  }
  if (built === hash && !force && watFile === undefined) {
    console.log(`build-wasm: ${where} is up to date`);
    return;
  }
  const t0 = performance.now();
  const builds = await inParallel(
    BUILDS.map((b, i) => () => compile(i === 0 && watFile !== undefined, b.flags)),
    availableParallelism(),
  );
  const version = compilerVersion();
  const binaries = builds.map((b) => b.binary);
  writeFileSync(GENERATED_MODULE, render(binaries, hash, version));
  const text = builds[0]!.text;
  if (watFile !== undefined && text !== null) writeFileSync(watFile, text);
  const ms = Math.round(performance.now() - t0);
  const sizes = BUILDS.map((b, i) => `${b.name} ${binaries[i]!.length}`).join(', ');
  console.log(`build-wasm: wrote ${where} (bytes of wasm: ${sizes}; ${ms} ms)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
