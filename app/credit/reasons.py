"""Reason sentences: each feature's value in words a loan officer reads, in Chinese and English."""
import math

from .features import BY_NAME

GRADES = "ABMCD"


def _pct(v):
    return f"{abs(v) * 100:.0f}%"


def _num(v, digits=1):
    return f"{v:,.{digits}f}"


def _change(zh_subject, en_subject):
    def text(v):
        if round(abs(v) * 100) == 0:  # "下降0%" reads as a fall
            return f"{zh_subject}基本持平", f"{en_subject} about unchanged"
        pct = _pct(v)
        if v < 0:
            return f"{zh_subject}下降{pct}", f"{en_subject} fell by {pct}"
        return f"{zh_subject}增长{pct}", f"{en_subject} grew by {pct}"
    return text


# feature → function(value) → (Chinese, English)
TEXTS = {
    "firm_age_years": lambda v: (f"成立年限 {v:.1f} 年", f"in business for {v:.1f} years"),
    "registered_capital_wan": lambda v: (f"注册资本 {_num(v)} 万元", f"registered capital {_num(v)} ×10k yuan"),
    "tax_months_12": lambda v: (f"近12个月有 {v:.0f} 个月纳税申报记录", f"tax filings in {v:.0f} of 12 months"),
    "tax_revenue_12m_wan": lambda v: (f"近12个月纳税申报营业收入 {_num(v)} 万元",
                                      f"revenue declared for tax over 12 months: {_num(v)} ×10k yuan"),
    "tax_revenue_yoy": _change("纳税申报营业收入同比", "declared revenue year on year"),
    "tax_revenue_cv": lambda v: (f"近12个月每月营业收入上下起伏，幅度约为月平均收入的 {v * 100:.0f}%",
                                 f"monthly revenue over 12 months swings by about {v * 100:.0f}% of its average"),
    "tax_late_filings_12m": lambda v: (f"近12个月逾期申报 {v:.0f} 次", f"{v:.0f} late tax filings in 12 months"),
    "tax_arrears_wan": lambda v: (f"当前欠税 {_num(v, 2)} 万元", f"tax arrears of {_num(v, 2)} ×10k yuan"),
    "tax_arrears_months_12m": lambda v: (f"近12个月有 {v:.0f} 个月存在欠税", f"tax arrears in {v:.0f} of 12 months"),
    "tax_grade_rank": lambda v: (f"纳税信用等级为 {GRADES[int(v)]}", f"tax credit grade {GRADES[int(v)]}"),
    "tax_grade_drop": lambda v: (("纳税信用等级较上年下降", "tax credit grade fell from last year") if v
                                 else ("纳税信用等级未下降", "tax credit grade did not fall")),
    "si_insured": lambda v: (f"社保参保人数 {v:.0f} 人", f"{v:.0f} people insured"),
    "si_insured_change_12m": _change("社保参保人数近12个月", "insured headcount over 12 months"),
    "si_arrears_months_12m": lambda v: (f"近12个月有 {v:.0f} 个月社保欠缴",
                                        f"social insurance arrears in {v:.0f} of 12 months"),
    "si_paid_ratio_12m": lambda v: (f"近12个月社保实缴为应缴的 {v * 100:.0f}%",
                                    f"paid {v * 100:.0f}% of social insurance due over 12 months"),
    "hf_members": lambda v: (f"公积金缴存人数 {v:.0f} 人", f"{v:.0f} housing-fund members"),
    "hf_months_12": lambda v: (f"近12个月有 {v:.0f} 个月缴存公积金", f"housing fund paid in {v:.0f} of 12 months"),
    "elec_usage_yoy": _change("近3个月用电量同比", "electricity use over 3 months, year on year,"),
    "util_late_12m": lambda v: (f"近12个月水电气逾期缴费 {v:.0f} 次", f"{v:.0f} late utility payments in 12 months"),
    "util_days_late_max_12m": lambda v: (f"水电气缴费最长逾期 {v:.0f} 天", f"utility bills up to {v:.0f} days late"),
    "freight_yoy": _change("近3个月货运量同比", "freight over 3 months, year on year,"),
    "ops_employees_change_12m": _change("用工人数近12个月", "employees over 12 months"),
    "court_defendant_24m": lambda v: (f"近24个月作为被告或被执行人涉诉 {v:.0f} 件",
                                      f"{v:.0f} court cases as defendant in 24 months"),
    "court_defendant_amount_wan_24m": lambda v: (f"近24个月被诉涉案金额 {_num(v)} 万元",
                                                 f"{_num(v)} ×10k yuan claimed against it in 24 months"),
    "court_enforced": lambda v: (f"被列为被执行人 {v:.0f} 次", f"{v:.0f} enforcement cases"),
    "court_dishonest": lambda v: (("被列为失信被执行人", "listed as a dishonest judgment debtor") if v
                                  else ("无失信被执行记录", "not a dishonest judgment debtor")),
    "penalty_general_active": lambda v: (f"公示期内一般行政处罚 {v:.0f} 起",
                                         f"{v:.0f} general administrative penalties in publicity"),
    "penalty_serious_active": lambda v: (f"公示期内严重行政处罚 {v:.0f} 起",
                                         f"{v:.0f} serious administrative penalties in publicity"),
    "procurement_awards_24m": lambda v: (f"近24个月政府采购中标 {v:.0f} 次",
                                         f"{v:.0f} government procurement awards in 24 months"),
    "prior_loans_matured": lambda v: (f"已到期的历史贷款 {v:.0f} 笔", f"{v:.0f} past loans matured"),
    "prior_defaults": lambda v: (f"历史贷款违约 {v:.0f} 笔", f"{v:.0f} past loans defaulted"),
    "prior_overdue": lambda v: (f"历史贷款逾期 {v:.0f} 笔", f"{v:.0f} past loans overdue"),
    "declines_12m": lambda v: (f"近12个月贷款申请被拒 {v:.0f} 次", f"{v:.0f} loan applications declined in 12 months"),
    "tax_revenue_6m_change": _change("近6个月纳税申报营业收入环比", "declared revenue, last 6 months vs the 6 before,"),
    "si_insured_change_6m": _change("社保参保人数近6个月", "insured headcount over 6 months"),
    "elec_usage_6m_change": _change("近3个月用电量较半年前", "electricity use over 3 months vs half a year before,"),
    "util_late30_6m": lambda v: (f"近6个月有 {v:.0f} 个月水电气逾期超过30天",
                                 f"utility bills over 30 days late in {v:.0f} of 6 months"),
    "tax_late_share_36m": lambda v: (f"近3年纳税申报逾期的月份占 {v * 100:.0f}%",
                                     f"{v * 100:.0f}% of monthly tax filings late over 3 years"),
    "tax_arrears_months_36m": lambda v: (f"近3年有 {v:.0f} 个月存在欠税",
                                         f"tax arrears in {v:.0f} months over 3 years"),
    "revenue_per_insured_wan": lambda v: (f"人均年营业收入 {_num(v)} 万元",
                                          f"annual revenue of {_num(v)} ×10k yuan per insured employee"),
    "revenue_to_capital": lambda v: (f"年营业收入为注册资本的 {v:.1f} 倍",
                                     f"annual revenue {v:.1f} times the registered capital"),
    "si_arrears_latest": lambda v: (("最近一个月社保存在欠缴", "social insurance in arrears last month") if v
                                    else ("最近一个月社保无欠缴", "no social insurance arrears last month")),
    "util_late_per_month_36m": lambda v: (f"近3年水电气账单平均每月逾期 {v:.2f} 笔",
                                          f"{v:.2f} late utility bills a month over 3 years"),
    "util_late30_months_36m": lambda v: (f"近3年有 {v:.0f} 个月水电气逾期超过30天",
                                         f"utility bills over 30 days late in {v:.0f} months over 3 years"),
    "elec_kwh_12m": lambda v: (f"近12个月用电量 {_num(v, 0)} 千瓦时",
                               f"{_num(v, 0)} kWh of electricity over 12 months"),
    "elec_kwh_per_capital": lambda v: (f"每万元注册资本年用电 {_num(v)} 千瓦时",
                                       f"{_num(v)} kWh a year per 10k yuan of registered capital"),
    "applications_12m": lambda v: (f"近12个月申请贷款 {v:.0f} 次", f"{v:.0f} loan applications in 12 months"),
    "loan_to_revenue": lambda v: (f"申请金额为年营业收入的 {v * 100:.0f}%",
                                  f"amount asked is {v * 100:.0f}% of annual revenue"),
    "as_of_month": lambda v: (f"评估月份 {v:.0f} 月", f"scored in month {v:.0f}"),
    "loan_amount_wan": lambda v: (f"申请金额 {_num(v)} 万元", f"amount asked {_num(v)} ×10k yuan"),
    "loan_term_months": lambda v: (f"期限 {v:.0f} 个月", f"term {v:.0f} months"),
    "sources_present": lambda v: (f"平台掌握 {v:.0f} 类经营数据", f"{v:.0f} kinds of operating data on file"),
}
MISSING = {
    "tax": ("无纳税申报数据", "no tax filing data"),
    "social_insurance": ("无社保缴费数据", "no social insurance data"),
    "housing_fund": ("无公积金数据", "no housing fund data"),
    "utilities": ("无水电气数据", "no utility data"),
    "logistics": ("无物流数据", "no logistics data"),
    "operations": ("无经营数据", "no operating data"),
}

