"""Serialisation of platform records for the JSON API, apart from the ORM classes."""
from app.common.money import yuan_to_wan
from app.matching.explain import sentence, sentences


def _wan(value):
    return float(yuan_to_wan(value))


def product_json(product):
    """A published product as the API shows it (amounts in 万元, rates in %)."""
    return {
        "id": product.id, "name": product.name, "institution": product.institution.name,
        "institution_kind": product.institution.kind,
        "amount_min_wan": _wan(product.amount_min), "amount_max_wan": _wan(product.amount_max),
        "term_min_months": product.term_min_months, "term_max_months": product.term_max_months,
        "rate_min": float(product.rate_min), "rate_max": float(product.rate_max),
        "guarantee_types": product.guarantee_types,
        "upfront_fee_pct": float(product.upfront_fee_pct or 0),
        "guarantee_fee_pct": float(product.guarantee_fee_pct or 0),
        "repayment": product.repayment, "version": product.version, "rules": product.rules or {},
    }


def need_json(need):
    """A need as its owner sees it."""
    return {
        "id": need.id, "amount_wan": _wan(need.amount), "term_months": need.term_months,
        "purpose": need.purpose, "guarantee": need.guarantee, "status": need.status,
        "max_rate": float(need.max_rate) if need.max_rate is not None else None,
    }


def _round(value, digits=4):
    return None if value is None else round(value, digits)


def match_json(match):
    """A product's verdict for a need: every rule with its sentence in both languages, and the fit."""
    return {
        "product": product_json(match.product), "eligible": not match.failed, "review": match.review,
        "fit": _round(match.fit), "approval_odds": _round(match.odds), "odds_basis": match.odds_basis,
        "apr": _round(match.apr), "coverage": _round(match.coverage), "response_days": _round(match.response_days, 2),
        "priority": match.priority,
        "failed": [sentence(r) for r in match.failed],
        "rules": [{"rule": r["rule"], "passed": r["passed"], "reason": sentences(r)} for r in match.results],
    }
