// Port of the Numenta Anomaly Benchmark scorer (numenta/NAB v1.1).
export * from './errors.js';
export * from './csv.js';
export * from './corpus.js';
export * from './scorer.js';
export * from './results.js';
