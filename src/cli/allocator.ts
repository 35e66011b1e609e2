/**
 * The glibc malloc settings the CLI runs with, and how to tell whether they apply (the side effect that
 * applies them is in malloc-respawn.ts, which main.ts imports first).
 * @module
 */

/** The malloc settings the CLI runs with on glibc. */
export const MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(64 << 20),
  MALLOC_TRIM_THRESHOLD_: String(1 << 30),
};

/** glibcVersion's answer once read. */
let glibc: string | null | undefined;

/** The glibc version this process runs on, or null (not Linux, or another C library). */
export function glibcVersion(): string | null {
  if (glibc === undefined) {
    // a diagnostic report is a few milliseconds of work: read it once
    const header =
      process.platform === 'linux'
        ? (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
        : undefined;
    glibc = header?.glibcVersionRuntime ?? null;
  }
  return glibc;
}

/** Whether the CLI should re-run itself with {@link MALLOC_ENV} (see the module comment). */
export function shouldRespawn(env: NodeJS.ProcessEnv, glibc: string | null): boolean {
  if (glibc === null || env.NEURITE_RESPAWN === '0') return false;
  return Object.keys(MALLOC_ENV).every((k) => env[k] === undefined);
}

/** A one-line description of the allocator set-up, for `neurite info`. */
export function describeAllocator(env: NodeJS.ProcessEnv = process.env): string {
  const version = glibcVersion();
  if (version === null) return 'system default';
  const set = Object.keys(MALLOC_ENV).filter((k) => env[k] !== undefined);
  if (set.length === 0) return `glibc ${version} defaults`;
  return `glibc ${version}, ${set.map((k) => `${k}=${env[k]}`).join(' ')}`;
}
