/**
 * The TypeScript CPU backend: the reference implementation of every kernel, on typed arrays.
 * @module
 */
import { allocArray, type DType, dtypeOfArray, type FloatArray, type TypedArray } from '../../core/dtype.js';
import { numelOf, type Shape } from '../../core/shape.js';
import type {
  Backend,
  BinaryOp,
  Pool2dWindow,
  ReduceOp,
  Storage,
  UnaryOp,
  View,
  Window2d,
} from '../backend.js';
import {
  assignView,
  binaryKernel,
  contiguousData,
  copyInto,
  fillView,
  reluBackwardKernel,
  unaryKernel,
  whereKernel,
} from './elementwise.js';
import { batchedGemm } from './gemm.js';
import { gatherKernel, indexAddKernel, indexSelectKernel, scatterKernel } from './indexing.js';
import {
  avgPool2dBackwardKernel,
  avgPool2dKernel,
  batchNormBackwardKernel,
  batchNormForwardKernel,
  batchNormStatsKernel,
  col2imKernel,
  conv2dBackwardInputKernel,
  conv2dBackwardWeightKernel,
  conv2dKernel,
  im2colKernel,
  maxPool2dBackwardKernel,
  maxPool2dKernel,
} from './nn.js';
import { cumulativeKernel, reduceKernel } from './reduce.js';
import { arr, CpuStorage } from './storage.js';

/** Creates the TypeScript CPU backend. */
export function createCpuBackend(): Backend {
  const backend: Backend = {
    name: 'cpu',
    alloc: (dtype: DType, length: number): Storage => wrap(allocArray(dtype, length)),
    fromArray: (data: TypedArray): Storage => wrap(data),
    read: (s: Storage): TypedArray => (s as CpuStorage).data,
    copy(x: View, dtype: DType): Storage {
      const out = allocArray(dtype, numelOf(x.shape));
      copyInto(out, 0, x);
      return wrap(out);
    },
    assign: (dst: View, src: View): void => assignView(dst, src),
    fill: (dst: View, value: number): void => fillView(dst, value),
    unary: (op: UnaryOp, x: View, out: DType): Storage => wrap(unaryKernel(op, x, out)),
    binary: (op: BinaryOp, a: View, b: View, shape: Shape, out: DType): Storage =>
      wrap(binaryKernel(op, a, b, shape, out)),
    where: (c: View, a: View, b: View, shape: Shape, out: DType): Storage =>
      wrap(whereKernel(c, a, b, shape, out)),
    reduce: (op: ReduceOp, x: View, dims: readonly number[]): Storage => wrap(reduceKernel(op, x, dims)),
    cumulative: (op: 'sum' | 'prod', x: View, dim: number): Storage => wrap(cumulativeKernel(op, x, dim)),
    matmul(a: View, b: View, out: DType): Storage {
      const [B, m, k] = a.shape as [number, number, number];
      const n = b.shape[2]!;
      const o = allocArray(out, B * m * n) as FloatArray;
      let A = arr(a);
      let Bm = arr(b);
      let av: View = a;
      let bv: View = b;
      // gemm works on float arrays of the output type; convert other inputs once.
      if (A.constructor !== o.constructor) {
        A = allocArray(out, numelOf(a.shape));
        copyInto(A, 0, a);
        av = { storage: a.storage, shape: a.shape, strides: [m * k, k, 1], offset: 0 };
      }
      if (Bm.constructor !== o.constructor) {
        Bm = allocArray(out, numelOf(b.shape));
        copyInto(Bm, 0, b);
        bv = { storage: b.storage, shape: b.shape, strides: [k * n, n, 1], offset: 0 };
      }
      batchedGemm(
        B,
        m,
        n,
        k,
        A as FloatArray,
        av.offset,
        a.shape[0] === 1 ? 0 : av.strides[0]!,
        av.strides[1]!,
        av.strides[2]!,
        Bm as FloatArray,
        bv.offset,
        b.shape[0] === 1 ? 0 : bv.strides[0]!,
        bv.strides[1]!,
        bv.strides[2]!,
        o,
        0,
        false,
      );
      return wrap(o);
    },
    gather: (x: View, dim: number, index: View): Storage => wrap(gatherKernel(x, dim, index)),
    scatter: (base: View, dim: number, index: View, src: View, reduce: 'none' | 'add'): Storage =>
      wrap(scatterKernel(base, dim, index, src, reduce)),
    indexSelect: (x: View, dim: number, index: View): Storage => wrap(indexSelectKernel(x, dim, index)),
    indexAdd: (base: View, dim: number, index: View, src: View): Storage =>
      wrap(indexAddKernel(base, dim, index, src)),
    // nn kernels
    im2col: (x: View, w: Window2d): Storage => wrap(im2colKernel(x, w)),
    col2im: (cols: View, w: Window2d): Storage => wrap(col2imKernel(cols, w)),
    maxPool2d(x: View, w: Pool2dWindow): { values: Storage; indices: Storage } {
      const r = maxPool2dKernel(x, w);
      return { values: wrap(r.values), indices: wrap(r.indices) };
    },
    maxPool2dBackward: (grad: View, indices: View, w: Pool2dWindow): Storage =>
      wrap(maxPool2dBackwardKernel(grad, indices, w)),
    avgPool2d: (x: View, w: Pool2dWindow): Storage => wrap(avgPool2dKernel(x, w)),
    avgPool2dBackward: (grad: View, w: Pool2dWindow): Storage => wrap(avgPool2dBackwardKernel(grad, w)),
    conv2d: (x: View, weight: View, bias: View | null, w: Window2d, groups: number): Storage =>
      wrap(conv2dKernel(x, weight, bias, w, groups)),
    conv2dBackwardInput: (grad: View, weight: View, w: Window2d, groups: number): Storage =>
      wrap(conv2dBackwardInputKernel(grad, weight, w, groups)),
    conv2dBackwardWeight: (grad: View, x: View, w: Window2d, groups: number): Storage =>
      wrap(conv2dBackwardWeightKernel(grad, x, w, groups)),
    reluBackward: (grad: View, out: View): Storage => wrap(reluBackwardKernel(grad, out)),
    batchNormStats(x: View): { mean: Storage; variance: Storage } {
      const r = batchNormStatsKernel(x);
      return { mean: wrap(r.mean), variance: wrap(r.variance) };
    },
    batchNormForward: (x: View, mean: View, invstd: View, weight: View | null, bias: View | null): Storage =>
      wrap(batchNormForwardKernel(x, mean, invstd, weight, bias)),
    batchNormBackward(
      grad: View,
      x: View,
      mean: View,
      invstd: View,
      weight: View | null,
    ): { dx: Storage; dweight: Storage; dbias: Storage } {
      const r = batchNormBackwardKernel(grad, x, mean, invstd, weight);
      return { dx: wrap(r.dx), dweight: wrap(r.dweight), dbias: wrap(r.dbias) };
    },
  };
  const wrap = (data: TypedArray): Storage => new CpuStorage(backend, dtypeOfArray(data), data);
  return backend;
}

export { contiguousData };
