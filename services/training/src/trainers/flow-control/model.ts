/**
 * The flow-control classifier: standardised features → (optional ReLU hidden layer) →
 * softmax over the problem-direction labels. Plain Float64Array maths, no I/O, so the
 * trainer process and the evaluation use case share it.
 */

export interface FeatureSpace {
  /** Named features in vector order; empty when samples carry plain arrays. */
  names: string[];
  width: number;
  mean: number[];
  std: number[];
}

export interface ModelState {
  labels: string[];
  space: FeatureSpace;
  hidden: number;
  /** hidden > 0: [W1 (hidden×width), b1, W2 (k×hidden), b2]; else [W (k×width), b]. */
  params: number[][];
}

export interface RawSample {
  features: number[] | Record<string, number>;
  label: string;
}

export function featureSpace(samples: RawSample[]): FeatureSpace {
  const first = samples[0]?.features;
  const names = Array.isArray(first)
    ? []
    : [...new Set(samples.flatMap((s) => Object.keys(s.features)))].sort();
  const width = Array.isArray(first) ? first.length : names.length;
  const space: FeatureSpace = {
    names,
    width,
    mean: new Array<number>(width).fill(0),
    std: new Array<number>(width).fill(1),
  };
  const rows = samples.map((s) => vectorize(space, s.features, false));
  for (let j = 0; j < width; j++) {
    let sum = 0;
    for (const r of rows) sum += r[j];
    const mean = rows.length ? sum / rows.length : 0;
    let sq = 0;
    for (const r of rows) sq += (r[j] - mean) ** 2;
    const std = Math.sqrt(rows.length ? sq / rows.length : 0);
    space.mean[j] = mean;
    space.std[j] = std > 1e-12 ? std : 1;
  }
  return space;
}

