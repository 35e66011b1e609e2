/**
 * Imported first by the CLI entry (main.ts) for its side effect. On Linux with glibc, it runs the
 * command once more in a child process whose glibc malloc keeps freed memory for reuse
 * (`MALLOC_MMAP_THRESHOLD_` 64 MiB, `MALLOC_TRIM_THRESHOLD_` 1 GiB), then exits with the child's status.
 *
 * Why: tensors live in JS typed arrays, and with glibc's defaults every multi-megabyte array is a fresh
 * mmap that page-faults on first touch and is unmapped when collected. On the development VM a fresh
 * 6.4 MB array costs several milliseconds before the first kernel writes a value, against about 1.5 ms
 * with these settings; the MNIST CNN step is about 10% faster (bench/RESULTS.md). The price: the process
 * keeps up to its peak heap mapped instead of returning it to the OS at once.
 *
 * glibc reads these variables only at start-up, hence the child process. Nothing happens elsewhere
 * (musl, macOS, Windows), when either variable is already set (the user's choice wins), or with
 * `NEURITE_RESPAWN=0`. If the child cannot be started, the command runs in this process.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { glibcVersion, MALLOC_ENV, shouldRespawn } from './allocator.js';

if (shouldRespawn(process.env, glibcVersion())) {
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, ...MALLOC_ENV },
  });
  if (child.error === undefined) {
    if (child.signal) process.kill(process.pid, child.signal);
    process.exit(child.status ?? 1);
  }
}
