/**
 * Runs the whole suite on the backend named by NEURITE_BACKEND, so the test suite is the conformance
 * suite every backend must pass. It defaults to `cpu`, selected explicitly because the library's own
 * default is `wasm` (test/backends/default-backend.test.ts covers that default): `npm test` runs the
 * suite on the TypeScript backend and `NEURITE_BACKEND=wasm npx vitest run` on the WebAssembly one
 * (.ci/run runs both).
 */
import { getBackend, listBackends, setBackend } from '../src/index.js';

const name = process.env.NEURITE_BACKEND ?? 'cpu';
if (!listBackends().includes(name)) {
  throw new Error(`NEURITE_BACKEND=${name} is not a registered backend (have: ${listBackends().join(', ')})`);
}
setBackend(name);
if (getBackend().name !== name) throw new Error(`setBackend('${name}') did not take effect`);