# A feature computed from part of a source (a trend, a ratio, a grade) can be missing while the
# source is there: it says what is missing rather than that the whole source is.
MISSING_FEATURE = {
    "firm_age_years": ("无成立日期，经营年限未知", "no establishment date: years in business unknown"),
    "tax_revenue_yoy": ("近两年纳税申报月份不足，无法比较营业收入同比",
                        "too few tax filings in the last two years: no year-on-year revenue"),
    "tax_revenue_cv": ("纳税申报月份太少，无法衡量营业收入波动", "too few tax filings to measure revenue volatility"),
    "tax_revenue_6m_change": ("近一年纳税申报不全，无法比较营业收入环比",
                              "tax filings of the last year incomplete: no half-year revenue change"),
    "tax_grade_rank": ("无纳税信用等级", "no tax credit grade"),
    "tax_grade_drop": ("无上一年度纳税信用等级，无法比较", "no earlier tax credit grade to compare with"),
    "si_insured_change_12m": ("缺少上月或一年前的社保参保人数，无法计算参保人数变化",
                              "no insured headcount for last month or a year before: no headcount trend"),
    "si_insured_change_6m": ("缺少上月或半年前的社保参保人数，无法计算参保人数变化",
                             "no insured headcount for last month or half a year before: no headcount trend"),
    "elec_usage_yoy": ("用电数据不足，无法计算用电量同比", "too little electricity data for year-on-year use"),
    "elec_usage_6m_change": ("近期用电数据不全，无法计算用电量变化",
                             "recent electricity data incomplete: no change in use"),
    "freight_yoy": ("物流数据不足，无法计算货运量同比", "too little logistics data for year-on-year volume"),
    "ops_employees_change_12m": ("经营数据不足，无法计算用工人数变化", "too little operating data for the staff trend"),
    "revenue_per_insured_wan": ("无营业收入或社保参保数据，无法计算人均营业收入",
                                "no revenue or insured headcount: revenue per employee unknown"),
    "revenue_to_capital": ("无营业收入或注册资本数据，无法比较收入与资本",
                           "no revenue or registered capital: revenue against capital unknown"),
    "si_arrears_latest": ("上月无社保缴费记录", "no social insurance record for last month"),
    "elec_kwh_12m": ("近12个月用电数据不全，无法计算年用电量", "electricity data of the last 12 months incomplete"),
    "elec_kwh_per_capital": ("无全年用电或注册资本数据，无法比较用电与资本",
                             "no full year of electricity or no registered capital: use against capital unknown"),
    "loan_to_revenue": ("无营业收入数据，无法计算申请金额与收入之比",
                        "no revenue data: amount asked against revenue unknown"),
    "elec_kwh_peer_pctl": ("近12个月用电数据不全，无法与同类主体比较用电量",
                           "electricity data of the last 12 months incomplete: no comparison with peers"),
    "revenue_peer_pctl": ("无营业收入数据，无法与同类主体比较", "no revenue data: no comparison with peers"),
    "insured_peer_pctl": ("无社保参保数据，无法与同类主体比较参保人数",
                          "no social insurance data: no comparison of headcount with peers"),
}



