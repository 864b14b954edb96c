"""Product rules as data: normalised when valid, refused with a clear Chinese message otherwise."""
import re

import pytest

from app.common.errors import InvalidInput
from app.matching.rules import UnknownName, get_attribute, get_operator, get_rule
from app.matching.spec import validate_rules

GRADES = ("A", "B", "C", "D", "E")
TOWNS = ("610203100", "610203101")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def context():
    from app import create_app
    from app.config import TestConfig

    app = create_app(TestConfig)
    with app.app_context():
        yield


def test_valid_rules_are_normalised():
    rules = validate_rules({
        "subject_kinds": ["farmer", "enterprise"], "industries": "c, 3074，0151", "towns": ["610203101"],
        "min_age_years": "1.55", "min_grade": "C", "max_pd": "0.08", "unscored_pass": False,
        "required_sources": [{"source": "tax_filing", "months": "12"}, {"source": "registration", "months": ""},
                             {"source": "", "months": ""}],
        "blacklist_policy": "review", "red_list_priority": True,
        "extra": [{"attribute": "tax_grade", "operator": "in", "value": "A、B"},
                  {"attribute": "revenue_12m_wan", "operator": "ge", "value": "100"},
                  {"attribute": "dishonest_debtor", "operator": "eq", "value": "否"},
                  {"attribute": "", "operator": "ge", "value": ""}],
    }, GRADES, TOWNS)
    assert rules["subject_kinds"] == ["enterprise", "farmer"]
    assert rules["industries"] == ["C", "3074", "0151"]
    assert rules["min_age_years"] == 1.6 and rules["max_pd"] == 0.08
    assert rules["required_sources"] == [{"source": "tax_filing", "months": 12},
                                         {"source": "registration", "months": 0}]
    assert rules["extra"] == [{"attribute": "tax_grade", "operator": "in", "value": ["A", "B"]},
                              {"attribute": "revenue_12m_wan", "operator": "ge", "value": 100.0},
                              {"attribute": "dishonest_debtor", "operator": "eq", "value": False}]


def test_no_rules_means_no_limits():
    rules = validate_rules({}, GRADES, TOWNS)
    assert rules["unscored_pass"] is True and rules["blacklist_policy"] == "exclude" and not rules["extra"]


@pytest.mark.parametrize(("raw", "field"), [
    ({"colour": "red"}, "rules"),
    ({"subject_kinds": ["bank"]}, "subject_kinds"),
    ({"industries": "Z9"}, "industries"),
    ({"industries": "98"}, "industries"),
    ({"industries": "30745"}, "industries"),
    ({"towns": ["110101001"]}, "towns"),
    ({"min_age_years": "0"}, "min_age_years"),
    ({"min_age_years": "abc"}, "min_age_years"),
    ({"min_grade": "AAA"}, "min_grade"),
    ({"max_pd": "1.5"}, "max_pd"),
    ({"required_sources": [{"source": "court_case", "months": 1}]}, "required_sources"),
    ({"required_sources": [{"source": "tax_filing", "months": 40}]}, "required_sources"),
    ({"required_sources": [{"source": "tax_filing", "months": ""}]}, "required_sources"),
    ({"required_sources": [{"source": "registration", "months": 3}]}, "required_sources"),
    ({"required_sources": [{"source": "tax_filing", "months": 6}, {"source": "tax_filing", "months": 12}]},
     "required_sources"),
    ({"blacklist_policy": "ignore"}, "blacklist_policy"),
    ({"extra": [{"attribute": "height", "operator": "ge", "value": "1"}]}, "extra"),
    ({"extra": [{"attribute": "tax_grade", "operator": "ge", "value": "A"}]}, "extra"),
    ({"extra": [{"attribute": "revenue_12m_wan", "operator": "ge", "value": "很多"}]}, "extra"),
    ({"extra": [{"attribute": "tax_grade", "operator": "eq", "value": "A,B"}]}, "extra"),
    ({"extra": [{"attribute": "dishonest_debtor", "operator": "eq", "value": "maybe"}]}, "extra"),
    ({"extra": [{"attribute": "revenue_12m_wan", "operator": "ge", "value": "1"}] * 6}, "extra"),
])
def test_bad_rules_are_refused_with_a_chinese_message(raw, field):
    with pytest.raises(InvalidInput) as caught:
        validate_rules(raw, GRADES, TOWNS)
    assert caught.value.field == field
    assert CHINESE.search(caught.value.message)


@pytest.mark.parametrize(("lookup", "name"), [(get_rule, "colour"), (get_attribute, "height"), (get_operator, "~=")])
def test_unknown_names_fail_with_the_known_ones(lookup, name):
    with pytest.raises(UnknownName, match="known:"):
        lookup(name)
