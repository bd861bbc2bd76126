// Plain-data types shared by training (tfjs), export (ONNX) and serving (ONNX Runtime).
// Matrices are row-major Float32Arrays. Names follow docs/DDCL.md.

export type Activation = 'relu' | 'tanh' | 'gelu' | 'elu' | 'leaky_relu' | 'linear';

/** One dense layer y = x W + b, with W stored row-major as [in][out]. */
export interface DenseWeights {
  in: number;
  out: number;
  W: Float32Array;
  b: Float32Array;
}

/** An MLP: `activation` follows every layer except the last (the embedding is linear). */
export interface BackboneWeights {
  activation: Activation;
  layers: DenseWeights[];
}

/** How embeddings are normalised before distances are taken. */
export type EmbedNorm = 'none' | 'l2';

/**
 * The frozen prototype snapshot P* used for scoring. DDCL.md writes P as m x K (prototypes as
 * columns); here P is stored K x m, row k = p*_k. Distances are divided by `distScale` (the
 * training median of D) before the soft assignment q = softmax(-D / (distScale * T)).
 */
export interface PrototypeSnapshot {
  K: number;
  m: number;
  P: Float32Array;
  T: number;
  distScale: number;
}

/** Everything the scoring graph needs: x -> backbone -> (norm) -> h -> D, q. */
export interface ScoringModel {
  inputDim: number;
  backbone: BackboneWeights;
  embedNorm: EmbedNorm;
  prototypes: PrototypeSnapshot;
  /** Optional decoder h -> xhat; when present the reconstruction error is scored too. */
  decoder?: BackboneWeights;
}

/** Raw scores for a batch of n events (K prototypes). */
export interface ScoreBatch {
  n: number;
  K: number;
  /** n x K squared distances d_k = ||h - p*_k||^2 (unscaled). */
  D: Float32Array;
  /** n x K soft assignments. */
  q: Float32Array;
  /** min_k d_k */
  sMin: Float32Array;
  /** sum_k q_k d_k = r + v */
  sQ: Float32Array;
  /** off-hull residual ||h - P* q||^2 */
  r: Float32Array;
  /** ambiguity sum_k q_k ||p*_k - P* q||^2 */
  v: Float32Array;
  /** argmin_k d_k */
  nearest: Int32Array;
  /** ||x - xhat||^2 / inputDim, when the model has a decoder. */
  recon?: Float32Array;
}

// ---- Added by the training code (model/ and train/): weights to resume training. ----

/** Which Dual Competitive Layer produces the prototypes (DDCL.md "Forward pass"). */
export type DclVariant = 'dual-linear' | 'dual-attention';

/**
 * Parameters of the DCL. dual-linear: P = H^T W with W row-major [n][K] over a fixed window of
 * n rows. dual-attention: A = softmax over the batch rows of (H U) / tau, P = H^T A, with U
 * row-major [m][K].
 */
export type DclWeights =
  | { variant: 'dual-linear'; n: number; K: number; W: Float32Array }
  | { variant: 'dual-attention'; m: number; K: number; U: Float32Array; tau: number };

/** Everything needed to resume training (optimiser state is not kept: Adam restarts). */
export interface TrainWeights {
  /** The backbone as trained, before any standardisation was folded in. */
  backbone: BackboneWeights;
  /** Decoder h -> xhat, when one was trained. */
  decoder?: BackboneWeights;
  dcl: DclWeights;
  /** Whether the embeddings were standardised over the batch after the last layer. */
  standardize: boolean;
  embedNorm: EmbedNorm;
}