# A rate over the months on file, and the context value (features.CONTEXT_NAMES) counting those
# months: with it the sentence gives the count a firm can check against its own bills.
RATE_MONTHS = {"util_late_per_month_36m": "util_billed_months_36m", "tax_late_share_36m": "tax_filed_months_36m"}


def _late_utility_bills(late, months):
    if late == 0:
        return (f"近3年 {months} 个月的水电气账单均按期缴纳", f"every utility bill of {months} months paid on time")
    return (f"近3年有 {late} 笔水电气账单逾期缴费（{months} 个月的账单中）",
            f"{late} utility bills paid late in 3 years (bills of {months} months)")


def _late_tax_months(late, months):
    if late == 0:
        return f"近3年 {months} 个月的纳税申报均按期", f"all {months} monthly tax filings on time over 3 years"
    return (f"近3年 {months} 个月的纳税申报中有 {late} 个月逾期",
            f"{late} of {months} monthly tax filings late over 3 years")


COUNTS = {"util_late_per_month_36m": _late_utility_bills, "tax_late_share_36m": _late_tax_months}


def _missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


# A percentile among peers (app.credit.peers) in words: what is compared, and with whom.
PEER_LEVELS = {"elec_kwh_peer_pctl": ("用电量", "Electricity use"), "revenue_peer_pctl": ("营业收入", "Revenue"),
               "insured_peer_pctl": ("社保参保人数", "Insured headcount")}
