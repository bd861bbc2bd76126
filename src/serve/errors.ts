// Errors of the serving path, as data: each carries the offending value and where it came from.

/** X's length does not match n * inputDim. */
export class ScoreInputError extends Error {
  constructor(
    readonly n: number,
    readonly inputDim: number,
    readonly length: number,
    readonly where: string,
  ) {
    super(`${where}: input length ${length} != n * inputDim = ${n} * ${inputDim} = ${n * inputDim}`);
    this.name = 'ScoreInputError';
  }
}

/** The ONNX model cannot be served: bad graph, unavailable execution provider, failed run. */
export class ScorerError extends Error {
  constructor(
    message: string,
    readonly where: string,
    options?: { cause?: unknown },
  ) {
    super(`${where}: ${message}`, options);
    this.name = 'ScorerError';
  }
}
