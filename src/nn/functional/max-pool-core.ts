/**
 * The recorded max-pooling op and its adjoint, shared by `maxPool1d`/`maxPool2d`/adaptive max pooling
 * (src/nn/functional/pool.ts) and the fused `conv2dMaxPool2d` (src/nn/functional/conv.ts), whose
 * backward falls back to the adjoint. Internal: not part of `nn.functional`.
 * @module
 */
import type { Pool2dWindow, Storage } from '../../backends/backend.js';
import type { Tensor } from '../../core/tensor.js';
import { fromStorage, record } from '../../ops/util.js';

/**
 * Records max pooling of x4 [N, C, inH, inW] by `win` whose kernel gave `values` and int32 `indices`
 * (flat within each input plane): returns the pooled tensor (op `name`) and the indices. Backward only
 * reads the indices, never x4's data.
 */
export function recordMaxPool(
  name: string,
  x4: Tensor,
  values: Storage,
  indices: Storage,
  win: Pool2dWindow,
): [Tensor, Tensor] {
  const shape = [x4.shape[0]!, x4.shape[1]!, win.outH, win.outW];
  const idx = fromStorage(indices, shape);
  const out = record(fromStorage(values, shape), name, [x4], (g) => [maxPoolBackwardOp(g, idx, win)]);
  return [out, idx];
}

/** Max-pool adjoint as an op: scatters g into the argmax positions; its gradient gathers them back. */
export function maxPoolBackwardOp(g: Tensor, idx: Tensor, win: Pool2dWindow): Tensor {
  const [n, c] = [g.shape[0]!, g.shape[1]!];
  const out = fromStorage(g.storage.backend.maxPool2dBackward(g, idx, win), [n, c, win.inH, win.inW]);
  return record(out, 'MaxPool2dBackward', [g], (gg) => [gatherPlanes(gg, idx, win)]);
}

/** Picks, for every output position, the input element its max came from. */
function gatherPlanes(x: Tensor, idx: Tensor, win: Pool2dWindow): Tensor {
  const [n, c] = [x.shape[0]!, x.shape[1]!];
  const flat = x.reshape([n, c, win.inH * win.inW]);
  const i3 = idx.reshape([n, c, win.outH * win.outW]);
  const out = fromStorage(x.storage.backend.gather(flat, 2, i3), [n, c, win.outH, win.outW]);
  return record(out, 'MaxPool2dGather', [x], (g) => [maxPoolBackwardOp(g, idx, win)]);
}
