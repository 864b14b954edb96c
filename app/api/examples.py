"""Examples of every token endpoint's request and answer, shown in the OpenAPI document and the docs page."""

_APPLICATION = {
    "id": 1024, "status": "in_review", "version": 3, "product_id": 12, "product_name": "陶瓷贷",
    "subject_id": 388, "subject_name": "铜川市陈炉甲陶瓷有限公司", "subject_kind": "enterprise", "amount_wan": 50.0,
    "term_months": 12, "submitted_at": "2026-11-30T02:15:00Z", "updated_at": "2026-12-01T06:40:00Z",
    "due_at": "2026-12-03T09:30:00Z", "decided_at": None, "decision_reasons": None, "offer": None, "loan": None,
}
_APPROVED = {**_APPLICATION, "status": "approved", "version": 4, "decided_at": "2026-12-02T03:00:00Z",
             "offer": {"amount_wan": 40.0, "rate": 4.5, "apr": 4.6, "term_months": 12, "repayment": "annuity",
                       "guarantee": "credit", "valid_until": "2026-12-31"}}
_PRODUCT_IN = {"name": "陶瓷贷", "description": "面向陈炉陶瓷小微企业的信用贷款", "amount_min_wan": 5,
               "amount_max_wan": 100,
               "term_min_months": 6, "term_max_months": 36, "rate_min": 3.6, "rate_max": 6.5,
               "guarantee_types": ["credit", "guarantor"], "upfront_fee_pct": 0, "guarantee_fee_pct": 0,
               "repayment": "annuity", "rules": {"subject_kinds": ["enterprise", "individual_business"],
                                                 "min_grade": "C"}}
_PRODUCT_OUT = {"id": 12, "name": "陶瓷贷", "status": "published", "version": 1, "amount_min_wan": 5.0,
                "amount_max_wan": 100.0, "term_min_months": 6, "term_max_months": 36, "rate_min": 3.6,
                "rate_max": 6.5, "guarantee_types": ["credit", "guarantor"], "repayment": "annuity"}

EXAMPLES = {
    "application_list": {"answer": {"applications": [_APPLICATION], "next_cursor": "YTEwMjQ"}},
    "application": {"answer": _APPLICATION},
    "profile": {"answer": {
        "application_id": 1024, "subject_id": 388, "subject_name": "铜川市陈炉甲陶瓷有限公司",
        "subject_kind": "enterprise", "town_code": "610203100", "consent_id": 77,
        "consent_valid_to": "2026-12-30T02:15:00Z", "scored": True, "score": 642, "grade": "B", "pd": 0.031,
        "model_version": "20261101-120000-ab12", "data_as_of": "2026-11-30",
        "reasons": [{"feature": "si_insured_change_6m", "contribution": 0.41, "text": "社保参保人数近6个月下降35%",
                     "text_en": "insured headcount over 6 months down 35%"}],
        "records": [{"feature": "si_insured_change_6m", "tables": [
            {"source": "social_insurance", "headers": ["月份", "参保人数"], "rows": [["2026-10", "13"]]}]}]}},
    "review": {"body": {"version": 2}, "answer": {**_APPLICATION}},
    "request_info": {"body": {"version": 3, "note": "请补充近6个月的银行流水。"},
                     "answer": {**_APPLICATION, "status": "info_requested", "version": 4}},
    "approve": {"body": {"version": 3, "amount_wan": 40, "rate": 4.5, "term_months": 12, "repayment": "annuity",
                         "guarantee": "credit", "valid_until": "2026-12-31", "note": "经营稳定"},
                "answer": _APPROVED},
    "decline": {"body": {"version": 3, "reasons": ["tax_arrears", "debt_too_high"], "note": "欠税未清"},
                "answer": {**_APPLICATION, "status": "declined", "version": 4,
                           "decision_reasons": ["tax_arrears", "debt_too_high"]}},
    "disbursements": {"body": {"rows": [
        {"application_id": 1024, "amount_wan": 40, "disbursed_on": "2026-12-04", "reference": "YT-2026-0001"},
        {"application_id": 999999, "amount_wan": 20, "disbursed_on": "2026-12-04", "reference": "YT-2026-0002"}]},
        "answer": {"written": 1, "rejected": 1, "rows": [
            {"index": 0, "application_id": 1024, "loan_id": 301, "error": None},
            {"index": 1, "application_id": 999999, "loan_id": None, "error": "本机构没有编号为 999999 的申请。"}]}},
    "repayments": {"body": {"rows": [
        {"reference": "YT-2026-0001", "month": "2026-11", "days_past_due": 0, "outstanding_yuan": 380000},
        {"reference": "YT-2025-0417", "month": "2026-11", "days_past_due": 35, "outstanding_yuan": 120000,
         "note": "已电话催收"}]},
        "answer": {"upload_id": 58, "loaded": 1, "unchanged": 0, "rejected": 1, "rejects": [
            {"index": 1, "reference": "YT-2025-0417", "month": "2026-11",
             "error": "本机构没有贷款账号为“YT-2025-0417”的贷款。"}]}},
    "product": {"body": _PRODUCT_IN, "answer": _PRODUCT_OUT},
    "retire": {"answer": {**_PRODUCT_OUT, "status": "retired"}},
    "market": {"answer": {"funnel": [{"stage": "needs", "label": "发布需求", "count": 1200, "amount_wan": 60000.0}],
                          "months": [{"month": "2026-11", "needs": 80, "applied": 64, "approved": 40}],
                          "totals": {"loans": 510, "credit_loan_share": 0.62}}},
}
