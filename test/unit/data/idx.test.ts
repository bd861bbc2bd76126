import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idxMagic, idxToLabels, idxToMatrix, parseIdx, pickIdxPair } from '../../../src/data/idx.js';
import { assertDataError, idx } from './helpers.js';

test('images (2051) flatten to n x rows*cols; labels (2049) are Int32', () => {
  const img = idx([2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  assert.equal(idxMagic(img), 2051);
  const m = idxToMatrix(parseIdx(img, 'i'), 'i');
  assert.equal(m.n, 2);
  assert.equal(m.d, 6);
  assert.deepEqual([...m.X], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  const lab = idx([3], [7, 0, 9]);
  assert.equal(idxMagic(lab), 2049);
  const y = idxToLabels(parseIdx(lab, 'l'), 'l');
  assert.ok(y instanceof Int32Array);
  assert.deepEqual([...y], [7, 0, 9]);
});

test('float32 idx reads big-endian values', () => {
  const m = idxToMatrix(parseIdx(idx([2, 1], [1.5, -2], 0x0d), 'f'), 'f');
  assert.deepEqual([...m.X], [1.5, -2]);
});

test('idx errors: bad magic, size mismatch, labels of wrong rank', () => {
  assertDataError(() => parseIdx(new Uint8Array([1, 2, 3, 4]), 'x'), { file: 'x', message: /bad magic/ });
  const short = idx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]).subarray(0, 20);
  assertDataError(() => parseIdx(short, 'x'), {
    message: /size mismatch: header says 2 x 2 x 2 \(8 data bytes\), file has 4/,
  });
  assertDataError(() => idxToLabels(parseIdx(idx([1, 2], [1, 2]), 'x'), 'x'), {
    message: /not an idx labels file/,
  });
});

test('pairing images and labels files in a folder', () => {
  assert.deepEqual(pickIdxPair(['t10k-labels-idx1-ubyte.gz', 'README', 't10k-images-idx3-ubyte.gz'], 'd'), {
    images: 't10k-images-idx3-ubyte.gz',
    labels: 't10k-labels-idx1-ubyte.gz',
  });
  // several labels files: the one named after the images file wins
  assert.deepEqual(pickIdxPair(['x-images-idx3', 'y-labels-idx1', 'x-labels-idx1'], 'd'), {
    images: 'x-images-idx3',
    labels: 'x-labels-idx1',
  });
  assertDataError(() => pickIdxPair(['x-images-idx3', 'a-labels-idx1', 'b-labels-idx1'], 'd'), {
    message: /several idx labels files and none matches x-images-idx3/,
  });
  assert.deepEqual(pickIdxPair(['only-images-idx3-ubyte'], 'd'), { images: 'only-images-idx3-ubyte' });
  assertDataError(() => pickIdxPair(['notes.txt'], 'd'), { file: 'd', message: /no idx images file/ });
  assertDataError(
    () =>
      pickIdxPair(
        [
          'train-images-idx3-ubyte',
          'train-labels-idx1-ubyte',
          't10k-images-idx3-ubyte',
          't10k-labels-idx1-ubyte',
        ],
        'd',
      ),
    { message: /several idx images files/ },
  );
});
