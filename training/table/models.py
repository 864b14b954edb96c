"""The candidates — a tuned LightGBM, two logistic regressions, an untuned LightGBM and their blend — and the pick."""
import time
import warnings
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split

from app.credit.metrics import auc

from .linear import PlainLogistic
from .scorecard import BinnedLogisticScorecard

TUNED = "tuned_lightgbm"
LOGISTIC = "logistic_scorecard"
PLAIN = "plain_logistic"
DEFAULT = "lightgbm_default"
BLEND = "blend"
PREFERENCE = (TUNED, LOGISTIC, PLAIN, DEFAULT, BLEND)  # ties go to the earlier name
# The blend weighs model families, not members: half the trees, half the two logistic regressions, which
# are near-duplicates of each other (both linear in the log-odds) and would otherwise outvote the trees.
BLEND_PARTS = ((TUNED, 0.5), (LOGISTIC, 0.25), (PLAIN, 0.25))
LARGE = 100_000
# The candidates are compared by cross-validation on the training part, never on one validation split:
# 5 folds × 3 repeats below CV_SELECTION rows, 3 folds up to LARGE, 2 above (each fit on half the rows).
CV_SELECTION = 20_000
SELECTION_FOLDS, SELECTION_REPEATS = 5, 3
# The logistic candidate: quintile bins, its L2 strength chosen by inner cross-validation (a small book
# overfits ten bins a number at the default strength: UCI German credit 0.771 against 0.781).
SCORECARD_BINS = 5
# How LightGBM runs, not what it learns. One OpenMP thread per fit: on a small, shared machine a second
# thread waits at every barrier for a core someone else holds (ten times slower, measured); parallelism
# comes from fitting several models at once instead (grid settings, CV folds).
QUIET = {"verbose": -1, "n_jobs": 1}


