/**
 * Global autograd switches: grad mode and anomaly detection.
 * @module
 */

let gradEnabled = true;
let anomalyEnabled = false;

/** True when ops record the graph for backward. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Turns graph recording on or off globally (prefer `noGrad`/`enableGrad`). */
export function setGradEnabled(on: boolean): void {
  gradEnabled = on;
}

/** Runs `fn` without recording the graph (like `with torch.no_grad()`), restoring the previous mode after. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` with graph recording on (like `with torch.enable_grad()`), restoring the previous mode after. */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** True while anomaly detection is on. */
export function isAnomalyEnabled(): boolean {
  return anomalyEnabled;
}

/**
 * Anomaly detection: while on, every op checks its forward output and every backward step checks the
 * gradients it produces, and throws an `AnomalyError` naming the op at the first NaN or Inf.
 * Called with a function, it is on only while the function runs; called with a boolean, it sets the mode.
 */
export function detectAnomaly<T>(fnOrFlag: (() => T) | boolean): T | undefined {
  if (typeof fnOrFlag === 'boolean') {
    anomalyEnabled = fnOrFlag;
    return undefined;
  }
  const prev = anomalyEnabled;
  anomalyEnabled = true;
  try {
    return fnOrFlag();
  } finally {
    anomalyEnabled = prev;
  }
}
