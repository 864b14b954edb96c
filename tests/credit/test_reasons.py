"""Reason sentences: plain words with units, counts where a rate over months stands for one."""
import math

import pytest

from app.credit.features import BY_NAME
from app.credit.reasons import MISSING_FEATURE, TEXTS, reason_sentence, sentence, sentence_of

TECHNICAL = ("变异系数", "对数几率", "基准值", "coefficient of variation", "log-odds")


@pytest.mark.parametrize("feature", sorted(TEXTS))
def test_no_sentence_uses_a_statisticians_word(feature):
    value = 1.0 if feature not in ("tax_grade_rank",) else 2.0
    for text in (*sentence(feature, value), *sentence(feature, math.nan)):
        assert not any(word in text for word in TECHNICAL), text


def test_a_rate_over_months_reads_as_the_count_it_stands_for():
    zh, en = sentence("util_late_per_month_36m", 13 / 36, {"util_billed_months_36m": 36.0})
    assert zh == "近3年有 13 笔水电气账单逾期缴费（36 个月的账单中）"
    assert en == "13 utility bills paid late in 3 years (bills of 36 months)"
    zh, en = sentence("tax_late_share_36m", 4 / 30, {"tax_filed_months_36m": 30.0})
    assert zh == "近3年 30 个月的纳税申报中有 4 个月逾期" and en == "4 of 30 monthly tax filings late over 3 years"
    assert sentence("util_late_per_month_36m", 0.0, {"util_billed_months_36m": 20.0})[0] == \
        "近3年 20 个月的水电气账单均按期缴纳"


def test_without_the_months_a_rate_still_reads_with_its_unit():
    assert sentence("util_late_per_month_36m", 0.36)[0] == "近3年水电气账单平均每月逾期 0.36 笔"
    assert sentence("util_late_per_month_36m", 0.36, {"util_billed_months_36m": math.nan})[0] == \
        "近3年水电气账单平均每月逾期 0.36 笔"


def test_a_stored_reason_is_read_with_its_months_and_a_missing_value_says_what_is_missing():
    reason = {"feature": "util_late_per_month_36m", "value": 0.25, "months": 24.0}
    assert reason_sentence(reason)[0] == "近3年有 6 笔水电气账单逾期缴费（24 个月的账单中）"
    assert reason_sentence({"feature": "tax_revenue_cv", "value": None}) == MISSING_FEATURE["tax_revenue_cv"]
    assert BY_NAME["util_late_per_month_36m"].actionable


def test_no_change_reads_as_unchanged_and_a_health_change_names_the_peers():
    """Seen on the demo farmer's chart: "近3个月用电量同比下降0%" and "…同类主体间差异的 39%" for a household."""
    assert sentence("elec_usage_yoy", -0.004) == ("近3个月用电量同比基本持平",
                                                  "electricity use over 3 months, year on year, about unchanged")
    assert sentence("elec_usage_yoy", -0.2)[0] == "近3个月用电量同比下降20%"
    assert sentence("health_index_change_6m", 0.39, {"peer": ("farmer", None)})[0] == (
        "经营状况较半年前回升，幅度为同类农户间差异的 39%")
    stored = {"feature": "health_index_change_6m", "value": -0.2, "peer": ["enterprise", "small"]}
    assert reason_sentence(stored)[1] == (
        "business health fell over six months by 20% of the spread among similar small enterprises")
    assert sentence("health_index_change_6m", 0.001)[0] == "经营状况与半年前基本持平"


def test_the_peers_are_named_as_given_whichever_was_asked_first():
    """The names of the peers are kept per peer: a kind without size, the same kind with one, a stored
    list and a tuple, and no peer at all each read as their own."""
    asked = [("enterprise", None), ("enterprise", "small"), ["enterprise", "small"], None, ("farmer", None),
             ["farmer"], ("enterprise", None), (None, None)]
    said = [sentence("revenue_peer_pctl", 30.0, {"peer": peer})[0] for peer in asked]
    assert said == ["营业收入低于同类企业的 70%", "营业收入低于同类小型企业的 70%", "营业收入低于同类小型企业的 70%",
                    "营业收入低于同类主体的 70%", "营业收入低于同类农户的 70%", "营业收入低于同类农户的 70%",
                    "营业收入低于同类企业的 70%", "营业收入低于同类主体的 70%"]


@pytest.mark.parametrize("feature", sorted(TEXTS))
def test_what_is_worked_out_once_per_feature_says_what_sentence_says(feature):
    """sentence_of (what a Scorer keeps per model input) gives sentence's words for a missing and for a known value."""
    missing, known = sentence_of(feature)
    value = 1.0 if feature != "tax_grade_rank" else 2.0
    context = {"util_billed_months_36m": 24.0, "tax_filed_months_36m": 30.0, "peer": ("farmer", None)}
    assert missing == sentence(feature, math.nan) == sentence(feature, None, context)
    assert known(value, context) == sentence(feature, value, context)
    assert known(value, {}) == sentence(feature, value)
