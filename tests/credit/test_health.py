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


def _awkward_rows(frame):
    """Copies of feature rows with every kind of gap the one-row path has to read as the frame does: months
    unknown now but known six months before and the other way round, no month at all, zero and negative
    values, values given as text or pd.NA, a monthly column absent, no kind or size."""
    months = range(1, health.HEALTH_MONTHS + 1)
    frame = frame.astype({name: object for name in health.HEALTH_INPUTS})
    frame.loc[0::9, [f"hm_revenue_{lag}" for lag in months if lag <= health.CHANGE_LAG]] = np.nan
    frame.loc[1::9, [f"hm_electricity_{lag}" for lag in months if lag > health.CHANGE_LAG]] = np.nan
    frame.loc[2::9, [f"hm_insured_{lag}" for lag in months]] = np.nan
    frame.loc[3::9, ["hm_revenue_2", "hm_electricity_5"]] = 0.0
    frame.loc[3::9, ["hm_insured_1"]] = -4.0
    frame.loc[3::9, ["hm_revenue_9"]] = "2048"
    frame.loc[4::9, ["hm_revenue_1"]] = "1234.5"
    frame.loc[4::9, ["hm_electricity_7"]] = pd.NA
    frame.loc[5::9, ["hm_insured_3"]] = "n/a"
    frame.loc[6::9, list(health.HEALTH_INPUTS)] = np.nan
    frame.loc[7::9, "size_class"] = None
    frame.loc[8::9, "subject_kind"] = np.nan
    frame = frame.astype({"industry_division": object})
    frame.loc[0:1, ["subject_kind", "size_class", "as_of_month"]] = ["enterprise", "micro", 5]
    frame.loc[0, "industry_division"], frame.loc[1, "industry_division"] = 30, 30.0  # "30" and "30.0": two industries
    rows = frame.to_dict("records")
    for row in rows[5::9]:
        del row["hm_electricity_13"]  # absent from the row: missing, as NaN is in the frame
    frame.loc[5::9, "hm_electricity_13"] = np.nan
    return frame, rows


@pytest.mark.parametrize("fitted", ["all", "two signals", "no index"])
def test_the_kept_one_row_filter_gives_the_batch_bits_on_every_kind_of_gap(fitted):
    """RowHealth keeps what a version's parameters allow per peer group and per pattern of known months;
    reused over many rows (what it keeps found again) it still gives each row exactly its batch values,
    also for a version in which a signal could not be fitted or the index was not."""
    params = health.fit(population()[0])
    if fitted == "two signals":
        params = {"signals": {k: v for k, v in params["signals"].items() if k != "electricity"},
                  "index": {k: v for k, v in params["index"].items() if k != "electricity"}}
    elif fitted == "no index":
        params = {**params, "index": {}}
    frame, rows = _awkward_rows(population(400, seed=12)[0])
    whole = pd.DataFrame(health.apply(frame, params))
    one = health.RowHealth(params)
    for _ in range(2):  # the second pass reads only what the first kept
        for i, row in enumerate(rows):
            alone = dict(zip(health.HEALTH_FEATURES, one.values(row), strict=True))
            for name in health.HEALTH_FEATURES:
                expected = whole[name].iloc[i]
                assert alone[name] == expected or (np.isnan(alone[name]) and np.isnan(expected)), (i, name)
    assert whole["health_electricity"].isna().all() == (fitted == "two signals")
    assert whole["health_index"].notna().any() == (fitted != "no index")


def test_a_version_whose_training_had_no_monthly_signal_scores_one_row_with_the_features_missing():
    """A tiny book (the contract check's 300 firms) fits no signal: loading its version for one-row scoring
    raised "itemgetter expected 1 argument" (`flask models activate` failed)."""
    row = dict(build_features(frames(), targets(), TOWNS).iloc[0])
    one = health.RowHealth({"signals": {}})
    assert all(np.isnan(value) for value in one.values(row))
    alone = peers.RowPeers({"health": {"signals": {}}}).values(row)
    assert all(np.isnan(value) for value in alone[-len(health.HEALTH_FEATURES):])


def test_a_row_whose_size_class_or_industry_is_nan_finds_its_kept_group_again():
    """A frame's rows leave a household's size class (and a missing industry) as NaN. Such a row's group was
    kept only under text or None, so it was worked out again for every household scored alone; it is now
    kept under the None that NaN reads as, and gives the values of the row with None."""
    params = health.fit(population()[0])
    rows = population(20, seed=13)[0].to_dict("records")
    one = health.RowHealth(params)
    for row in rows:
        row["size_class"], row["industry_division"] = float("nan"), float("nan")
        one.values(row)
    kept = dict(one._given)
    assert kept and all(key[1] is None and key[2] is None for key in kept)
    one._group_of = None  # a second pass must find every group kept (calling this would raise)
    for row in rows:
        alone = one.values({**row, "size_class": float("nan"), "industry_division": float("nan")})
        as_none = health.RowHealth(params).values({**row, "size_class": None, "industry_division": None})
        np.testing.assert_array_equal(alone, as_none)  # NaN where NaN
