/**
 * The backward engine: walks the graph from the outputs in reverse topological order, summing the
 * gradients that reach each node, and accumulates into the leaves' `.grad`.
 * @module
 */

import type { Storage } from '../backends/backend.js';
import { AnomalyError, AutogradError } from '../core/errors.js';
import { fmt, isContiguous, numelOf, sameShape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { detectAnomaly, isAnomalyEnabled, isGradEnabled, setGradEnabled } from './grad-mode.js';
import { Node } from './node.js';

const accNodes = new WeakMap<Tensor, Node>();

/**
 * Storages of the op results created (through `fromStorage`) during the innermost running backward
 * pass, or null outside one. With the per-pass use counts below, they tell when a gradient reaching
 * a leaf is owned by nobody else, so that `.grad` can adopt it instead of cloning it.
 */
let freshStorages: WeakSet<Storage> | null = null;

/** Notes that `s` is a freshly computed op result (called by `fromStorage`; cheap outside backward). */
export function noteFreshStorage(s: Storage): void {
  if (freshStorages) freshStorages.add(s);
}

/** The node that accumulates into a leaf's `.grad` (one per leaf). */
export function accumulationNode(leaf: Tensor): Node {
  let n = accNodes.get(leaf);
  if (!n) {
    n = new Node('AccumulateGrad', [], [], null, [], leaf);
    accNodes.set(leaf, n);
  }
  return n;
}

/** The node a tensor's gradient flows into, or null when it does not require grad. */
export function gradEdge(t: Tensor): Node | null {
  if (t.gradFn) return t.gradFn;
  return t.requiresGrad ? accumulationNode(t) : null;
}

/** Options of `backward` and `autograd.grad`. */
export interface BackwardOptions {
  /** Keep the graph's saved values so backward can run through it again. */
  retainGraph?: boolean;
  /** Record the backward pass itself so the gradients can be differentiated again (higher order). */
  createGraph?: boolean;
}

/** Throws an AnomalyError when `t` holds NaN or Inf. */
export function checkFinite(t: Tensor, where: string): void {
  const data = t.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      throw new AnomalyError(
        `${where} produced ${Number.isNaN(v) ? 'NaN' : 'Inf'} (shape ${fmt(t.shape)}, element ${i})`,
      );
    }
  }
}

/**
 * Runs backpropagation from `roots` seeded with `seeds`. When `inputs` is given (autograd.grad), their
 * gradients are returned and no `.grad` is written; otherwise leaves accumulate into `.grad`.
 */
