"""The registries of the matcher: rules, firm attributes a lender may test, and operators.

Each is keyed by name; an unknown name fails with a message that lists the known ones (like the
department-source registry). A rule's bit is its position in `RULE_NAMES`: the engine sets bit `b`
of a pair when rule `b` fails.
"""
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

MAX_EXTRA_RULES = 5
EXTRA_RULES = tuple(f"extra_{k}" for k in range(1, MAX_EXTRA_RULES + 1))
RULE_NAMES = ("amount", "term", "guarantee", "rate", "subject_kind", "industry", "town", "firm_age",
              "grade", "pd", "sources", "blacklist", *EXTRA_RULES)
BIT = {name: bit for bit, name in enumerate(RULE_NAMES)}


# GB/T 4754-2017 sections (门类) and the two-digit divisions (大类) each spans.
SECTIONS = {
    "A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "E": (47, 50), "F": (51, 52),
    "G": (53, 60), "H": (61, 62), "I": (63, 65), "J": (66, 69), "K": (70, 70), "L": (71, 72),
    "M": (73, 75), "N": (76, 79), "O": (80, 82), "P": (83, 83), "Q": (84, 85), "R": (86, 90),
    "S": (91, 96), "T": (97, 97),
}
SECTION_NAMES = {
    "A": _l("农、林、牧、渔业"), "B": _l("采矿业"), "C": _l("制造业"),
    "D": _l("电力、热力、燃气及水生产和供应业"), "E": _l("建筑业"), "F": _l("批发和零售业"),
    "G": _l("交通运输、仓储和邮政业"), "H": _l("住宿和餐饮业"), "I": _l("信息传输、软件和信息技术服务业"),
    "J": _l("金融业"), "K": _l("房地产业"), "L": _l("租赁和商务服务业"), "M": _l("科学研究和技术服务业"),
    "N": _l("水利、环境和公共设施管理业"), "O": _l("居民服务、修理和其他服务业"), "P": _l("教育"),
    "Q": _l("卫生和社会工作"), "R": _l("文化、体育和娱乐业"), "S": _l("公共管理、社会保障和社会组织"),
    "T": _l("国际组织"),
}


class UnknownName(LookupError):
    """A rule, attribute or operator name that no registry knows."""


def _lookup(registry, kind, name):
    try:
        return registry[name]
    except (KeyError, TypeError):
        raise UnknownName(f"unknown {kind} {name!r}; known: {', '.join(registry)}") from None


def section_of(industry_code):
    """The GB/T 4754 section letter of a 2–4 digit industry code, or None."""
    if not industry_code or not industry_code[:2].isdigit():
        return None
    division = int(industry_code[:2])
    return next((s for s, (lo, hi) in SECTIONS.items() if lo <= division <= hi), None)


@dataclass(frozen=True)
class Rule:
    """One eligibility rule: its bit in the engine's mask and its name for people."""

    name: str
    label: object

    @property
    def bit(self):
        return BIT[self.name]


RULES = {name: Rule(name, label) for name, label in (
    ("amount", _l("金额")), ("term", _l("期限")), ("guarantee", _l("担保方式")), ("rate", _l("利率")),
    ("subject_kind", _l("主体类型")), ("industry", _l("行业")), ("town", _l("乡镇街道")),
    ("firm_age", _l("成立年限")), ("grade", _l("信用等级")), ("pd", _l("违约概率")),
    ("sources", _l("部门数据")), ("blacklist", _l("失信黑名单")),
    *((name, _l("机构自定义条件 %(n)s", n=k)) for k, name in enumerate(EXTRA_RULES, start=1)),
)}


def get_rule(name):
    """The rule called `name`."""
    return _lookup(RULES, "rule", name)


@dataclass(frozen=True)
class Attribute:
    """A firm attribute a lender's own rule may test; `kind` is number, choice or flag."""

    name: str
    kind: str
    label: object
    unit: object = ""
    choices: dict = field(default_factory=dict)

    @property
    def operators(self):
        return {"number": ("ge", "le", "eq", "ne"), "choice": ("eq", "ne", "in", "not_in"),
                "flag": ("eq",)}[self.kind]


ATTRIBUTES = {a.name: a for a in (
    Attribute("registered_capital_wan", "number", _l("注册资本"), _l("万元")),
    Attribute("size_class", "choice", _l("企业规模"),
              choices={"micro": _l("微型"), "small": _l("小型"), "medium": _l("中型")}),
    Attribute("tax_grade", "choice", _l("纳税信用等级"), choices={g: g for g in "ABMCD"}),
    Attribute("insured_headcount", "number", _l("最近一月社保参保人数"), _l("人")),
    Attribute("revenue_12m_wan", "number", _l("近 12 个月申报营业收入"), _l("万元")),
    Attribute("tax_arrears_yuan", "number", _l("最近一期欠税金额"), _l("元")),
    Attribute("dishonest_debtor", "flag", _l("失信被执行人（未结案）")),
    Attribute("serious_penalty", "flag", _l("公示期内未修复的严重行政处罚")),
    Attribute("procurement_wins_3y", "number", _l("近 3 年政府采购中标次数"), _l("次")),
)}


def get_attribute(name):
    """The firm attribute called `name`."""
    return _lookup(ATTRIBUTES, "attribute", name)


OPERATORS = {
    "ge": _l("不低于"), "le": _l("不高于"), "eq": _l("等于"), "ne": _l("不等于"),
    "in": _l("属于"), "not_in": _l("不属于"),
}


def get_operator(name):
    """The operator called `name` (its label for people)."""
    return _lookup(OPERATORS, "operator", name)

