"""The issue-16 targets of a version on its out-of-time holdout, each with a 95 % interval.

`training.evaluate --intervals N` adds them to the report; `benchmarks.model` prints them. The
intervals are a paired bootstrap over the holdout loans (the same resampled loans for the model, the
WOE baseline and the oracle in each draw); the baseline is the one fitted on the training loans, not
refitted per draw, so the intervals say how much the figures move with which loans are in the holdout,
not with the training data or the seed.

Targets (issue 16, on a 50,000-firm district, out of time):

- `expected_auc_to_oracle` ≥ 0.93 (expected AUC under outcomes drawn from the true PD);
- `auc_gain_over_baseline` ≥ 0.02 (holdout AUC against the WOE scorecard's);
- `ece` ≤ 0.015;
- `group_calibration`: every group with ≥ 100 holdout loans has mean PD ÷ the oracle's mean PD within
  0.85–1.18;
- `four_fifths_subject_kind`: a subject kind is flagged (approval at grades A–C below four fifths of
  the best kind's) only where the grades the true PD gives flag it too.

For the two targets that are a yes or no over several groups, the "interval" is the share of
bootstrap draws in which the target holds, with each group's ratio and its interval beside it.
"""
import numpy as np
import pandas as pd

from app.credit.features import MODEL_INPUTS
from app.credit.metrics import auc
from app.credit.peers import with_peers

from . import metrics
from .evaluation import APPROVED_GRADES, FAIRNESS_GROUPS, _left_out, fairness_groups
from .scorecard import WoeScorecard

TARGETS = {"expected_auc_to_oracle": (">=", 0.93), "auc_gain_over_baseline": (">=", 0.02), "ece": ("<=", 0.015)}
GROUP_MIN_LOANS, GROUP_RATIO = 100, (0.85, 1.18)
FOUR_FIFTHS = 0.8
DRAWS, SEED = 1000, 0


def _ci(values):
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    return [float(v) for v in np.percentile(values, [2.5, 97.5])] if len(values) else [None, None]


def _meets(value, op, bound):
    return bool(value >= bound if op == ">=" else value <= bound)


def holdout(bundle, examples, truth):
    """The holdout's arrays: outcomes, the model's PD, the baseline's PD, the true PD (NaN where unknown),
    each fairness dimension's group labels and the model's and the oracle's approvals (grades A–C)."""
    cuts = [pd.Timestamp(d) for d in bundle.metadata["split"]["cuts"]]
    train, _valid, hold = examples.parts(cuts)
    # the frames `evaluation.evaluate` reads: the version's tables fill the peer and health features, the
    # features an ablated version was trained without are blanked for it, the baseline reads the model's
    # inputs only (not the health filter's months), and the groups are what the loans are
    described, y = with_peers(examples.X, bundle.metadata.get("peers")), np.asarray(examples.y, dtype=float)
    X = _left_out(described, (bundle.metadata.get("ablated") or {}).get("features", ()))
    p = bundle.predict_pd(X[hold])
    inputs = X[[name for name in MODEL_INPUTS if name in X.columns]]
    baseline = WoeScorecard().fit(inputs[train], examples.y[train]).predict_proba(inputs[hold])[:, 1]
    true_pd = np.asarray(truth[hold], dtype=float)
    known = np.nan_to_num(true_pd, nan=np.nanmean(true_pd))  # as the report's fairness_oracle
    groups = {name: pd.Series(np.asarray(values, dtype=object)).fillna("unknown").astype(str).to_numpy()
              for name, values in fairness_groups(described[hold]).items()}
    return {"y": y[hold], "p": np.asarray(p, dtype=float), "baseline": np.asarray(baseline, dtype=float),
            "true_pd": true_pd, "groups": groups,
            "approved": np.isin(bundle.scale.grades(p), APPROVED_GRADES),
            "oracle_approved": np.isin(bundle.scale.grades(known), APPROVED_GRADES)}


def _point(y, p, baseline, true_pd):
    known = ~np.isnan(true_pd)
    oracle_expected = metrics.expected_auc(true_pd[known], true_pd[known])
    return {"expected_auc_to_oracle": metrics.expected_auc(p[known], true_pd[known]) / oracle_expected,
            "auc_gain_over_baseline": auc(y, p) - auc(y, baseline), "ece": metrics.ece(y, p)}