export function runBackward(
  roots: readonly Tensor[],
  seeds: readonly Tensor[],
  opts: BackwardOptions,
  inputs?: readonly Tensor[],
): (Tensor | null)[] {
  const createGraph = opts.createGraph ?? false;
  const retainGraph = opts.retainGraph ?? createGraph;
  const rootNodes: Node[] = [];
  roots.forEach((r, i) => {
    const e = gradEdge(r);
    if (!e) {
      throw new AutogradError(
        `backward: output ${i} (shape ${fmt(r.shape)}) does not require grad and has no grad_fn; ` +
          'did you create it under noGrad, detach it, or forget requiresGrad: true on the inputs?',
      );
    }
    rootNodes.push(e);
  });

  // Count, for every reachable node, how many edges point at it.
  const deps = new Map<Node, number>();
  const seen = new Set<Node>(rootNodes);
  const stack = [...rootNodes];
  while (stack.length) {
    const n = stack.pop()!;
    for (const m of n.next) {
      if (!m) continue;
      deps.set(m, (deps.get(m) ?? 0) + 1);
      if (!seen.has(m)) {
        seen.add(m);
        stack.push(m);
      }
    }
  }

  const captureIndex = new Map<Node, number[]>();
  inputs?.forEach((t, i) => {
    const e = gradEdge(t);
    if (!e) {
      throw new AutogradError(`grad: input ${i} (shape ${fmt(t.shape)}) does not require grad`);
    }
    const list = captureIndex.get(e) ?? [];
    list.push(i);
    captureIndex.set(e, list);
  });
  const captured: (Tensor | null)[] = inputs ? inputs.map(() => null) : [];

  const buffers = new Map<Node, Tensor>();
  // How many places got each gradient storage (node results, seeds, hooks, retained/captured grads):
  // a leaf adopts its gradient instead of cloning it only when it is fresh and used once.
  const uses = new WeakMap<Storage, number>();
  const use = (t: Tensor, k = 1): void => {
    uses.set(t.storage, (uses.get(t.storage) ?? 0) + k);
  };
  const prevMode = isGradEnabled();
  const prevFresh = freshStorages;
  freshStorages = new WeakSet();
  setGradEnabled(createGraph);
  try {
    rootNodes.forEach((n, i) => {
      const g = seeds[i]!;
      use(g, 2);
      const prev = buffers.get(n);
      buffers.set(n, prev ? prev.add(g) : g);
    });
    const ready = rootNodes.filter((n, i) => (deps.get(n) ?? 0) === 0 && rootNodes.indexOf(n) === i);
    const anomaly = isAnomalyEnabled();
    while (ready.length) {
      const node = ready.pop()!;
      let g = buffers.get(node);
      buffers.delete(node);
      if (g) {
        for (const h of node.hooks) {
          use(g);
          const r = h(g);
          if (r) {
            g = r;
            use(r);
          }
        }
        if (node.retained) {
          const own = createGraph ? g : g.detach();
          use(g);
          node.retained.grad = node.retained.grad ? node.retained.grad.add(own) : own;
        }
        const idx = captureIndex.get(node);
        if (idx) {
          for (const i of idx) captured[i] = g;
          use(g);
        }
      }
      if (node.leaf) {
        if (g && !inputs) {
          const owned =
            node.hooks.length === 0 &&
            (uses.get(g.storage) ?? 0) <= 1 &&
            freshStorages.has(g.storage) &&
            isWhole(g);
          accumulateLeaf(node.leaf, g, createGraph, owned);
        }
        continue;
      }
      let grads: readonly (Tensor | null | undefined)[] = [];
      if (g) {
        if (node.released) {
          throw new AutogradError(
            `backward: trying to backward through the graph a second time (at ${node.name}); its saved values ` +
              'were freed after the first backward. Pass { retainGraph: true } to the first backward call.',
          );
        }
        node.checkSaved((m) => new AutogradError(m));
        // Intermediate NaN/Inf inside a backward formula may be masked later (e.g. pow's where); in
        // anomaly mode only the gradients the node returns are checked, and named after the node.
        if (anomaly) detectAnomaly(false);
        try {
          grads = node.apply(g);
        } finally {
          if (anomaly) detectAnomaly(true);
        }
        for (let i = 0; i < grads.length; i++) {
          const gi = grads[i];
          if (!gi) continue;
          use(gi);
          const want = node.inputShapes[i];
          if (want && !sameShape(gi.shape, want)) {
            throw new AutogradError(
              `${node.name} backward: gradient for input ${i} has shape ${fmt(gi.shape)}, expected ${fmt(want)}`,
            );
          }
          if (anomaly) checkFinite(gi, `${node.name} backward (gradient for input ${i})`);
        }
      }
      node.next.forEach((m, i) => {
        if (!m) return;
        const gi = grads[i];
        if (gi) {
          const prev = buffers.get(m);
          buffers.set(m, prev ? prev.add(gi) : gi);
        }
        const d = deps.get(m)! - 1;
        deps.set(m, d);
        if (d === 0) ready.push(m);
      });
      if (!retainGraph) node.release();
    }
  } finally {
    setGradEnabled(prevMode);
    freshStorages = prevFresh;
  }
  return captured;
}

/** True when `t` is contiguous and covers its whole storage (so adopting it shares nothing else). */
function isWhole(t: Tensor): boolean {
  return t.offset === 0 && t.storage.length === numelOf(t.shape) && isContiguous(t.shape, t.strides);
}

/**
 * Accumulates `g` into `leaf.grad`. `owned`: g is a fresh result nobody else holds (see runBackward),
 * so a first gradient can be adopted without a copy.
 */
function accumulateLeaf(leaf: Tensor, g: Tensor, createGraph: boolean, owned: boolean): void {
  const own = createGraph ? g : g.detach();
  if (!leaf.grad) {
    // Never alias a gradient that another tensor owns: later in-place updates of .grad must not leak.
    leaf.grad = createGraph || owned ? own : own.clone();
  } else {
    leaf.grad = createGraph ? leaf.grad.add(own) : leaf.grad.add(own).detach();
  }
}
