// Typed errors of the model and training code. Each carries the offending value so callers can
// branch on data instead of parsing messages.

/** A tensor or array had the wrong size for the shape it was declared with. */
export class ShapeError extends Error {
  override readonly name = 'ShapeError';
  constructor(
    readonly what: string,
    readonly expected: number | string,
    readonly actual: number | string,
  ) {
    super(`${what}: expected ${expected}, got ${actual}`);
  }
}

/** A configuration value is out of its domain. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`config.${field} = ${JSON.stringify(value)}: ${reason}`);
  }
}

/** The input data holds a NaN or an infinity (row and column say where). */
export class NonFiniteInputError extends Error {
  override readonly name = 'NonFiniteInputError';
  constructor(
    readonly row: number,
    readonly col: number,
    readonly value: number,
  ) {
    super(`input is not finite at row ${row}, column ${col}: ${value}`);
  }
}

/** A loss term became NaN or infinite during training. */
export class TrainingDivergedError extends Error {
  override readonly name = 'TrainingDivergedError';
  constructor(
    readonly epoch: number,
    readonly term: string,
    readonly value: number,
  ) {
    super(`training diverged at epoch ${epoch}: ${term} = ${value}`);
  }
}

/**
 * The start is the collapsed point of DDCL.md "Trivial solutions": all prototypes coincide
 * (V = 0, uniform q), so the gradient cannot separate them.
 */
export class CollapsedStartError extends Error {
  override readonly name = 'CollapsedStartError';
  constructor(
    readonly V: number,
    readonly Lq: number,
    readonly meanMaxQ: number,
    readonly K: number,
  ) {
    super(
      `collapsed start: V = ${V} (L_q = ${Lq}), mean max q = ${meanMaxQ} (uniform = ${1 / K}); ` +
        'initialise the prototypes on distinct data points, not uniformly',
    );
  }
}

/** No tfjs backend could be started. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly backend: string,
    readonly reason: string,
  ) {
    super(`tfjs backend '${backend}' unavailable: ${reason}`);
  }
}
