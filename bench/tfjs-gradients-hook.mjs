/**
 * Node module hooks for bench/tfjs.ts: they let Node load @tensorflow/tfjs-core's per-file ES module build
 * (dist/*.js), whose relative imports have no file extension and whose package is not marked as ES
 * modules, so that bench/tfjs.ts can import `dist/register_all_gradients.js`: the gradients the
 * `@tensorflow/tfjs` union package registers, which tfjs-core's CommonJS bundle leaves out. The gradients
 * register into tfjs-core's global registry, shared with the CommonJS copy the backends use.
 * Registered with `module.register()` by bench/tfjs.ts.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIST = '/@tensorflow/tfjs-core/dist/';
/** The per-file ES modules of tfjs-core (the bundles tf-core.* are CommonJS or UMD). */
const isEsmFile = (url) => url.includes(DIST) && !url.includes(`${DIST}tf-core`);

/** Resolves an extensionless relative import inside tfjs-core's dist/ to `<spec>.js` when that file exists. */
export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent && isEsmFile(parent) && specifier.startsWith('.') && !specifier.endsWith('.js')) {
    const url = new URL(`${specifier}.js`, parent);
    if (existsSync(fileURLToPath(url))) return { url: url.href, format: 'module', shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

/** Loads tfjs-core's per-file dist/*.js as ES modules. */
export async function load(url, context, nextLoad) {
  return nextLoad(url, isEsmFile(url) ? { ...context, format: 'module' } : context);
}
