import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { describeAllocator, glibcVersion, MALLOC_ENV, shouldRespawn } from '../../src/cli/allocator.js';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const main = join(root, 'src', 'cli', 'main.ts');

describe('CLI malloc settings (src/cli/allocator.ts, malloc-respawn.ts)', () => {
  it('re-runs only on glibc, only when the user set neither variable, and not with NEURITE_RESPAWN=0', () => {
    expect(shouldRespawn({}, '2.36')).toBe(true);
    expect(shouldRespawn({}, null)).toBe(false);
    expect(shouldRespawn({ NEURITE_RESPAWN: '0' }, '2.36')).toBe(false);
    expect(shouldRespawn({ MALLOC_TRIM_THRESHOLD_: '0' }, '2.36')).toBe(false);
    expect(shouldRespawn({ MALLOC_MMAP_THRESHOLD_: '131072' }, '2.36')).toBe(false);
    expect(Number(MALLOC_ENV.MALLOC_MMAP_THRESHOLD_)).toBe(64 * 2 ** 20);
  });

  it('describes the allocator it runs with', () => {
    const text = describeAllocator({ MALLOC_TRIM_THRESHOLD_: '5' });
    if (glibcVersion() === null) expect(text).toBe('system default');
    else expect(text).toBe(`glibc ${glibcVersion()}, MALLOC_TRIM_THRESHOLD_=5`);
  });

  it.runIf(glibcVersion() !== null)(
    'the command runs in a child with the settings; the user can opt out',
    async () => {
      const base = { ...process.env };
      for (const k of Object.keys(MALLOC_ENV)) delete base[k];
      const [tuned, plain] = await Promise.all([
        exec(tsx, [main, '--backend', 'cpu', 'info'], { env: base }),
        exec(tsx, [main, '--backend', 'cpu', 'info'], { env: { ...base, NEURITE_RESPAWN: '0' } }),
      ]);
      const settings = Object.entries(MALLOC_ENV)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      expect(tuned.stdout).toContain(`Allocator: glibc ${glibcVersion()}, ${settings}\n`);
      expect(plain.stdout).toContain(`Allocator: glibc ${glibcVersion()} defaults\n`);
    },
    60_000,
  );
});
