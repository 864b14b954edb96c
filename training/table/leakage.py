"""Columns that give the outcome away: written after it, or otherwise too good to be true."""
import math

import numpy as np
import pandas as pd

from app.credit.metrics import auc

SEPARATES = 0.99
TRACKS = 0.95
MAX_ROWS = 200_000
FOLDS = 5
BINS = 20


def separation(score, bad):
    """AUC in whichever direction separates better: at least 0.5, and 0.5 when every row is good or every one bad."""
    value = auc(bad, score)
    return 0.5 if math.isnan(value) else max(value, 1.0 - value)


def _out_of_fold_rate(groups, bad, seed):
    """Each row's bad rate of its group, learnt on the other folds, so many small groups cannot fake a signal."""
    folds = np.random.default_rng(seed).integers(0, FOLDS, len(bad))
    n_groups = int(groups.max()) + 1
    rate = np.empty(len(bad))
    prior = bad.mean()
    for fold in range(FOLDS):
        learn = folds != fold
        total = np.bincount(groups[learn], minlength=n_groups)
        hits = np.bincount(groups[learn], weights=bad[learn], minlength=n_groups)
        smoothed = (hits + prior * 10) / (total + 10)
        rate[~learn] = smoothed[groups[~learn]]
    return rate


def _value_groups(values):
    """Group rows by category, or by quantile bin for numbers; missing is a group of its own."""
    if isinstance(values, pd.Categorical):
        codes = np.asarray(values.codes)
        return np.where(codes < 0, codes.max() + 1, codes)
    present = ~np.isnan(values)
    edges = np.unique(np.nanquantile(values, np.linspace(0, 1, BINS + 1)[1:-1])) if present.any() else []
    return np.where(present, np.searchsorted(edges, np.nan_to_num(values), side="right"), len(edges) + 1)


def _single_column_auc(values, bad, seed):
    """Best of: the parsed values ranked (missing lowest or highest) and the out-of-fold bad rate of their bins."""
    scores = [separation(_out_of_fold_rate(_value_groups(values), bad, seed), bad)]
    if not isinstance(values, pd.Categorical):
        present = values[~np.isnan(values)]
        if len(present):
            low, high = present.min() - 1, present.max() + 1
            scores += [separation(np.where(np.isnan(values), fill, values), bad) for fill in (low, high)]
    return max(scores)


def _is_missing(values):
    if isinstance(values, pd.Categorical):
        return np.asarray(values.codes) < 0
    return np.isnan(values)


def column_leak(values, bad, seed=0):
    """Why one parsed column leaks the outcome, as {why, auc}, or None when it looks honest."""
    missing = _is_missing(values)
    if missing.all():
        return None
    single = _single_column_auc(values, bad, seed)
    if single > SEPARATES:
        return {"why": "alone separates the target almost perfectly", "auc": round(single, 4)}
    if missing.any():
        blank = separation(missing.astype(float), bad)
        if blank > TRACKS:
            return {"why": "whether it is blank tracks the target (filled in after the outcome?)",
                    "auc": round(blank, 4)}
    if not isinstance(values, pd.Categorical):
        nonzero = np.nan_to_num(values) != 0
        if nonzero.any() and not nonzero.all():
            tracked = separation(nonzero.astype(float), bad)
            if tracked > TRACKS:
                return {"why": "whether it is zero tracks the target (an amount written after the outcome?)",
                        "auc": round(tracked, 4)}
    return None


def find_leaks(features, bad, max_rows=MAX_ROWS, seed=0):
    """Every feature column that leaks the outcome: a list of {column, why, auc}, checked on ≤ `max_rows` rows."""
    rows = np.arange(len(bad))
    if len(rows) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_rows, replace=False))
    sample_bad = np.asarray(bad, dtype=float)[rows]
    leaks = []
    for name in features.columns:
        values = features[name].array[rows]
        if not isinstance(values, pd.Categorical):
            values = np.asarray(values, dtype=float)
        found = column_leak(values, sample_bad, seed)
        if found:
            leaks.append({"column": name, **found})
    return leaks
