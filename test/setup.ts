/**
 * Runs the whole suite on the backend named by NEURITE_BACKEND (default `cpu`), so the test suite is
 * the conformance suite every backend must pass: `NEURITE_BACKEND=wasm npm test`.
 */
import { getBackend, listBackends, setBackend } from '../src/index.js';

const name = process.env.NEURITE_BACKEND ?? 'cpu';
if (!listBackends().includes(name)) {
  throw new Error(`NEURITE_BACKEND=${name} is not a registered backend (have: ${listBackends().join(', ')})`);
}
setBackend(name);
if (getBackend().name !== name) throw new Error(`setBackend('${name}') did not take effect`);
