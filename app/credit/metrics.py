"""AUC, KS and PSI: the model figures training reports and the platform shows, each defined once.

Scores are "higher means riskier"; outcomes are 1 for a bad loan and 0 for a good one. The edge
cases are part of the definitions: a figure that compares bads with goods is NaN when either is
missing, and a NaN among the inputs is an error, because a figure over only the rows that happen
to be numbers would be reported as if it covered them all.
"""
import numpy as np

NAN = float("nan")
# The share an empty PSI bin counts as (0.01 %): without a floor one empty bin makes the index
# infinite; a smaller floor lets a single empty bin outweigh every real shift.
PSI_EMPTY_SHARE = 1e-4


def _numbers(values, what):
    values = np.asarray(values, dtype=float).ravel()
    if np.isnan(values).any():
        raise ValueError(f"{what} contain NaN")
    return values


def _outcomes_and_scores(y, score):
    """(bad as booleans, scores as floats), checked."""
    outcomes, scores = _numbers(y, "outcomes"), _numbers(score, "scores")
    if outcomes.shape != scores.shape:
        raise ValueError(f"{len(outcomes)} outcomes but {len(scores)} scores")
    if not np.isin(outcomes, (0, 1)).all():
        raise ValueError("outcomes must be 0 (good) or 1 (bad)")
    return outcomes == 1, scores


def _average_ranks(values):
    """1-based ranks of `values`; tied values share the mean of their ranks."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return (np.cumsum(counts) - (counts - 1) / 2)[inverse]


def auc(y, score):
    """Area under the ROC curve: the chance that a bad row scores above a good one, ties counting half.

    0.5 for constant scores; NaN when the rows hold no bad or no good one.
    """
    bad, scores = _outcomes_and_scores(y, score)
    n_bad = int(bad.sum())
    n_good = len(bad) - n_bad
    if n_bad == 0 or n_good == 0:
        return NAN
    ranks = _average_ranks(scores)
    return float((ranks[bad].sum() - n_bad * (n_bad + 1) / 2) / (n_bad * n_good))


def ks(y, score):
    """Kolmogorov–Smirnov distance: the largest lead of the share of bads over the share of goods
    scoring at or above a threshold (the ROC curve's largest tpr − fpr).

    Measured in the risk direction, so it lies in [0, 1]: 0 for constant scores and for scores that
    rank goods above bads. NaN when the rows hold no bad or no good one.
    """
    bad, scores = _outcomes_and_scores(y, score)
    n_bad = int(bad.sum())
    n_good = len(bad) - n_bad
    if n_bad == 0 or n_good == 0:
        return NAN
    order = np.argsort(-scores, kind="stable")
    ranked, ranked_bad = scores[order], bad[order]
    # A threshold between two distinct scores: tied rows are always on the same side of it.
    last_of_tie = np.append(ranked[1:] != ranked[:-1], True)
    caught = np.cumsum(ranked_bad)[last_of_tie] / n_bad
    flagged = np.cumsum(~ranked_bad)[last_of_tie] / n_good
    return float(max(0.0, np.max(caught - flagged)))


def _bin_shares(cuts, values):
    """The share of `values` in each bin [cut, next cut), empty bins counted as PSI_EMPTY_SHARE."""
    counts = np.bincount(np.searchsorted(cuts, values, side="right"), minlength=len(cuts) + 1)
    return np.maximum(counts / len(values), PSI_EMPTY_SHARE)


def psi(reference, current, bins=10):
    """Population stability index of `current` against `reference`: Σ (a − e) · ln(a / e) over bins.

    The bins are cut at the reference's quantiles (deciles by default); each holds [cut, next cut),
    the outer ones open-ended. Coinciding quantiles make one cut, and a quantile equal to the
    reference's minimum is no cut (the bin below it could hold no reference row, so a few new
    scores under the old minimum would swamp the index). An empty bin counts as PSI_EMPTY_SHARE.
    NaN when either sample is empty or no cut splits the reference (e.g. constant scores).
    """
    reference, current = _numbers(reference, "reference scores"), _numbers(current, "current scores")
    if not len(reference) or not len(current):
        return NAN
    cuts, expected = reference_bins(reference, bins)
    return psi_against(cuts, expected, current)


def reference_bins(reference, bins=10):
    """(cuts, shares) of a reference population for later PSI: cut at its quantiles as `psi` does, and the
    share of the reference in each bin. Stored with a model version (its training population), so a score
    distribution met later is compared without the reference rows."""
    reference = _numbers(reference, "reference scores")
    if not len(reference):
        return np.array([]), np.array([])
    cuts = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    cuts = cuts[cuts > reference.min()]
    return cuts, _bin_shares(cuts, reference)


def psi_against(cuts, expected, current):
    """PSI of `current` scores against a reference given by its bins (`reference_bins`); NaN without cuts or
    current scores."""
    current = _numbers(current, "current scores")
    cuts, expected = np.asarray(cuts, dtype=float), np.asarray(expected, dtype=float)
    if not len(cuts) or not len(current):
        return NAN
    actual = _bin_shares(cuts, current)
    return float(np.sum((actual - expected) * np.log(actual / expected)))
