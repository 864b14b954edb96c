"""Each rule's result for one (need, product) pair, and the sentence that explains it.

`rule_results` reads pass/fail from the engine's mask and the figures from the tables, so the
sentence always agrees with the verdict. Results are plain JSON (stored in `Match.rule_results`);
`sentence` renders one in the user's language, `sentences` in both.
"""
from decimal import Decimal
from typing import NamedTuple

import numpy as np
from flask_babel import force_locale
from flask_babel import gettext as _

from app.common.vocab import GUARANTEE_TYPES, SUBJECT_KINDS

from .engine import failed_rule_names
from .rules import ATTRIBUTES, BIT, EXTRA_RULES, get_attribute, get_operator
from .tables import NO_RATE_LIMIT, source_key
from .texts import SENTENCES, choice_label


def _failed(mask, rule):
    return bool(int(mask) >> BIT[rule] & 1)


def _yuan(value_cents):
    return float(Decimal(int(value_cents)) / 100)


def _from_mask(mask, vocabulary):
    return [v for k, v in enumerate(vocabulary) if int(mask) >> k & 1]


class Pair(NamedTuple):
    """One (need, product) pair: the tables, the positions and what the rules' figures depend on."""

    needs: object
    i: int
    products: object
    j: int
    rules: dict
    min_coverage_pct: int


def _amount(p):
    amount, amount_max = int(p.needs.amount[p.i]), int(p.products.amount_max[p.j])
    return {"amount": _yuan(amount), "min": _yuan(p.products.amount_min[p.j]), "max": _yuan(amount_max),
            "coverage": min(1.0, amount_max / amount), "min_coverage": p.min_coverage_pct}


def _term(p):
    return {"term": int(p.needs.term[p.i]), "min": int(p.products.term_min[p.j]), "max": int(p.products.term_max[p.j])}


def _guarantee(p):
    return {"guarantee": GUARANTEE_TYPES[p.needs.guarantee[p.i]],
            "accepted": _from_mask(p.products.guarantee_mask[p.j], GUARANTEE_TYPES)}


def _rate(p):
    max_rate = int(p.needs.max_rate[p.i])
    return {"max_rate": None if max_rate >= NO_RATE_LIMIT else max_rate / 1000,
            "rate_min": int(p.products.rate_min[p.j]) / 1000}


def _subject_kind(p):
    return {"kind": SUBJECT_KINDS[p.needs.kind[p.i]], "kinds": list(p.rules.get("subject_kinds", ()))}


def _industry(p):
    return {"industry": _vocab(p.needs.industry_vocab, p.needs.industry[p.i]),
            "industries": list(p.rules.get("industries", ()))}


def _town(p):
    return {"town": _vocab(p.needs.town_vocab, p.needs.town[p.i]), "towns": list(p.rules.get("towns", ()))}


def _firm_age(p):
    age = p.needs.age[p.i]
    return {"age": None if np.isinf(age) else round(float(age), 1), "min": p.rules.get("min_age_years")}


def _grade(p):
    grades, level = p.needs.grades, p.needs.grade[p.i]
    return {"grade": grades[level] if level < len(grades) else None, "min": p.rules.get("min_grade"),
            "unscored_pass": p.rules.get("unscored_pass", True)}


def _pd(p):
    pd = p.needs.pd[p.i]
    return {"pd": None if np.isinf(pd) else float(pd), "max": p.rules.get("max_pd"),
            "unscored_pass": p.rules.get("unscored_pass", True)}


def _sources(p):
    return {"required": [{"source": r["source"], "months": r["months"],
                          "have": int(p.needs.sources[source_key(r["source"], r["months"])][p.i])}
                         for r in p.rules.get("required_sources", ())]}


def _blacklist(p):
    """`listed`: the firm is under a black list's credit-loan restriction and this loan would be one."""
    restricted = (bool(p.needs.black[p.i]) and GUARANTEE_TYPES[p.needs.guarantee[p.i]] == "credit"
                  and bool(p.products.lends_on_credit[p.j]))
    return {"listed": restricted, "policy": p.rules.get("blacklist_policy", "exclude")}


def _extra(p, slot):
    extra = p.rules["extra"][slot]
    return {**extra, "actual": _decode(extra["attribute"], p.needs.attributes[extra["attribute"]][p.i])}


# The figures each rule's sentence reads, by rule (the lender's own rules are `_extra`).
FIGURES = {"amount": _amount, "term": _term, "guarantee": _guarantee, "rate": _rate, "subject_kind": _subject_kind,
           "industry": _industry, "town": _town, "firm_age": _firm_age, "grade": _grade, "pd": _pd,
           "sources": _sources, "blacklist": _blacklist}


def rule_results(needs, i, products, j, mask, rules, min_coverage_pct=50, only_failed=False):
    """Every rule of product `j` for need `i` (or only the failed ones): JSON dicts with `rule` and `passed`."""
    pair = Pair(needs, i, products, j, rules, min_coverage_pct)
    names = failed_rule_names(mask) if only_failed else [*FIGURES, *EXTRA_RULES[:len(rules.get("extra", ()))]]
    results = []
    for name in names:
        figures = FIGURES[name](pair) if name in FIGURES else _extra(pair, EXTRA_RULES.index(name))
        results.append({"rule": name, **figures, "passed": not _failed(mask, name)})
    return results


def _vocab(vocab, index):
    return vocab[index] if index < len(vocab) else None


def _decode(attribute_name, value):
    attribute = ATTRIBUTES[attribute_name]
    if np.isnan(value):
        return None
    if attribute.kind == "choice":
        return list(attribute.choices)[int(value)]
    return bool(value) if attribute.kind == "flag" else float(value)


def needs_review(results):
    """True when the firm is blacklisted and the product's policy is to review rather than exclude."""
    return any(r["rule"] == "blacklist" and r["listed"] and r["policy"] == "review" for r in results)


def sentence(result):
    """The result's sentence in the user's language."""
    rule = result["rule"]
    if rule in EXTRA_RULES:
        return _extra_sentence(result)
    return SENTENCES[rule](result)


def sentences(result):
    """The result's sentence in Chinese and in English."""
    out = {}
    for locale in ("zh", "en"):
        with force_locale(locale):
            out[locale] = sentence(result)
    return out


def _value_text(attribute, value):
    if value is None:
        return ""
    if attribute.kind == "number":
        unit = str(attribute.unit)
        # Chinese units follow the number directly (12人); English ones after a space (12 people).
        gap = " " if unit and not ("\u4e00" <= unit[0] <= "\u9fff") else ""
        return f"{Decimal(str(value)).normalize():f}{gap}{unit}"
    if attribute.kind == "flag":
        return _("是") if value else _("否")
    if isinstance(value, list):
        return "、".join(choice_label(attribute, v) for v in value)
    return choice_label(attribute, value)


def _extra_sentence(result):
    attribute = get_attribute(result["attribute"])
    condition = f"{get_operator(result['operator'])} {_value_text(attribute, result['value'])}"
    if result["actual"] is None:
        return _("缺少%(attr)s数据，不满足“%(cond)s”", attr=attribute.label, cond=condition)
    values = {"attr": attribute.label, "actual": _value_text(attribute, result["actual"]), "cond": condition}
    if result["passed"]:
        return _("%(attr)s为 %(actual)s，满足“%(cond)s”", **values)
    return _("%(attr)s为 %(actual)s，不满足“%(cond)s”", **values)

