// Matrix products whose gradients transpose explicitly. On the wasm backend matMul with the
// transpose flags is 10-16x slower than tf.transpose followed by a plain matMul, and tfjs's
// built-in matMul gradient uses the flags (DESIGN.md "Engines"). Every product on a training path
// in model/ goes through these.
import * as tf from '@tensorflow/tfjs';

type Save = tf.GradSaveFunc;

/** C = A B, gradient dA = dC B^T, dB = A^T dC with explicit transposes. */
export const matMul = tf.customGrad((a: tf.Tensor | Save, b: tf.Tensor | Save, save: tf.Tensor | Save) => {
  const A = a as tf.Tensor2D;
  const B = b as tf.Tensor2D;
  (save as Save)([A, B]);
  return {
    value: tf.matMul(A, B),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy as tf.Tensor2D)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** y = x W + b (b broadcast over rows), with the explicit-transpose gradient. */
export const dense = tf.customGrad(
  (x: tf.Tensor | Save, w: tf.Tensor | Save, b: tf.Tensor | Save, save: tf.Tensor | Save) => {
    const X = x as tf.Tensor2D;
    const W = w as tf.Tensor2D;
    (save as Save)([X, W]);
    return {
      value: tf.add(tf.matMul(X, W), b as tf.Tensor1D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        const g = dy as tf.Tensor2D;
        return [tf.matMul(g, tf.transpose(sw)), tf.matMul(tf.transpose(sx), g), tf.sum(g, 0)];
      },
    };
  },
) as (x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/** The same layer with tfjs's built-in gradients (for tests and the benchmark only). */
export function denseBuiltin(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.matMul(x, W), b);
}
