// Typed errors of the NAB port. Each names the file and the problem so a caller can report or
// branch on it without parsing the message.

/** Why an input of the NAB scorer was refused. */
export type NabProblem =
  | 'missing-file'
  | 'bad-json'
  | 'bad-header'
  | 'bad-row'
  | 'bad-timestamp'
  | 'bad-window'
  | 'length-mismatch'
  | 'bad-argument';

/** An input file (or an argument derived from one) of the NAB scorer is missing or malformed. */
export class NabInputError extends Error {
  override readonly name = 'NabInputError';
  constructor(
    /** The file the problem is in (or a logical name, e.g. `<category>/<file>.csv`). */
    readonly file: string,
    readonly problem: NabProblem,
    readonly detail: string,
    /** 1-based line of the file, where the problem is on a line. */
    readonly line?: number,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${problem}: ${detail}`);
  }
}
