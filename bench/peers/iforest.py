#!/usr/bin/env python3
"""IsolationForest peer for `bench/adbench.ts` (run with /usr/bin/python3, which has sklearn).

Same protocol as `ddcl eval tabular`: unsupervised, fitted on every row of the file, labels only
for the AUCs. 100 trees, default max_samples (256), seeds 0..S-1; prints one JSON line per file:
{"dataset","n","d","auc_roc","auc_pr","auc_roc_seeds","seconds"} (means over seeds).
Outside the product and outside CI.
"""
import io
import json
import sys
import time
import zipfile

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score


def load(path):
    with np.load(path, allow_pickle=False) as z:
        return np.asarray(z["X"], dtype=np.float64), np.asarray(z["y"]).astype(int)


def main():
    seeds = int(sys.argv[1])
    for path in sys.argv[2:]:
        X, y = load(path)
        t0 = time.perf_counter()
        rocs, prs = [], []
        for s in range(seeds):
            f = IsolationForest(n_estimators=100, random_state=s).fit(X)
            score = -f.score_samples(X)
            rocs.append(roc_auc_score(y, score))
            prs.append(average_precision_score(y, score))
        name = path.rsplit("/", 1)[-1].removesuffix(".npz")
        print(json.dumps({"dataset": name, "n": int(X.shape[0]), "d": int(X.shape[1]),
                          "auc_roc": float(np.mean(rocs)), "auc_pr": float(np.mean(prs)),
                          "auc_roc_seeds": [float(r) for r in rocs],
                          "seconds": time.perf_counter() - t0}), flush=True)


if __name__ == "__main__":
    main()
