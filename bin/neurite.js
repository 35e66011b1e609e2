#!/usr/bin/env node
// The `neurite` command. Runs the built CLI (dist/cli/main.js, from `npm run build`); in a source
// checkout without a build it falls back to the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
