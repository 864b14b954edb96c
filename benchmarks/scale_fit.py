"""Fitting on Dask or on the gathered examples: `python -m benchmarks.scale_fit SNAPSHOT [--workers 2]`.

The training examples of a snapshot are fitted twice with the same parameters: by `training.train`'s
single-machine LightGBM (early stopping on the validation period) and by `lightgbm.dask` on a
LocalCluster (which has no early stopping: it is given the number of rounds the first fit chose).
Prints the wall time of each fit and the holdout AUC of each (raw scores) as one JSON object.
"""
import argparse
import json
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np

from app.common.region import town_codes
from app.credit.cluster import dask_client
from app.credit.features import BY_NAME, MODEL_INPUTS
from app.credit.metrics import auc
from training import dataset
from training.train import PARAMS, fit_booster


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    examples = dataset.examples_from_snapshot(args.snapshot, town_codes("610203"))
    train, valid, hold = examples.parts(examples.split_dates())
    inputs = examples.X[list(MODEL_INPUTS)]  # the model's inputs (not the health filter's months)
    started = time.perf_counter()
    booster, _ = fit_booster(examples, train, valid, seed=0)
    local_seconds = time.perf_counter() - started
    rounds = booster.best_iteration or booster.current_iteration()
    local_auc = auc(examples.y[hold], booster.predict(inputs[hold], raw_score=True, num_iteration=rounds))
    started = time.perf_counter()  # the same rounds without a validation set: the like of the Dask fit
    lgb.train({**PARAMS, "seed": 0, "monotone_constraints": [BY_NAME[n].monotone for n in MODEL_INPUTS]},
              lgb.Dataset(inputs[train], examples.y[train]), num_boost_round=rounds)
    fixed_seconds = time.perf_counter() - started

    import dask.dataframe as dd
    from lightgbm import DaskLGBMClassifier

    params = {k: v for k, v in PARAMS.items() if k not in ("objective", "num_threads")}
    with dask_client(None, args.workers, "4GiB") as client:
        X = dd.from_pandas(inputs[train], npartitions=args.workers)
        y = dd.from_array(examples.y[train], chunksize=-(-int(train.sum()) // args.workers))
        model = DaskLGBMClassifier(client=client, n_estimators=rounds, random_state=0, n_jobs=1,
                                   monotone_constraints=[BY_NAME[n].monotone for n in MODEL_INPUTS], **params)
        started = time.perf_counter()
        model.fit(X, y)
        dask_seconds = time.perf_counter() - started
        local_model = model.to_local()
    dask_auc = auc(examples.y[hold], local_model.predict(inputs[hold], raw_score=True))
    print(json.dumps({"loans": len(examples.y), "train": int(train.sum()), "rounds": rounds,
                      "local": {"seconds": round(local_seconds, 1), "holdout_auc": round(float(local_auc), 4),
                                "same_rounds_seconds": round(fixed_seconds, 1)},
                      "lightgbm_dask": {"workers": args.workers, "seconds": round(dask_seconds, 1),
                                        "holdout_auc": round(float(dask_auc), 4)},
                      "holdout_bads": int(np.sum(examples.y[hold]))}))


if __name__ == "__main__":
    main()