PEER_KINDS = {"farmer": ("农户", "farm households"), "individual_business": ("个体工商户", "individual businesses"),
              "enterprise": ("企业", "enterprises"), "cooperative": ("合作社", "cooperatives")}
PEER_SIZES = {"micro": ("微型", "micro"), "small": ("小型", "small"), "medium": ("中型", "medium-sized")}


def _peers_named(peer):
    """("同类小型企业", "similar small enterprises") of a (subject kind, size class); "similar subjects" unknown.

    Kept per peer as given (kinds × sizes: a few dozen), since a row's reasons name its peers in up to
    four sentences and each row of a page or a refresh asks again."""
    key = tuple(peer) if peer else None
    named = _NAMED.get(key)
    if named is None:
        kind, size = (list(peer) + [None, None])[:2] if peer else (None, None)
        zh_kind, en_kind = PEER_KINDS.get(kind, ("主体", "subjects"))
        zh_size, en_size = PEER_SIZES.get(size, ("", ""))
        named = f"同类{zh_size}{zh_kind}", f"similar {en_size + ' ' if en_size else ''}{en_kind}"
        if len(_NAMED) < MAX_NAMED:
            _NAMED[key] = named
    return named


_NAMED = {}
MAX_NAMED = 1000


def _peer_rank(value, peer):
    """Where a percentile among peers places the subject: "低于同类农户的 80%", with whom it is compared."""
    zh_peers, en_peers = _peers_named(peer)
    if value < 50:
        share = f"{100 - value:.0f}%"
        return f"低于{zh_peers}的 {share}", f"below {share} of {en_peers}"
    share = f"{value:.0f}%"
    return f"高于{zh_peers}的 {share}", f"above {share} of {en_peers}"


def _peer_sentence(feature, value, peer):
    zh_level, en_level = PEER_LEVELS[feature]
    zh_rank, en_rank = _peer_rank(value, peer)
    return f"{zh_level}{zh_rank}", f"{en_level} {en_rank}"


# Without the subject's kind the peers are "similar subjects".
TEXTS.update({name: (lambda v, name=name: _peer_sentence(name, v, None)) for name in PEER_LEVELS})


# The learned health estimate (app.credit.health): a level in units of the peers' spread, told as the
# share of similar subjects it is below or above (about: the peers' levels read as a normal curve).
HEALTH_LEVELS = {
    "health_revenue": ("近一年月度营业收入（滤除月度波动后）",
                       "Monthly revenue of the last year (noise filtered out)"),
    "health_electricity": ("近一年月度用电量（滤除月度波动后）",
                           "Monthly electricity use of the last year (noise filtered out)"),
    "health_insured": ("近一年社保参保人数（滤除月度波动后）",
                       "Insured headcount of the last year (noise filtered out)"),
    "health_index": ("综合收入、用电和参保人数估计的经营状况",
                     "Business health estimated from revenue, power use and headcount"),
}


