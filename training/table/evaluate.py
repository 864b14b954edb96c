"""How well each candidate ranks bad loans on rows it never saw: by time, repeated CV, or one holdout."""
import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split
from threadpoolctl import threadpool_limits

from app.credit.metrics import auc, ks

from .models import PREFERENCE, TUNED, fit_candidates

SMALL_BOOK = 5000
TEST_SHARE = 0.2


def evaluation_splits(bad, time=None, folds=5, repeats=3, small_book=SMALL_BOOK, seed=0):
    """The scheme (a dict that names it) and its (train rows, test rows) pairs."""
    rows = np.arange(len(bad))
    if time is not None:
        dated = rows[~np.isnan(time)]
        ordered = dated[np.argsort(time[dated], kind="stable")]
        cut = int(round(len(ordered) * (1 - TEST_SHARE)))
        scheme = {"name": "time_split", "train_rows": cut, "test_rows": len(ordered) - cut,
                  "rows_without_time": int(len(rows) - len(dated)), "test_from": float(time[ordered[cut]])}
        return scheme, [(ordered[:cut], ordered[cut:])]
    if len(bad) < small_book:
        splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
        scheme = {"name": "repeated_stratified_cv", "folds": folds, "repeats": repeats}
        return scheme, list(splitter.split(rows, bad))
    train, test = train_test_split(rows, test_size=TEST_SHARE, stratify=bad, random_state=seed)
    scheme = {"name": "stratified_holdout", "train_rows": len(train), "test_rows": len(test)}
    return scheme, [(train, test)]


def _one_fold(features, bad, time, train, test, seed, workers):
    """Fit the candidates on `train`, score `test`: AUC and KS per candidate, and which was chosen."""
    order = time[train] if time is not None else None
    found = fit_candidates(features.iloc[train], bad[train], order=order, seed=seed, workers=workers)
    result = {"chosen": found.chosen, "seconds": found.seconds, "validation_auc": found.validation_auc}
    for name, model in found.models.items():
        score = model.predict_proba(features.iloc[test])[:, 1]
        result[name] = {"auc": auc(bad[test], score), "ks": ks(bad[test], score)}
    result["model"] = result[found.chosen]
    return result


def _summary(results, name):
    aucs = np.array([r[name]["auc"] for r in results])
    kss = np.array([r[name]["ks"] for r in results])
    return {"auc": float(aucs.mean()), "ks": float(kss.mean()), "auc_sd": float(aucs.std()), "ks_sd": float(kss.std())}


def evaluate(features, bad, time=None, folds=5, repeats=3, small_book=SMALL_BOOK, workers=2, seed=0):
    """Evaluate the pick-the-best procedure and its baselines; returns the scheme, metrics and choices."""
    bad = np.asarray(bad)
    scheme, splits = evaluation_splits(bad, time, folds, repeats, small_book, seed)
    jobs = min(workers, len(splits))
    inner = max(1, workers // jobs)  # one split: its grid settings share the workers instead
    with threadpool_limits(limits=1, user_api="blas"):  # BLAS threads would only fight the fitting threads
        results = Parallel(n_jobs=jobs, backend="threading")(
            delayed(_one_fold)(features, bad, time, train, test, seed + i, inner)
            for i, (train, test) in enumerate(splits))
    choices = [r["chosen"] for r in results]
    counts = {name: choices.count(name) for name in PREFERENCE if choices.count(name)}
    chosen = max(counts, key=lambda name: (counts[name], name == TUNED))
    seconds = {name: float(np.mean([r["seconds"][name] for r in results])) for name in PREFERENCE}
    validation = {name: float(np.mean([r["validation_auc"][name] for r in results])) for name in PREFERENCE}
    return {"scheme": scheme, "model": _summary(results, "model"),
            "candidates": {name: _summary(results, name) for name in PREFERENCE},
            "chosen": chosen, "chosen_per_split": counts, "fit_seconds": seconds, "validation_auc": validation}
