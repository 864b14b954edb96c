"""A plain per-pair implementation of the product rules, written from docs/matching.md.

It shares nothing with the engine but the registries' vocabularies: Decimal arithmetic, one pair at
a time, so that the vectorised engine can be checked against it on random inputs.
"""
from decimal import Decimal

from app.matching.rules import ATTRIBUTES, EXTRA_RULES, SECTIONS


def _industry_ok(code, tokens):
    if not tokens:
        return True
    if code is None:
        return False
    for token in tokens:
        if token in SECTIONS:
            lo, hi = SECTIONS[token]
            if code[:2].isdigit() and lo <= int(code[:2]) <= hi:
                return True
        elif code.startswith(token):
            return True
    return False


def _score_rule_fails(need, rules, grades, name):
    limit = rules.get("min_grade") if name == "grade" else rules.get("max_pd")
    if limit is None:
        return False
    scored = need.grade in grades and need.pd is not None
    if not scored:
        return not rules.get("unscored_pass", True)
    if name == "grade":
        return grades.index(need.grade) > grades.index(limit)
    return need.pd > limit


def _extra_fails(need, rule):
    value = need.attributes.get(rule["attribute"])
    if value is None:
        return True
    kind, op, target = ATTRIBUTES[rule["attribute"]].kind, rule["operator"], rule["value"]
    if kind == "choice":
        inside = value in ({target} if op in ("eq", "ne") else set(target))
        return not inside if op in ("eq", "in") else inside
    if kind == "flag":
        return bool(value) != bool(target)
    value, target = float(value), float(target)
    return not {"ge": value >= target, "le": value <= target, "eq": value == target, "ne": value != target}[op]


def _terms_failures(need, product, min_coverage_pct):
    amount = Decimal(need.amount)
    checks = {
        "amount": amount < product.amount_min or amount * min_coverage_pct / 100 > product.amount_max,
        "term": not product.term_min <= need.term_months <= product.term_max,
        "guarantee": need.guarantee not in product.guarantee_types,
        # A black list restricts pure credit loans: a credit need, a product lending on credit.
        "blacklist": (need.blacklisted and need.guarantee == "credit" and "credit" in product.guarantee_types
                      and product.rules.get("blacklist_policy", "exclude") == "exclude"),
        "rate": need.max_rate is not None and Decimal(product.rate_min) > Decimal(need.max_rate),
    }
    return {name for name, failed in checks.items() if failed}


def _firm_failures(need, rules, grades):
    min_age = rules.get("min_age_years")
    checks = {
        "subject_kind": bool(rules.get("subject_kinds")) and need.kind not in rules["subject_kinds"],
        "industry": not _industry_ok(need.industry, rules.get("industries", ())),
        "town": bool(rules.get("towns")) and need.town not in rules["towns"],
        "firm_age": min_age is not None and (need.age_years is None or need.age_years < min_age),
        "grade": _score_rule_fails(need, rules, grades, "grade"),
        "pd": _score_rule_fails(need, rules, grades, "pd"),
        "sources": any(need.source_counts.get(f"{r['source']}:{r['months']}", 0) < max(r["months"], 1)
                       for r in rules.get("required_sources", ())),
    }
    return {name for name, failed in checks.items() if failed}


def failed_rules(need, product, grades, min_coverage_pct=50):
    """The names of the rules of `product` that `need` fails."""
    failed = _terms_failures(need, product, min_coverage_pct) | _firm_failures(need, product.rules, grades)
    for slot, rule in enumerate(product.rules.get("extra", ())):
        if _extra_fails(need, rule):
            failed.add(EXTRA_RULES[slot])
    return failed