def _health_sentence(feature, value, peer):
    zh_peers, en_peers = _peers_named(peer)
    zh_level, en_level = HEALTH_LEVELS[feature]
    share = 50 * (1 + math.erf(value / SQRT2))
    if share < 50:
        below = f"{100 - share:.0f}%"
        return f"{zh_level}低于约 {below} 的{zh_peers}", f"{en_level} below about {below} of {en_peers}"
    above = f"{share:.0f}%"
    return f"{zh_level}高于约 {above} 的{zh_peers}", f"{en_level} above about {above} of {en_peers}"


SQRT2 = math.sqrt(2)


def _health_change(v, peer=None):
    spread = f"{abs(v) * 100:.0f}%"
    zh_peers, en_peers = _peers_named(peer)
    if round(abs(v) * 100) == 0:
        return "经营状况与半年前基本持平", "business health about unchanged over six months"
    if v < 0:
        return (f"经营状况较半年前下滑，幅度为{zh_peers}间差异的 {spread}",
                f"business health fell over six months by {spread} of the spread among {en_peers}")
    return (f"经营状况较半年前回升，幅度为{zh_peers}间差异的 {spread}",
            f"business health rose over six months by {spread} of the spread among {en_peers}")


TEXTS.update({name: (lambda v, name=name: _health_sentence(name, v, None)) for name in HEALTH_LEVELS})
TEXTS["health_index_change_6m"] = _health_change
MISSING["health"] = ("无月度收入、用电或社保数据，无法估计经营状况",
                     "no monthly revenue, electricity or social insurance data: business health not estimated")
MISSING_FEATURE.update({
    "health_revenue": ("近一年无纳税申报收入，无法估计收入水平",
                       "no declared revenue in the last year: revenue level not estimated"),
    "health_electricity": ("近一年无用电数据，无法估计用电水平",
                           "no electricity data in the last year: power use not estimated"),
    "health_insured": ("近一年无社保参保数据，无法估计用工水平",
                       "no insured headcount in the last year: staffing not estimated"),
    "health_index_change_6m": ("半年前无月度收入、用电或社保数据，无法判断经营状况变化",
                               "no monthly data half a year ago: no change in business health"),
})


def sentence(feature, value, context=None):
    """(Chinese, English) sentence for a feature's value; missing values say what data is missing.

    `context` (features.CONTEXT_NAMES → value) turns a rate over months into a count of months or bills;
    its `peer` (subject kind, size class) names the peers a percentile among peers is read against.
    """
    missing, known = sentence_of(feature)
    return missing if _missing(value) else known(value, context or {})


def sentence_of(feature):
    """What `sentence` says of `feature`, worked out once (a Scorer keeps it per model input): (the sentence
    of a missing value, a function (value, context) → the sentence of a known value). Which text a feature
    takes depends on the feature alone; only the value and the context's months and peer are read per row."""
    missing = MISSING_FEATURE[feature] if feature in MISSING_FEATURE else \
        MISSING.get(BY_NAME[feature].family, ("数据缺失", "data missing"))  # a feature that is nowhere: KeyError
    return missing, _known_sentence(feature)


def _known_sentence(feature):
    if feature in PEER_LEVELS:
        return lambda value, context: _peer_sentence(feature, value, context.get("peer"))
    if feature in HEALTH_LEVELS:
        return lambda value, context: _health_sentence(feature, value, context.get("peer"))
    if feature == "health_index_change_6m":
        return lambda value, context: _health_change(value, context.get("peer"))
    if feature in COUNTS:
        return lambda value, context: _counted(feature, value, context.get(RATE_MONTHS[feature]))
    if feature in TEXTS:
        text = TEXTS[feature]
        return lambda value, _context: text(value)
    return lambda _value, _context: TEXTS[feature]  # a feature told only when missing: KeyError, as before


def _counted(feature, value, months):
    """A rate's sentence: the count it stands for when the months it covers are known, else the rate."""
    if not _missing(months) and months > 0:
        return COUNTS[feature](round(value * months), int(months))
    return TEXTS[feature](value)


def reason_sentence(reason):
    """(Chinese, English) of a stored reason (feature, value and, for a rate, the months it covers)."""
    feature = reason["feature"]
    months = reason.get("months")
    context = {RATE_MONTHS[feature]: months} if feature in RATE_MONTHS and months is not None else {}
    context["peer"] = reason.get("peer")
    return sentence(feature, float("nan") if reason["value"] is None else reason["value"], context)
