#!/usr/bin/env node
/**
 * Entry point of the `neurite` command (`npx tsx src/cli/main.ts ...` from a checkout, or the
 * `neurite` bin of the built package). See `cli.ts` for the commands.
 * @module
 */
// First: on glibc, re-runs the command with malloc settings that keep freed tensor memory for reuse.
import './malloc-respawn.js';
// Then: turns on relaxed SIMD before the library (and its wasm kernels) loads.
import './wasm-flags.js';
import '../node/index.js';
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2));
