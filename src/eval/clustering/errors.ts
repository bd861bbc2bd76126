// Errors of the clustering benchmark, as data: the offending value and where it came from.

/** A benchmark setting or input that cannot be used. */
export class ClusteringError extends Error {
  override readonly name = 'ClusteringError';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`${field} = ${JSON.stringify(value)}: ${reason}`);
  }
}
