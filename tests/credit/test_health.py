"""The learned health estimate: fitted on training rows, no look-ahead, alone = batch, missing stays missing."""
import numpy as np
import pandas as pd
import pytest

from app.credit import health, peers
from app.credit.features import BY_NAME, build_features

from .test_features import TOWNS, frames, targets


def population(n=2000, seed=5, q=0.04, r=0.09, months=health.HEALTH_MONTHS):
    """Feature rows whose monthly signals follow a local level (variances q, r in units of the peers' sd)
    around kind-dependent scales; each row's common level drives all three signals."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["enterprise", "individual_business"], n)
    size = rng.choice(["micro", "small"], n)
    start = rng.normal(0, 1, n)
    steps = rng.normal(0, np.sqrt(q), (n, months)).cumsum(axis=1)
    level = start[:, None] + steps  # oldest first
    enterprise = kind == "enterprise"
    scale = {"revenue": np.where(enterprise, 12.0, 10.0), "electricity": np.where(enterprise, 9.0, 6.0),
             "insured": np.where(enterprise, 3.0, 1.0)}
    frame = {"subject_kind": kind, "size_class": size, "industry_division": rng.choice(["30", "52"], n),
             "as_of_month": rng.integers(1, 13, n)}
    for signal in health.SIGNALS:
        logs = scale[signal][:, None] + level + rng.normal(0, np.sqrt(r), (n, months))
        values = np.exp(logs)[:, ::-1]  # newest first, as the feature module gives them
        for lag in range(months):
            frame[f"hm_{signal}_{lag + 1}"] = values[:, lag]
    return pd.DataFrame(frame), level[:, -1]


def test_the_noise_variances_are_estimated_from_the_training_rows():
    frame, _ = population()
    fitted = health.fit(frame)["signals"]
    # in units of the peers' sd (about 1 + the walk's spread): the ratio q / r is what the filter needs
    for signal in health.SIGNALS:
        ratio = fitted[signal]["q"] / fitted[signal]["r"]
        assert ratio == pytest.approx(0.04 / 0.09, rel=0.25), signal
    assert fitted["revenue"]["peers"]["enterprise|*"][0] == pytest.approx(12.0, abs=0.2)


def test_the_filtered_level_tracks_the_hidden_level_better_than_the_last_month():
    train, _ = population()
    params = health.fit(train)
    test, truth = population(1000, seed=8)
    found = health.apply(test, params)
    last = np.log(test["hm_revenue_1"].to_numpy())
    assert np.corrcoef(found["health_index"], truth)[0, 1] > np.corrcoef(last, truth)[0, 1] + 0.02
    assert np.corrcoef(found["health_index"], truth)[0, 1] > np.corrcoef(found["health_revenue"], truth)[0, 1]


def test_a_subject_alone_equals_its_row_in_the_batch_and_partitions_equal_the_whole_frame():
    params = health.fit(population()[0])
    frame = population(300, seed=9)[0]
    frame.loc[::7, [f"hm_revenue_{lag}" for lag in range(1, 5)]] = np.nan  # gaps in some histories
    frame.loc[::11, [f"hm_insured_{lag}" for lag in range(1, health.HEALTH_MONTHS + 1)]] = np.nan
    whole = pd.DataFrame(health.apply(frame, params))
    parts = pd.concat([pd.DataFrame(health.apply(frame.iloc[k:k + 37], params)) for k in range(0, len(frame), 37)],
                      ignore_index=True)
    pd.testing.assert_frame_equal(whole, parts)
    for i, row in enumerate(frame.to_dict("records")):
        alone = health.row_features(row, params)
        for name in health.HEALTH_FEATURES:
            assert alone[name] == pytest.approx(whole[name].iloc[i], nan_ok=True, rel=0, abs=0)


def test_no_history_stays_missing_not_average():
    params = health.fit(population()[0])
    frame = population(3, seed=4)[0]
    frame[[f"hm_insured_{lag}" for lag in range(1, health.HEALTH_MONTHS + 1)]] = np.nan
    frame.loc[0, list(health.HEALTH_INPUTS)] = np.nan
    found = health.apply(frame, params)
    assert all(np.isnan(found[name][0]) for name in health.HEALTH_FEATURES)
    assert np.isnan(found["health_insured"][1]) and not np.isnan(found["health_index"][1])


def test_later_months_change_nothing_of_an_earlier_date():
    params = health.fit(population()[0])
    tables = {"health": params}
    before = build_features(frames(), targets(), TOWNS, peers=tables)
    assert not np.isnan(before.loc[0, "health_revenue"])
    later = frames(extra_months=6)
    later["tax_filing"].loc[later["tax_filing"]["period"] >= "2025-07-01", "revenue"] = 1.0  # a collapse after
    later["social_insurance"].loc[later["social_insurance"]["period"] >= "2025-07-01", "insured"] = 1.0
    after = build_features(later, targets(), TOWNS, peers=tables)
    pd.testing.assert_frame_equal(before, after)
    collapsed = build_features(later, targets("2026-01-01"), TOWNS, peers=tables)
    assert collapsed.loc[0, "health_revenue"] < before.loc[0, "health_revenue"] - 1  # it is seen once it has happened


def test_the_health_features_are_one_family_and_missing_without_fitted_parameters():
    bare = build_features(frames(), targets(), TOWNS)
    assert bare[list(health.HEALTH_FEATURES)].isna().all().all()
    assert list(bare.columns[-len(health.HEALTH_INPUTS):]) == list(health.HEALTH_INPUTS)
    assert bare.loc[0, "hm_revenue_1"] == pytest.approx(1e5 + 5000.0 * 23)  # June 2025, the last month before July
    assert all(BY_NAME[name].family == "health" for name in health.HEALTH_FEATURES)
    row = dict(bare.iloc[0])
    assert peers.row_percentiles(row, {"health": health.fit(population()[0])})["health_index"] == pytest.approx(
        peers.with_peers(bare, {"health": health.fit(population()[0])}).loc[0, "health_index"])


def test_reasons_say_the_health_estimate_against_peers_in_both_languages():
    from app.credit.reasons import sentence

    assert sentence("health_index", -0.84, {"peer": ("farmer", None)}) == (
        "综合收入、用电和参保人数估计的经营状况低于约 80% 的同类农户",
        "Business health estimated from revenue, power use and headcount below about 80% of similar farm households")
    assert sentence("health_index_change_6m", -0.42)[0] == "经营状况较半年前下滑，幅度为同类主体间差异的 42%"
    assert "无法估计" in sentence("health_index", float("nan"))[0]
    assert sentence("health_revenue", float("nan"))[1].startswith("no declared revenue")