def tuning_grid(rows):
    """Candidate settings for the tuned model: small, well-regularised trees for small books, deeper for large."""
    if rows < 10_000:
        sizes, floor = (4, 8, 16), max(20, rows // 100)
    elif rows < LARGE:
        sizes, floor = (8, 31, 63), max(20, rows // 1000)
    else:
        sizes, floor = (31, 127), max(50, rows // 5000)
    return [{"num_leaves": leaves, "min_child_samples": floor} for leaves in sizes]


def untuned_lightgbm():
    """LightGBM with its default parameters (only quiet, seeded and threaded)."""
    return lgb.LGBMClassifier(random_state=0, **QUIET)


class TunedLightGBM(ClassifierMixin, BaseEstimator):
    """LightGBM whose size is picked from a small grid by early stopping on a validation split, then refit.

    Parameters
    ----------
    grid : list of dict or None
        Settings to try; None picks `tuning_grid` for the number of training rows.
    learning_rate : float or None
        None uses 0.05 for small books and 0.1 for large ones.
    max_rounds : int
        Most boosting rounds tried before early stopping.
    patience : int
        Rounds without a better validation AUC before stopping.
    random_state : int
        Seed for row and column sampling.
    workers : int
        Settings fitted at once, each in its own thread.

    Attributes
    ----------
    params_ : dict
        The LightGBM parameters of the refit model.
    validation_auc_ : float
        AUC of the best setting on the early-stopping rows (optimistic: those rows chose it).
    model_ : lightgbm.LGBMClassifier
        The model refit on every row given to `fit`.
    classes_ : ndarray
        The two classes, `[0, 1]`.
    """

    def __init__(self, grid=None, learning_rate=None, max_rounds=1500, patience=50, random_state=0, workers=1):
        self.grid = grid
        self.learning_rate = learning_rate
        self.max_rounds = max_rounds
        self.patience = patience
        self.random_state = random_state
        self.workers = workers

    def _base(self, rows):
        rate = self.learning_rate or (0.1 if rows >= LARGE else 0.05)
        return {"learning_rate": rate, "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8,
                "reg_lambda": 1.0, "random_state": self.random_state, **QUIET}

    def _try(self, setting, base, fit, check):
        """Validation AUC and best round count of one setting, stopped early on the validation rows."""
        model = lgb.LGBMClassifier(**base, **setting, n_estimators=self.max_rounds, metric="auc")
        model.fit(*fit, eval_X=check[0], eval_y=check[1], callbacks=[lgb.early_stopping(self.patience, verbose=False)])
        return auc(check[1], model.predict_proba(check[0])[:, 1]), model.best_iteration_ or self.max_rounds, setting

    def fit(self, X, y, validation):
        """Try each setting on `validation` = (train rows, validation rows) of `X`, then refit the best on all rows."""
        fit_rows, check_rows = validation
        y = np.asarray(y)
        base = self._base(len(fit_rows))
        fit, check = (X.iloc[fit_rows], y[fit_rows]), (X.iloc[check_rows], y[check_rows])
        settings = self.grid or tuning_grid(len(fit_rows))
        tried = Parallel(n_jobs=min(self.workers, len(settings)), backend="threading")(
            delayed(self._try)(setting, base, fit, check) for setting in settings)
        score, rounds, setting = max(tried, key=lambda item: item[0])
        self.validation_auc_ = score
        self.params_ = {**self._base(len(y)), **setting, "n_estimators": max(10, int(round(rounds * 1.1)))}
        self.model_ = lgb.LGBMClassifier(**self.params_).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        """Probability of each class, columns ordered as `classes_`."""
        return self.model_.predict_proba(X)


class Blend(ClassifierMixin, BaseEstimator):
    """A weighted mean of fitted models' probabilities (trees and logistic regressions err differently).

    Parameters
    ----------
    models : list
        Fitted classifiers with `predict_proba`.
    weights : list of float or None
        One weight per model, summing to 1; None weighs them equally.
    """

    def __init__(self, models=None, weights=None):
        self.models = models
        self.weights = weights

    def predict_proba(self, X):
        """Probability of each class: the weighted mean over the models."""
        return np.average([model.predict_proba(X) for model in self.models], axis=0, weights=self.weights)


@dataclass
class Candidates:
    """The fitted candidates, their mean validation AUCs and fit times, and the one chosen."""

    models: dict
    validation_auc: dict
    seconds: dict
    chosen: str

    @property
    def model(self):
        """The chosen model."""
        return self.models[self.chosen]


def validation_split(bad, order=None, share=0.2, seed=0):
    """Rows to fit on and rows to validate on: the newest `share` when `order` is given, else stratified."""
    rows = np.arange(len(bad))
    if order is not None:
        ranked = rows[np.argsort(order, kind="stable")]
        cut = int(round(len(rows) * (1 - share)))
        return ranked[:cut], ranked[cut:]
    return train_test_split(rows, test_size=share, stratify=bad, random_state=seed)


def selection_folds(bad, order=None, seed=0):
    """(fit rows, validation rows) pairs that choose the candidate, never a single split.

    Repeated stratified folds (5 × 3) for training parts under CV_SELECTION rows, 3 folds up to LARGE,
    2 above. With `order`, the folds look forward in time instead: the rows in five time blocks, fit on
    the older two, three and four blocks, validate on the next one.
    """
    rows = np.arange(len(bad))
    if order is not None:
        blocks = np.array_split(rows[np.argsort(order, kind="stable")], SELECTION_FOLDS)
        return [(np.concatenate(blocks[:k]), blocks[k]) for k in range(2, SELECTION_FOLDS)]
    folds = SELECTION_FOLDS if len(bad) < LARGE else 2
    folds = 3 if CV_SELECTION <= len(bad) < LARGE else folds
    repeats = SELECTION_REPEATS if len(bad) < CV_SELECTION else 1
    folds = max(2, min(folds, int(np.sum(bad)), int(len(bad) - np.sum(bad))))
    return list(RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed).split(rows, bad))


def fit_one(name, X, bad, order=None, seed=0, workers=1, fitted=None):
    """Fit one candidate on the rows of `X`; the tuned one stops early on its own newest or stratified 20%.

    The blend reuses its parts in `fitted` (name → model) when given.
    """
    if name == BLEND:
        fitted = fitted or {}
        return Blend([fitted.get(part) or fit_one(part, X, bad, order, seed, workers) for part, _ in BLEND_PARTS],
                     [weight for _, weight in BLEND_PARTS])
    if name == LOGISTIC:
        return BinnedLogisticScorecard(n_bins=SCORECARD_BINS, C="cv").fit(X, bad)
    if name == PLAIN:
        return PlainLogistic(C="cv").fit(X, bad)
    if name == DEFAULT:
        return untuned_lightgbm().fit(X, bad)
    stopping = validation_split(bad, order, seed=seed)
    return TunedLightGBM(random_state=seed, workers=workers).fit(X, bad, validation=stopping)


def _validation_auc(X, bad, order, seed, workers):
    """Each candidate's AUC on every selection fold, on rows its fitting (and tuning) never saw."""
    scores = {name: [] for name in PREFERENCE}
    for learn, check in selection_folds(bad, order, seed):
        fitted = {}
        for name in PREFERENCE:
            fitted[name] = fit_one(name, X.iloc[learn], bad[learn], None if order is None else order[learn], seed,
                                   workers, fitted)
            scores[name].append(auc(bad[check], fitted[name].predict_proba(X.iloc[check])[:, 1]))
    return scores


def _mean_of_defined(values):
    """The mean AUC over folds that have one: a fold whose rows are all good (or all bad) has none."""
    defined = [value for value in values if not np.isnan(value)]
    return float(np.mean(defined)) if defined else float("nan")


def choose(fold_auc):
    """The candidate to use, given each one's AUC per selection fold (name → list, folds in the same order).

    The best mean AUC wins unless the blend is within one standard error of it, the error of the paired
    per-fold differences. On a small book the candidates' means differ by less than their folds scatter,
    so picking the top mean mostly picks noise; the blend averages over it and needs no such luck. A
    single candidate is used only when it beats the blend by more than the folds' scatter explains.
    """
    means = {name: _mean_of_defined(found) for name, found in fold_auc.items()}
    best = max(PREFERENCE, key=lambda name: (means[name], -PREFERENCE.index(name)))
    if best == BLEND:
        return best
    gaps = np.asarray(fold_auc[best], dtype=float) - np.asarray(fold_auc[BLEND], dtype=float)
    gaps = gaps[~np.isnan(gaps)]
    if len(gaps) < 2:
        return best
    return BLEND if gaps.mean() <= gaps.std(ddof=1) / np.sqrt(len(gaps)) else best


def fit_candidates(X, bad, order=None, seed=0, workers=1):
    """Fit every candidate on every row of `X` and choose one by its AUCs on the selection folds (`choose`)."""
    bad = np.asarray(bad)
    models, seconds = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fold_auc = _validation_auc(X, bad, order, seed, workers)
        for name in PREFERENCE:
            started = time.perf_counter()
            models[name] = fit_one(name, X, bad, order, seed, workers, models)
            seconds[name] = time.perf_counter() - started
    validation_auc = {name: _mean_of_defined(found) for name, found in fold_auc.items()}
    return Candidates(models=models, validation_auc=validation_auc, seconds=seconds, chosen=choose(fold_auc))