/** A sample's features as a vector in `space` (standardised unless `raw`). */
export function vectorize(
  space: FeatureSpace,
  features: RawSample['features'],
  standardise = true,
): Float64Array {
  const v = new Float64Array(space.width);
  if (Array.isArray(features)) for (let j = 0; j < space.width; j++) v[j] = features[j] ?? 0;
  else space.names.forEach((n, j) => (v[j] = features[n] ?? 0));
  if (standardise) for (let j = 0; j < space.width; j++) v[j] = (v[j] - space.mean[j]) / space.std[j];
  return v;
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  const r = rng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export function initModel(labels: string[], space: FeatureSpace, hidden: number, seed: number): ModelState {
  const r = rng(seed ^ 0x5eed);
  const k = labels.length;
  const layer = (rows: number, cols: number) => {
    const scale = Math.sqrt(2 / Math.max(1, cols));
    return Array.from({ length: rows * cols }, () => (r() * 2 - 1) * scale);
  };
  const params =
    hidden > 0
      ? [
          layer(hidden, space.width),
          new Array<number>(hidden).fill(0),
          layer(k, hidden),
          new Array<number>(k).fill(0),
        ]
      : [new Array<number>(k * space.width).fill(0), new Array<number>(k).fill(0)];
  return { labels, space, hidden, params };
}

interface Forward {
  h?: Float64Array;
  probs: Float64Array;
}

function forward(model: ModelState, x: Float64Array): Forward {
  const k = model.labels.length;
  let input = x;
  let h: Float64Array | undefined;
  let [W, b] = model.params;
  if (model.hidden > 0) {
    h = new Float64Array(model.hidden);
    for (let i = 0; i < model.hidden; i++) {
      let s = b[i];
      for (let j = 0; j < x.length; j++) s += W[i * x.length + j] * x[j];
      h[i] = s > 0 ? s : 0;
    }
    input = h;
    [, , W, b] = model.params;
  }
  const logits = new Float64Array(k);
  let max = -Infinity;
  for (let c = 0; c < k; c++) {
    let s = b[c];
    for (let j = 0; j < input.length; j++) s += W[c * input.length + j] * input[j];
    logits[c] = s;
    if (s > max) max = s;
  }
  let z = 0;
  for (let c = 0; c < k; c++) z += logits[c] = Math.exp(logits[c] - max);
  for (let c = 0; c < k; c++) logits[c] /= z;
  return { h, probs: logits };
}

export function predictProbs(model: ModelState, x: Float64Array): Float64Array {
  return forward(model, x).probs;
}

export function predict(model: ModelState, x: Float64Array): number {
  const p = predictProbs(model, x);
  let best = 0;
  for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
  return best;
}

/**
 * One mini-batch gradient step (cross-entropy + L2). Mutates the model; returns the
 * batch's mean loss before the update.
 */
export function trainStep(
  model: ModelState,
  xs: Float64Array[],
  ys: number[],
  lr: number,
  weightDecay: number,
): number {
  const grads = model.params.map((p) => new Float64Array(p.length));
  const k = model.labels.length;
  let loss = 0;
  for (let n = 0; n < xs.length; n++) {
    const x = xs[n];
    const { h, probs } = forward(model, x);
    loss -= Math.log(Math.max(probs[ys[n]], 1e-12));
    const d = Float64Array.from(probs);
    d[ys[n]] -= 1;
    const input = h ?? x;
    const [gW, gb] = h ? [grads[2], grads[3]] : [grads[0], grads[1]];
    for (let c = 0; c < k; c++) {
      gb[c] += d[c];
      for (let j = 0; j < input.length; j++) gW[c * input.length + j] += d[c] * input[j];
    }
    if (h) {
      const W2 = model.params[2];
      for (let i = 0; i < h.length; i++) {
        if (h[i] <= 0) continue;
        let dh = 0;
        for (let c = 0; c < k; c++) dh += W2[c * h.length + i] * d[c];
        grads[1][i] += dh;
        for (let j = 0; j < x.length; j++) grads[0][i * x.length + j] += dh * x[j];
      }
    }
  }
  const scale = 1 / Math.max(1, xs.length);
  model.params.forEach((p, layer) => {
    const isWeight = layer % 2 === 0;
    for (let i = 0; i < p.length; i++)
      p[i] -= lr * (grads[layer][i] * scale + (isWeight ? weightDecay * p[i] : 0));
  });
  return loss * scale;
}

/** Mean cross-entropy and accuracy over a set. */
export function evaluate(
  model: ModelState,
  xs: Float64Array[],
  ys: number[],
): { loss: number; accuracy: number } {
  if (!xs.length) return { loss: NaN, accuracy: NaN };
  let loss = 0;
  let correct = 0;
  xs.forEach((x, n) => {
    const p = predictProbs(model, x);
    loss -= Math.log(Math.max(p[ys[n]], 1e-12));
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
    if (best === ys[n]) correct++;
  });
  return { loss: loss / xs.length, accuracy: correct / xs.length };
}

/** Accuracy, macro-F1 and the confusion matrix (rows: true label, columns: predicted). */
export function classificationReport(labels: string[], truth: number[], predicted: number[]) {
  const k = labels.length;
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  truth.forEach((t, i) => matrix[t][predicted[i]]++);
  let correct = 0;
  let f1Sum = 0;
  for (let c = 0; c < k; c++) {
    correct += matrix[c][c];
    const tp = matrix[c][c];
    const fp = matrix.reduce((s, row, r) => s + (r === c ? 0 : row[c]), 0);
    const fn = matrix[c].reduce((s, v, j) => s + (j === c ? 0 : v), 0);
    const denom = 2 * tp + fp + fn;
    f1Sum += denom ? (2 * tp) / denom : 0;
  }
  return {
    samples: truth.length,
    accuracy: truth.length ? correct / truth.length : 0,
    macro_f1: k ? f1Sum / k : 0,
    labels,
    confusion_matrix: matrix,
  };
}

/** Learning rate at a step (LLaMA-Factory scheduler names; warmup is linear). */
export function learningRateAt(
  kind: string,
  peak: number,
  step: number,
  total: number,
  warmupSteps: number,
): number {
  if (warmupSteps > 0 && step < warmupSteps && kind !== 'constant') return (peak * (step + 1)) / warmupSteps;
  const span = Math.max(1, total - warmupSteps);
  const t = Math.min(1, Math.max(0, (step - warmupSteps) / span));
  if (kind === 'linear') return peak * (1 - t);
  if (kind === 'cosine') return peak * 0.5 * (1 + Math.cos(Math.PI * t));
  return peak;
}
