/**
 * `variableGrads` that frees memory during the backward pass: tf.variableGrads computes the same
 * gradients, but keeps every tensor it saved for the backward (the forward's activations) and
 * every intermediate gradient alive until the whole backward pass ends, so a training step peaks
 * at about activations + all their gradients (a GRU + attention batch of 64 pairs: a 1.3 GB wasm
 * heap, which never shrinks). Here each tape node's saved tensors and the gradients of its
 * outputs are disposed as soon as that node's own gradient has been taken — the backward walks
 * the tape in reverse, so nothing later needs them.
 *
 * Second, several of tfjs's gradients save a tensor only to read its shape (SHAPE_ONLY below: the
 * tfjs-core 4.22 gradient of each reads nothing else), which keeps that activation's buffer alive
 * through the forward pass although no gradient reads its values. Those saved tensors are swapped
 * for their shapes and freed as each node is recorded.
 *
 * The arithmetic is tfjs's own, in the same order (the walk below is tfjs-core 4.22's
 * `gradients`/`backpropagateGradients` with the disposals added), so gradients are bit-identical
 * to tf.variableGrads' (test/backend-tape.test.ts). Only the engine's public state (the active
 * tape and gradient depth) is used.
 */
import * as tf from '@tensorflow/tfjs';

/** The parts of a tfjs tape node the backward walk reads (tfjs-core's TapeNode). */
interface TapeNode {
  id: number;
  kernelName: string;
  outputs: tf.Tensor[];
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/**
 * Kernels whose registered gradient (tfjs-core 4.22, src/gradients/*_grad.ts) reads the tensors
 * it saves for their shape, rank or count only. mt's own gradients (src/backend/gradients.ts)
 * override none of them (test/backend-tape.test.ts checks).
 */
export const SHAPE_ONLY = new Set(['Reshape', 'ExpandDims', 'Add', 'Sub', 'Mean', 'Sum', 'Concat', 'Slice', 'Pack', 'AddN']);

/** What a shape-only gradient reads of a saved tensor. */
interface ShapeOf {
  shape: number[];
  rank: number;
  dtype: tf.DataType;
  size: number;
}

/** Replace the saved tensors of a SHAPE_ONLY node by their shapes and free them. */
function releaseShapeOnlySaves(node: TapeNode): void {
  if (!node.saved || !SHAPE_ONLY.has(node.kernelName)) return;
  // In place: the node's gradient closure holds this very array.
  node.saved.forEach((t, i) => {
    if (!(t instanceof tf.Tensor)) return;
    const stub: ShapeOf = { shape: t.shape, rank: t.rank, dtype: t.dtype, size: t.size };
    node.saved![i] = stub as unknown as tf.Tensor;
    t.dispose();
  });
}

/**
 * An empty tape that releases each SHAPE_ONLY node's saved tensors as the node is recorded
 * (tfjs-core's engine records a node with `activeTape.push`, its saved tensors already set), so
 * that they never add to the forward pass's peak.
 */
function releasingTape(): TapeNode[] {
  const tape: TapeNode[] = [];
  tape.push = (...nodes: TapeNode[]) => {
    nodes.forEach(releaseShapeOnlySaves);
    return Array.prototype.push.apply(tape, nodes);
  };
  return tape;
}

/** Named gradients, keyed by variable name (as tf.variableGrads gives them). */
export type NamedGradients = Record<string, tf.Tensor>;

/**
 * The value of `f` and its gradients with respect to `variables` (the trainable ones; a variable
 * the value does not depend on gets no entry), as tf.variableGrads(f, variables).
 */
export function variableGrads(f: () => tf.Scalar, variables: tf.Variable[]): { value: tf.Scalar; grads: NamedGradients } {
  const engine = tf.engine();
  const trainable = variables.filter((v) => v.trainable);
  if (trainable.length === 0) throw new Error('variableGrads: no trainable variables');
  if (engine.state.gradientDepth > 0) throw new Error('variableGrads: nested gradients are not supported here');

  return engine.tidy(() => {
    const tape = releasingTape();
    engine.state.activeTape = tape as unknown as typeof engine.state.activeTape;
    try {
      engine.state.gradientDepth++;
      let value: tf.Scalar;
      try {
        value = engine.tidy('forward', f);
      } finally {
        engine.state.gradientDepth--;
      }
      if (!(value instanceof tf.Tensor) || value.rank !== 0) throw new Error('variableGrads: f must return a scalar tensor');
      const grads = engine.tidy('backward', () => {
        const gradientOf = backpropagate(filterTape(tape, trainable, value), value, trainable);
        const named: NamedGradients = {};
        trainable.forEach((v) => {
          const g = gradientOf.get(v.id);
          if (g) named[v.name] = g;
        });
        return named;
      });
      return { value, grads };
    } finally {
      for (const node of tape) for (const t of node.saved ?? []) if (t instanceof tf.Tensor) t.dispose();
      engine.state.activeTape = null as unknown as typeof engine.state.activeTape;
    }
  });
}

/**
 * The nodes on a path from some x to y, in tape order, each with only the inputs that depend on
 * an x (tfjs-core's getFilteredNodesXToY).
 */
function filterTape(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((input) => fromX.has(input.id))) {
      for (const out of node.outputs) fromX.add(out.id);
      nodesFromX.add(node.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((out) => toY.has(out.id))) {
      for (const input of Object.values(node.inputs)) toY.add(input.id);
      nodesToY.add(node.id);
    }
  }
  const filtered: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, input] of Object.entries(node.inputs)) if (fromX.has(input.id)) inputs[name] = input;
    filtered.push({ ...node, inputs, outputs: node.outputs });
  }
  return filtered;
}

