"""The feature module: no look-ahead, thin files stay missing, reasons exist for every feature."""
import numpy as np
import pandas as pd
import pytest

from app.credit.features import FEATURE_NAMES, FEATURES, build_features
from app.credit.health import HEALTH_INPUTS
from app.credit.reasons import TEXTS, sentence

TOWNS = ["610203001", "610203100"]
FIRM, THIN = "91610203MA6XA0011", "610203100001020031"


def frames(extra_months=0):
    """One firm with 24 months of tax and social insurance up to 2025-06, and a thin farmer."""
    months = pd.date_range("2023-07-01", periods=24 + extra_months, freq="MS")
    registration = pd.DataFrame({
        "subject_code": [FIRM, THIN], "kind": ["enterprise", "farmer"], "town_code": TOWNS,
        "industry_code": ["3074", "0151"], "established_on": pd.to_datetime(["2015-01-01", None]),
        "registered_capital": [5e6, np.nan], "size_class": ["small", None]})
    tax = pd.DataFrame({"subject_code": FIRM, "period": months, "revenue": 1e5 + 5000.0 * np.arange(len(months)),
                        "vat": 1000.0, "income_tax": 0.0, "on_time": True, "arrears": 0.0})
    social = pd.DataFrame({"subject_code": FIRM, "period": months, "insured": 20.0, "due": 1e4, "paid": 1e4,
                           "arrears": 0.0})
    return {"registration": registration, "tax_filing": tax, "social_insurance": social}


def targets(as_of="2025-07-01"):
    return pd.DataFrame({"subject_code": [FIRM, THIN], "as_of": pd.to_datetime([as_of, as_of])})


def test_records_dated_after_the_as_of_date_change_nothing():
    before = build_features(frames(), targets(), TOWNS)
    later = frames(extra_months=6)
    later["tax_filing"].loc[later["tax_filing"]["period"] >= "2025-07-01", ["revenue", "arrears"]] = [1.0, 9e6]
    later["penalty"] = pd.DataFrame({"subject_code": [FIRM], "decided_on": pd.to_datetime(["2025-07-02"]),
                                     "severity": ["serious"], "publicity_until": pd.to_datetime(["2027-01-01"]),
                                     "repaired": [False]})
    after = build_features(later, targets(), TOWNS)
    pd.testing.assert_frame_equal(before, after)


def test_the_month_of_the_as_of_date_is_not_used():
    data = frames(extra_months=1)  # adds 2025-07, which has not ended on 2025-07-15
    data["tax_filing"].loc[data["tax_filing"]["period"] == "2025-07-01", "arrears"] = 5e5
    features = build_features(data, targets("2025-07-15"), TOWNS)
    assert features.loc[0, "tax_arrears_wan"] == 0


def test_thin_file_stays_missing_not_bad():
    features = build_features(frames(), targets(), TOWNS).set_index(pd.Index([FIRM, THIN]))
    assert features.loc[FIRM, "tax_months_12"] == 12 and features.loc[FIRM, "si_paid_ratio_12m"] == 1
    for name in ("tax_months_12", "tax_arrears_wan", "si_paid_ratio_12m", "tax_revenue_yoy"):
        assert np.isnan(features.loc[THIN, name]), name
    assert features.loc[THIN, "sources_present"] == 0


def test_feature_values_are_what_the_records_say():
    features = build_features(frames(), targets(), TOWNS)
    revenue = 1e5 + 5000.0 * np.arange(24)
    assert features.loc[0, "tax_revenue_12m_wan"] == pytest.approx(revenue[12:].sum() / 1e4)
    assert features.loc[0, "tax_revenue_yoy"] == pytest.approx(revenue[12:].sum() / revenue[:12].sum() - 1)
    assert features.loc[0, "firm_age_years"] == pytest.approx(10.5, abs=0.01)
    assert list(features.columns) == list(FEATURE_NAMES) + list(HEALTH_INPUTS)  # the health filter's months last


@pytest.mark.parametrize("feature", [f for f in FEATURES if f.kind == "num"], ids=lambda f: f.name)
def test_every_numeric_feature_has_sentences_in_both_languages(feature):
    assert feature.name in TEXTS
    chinese, english = sentence(feature.name, 1.0)
    assert chinese and english and chinese != english
    missing = sentence(feature.name, float("nan"))
    assert all(missing)


def test_protected_and_loan_attributes_are_never_reasons():
    never = {"town", "subject_kind", "size_class", "industry_division", "lender_kind", "as_of_month"}
    assert not [f.name for f in FEATURES if f.name in never and f.reason]


def test_a_source_that_starts_after_the_as_of_date_counts_as_absent():
    data = frames()
    data["housing_fund"] = pd.DataFrame({"subject_code": FIRM, "period": pd.to_datetime(["2025-08-01"]),
                                         "members": [5.0], "paid": [1000.0]})
    features = build_features(data, targets(), TOWNS)
    assert np.isnan(features.loc[0, "hf_months_12"])
    assert features.loc[0, "sources_present"] == 2  # tax and social insurance only


def _with_utilities(data, months):
    """Electricity bills for the firm over `months`: June 2025 and every month after it 40 days late."""
    bills = pd.DataFrame({"subject_code": FIRM, "period": months, "utility": "electricity",
                          "usage": 1000.0, "billed": 620.0, "paid_on_time": True, "days_late": 0})
    bills.loc[bills["period"] >= "2025-06-01", ["paid_on_time", "days_late"]] = [False, 40]
    return {**data, "utilities": bills}


def test_long_history_and_level_features_use_only_records_before_the_as_of_date():
    names = ["tax_late_share_36m", "tax_arrears_months_36m", "si_arrears_latest", "util_late_per_month_36m",
             "util_late30_months_36m", "elec_kwh_12m", "elec_kwh_per_capital", "revenue_per_insured_wan",
             "revenue_to_capital"]
    data = _with_utilities(frames(), pd.date_range("2023-07-01", periods=24, freq="MS"))
    before = build_features(data, targets(), TOWNS)[names]
    later = frames(extra_months=6)
    after_date = later["tax_filing"]["period"] >= "2025-07-01"
    later["tax_filing"].loc[after_date, ["on_time", "arrears"]] = [False, 9e6]
    later["social_insurance"].loc[later["social_insurance"]["period"] >= "2025-07-01", "arrears"] = 5e4
    later = _with_utilities(later, pd.date_range("2023-07-01", periods=30, freq="MS"))
    pd.testing.assert_frame_equal(before, build_features(later, targets(), TOWNS)[names])
    row = before.loc[0]
    revenue = (1e5 + 5000.0 * np.arange(24))[12:].sum() / 1e4
    assert row["tax_late_share_36m"] == 0 and row["tax_arrears_months_36m"] == 0 and row["si_arrears_latest"] == 0
    assert row["util_late_per_month_36m"] == pytest.approx(1 / 24) and row["util_late30_months_36m"] == 1
    assert row["elec_kwh_12m"] == 12_000 and row["elec_kwh_per_capital"] == pytest.approx(12_000 / 500)
    assert row["revenue_per_insured_wan"] == pytest.approx(revenue / 20)
    assert row["revenue_to_capital"] == pytest.approx(revenue / 500)
    thin = build_features(data, targets(), TOWNS).loc[1, names]
    assert thin.isna().all()  # the farmer has none of these records: missing, not bad
