"""Features within peers: fitted tables applied row by row (alone = batch = partitions), no look-ahead,
reasons in words with the peers named, and calibration offsets per group."""
import numpy as np
import pandas as pd
import pytest

from app.credit import peers
from app.credit.features import BY_NAME, build_features
from app.credit.reasons import reason_sentence, sentence

from .test_features import TOWNS, frames, targets


def population(n=600, seed=3):
    """Farmers using little power, enterprises using a lot, of several sizes; some values missing."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["farmer", "enterprise", "individual_business"], n)
    size = np.where(kind == "farmer", None, rng.choice(["micro", "small"], n))
    kwh = np.where(kind == "farmer", rng.lognormal(7, 0.5, n), rng.lognormal(11, 0.7, n))
    kwh[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({"subject_kind": kind, "size_class": size, "elec_kwh_12m": kwh,
                         "tax_revenue_12m_wan": np.where(kind == "farmer", np.nan, rng.lognormal(4, 1, n)),
                         "si_insured": rng.integers(0, 30, n).astype(float)})


def test_a_household_is_read_against_households_not_factories():
    train = population()
    tables = peers.fit_tables(train)
    probe = pd.DataFrame({"subject_kind": ["farmer", "enterprise"], "size_class": [None, "small"],
                          "elec_kwh_12m": [1435.0, 1435.0], "tax_revenue_12m_wan": [np.nan, 50.0],
                          "si_insured": [1.0, 1.0]})
    found = peers.percentiles(probe, tables)["elec_kwh_peer_pctl"]
    farmers = train.loc[train["subject_kind"] == "farmer", "elec_kwh_12m"].dropna()
    assert found[0] == pytest.approx((farmers < 1435).mean() * 100, abs=3)  # near the middle of households
    assert found[1] < 1  # the same kWh is the bottom among small enterprises
    assert np.isnan(peers.percentiles(probe, tables)["revenue_peer_pctl"][0])  # no revenue: missing, not low


def test_a_subject_alone_equals_its_row_in_the_batch_and_partitions_equal_the_whole_frame():
    tables = peers.fit_tables(population())
    frame = population(200, seed=9)
    whole = peers.with_peers(frame, tables)
    parts = pd.concat([peers.with_peers(frame.iloc[k:k + 29], tables) for k in range(0, len(frame), 29)])
    pd.testing.assert_frame_equal(whole, parts)
    for i, row in enumerate(frame.to_dict("records")):
        alone = peers.row_percentiles(row, tables)
        for name in peers.PEER_FEATURES:
            assert alone[name] == pytest.approx(whole[name].iloc[i], nan_ok=True)


def test_the_tables_come_from_the_training_rows_only():
    train, later = population(), population(300, seed=11)
    later["elec_kwh_12m"] *= 100  # a later population far richer in power
    tables = peers.fit_tables(train)
    assert tables == peers.fit_tables(train.copy())
    before = peers.with_peers(train, tables)
    peers.with_peers(pd.concat([train, later]), tables)  # scoring later rows moves nothing
    pd.testing.assert_frame_equal(peers.with_peers(train, tables), before)
    assert peers.with_peers(later, tables)["elec_kwh_peer_pctl"].dropna().min() > 90


def test_build_features_fills_the_percentiles_only_from_given_tables():
    bare = build_features(frames(), targets(), TOWNS)
    assert bare[list(peers.PEER_FEATURES)].isna().all().all()
    tables = {"si_insured": {"enterprise|small": list(np.linspace(0, 40, 41))}}
    filled = build_features(frames(), targets(), TOWNS, peers=tables)
    assert filled.loc[0, "insured_peer_pctl"] == pytest.approx(50)  # 20 insured of 0..40
    assert np.isnan(filled.loc[1, "insured_peer_pctl"])  # the thin farmer: no table, no record
    assert all(BY_NAME[name].family == "peers" for name in peers.PEER_FEATURES)


def test_reasons_say_whom_the_subject_is_compared_with():
    assert sentence("elec_kwh_peer_pctl", 20.0, {"peer": ("farmer", None)}) == (
        "用电量低于同类农户的 80%", "Electricity use below 80% of similar farm households")
    assert sentence("revenue_peer_pctl", 90.0, {"peer": ("enterprise", "small")}) == (
        "营业收入高于同类小型企业的 90%", "Revenue above 90% of similar small enterprises")
    stored = {"feature": "insured_peer_pctl", "value": 10.0, "peer": ["individual_business", "micro"]}
    assert reason_sentence(stored)[0] == "社保参保人数低于同类微型个体工商户的 90%"
    assert "同类" in sentence("elec_kwh_peer_pctl", float("nan"))[0]


def test_group_offsets_match_each_groups_default_rate():
    rng = np.random.default_rng(5)
    groups = np.array(["farmer/thin"] * 3000 + ["enterprise/full"] * 3000, dtype=object)
    logit = rng.normal(-3, 0.8, 6000)
    true = logit + np.where(groups == "farmer/thin", -0.7, 0.2)  # the model over-rates farmers' risk
    y = (rng.random(6000) < 1 / (1 + np.exp(-true))).astype(float)
    offsets = peers.fit_group_offsets(logit, y, groups)
    assert offsets["farmer/thin"] < -0.4 and offsets["enterprise/full"] > 0.05
    for group, delta in offsets.items():
        rows = groups == group
        assert np.mean(1 / (1 + np.exp(-(logit[rows] + delta)))) == pytest.approx(y[rows].mean(), rel=0.06)
    assert peers.group_offset(offsets, ["farmer", "cooperative"], [0, 3]).tolist() == [offsets["farmer/thin"], 0.0]


def test_the_one_row_lookup_gives_the_batch_percentiles_exactly():
    """RowPeers (plain lists, bisection) gives the very floats of row_percentiles and of the batch: on a
    table's own quantiles (ties), between them, below and above every one, missing values and groups."""
    tables = peers.fit_tables(population())
    quantiles = [q for table in tables.values() for values in table.values() for q in values]
    rng = np.random.default_rng(5)
    probes = [*quantiles, *rng.choice(quantiles, 200) * rng.uniform(0.9, 1.1, 200), -1.0, 0.0, 1e12, np.nan]
    rows = [{"subject_kind": kind, "size_class": size, "elec_kwh_12m": value, "tax_revenue_12m_wan": value,
             "si_insured": value}
            for value in probes
            for kind, size in (("farmer", None), ("enterprise", "small"), ("individual_business", "medium"),
                               (None, None), ("cooperative", "micro"))]
    lookup = peers.RowPeers(tables)
    whole = peers.with_peers(pd.DataFrame(rows), tables)
    for i, row in enumerate(rows):
        alone, reference = lookup(row), peers.row_percentiles(row, tables)
        for name in peers.PEER_FEATURES:
            assert alone[name] == reference[name] or np.isnan(alone[name]) and np.isnan(reference[name])
            assert alone[name] == whole[name].iloc[i] or np.isnan(alone[name]) and np.isnan(whole[name].iloc[i])