/**
 * Walk the filtered tape backwards from dy/dy = 1, accumulating each tensor's gradient
 * (tfjs-core's backpropagateGradients), and free what no later step reads: a node's saved
 * tensors and its outputs' gradients, once its inputs' gradients are taken. A tensor still held
 * in the gradient map (a gradient function may pass dy or a saved tensor through unchanged) is
 * never freed early. Returns the gradient map, by tensor id; the xs' gradients are in it.
 */
function backpropagate(tape: TapeNode[], y: tf.Tensor, xs: tf.Tensor[]): Map<number, tf.Tensor> {
  const gradientOf = new Map<number, tf.Tensor>();
  const held = new Map<tf.Tensor, number>();
  const hold = (t: tf.Tensor, delta: number) => {
    const n = (held.get(t) ?? 0) + delta;
    if (n > 0) held.set(t, n);
    else held.delete(t);
  };
  const setGradient = (id: number, g: tf.Tensor) => {
    gradientOf.set(id, g);
    hold(g, 1);
  };
  const xIds = new Set(xs.map((x) => x.id));
  setGradient(y.id, tf.onesLike(y));

  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    const dys = node.outputs.map((out) => gradientOf.get(out.id) ?? null);
    if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const inputGradients = node.gradient(dys);
    for (const [name, x] of Object.entries(node.inputs)) {
      const gradient = inputGradients[name];
      if (!gradient) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(inputGradients)}.`);
      const dx = tf.tidy(gradient);
      if (dx.dtype !== 'float32') throw new Error(`Error in gradient for op ${node.kernelName}: the gradient of input ${name} is ${dx.dtype}, not float32`);
      if (!tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new Error(`Error in gradient for op ${node.kernelName}: the gradient of input '${name}' has shape ${dx.shape}, the input ${x.shape}`);
      }
      const current = gradientOf.get(x.id);
      if (!current) {
        setGradient(x.id, dx);
      } else {
        hold(current, -1);
        setGradient(x.id, tf.add(current, dx));
        if (!held.has(current)) current.dispose();
        if (!held.has(dx)) dx.dispose();
      }
    }
    // This node's outputs are produced here and read by nothing earlier on the tape: their
    // gradients and the node's saved activations are spent.
    for (const out of node.outputs) {
      const g = gradientOf.get(out.id);
      if (!g || xIds.has(out.id)) continue;
      gradientOf.delete(out.id);
      hold(g, -1);
      if (!held.has(g)) g.dispose();
    }
    for (const t of node.saved ?? []) if (t instanceof tf.Tensor && !held.has(t)) t.dispose();
  }
  return gradientOf;
}
