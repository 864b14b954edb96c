"""Model quality figures of training: the oracle comparison, calibration and fairness.

AUC, KS and PSI are the platform's own (`app.credit.metrics`), so that the figures training reports
and the ones the model admin page shows are one formula each.
"""
import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss

from app.credit.metrics import auc, ks


def expected_auc(score, pd_true):
    """The AUC `score` would have on average if each outcome were drawn from its true PD.

    Closed form over all pairs i ≠ j: Σ p_i (1 − p_j) [s_i > s_j] / Σ p_i (1 − p_j), ties counting
    half. On a synthetic district this measures ranking against the true PD without the luck of
    which loans happened to default (a holdout with ~90 defaults moves its AUC by ±0.02).
    """
    s, p = np.asarray(score, dtype=float), np.asarray(pd_true, dtype=float)
    order = np.argsort(s, kind="mergesort")
    s, p = s[order], p[order]
    q = 1 - p
    _, start = np.unique(s, return_index=True)
    tie_p, tie_q = np.add.reduceat(p, start), np.add.reduceat(q, start)
    below_q = np.concatenate([[0.0], np.cumsum(tie_q)[:-1]])
    pairs = p.sum() * q.sum() - np.sum(p * q)
    wins = np.sum(tie_p * below_q) + 0.5 * (np.sum(tie_p * tie_q) - np.sum(p * q))
    return float(wins / pairs) if pairs > 0 else float("nan")


def bootstrap_ratio(y, p, reference, draws=1000, seed=0):
    """2.5 % and 97.5 % points of AUC(p) / AUC(reference) over paired bootstrap resamples of the rows."""
    y, p, reference = np.asarray(y), np.asarray(p), np.asarray(reference)
    rng = np.random.default_rng(seed)
    ratios = []
    for _ in range(draws):
        rows = rng.integers(0, len(y), len(y))
        if 0 < y[rows].sum() < len(rows):
            ratios.append(auc(y[rows], p[rows]) / auc(y[rows], reference[rows]))
    return [float(v) for v in np.percentile(ratios, [2.5, 97.5])] if ratios else [float("nan")] * 2


def calibration_table(y, p, bins=10):
    """Predicted against observed default rate in equal-count bins of predicted PD."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": np.asarray(p, dtype=float)})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), bins, labels=False)
    table = frame.groupby("bin").agg(count=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    return table.reset_index(drop=True)


def ece(y, p, bins=10):
    """Expected calibration error: count-weighted mean |predicted − observed| over PD bins."""
    table = calibration_table(y, p, bins)
    return float(np.sum(table["count"] * (table["predicted"] - table["observed"]).abs()) / table["count"].sum())


def lift_by_decile(y, p):
    """Default rate and lift of each decile of predicted risk, riskiest first."""
    table = calibration_table(y, p, 10).iloc[::-1].reset_index(drop=True)
    base = float(np.mean(y))
    table["lift"] = table["observed"] / base if base else np.nan
    table.insert(0, "decile", np.arange(1, len(table) + 1))
    return table


def summary(y, p):
    """The headline figures of one set of predictions."""
    value = auc(y, p)
    return {"auc": value, "gini": 2 * value - 1, "ks": ks(y, p), "brier": float(brier_score_loss(y, p)),
            "ece": ece(y, p), "n": int(len(y)), "bads": int(np.sum(y)), "default_rate": float(np.mean(y))}


def fairness(y, approved, groups):
    """Per group: approval rate, its ratio to the best group (four-fifths rule), true-positive-rate gap.

    A "positive" here is a good loan (no default) that is approved: equal opportunity compares it.
    """
    frame = pd.DataFrame({"good": 1 - np.asarray(y), "approved": np.asarray(approved, dtype=float),
                          "group": np.asarray(groups, dtype=object)})
    frame["group"] = frame["group"].fillna("unknown").astype(str)
    rows = frame.groupby("group").apply(lambda g: pd.Series({
        "n": len(g), "approval_rate": g["approved"].mean(),
        "tpr": g.loc[g["good"] == 1, "approved"].mean() if (g["good"] == 1).any() else np.nan,
    }), include_groups=False)
    best = rows["approval_rate"].max()
    rows["ratio_to_best"] = rows["approval_rate"] / best if best else np.nan
    rows["four_fifths_flag"] = rows["ratio_to_best"] < 0.8
    rows["tpr_gap"] = rows["tpr"].max() - rows["tpr"]
    return rows.reset_index()


def group_calibration(dimension, groups, y, p, true_pd=None):
    """Mean predicted PD against the realised default rate (and the oracle's mean PD) in each group.

    One dict per group, sorted by group: `{dimension, group, n, predicted_pd, oracle_pd, realised_pd,
    ratio_to_oracle}`; the oracle's figures are None without `true_pd` (a real book) and are taken
    over the group's rows whose true PD is known.
    """
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    labels = pd.Series(np.asarray(groups, dtype=object)).fillna("unknown").astype(str).to_numpy()
    truth = None if true_pd is None else np.asarray(true_pd, dtype=float)
    rows = []
    for group in sorted(set(labels)):
        rows_of = labels == group
        oracle = None
        if truth is not None and np.any(rows_of & ~np.isnan(truth)):
            oracle = float(np.nanmean(truth[rows_of]))
        predicted = float(p[rows_of].mean())
        rows.append({"dimension": dimension, "group": group, "n": int(rows_of.sum()), "predicted_pd": predicted,
                     "oracle_pd": oracle, "realised_pd": float(y[rows_of].mean()),
                     "ratio_to_oracle": predicted / oracle if oracle else None})
    return rows
