"""Each rule's result for one (need, product) pair, and the sentence that explains it.

`rule_results` reads pass/fail from the engine's mask and the figures from the tables, so the
sentence always agrees with the verdict. Results are plain JSON (stored in `Match.rule_results`);
`sentence` renders one in the user's language, `sentences` in both.
"""
from decimal import Decimal

import numpy as np
from flask_babel import force_locale
from flask_babel import gettext as _

from app.common.vocab import GUARANTEE_TYPES, SUBJECT_KINDS

from .rules import ATTRIBUTES, BIT, EXTRA_RULES, get_attribute, get_operator
from .tables import NO_RATE_LIMIT, source_key
from .texts import SENTENCES, choice_label


def _failed(mask, rule):
    return bool(int(mask) >> BIT[rule] & 1)


def _yuan(value_cents):
    return float(Decimal(int(value_cents)) / 100)


def _from_mask(mask, vocabulary):
    return [v for k, v in enumerate(vocabulary) if int(mask) >> k & 1]


def rule_results(needs, i, products, j, mask, rules, min_coverage_pct=50):
    """Every rule of product `j` for need `i`: a list of JSON dicts with `rule` and `passed`."""
    amount, amount_max = int(needs.amount[i]), int(products.amount_max[j])
    grades = needs.grades
    results = [
        {"rule": "amount", "amount": _yuan(amount), "min": _yuan(products.amount_min[j]),
         "max": _yuan(amount_max), "coverage": min(1.0, amount_max / amount), "min_coverage": min_coverage_pct},
        {"rule": "term", "term": int(needs.term[i]), "min": int(products.term_min[j]),
         "max": int(products.term_max[j])},
        {"rule": "guarantee", "guarantee": GUARANTEE_TYPES[needs.guarantee[i]],
         "accepted": _from_mask(products.guarantee_mask[j], GUARANTEE_TYPES)},
        {"rule": "rate", "max_rate": None if needs.max_rate[i] >= NO_RATE_LIMIT else int(needs.max_rate[i]) / 1000,
         "rate_min": int(products.rate_min[j]) / 1000},
        {"rule": "subject_kind", "kind": SUBJECT_KINDS[needs.kind[i]], "kinds": list(rules.get("subject_kinds", ()))},
        {"rule": "industry", "industry": _vocab(needs.industry_vocab, needs.industry[i]),
         "industries": list(rules.get("industries", ()))},
        {"rule": "town", "town": _vocab(needs.town_vocab, needs.town[i]), "towns": list(rules.get("towns", ()))},
        {"rule": "firm_age", "age": None if np.isinf(needs.age[i]) else round(float(needs.age[i]), 1),
         "min": rules.get("min_age_years")},
        {"rule": "grade", "grade": grades[needs.grade[i]] if needs.grade[i] < len(grades) else None,
         "min": rules.get("min_grade"), "unscored_pass": rules.get("unscored_pass", True)},
        {"rule": "pd", "pd": None if np.isinf(needs.pd[i]) else float(needs.pd[i]), "max": rules.get("max_pd"),
         "unscored_pass": rules.get("unscored_pass", True)},
        {"rule": "sources", "required": [
            {"source": r["source"], "months": r["months"],
             "have": int(needs.sources[source_key(r["source"], r["months"])][i])}
            for r in rules.get("required_sources", ())]},
        {"rule": "blacklist", "listed": bool(needs.black[i]), "policy": rules.get("blacklist_policy", "exclude")},
    ]
    for slot, extra in enumerate(rules.get("extra", ())):
        values = needs.attributes[extra["attribute"]]
        results.append({"rule": EXTRA_RULES[slot], **extra, "actual": _decode(extra["attribute"], values[i])})
    for result in results:
        result["passed"] = not _failed(mask, result["rule"])
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

