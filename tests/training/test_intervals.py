"""The issue-16 targets with their bootstrap intervals (training/intervals.py) on constructed holdouts."""
import numpy as np
import pytest

from app.credit.metrics import auc
from training import intervals, metrics


def holdout(n=3000, seed=1, farmer_bias=1.0):
    """A holdout whose true PD is known: enterprises safer than farmers, the model the truth with noise
    (farmers' PDs times `farmer_bias`), the baseline a noisier copy."""
    rng = np.random.default_rng(seed)
    kind = np.where(rng.random(n) < 0.3, "farmer", "enterprise")
    true_pd = np.where(kind == "farmer", rng.beta(2, 20, n), rng.beta(1.5, 40, n))
    y = (rng.random(n) < true_pd).astype(float)
    p = np.clip(true_pd * np.exp(rng.normal(0, 0.3, n)), 1e-4, 0.9)
    p[kind == "farmer"] *= farmer_bias
    baseline = np.clip(true_pd * np.exp(rng.normal(0, 1.0, n)), 1e-4, 0.9)
    town = rng.choice(["610203001", "610203002", "610203003"], n)
    size = np.where(kind == "farmer", "unknown", "micro")
    thin = np.where(rng.random(n) < 0.2, "thin", "full")
    grades = lambda pd_: np.asarray(pd_) <= 0.05  # approved at grades A–C: PD up to 5 %  # noqa: E731
    return {"y": y, "p": p, "baseline": baseline, "true_pd": true_pd,
            "groups": {"subject_kind": kind, "town": town, "size_class": size, "thin_file": thin},
            "approved": grades(p), "oracle_approved": grades(true_pd)}


def test_the_point_values_are_the_reports_and_the_intervals_hold_them():
    data = holdout()
    result = intervals.target_intervals(data, draws=200)
    y, p, t = data["y"], data["p"], data["true_pd"]
    assert result["expected_auc_to_oracle"]["value"] == pytest.approx(
        metrics.expected_auc(p, t) / metrics.expected_auc(t, t))
    assert result["auc_gain_over_baseline"]["value"] == pytest.approx(auc(y, p) - auc(y, data["baseline"]))
    assert result["ece"]["value"] == pytest.approx(metrics.ece(y, p))
    for key in intervals.TARGETS:
        low, high = result[key]["ci95"]
        assert low < result[key]["value"] < high
    assert result["draws"] == 200
    farmers = data["groups"]["subject_kind"] == "farmer"
    row = next(g for g in result["group_calibration"]["groups"] if g["group"] == "farmer")
    assert row["ratio_to_oracle"] == pytest.approx(p[farmers].mean() / t[farmers].mean())
    assert row["ci95"][0] < row["ratio_to_oracle"] < row["ci95"][1] and row["judged"]


def test_a_group_priced_a_third_too_high_fails_group_calibration():
    fair, biased = (intervals.target_intervals(holdout(farmer_bias=b), draws=100)["group_calibration"]
                    for b in (1.0, 1.33))
    assert fair["met"] and fair["share_of_draws_met"] > 0.5
    farmer = next(g for g in biased["groups"] if g["group"] == "farmer")
    assert not biased["met"] and not farmer["within"] and farmer["ci95"][0] > 1.18
    assert biased["share_of_draws_met"] < 0.05
    assert all(g["judged"] == (g["n"] >= 100) for g in biased["groups"])


def test_four_fifths_flags_count_only_where_the_oracle_would_not_flag():
    data = holdout()
    result = intervals.target_intervals(data, draws=100)["four_fifths_subject_kind"]
    # farmers' true PDs are higher: the oracle's own grades flag them, so the model may too
    assert "farmer" in result["oracle_flagged"]
    assert result["met"] == (set(result["flagged"]) <= set(result["oracle_flagged"]))
    enterprises = data["groups"]["subject_kind"] == "enterprise"
    data["approved"] = data["approved"] & ~(enterprises & (np.arange(len(enterprises)) % 2 == 0))  # half refused
    data["approved"][~enterprises] = True  # every farmer approved: enterprises fall below 4/5 of them
    skewed = intervals.target_intervals(data, draws=100)["four_fifths_subject_kind"]
    assert skewed["flagged"] == ["enterprise"] and "enterprise" not in skewed["oracle_flagged"]
    assert not skewed["met"] and skewed["share_of_draws_met"] < 0.05
