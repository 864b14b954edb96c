"""Serialisation of platform records for the JSON API, apart from the ORM classes."""
from app.services.money import yuan_to_wan


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
    }


def need_json(need):
    """A need as its owner sees it."""
    return {
        "id": need.id, "amount_wan": _wan(need.amount), "term_months": need.term_months,
        "purpose": need.purpose, "guarantee": need.guarantee, "status": need.status,
        "max_rate": float(need.max_rate) if need.max_rate is not None else None,
    }