def _group_ratios(labels, names, p, true_pd):
    """Per group name: mean PD ÷ the oracle's mean PD (over the group's rows with a known true PD)."""
    index = np.searchsorted(names, labels)
    known = ~np.isnan(true_pd)
    predicted = np.bincount(index, weights=p, minlength=len(names)) / np.bincount(index, minlength=len(names))
    oracle = (np.bincount(index[known], weights=true_pd[known], minlength=len(names))
              / np.bincount(index[known], minlength=len(names)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return predicted / oracle


def _approval_ratios(labels, names, approved):
    """Per group name: approval rate ÷ the best group's."""
    index = np.searchsorted(names, labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.bincount(index, weights=approved.astype(float), minlength=len(names)) / np.bincount(
            index, minlength=len(names))
        return rates / np.nanmax(rates)


def target_intervals(data, draws=DRAWS, seed=SEED):
    """Each target's value, 95 % interval and whether it is met (see the module's docstring)."""
    y, p, baseline, true_pd = data["y"], data["p"], data["baseline"], data["true_pd"]
    point = _point(y, p, baseline, true_pd)
    # group calibration: every dimension's groups; the target is judged on those with >= 100 loans
    dims = {name: np.unique(data["groups"][name]) for name in FAIRNESS_GROUPS}
    counts = {name: np.array([(data["groups"][name] == g).sum() for g in names]) for name, names in dims.items()}
    ratios = {name: _group_ratios(data["groups"][name], names, p, true_pd) for name, names in dims.items()}
    kinds = dims["subject_kind"]
    kind_labels = data["groups"]["subject_kind"]
    model_kind = _approval_ratios(kind_labels, kinds, data["approved"])
    oracle_kind = _approval_ratios(kind_labels, kinds, data["oracle_approved"])

    rng = np.random.default_rng(seed)
    samples = {key: [] for key in point}
    group_samples = {name: [] for name in dims}
    kind_samples = {"model": [], "oracle": []}
    for _ in range(draws):
        rows = rng.integers(0, len(y), len(y))
        if not 0 < y[rows].sum() < len(rows):
            continue
        for key, value in _point(y[rows], p[rows], baseline[rows], true_pd[rows]).items():
            samples[key].append(value)
        for name, names in dims.items():
            drawn = np.full(len(names), np.nan)
            present = np.isin(names, data["groups"][name][rows])
            drawn[present] = _group_ratios(data["groups"][name][rows], names[present], p[rows],
                                           true_pd[rows])
            group_samples[name].append(drawn)
        drawn = {key: np.full(len(kinds), np.nan) for key in kind_samples}
        present = np.isin(kinds, kind_labels[rows])
        drawn["model"][present] = _approval_ratios(kind_labels[rows], kinds[present], data["approved"][rows])
        drawn["oracle"][present] = _approval_ratios(kind_labels[rows], kinds[present],
                                                    data["oracle_approved"][rows])
        for key in kind_samples:
            kind_samples[key].append(drawn[key])

    result = {key: {"value": float(point[key]), "ci95": _ci(samples[key]), "target": f"{op} {bound}",
                    "met": _meets(point[key], op, bound)} for key, (op, bound) in TARGETS.items()}
    low, high = GROUP_RATIO
    groups, held_in_draws = [], np.ones(len(samples["ece"]), dtype=bool)
    for name, names in dims.items():
        drawn = np.vstack(group_samples[name]) if group_samples[name] else np.empty((0, len(names)))
        for j, group in enumerate(names):
            judged = bool(counts[name][j] >= GROUP_MIN_LOANS)
            inside = bool(low <= ratios[name][j] <= high) if not np.isnan(ratios[name][j]) else False
            groups.append({"dimension": name, "group": str(group), "n": int(counts[name][j]),
                           "ratio_to_oracle": None if np.isnan(ratios[name][j]) else float(ratios[name][j]),
                           "ci95": _ci(drawn[:, j]), "judged": judged, "within": inside})
            if judged and len(drawn):
                held_in_draws &= (drawn[:, j] >= low) & (drawn[:, j] <= high)
    judged = [g for g in groups if g["judged"]]
    result["group_calibration"] = {
        "target": f"every group with >= {GROUP_MIN_LOANS} holdout loans within {low}-{high} of the oracle",
        "met": bool(judged) and all(g["within"] for g in judged),
        "groups_judged": len(judged), "groups_within": sum(g["within"] for g in judged),
        "share_of_draws_met": float(held_in_draws.mean()) if len(held_in_draws) else None, "groups": groups}

    model_draws, oracle_draws = (np.vstack(kind_samples[k]) if kind_samples[k] else np.empty((0, len(kinds)))
                                 for k in ("model", "oracle"))
    rows = [{"group": str(kind), "n": int(counts["subject_kind"][j]),
             "ratio_to_best": float(model_kind[j]), "ci95": _ci(model_draws[:, j]),
             "flag": bool(model_kind[j] < FOUR_FIFTHS),
             "oracle_ratio_to_best": float(oracle_kind[j]), "oracle_ci95": _ci(oracle_draws[:, j]),
             "oracle_flag": bool(oracle_kind[j] < FOUR_FIFTHS)} for j, kind in enumerate(kinds)]
    # a draw meets the target when no kind is flagged by the model's grades without the oracle's
    with np.errstate(invalid="ignore"):
        extra = (model_draws < FOUR_FIFTHS) & ~(oracle_draws < FOUR_FIFTHS)
    result["four_fifths_subject_kind"] = {
        "target": "a subject kind flagged (approval below 4/5 of the best kind's, grades A-C) only where the "
                  "oracle's grades flag it",
        "met": not any(r["flag"] and not r["oracle_flag"] for r in rows),
        "flagged": [r["group"] for r in rows if r["flag"]],
        "oracle_flagged": [r["group"] for r in rows if r["oracle_flag"]],
        "share_of_draws_met": float((~extra.any(axis=1)).mean()) if len(extra) else None, "groups": rows}
    result["draws"] = len(samples["ece"])
    return result


def targets_met(intervals):
    """{target: met} of a target_intervals result."""
    return {key: value["met"] for key, value in intervals.items() if isinstance(value, dict)}
