"""The sentences of the core rules, one function per rule, in the user's language."""
from decimal import Decimal

from flask_babel import gettext as _

from app.common.money import format_rate, format_wan
from app.common.region import town_name
from app.common.vocab import GUARANTEE_TYPES, SOURCE_NAMES, SUBJECT_KINDS

from .rules import SECTION_NAMES


def town_label(code):
    """A town's name (or its code when unknown)."""
    return town_name(code) if code else _("未知")


def industry_label(token):
    """An industry token as people read it: a section with its name, or the code."""
    return f"{token} {SECTION_NAMES[token]}" if token in SECTION_NAMES else token


def choice_label(attribute, value):
    """The name of one choice of a choice attribute."""
    return str(attribute.choices.get(value, value))


def _wan(yuan):
    return format_wan(Decimal(str(yuan)))


def _number(value):
    return f"{Decimal(str(value)).normalize():f}"


def _amount(r):
    values = {"a": _wan(r["amount"]), "lo": _wan(r["min"]), "hi": _wan(r["max"])}
    if not r["passed"] and r["amount"] < r["min"]:
        return _("需求金额 %(a)s 万元不在产品额度 %(lo)s–%(hi)s 万元之内", **values)
    if not r["passed"]:
        return _("产品最高额度 %(hi)s 万元，不足需求金额 %(a)s 万元的 %(pct)s%%", pct=r["min_coverage"], **values)
    if r["coverage"] < 1:
        return _("产品最高额度 %(hi)s 万元，可满足需求金额 %(a)s 万元的 %(pct)s%%",
                 pct=_number(round(r["coverage"] * 100, 1)), **values)
    return _("需求金额 %(a)s 万元在产品额度 %(lo)s–%(hi)s 万元之内", **values)


def _term(r):
    values = {"t": r["term"], "lo": r["min"], "hi": r["max"]}
    if r["passed"]:
        return _("需求期限 %(t)d 个月在产品期限 %(lo)d–%(hi)d 个月之内", **values)
    return _("需求期限 %(t)d 个月不在产品期限 %(lo)d–%(hi)d 个月之内", **values)


def _guarantee(r):
    if r["passed"]:
        return _("产品接受“%(g)s”担保方式", g=GUARANTEE_TYPES.label(r["guarantee"]))
    return _("产品不接受“%(g)s”担保方式", g=GUARANTEE_TYPES.label(r["guarantee"]))


def _rate(r):
    if r["max_rate"] is None:
        return _("需求未限定可承受利率")
    values = {"r": format_rate(Decimal(str(r["rate_min"]))), "m": format_rate(Decimal(str(r["max_rate"])))}
    if r["passed"]:
        return _("产品最低年化利率 %(r)s%% 不高于可承受的 %(m)s%%", **values)
    return _("产品最低年化利率 %(r)s%% 高于可承受的 %(m)s%%", **values)


def _subject_kind(r):
    if not r["kinds"]:
        return _("产品不限主体类型")
    if r["passed"]:
        return _("主体类型为%(k)s，符合产品要求", k=SUBJECT_KINDS.label(r["kind"]))
    return _("产品仅面向%(kinds)s，不含%(k)s", kinds="、".join(SUBJECT_KINDS.label(k) for k in r["kinds"]),
             k=SUBJECT_KINDS.label(r["kind"]))


def _industry(r):
    if not r["industries"]:
        return _("产品不限行业")
    listed = "、".join(industry_label(t) for t in r["industries"])
    if r["industry"] is None:
        return _("未登记行业代码，产品限定行业：%(list)s", list=listed)
    if r["passed"]:
        return _("行业代码 %(c)s 属于产品支持的行业：%(list)s", c=r["industry"], list=listed)
    return _("行业代码 %(c)s 不属于产品支持的行业：%(list)s", c=r["industry"], list=listed)


def _town(r):
    if not r["towns"]:
        return _("产品不限乡镇街道")
    if r["passed"]:
        return _("所在地%(t)s在产品服务范围内", t=town_label(r["town"]))
    return _("所在地%(t)s不在产品服务范围（%(list)s）内", t=town_label(r["town"]),
             list="、".join(town_label(t) for t in r["towns"]))


def _firm_age(r):
    if r["min"] is None:
        return _("产品不限成立年限")
    if r["age"] is None:
        return _("未登记成立日期，产品要求成立满 %(m)s 年", m=_number(r["min"]))
    values = {"y": _number(r["age"]), "m": _number(r["min"])}
    if r["passed"]:
        return _("企业成立年限 %(y)s 年，满足产品要求的 %(m)s 年", **values)
    return _("企业成立年限 %(y)s 年，低于产品要求的 %(m)s 年", **values)


def _grade(r):
    if r["min"] is None:
        return _("产品不限信用等级")
    if r["grade"] is None:
        if r["passed"]:
            return _("暂无信用评分，产品允许未评分主体")
        return _("暂无信用评分，产品要求信用等级不低于 %(m)s", m=r["min"])
    if r["passed"]:
        return _("信用等级 %(g)s，不低于产品要求的 %(m)s", g=r["grade"], m=r["min"])
    return _("信用等级 %(g)s，低于产品要求的 %(m)s", g=r["grade"], m=r["min"])


def _pd(r):
    if r["max"] is None:
        return _("产品不限违约概率")
    limit = _number(round(r["max"] * 100, 2))
    if r["pd"] is None:
        if r["passed"]:
            return _("暂无信用评分，产品允许未评分主体")
        return _("暂无信用评分，产品要求违约概率不高于 %(m)s%%", m=limit)
    values = {"p": _number(round(r["pd"] * 100, 2)), "m": limit}
    if r["passed"]:
        return _("预测违约概率 %(p)s%%，不高于产品上限 %(m)s%%", **values)
    return _("预测违约概率 %(p)s%%，高于产品上限 %(m)s%%", **values)


def _requirement(item):
    if item["months"] == 0:
        return _("%(s)s：有记录", s=SOURCE_NAMES.label(item["source"])) if item["have"] else _(
            "%(s)s：无记录", s=SOURCE_NAMES.label(item["source"]))
    return _("%(s)s近 %(n)d 个月中有 %(h)d 个月", s=SOURCE_NAMES.label(item["source"]), n=item["months"],
             h=min(item["have"], item["months"]))


def _sources(r):
    if not r["required"]:
        return _("产品不要求特定部门数据")
    items = "；".join(_requirement(item) for item in r["required"])
    if r["passed"]:
        return _("部门数据满足要求：%(items)s", items=items)
    return _("部门数据不足：%(items)s", items=items)


def _blacklist(r):
    if not r["listed"]:
        return _("不受失信惩戒措施限制")
    if r["policy"] == "review":
        return _("已列入失信黑名单，纯信用贷款须人工审查后办理")
    return _("已列入失信黑名单，不予办理纯信用贷款")


SENTENCES = {
    "amount": _amount, "term": _term, "guarantee": _guarantee, "rate": _rate, "subject_kind": _subject_kind,
    "industry": _industry, "town": _town, "firm_age": _firm_age, "grade": _grade, "pd": _pd,
    "sources": _sources, "blacklist": _blacklist,
}
