export { DataError, type DataLocation } from './errors.js';
export { MatrixBuilder, defaultColumnNames, type ColumnOptions, type DataMatrix } from './matrix.js';
export { parseCsv, forEachCsvRecord, type CsvOptions } from './csv.js';
export { parseJsonl, type JsonlOptions } from './jsonl.js';
export {
  parseNpy,
  parseNpz,
  readNpz,
  readNpyHeader,
  npyToMatrix,
  npyToLabels,
  type NpyArray,
  type NpyHeader,
} from './npy.js';
export { parseIdx, idxToMatrix, idxToLabels, pickIdxPair, type IdxArray, type IdxPair } from './idx.js';
export { parseAvro, type AvroOptions } from './avro.js';
export {
  loadMatrix,
  loadMatrixSync,
  parseMatrix,
  formatFromName,
  formatFromContent,
  type DataFormat,
  type LoadOptions,
} from './load.js';
export { loadDataset, dataRoot, repoRoot, resolveDataset, NAMED_DATASETS, type Dataset } from './dataset.js';
