"""A product's rules as data: what a lender admin may set, checked and normalised.

The stored form (`Product.rules`, JSON) has these keys, each optional (absent = no limit):
subject_kinds, industries, towns, min_age_years, min_grade, max_pd (a fraction), unscored_pass,
required_sources ([{source, months}]), blacklist_policy, red_list_priority, extra
([{attribute, operator, value}]). An unknown key, attribute or operator is refused.
"""
import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from app.common.errors import InvalidInput
from app.common.vocab import BLACKLIST_POLICIES, SOURCE_NAMES, SUBJECT_KINDS
from app.ingest.sources import REGISTRY

from .rules import ATTRIBUTES, MAX_EXTRA_RULES, SECTIONS

RULE_KEYS = ("subject_kinds", "industries", "towns", "min_age_years", "min_grade", "max_pd", "unscored_pass",
             "required_sources", "blacklist_policy", "red_list_priority", "extra")
MONTHLY_SOURCES = tuple(s for s in SOURCE_NAMES if REGISTRY[s].period
                        and REGISTRY[s].column(REGISTRY[s].period).kind == "month")
MAX_REQUIRED_MONTHS = 36
_INDUSTRY = re.compile(r"^\d{2,4}$")
_TRUE, _FALSE = {"true", "yes", "1", "是", "y"}, {"false", "no", "0", "否", "n"}


def tokens(value):
    """A list from a list or from text separated by commas, 、 or spaces."""
    if value is None:
        return []
    if isinstance(value, str):
        return [t for t in re.split(r"[,，、;；\s]+", value.strip()) if t]
    return [str(v).strip() for v in value if str(v).strip()]


def validate_rules(raw, grades, towns):
    """The normalised rules from `raw`, or InvalidInput naming the field and what is wrong."""
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(RULE_KEYS))
    if unknown:
        raise InvalidInput(_("未知的产品规则：%(names)s", names="、".join(unknown)), "rules")
    rules = {
        "subject_kinds": _subset(raw.get("subject_kinds"), SUBJECT_KINDS, "subject_kinds", _("请选择有效的主体类型。")),
        "industries": _industries(raw.get("industries")),
        "towns": _subset(raw.get("towns"), towns, "towns", _("请选择本区的乡镇街道。")),
        "min_age_years": _min_age(raw.get("min_age_years")),
        "min_grade": _choice(raw.get("min_grade"), grades, "min_grade", _("请选择有效的信用等级。")),
        "max_pd": _max_pd(raw.get("max_pd")),
        "unscored_pass": bool(raw.get("unscored_pass", True)),
        "required_sources": _required_sources(raw.get("required_sources")),
        "blacklist_policy": _choice(raw.get("blacklist_policy") or "exclude", BLACKLIST_POLICIES,
                                    "blacklist_policy", _("请选择黑名单处理方式。")),
        "red_list_priority": bool(raw.get("red_list_priority", False)),
        "extra": _extras(raw.get("extra")),
    }
    return rules


def _subset(values, allowed, field, message):
    values = tokens(values)
    if set(values) - set(allowed):
        raise InvalidInput(message, field)
    return sorted(set(values), key=list(allowed).index)


def _choice(value, allowed, field, message):
    if value in (None, ""):
        return None
    if value not in allowed:
        raise InvalidInput(message, field)
    return value


def _industries(value):
    result = []
    for token in tokens(value):
        token = token.upper()
        valid = token in SECTIONS or (_INDUSTRY.match(token) and any(
            lo <= int(token[:2]) <= hi for lo, hi in SECTIONS.values()))
        if not valid:
            raise InvalidInput(_("行业“%(t)s”无效：请填写门类字母（A–T）或 2–4 位国民经济行业代码。", t=token),
                               "industries")
        result.append(token)
    return list(dict.fromkeys(result))


def _decimal(value):
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return "invalid"
    return number if number.is_finite() else "invalid"


def _min_age(value):
    number = _decimal(value)
    if number is None:
        return None
    if number == "invalid" or not Decimal(0) < number <= Decimal(100):
        raise InvalidInput(_("最低成立年限应在 0 到 100 年之间。"), "min_age_years")
    return float(round(number, 1))


def _max_pd(value):
    number = _decimal(value)
    if number is None:
        return None
    if number == "invalid" or not Decimal(0) < number <= Decimal(1):
        raise InvalidInput(_("违约概率上限应在 0 到 100% 之间。"), "max_pd")
    return float(number)


def _required_sources(value):
    result, seen = [], set()
    for item in value or ():
        source, months = item.get("source"), item.get("months")
        if source in (None, "") and months in (None, ""):
            continue
        if source not in SOURCE_NAMES or source in seen:
            raise InvalidInput(_("请选择有效且不重复的部门数据来源。"), "required_sources")
        seen.add(source)
        result.append({"source": source, "months": _months(source, months)})
    return result


def _months(source, months):
    if source not in MONTHLY_SOURCES:
        if months not in (None, "", 0, "0"):
            raise InvalidInput(_("%(s)s不是月度数据，不能要求月数。", s=SOURCE_NAMES.label(source)), "required_sources")
        return 0
    number = _decimal(months)
    if number in (None, "invalid") or number != number.to_integral_value() or not 1 <= number <= MAX_REQUIRED_MONTHS:
        raise InvalidInput(_("要求的月数应为 1 到 %(n)d 之间的整数。", n=MAX_REQUIRED_MONTHS), "required_sources")
    return int(number)


def _extras(value):
    rules = [item for item in (value or ()) if any(item.get(k) not in (None, "") for k in ("attribute", "value"))]
    if len(rules) > MAX_EXTRA_RULES:
        raise InvalidInput(_("自定义条件最多 %(n)d 条。", n=MAX_EXTRA_RULES), "extra")
    return [_extra(item) for item in rules]


def _extra(item):
    attribute = ATTRIBUTES.get(item.get("attribute"))
    if attribute is None:
        raise InvalidInput(_("请为自定义条件选择有效的企业指标。"), "extra")
    operator = item.get("operator")
    if operator not in attribute.operators:
        raise InvalidInput(_("指标“%(a)s”不支持所选的比较方式。", a=attribute.label), "extra")
    return {"attribute": attribute.name, "operator": operator, "value": _extra_value(attribute, operator,
                                                                                     item.get("value"))}


def _extra_value(attribute, operator, value):
    if attribute.kind == "number":
        number = _decimal(value)
        if number in (None, "invalid"):
            raise InvalidInput(_("指标“%(a)s”的比较值应为数字。", a=attribute.label), "extra")
        return float(number)
    if attribute.kind == "flag":
        text = str(value).strip().lower() if value is not None else ""
        if isinstance(value, bool) or text in _TRUE | _FALSE:
            return value if isinstance(value, bool) else text in _TRUE
        raise InvalidInput(_("指标“%(a)s”的比较值应为“是”或“否”。", a=attribute.label), "extra")
    values = tokens(value)
    if not values or set(values) - set(attribute.choices) or (operator in ("eq", "ne") and len(values) != 1):
        raise InvalidInput(_("指标“%(a)s”的比较值应为：%(c)s。", a=attribute.label,
                             c="、".join(attribute.choices)), "extra")
    return values[0] if operator in ("eq", "ne") else values
