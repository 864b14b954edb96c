"""Credit subjects: USCC and household-code checks, and registration."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric

from app.common import idnumbers
from app.common.codes import make_uscc
from app.common.dates import local_date
from app.common.errors import InvalidInput
from app.entities import CreditSubject
from app.extensions import db
from app.services.subjects import (
    find_subjects,
    register_farmer_by_id,
    register_subject,
    validate_household_id,
    validate_uscc,
)

from .. import factories

CODE = make_uscc("91", "610203", "MA7T0001")
HOUSEHOLD = "610203106001020031"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def full_width(text):
    """The text with every ASCII character turned into its full-width form."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def refused(call, *args):
    """The InvalidInput raised by call(*args); its message must be in Chinese."""
    with pytest.raises(InvalidInput) as caught:
        call(*args)
    assert CHINESE.search(caught.value.message)
    return caught.value


def subject_count():
    return db.session.scalar(select(func.count(CreditSubject.id)))


# --- validate_uscc ---------------------------------------------------------------------------

@pytest.mark.parametrize(("prefix", "kind"), [
    ("91", "enterprise"), ("92", "individual_business"), ("93", "cooperative"),
])
def test_validate_uscc_accepts_a_valid_code_of_the_right_kind(app, prefix, kind):
    code = make_uscc(prefix, "610203", "MA7T0001")
    assert validate_uscc(code, kind) == code


def test_validate_uscc_refuses_a_wrong_check_digit(app):
    wrong = next(c for c in USCC_ALPHABET if c != CODE[-1])
    error = refused(validate_uscc, CODE[:-1] + wrong, "enterprise")
    assert error.field == "code"
    assert "校验位" in error.message


@pytest.mark.parametrize("code", [CODE[:-1], CODE + "1", "", "9161020"])
def test_validate_uscc_refuses_a_wrong_length_and_says_how_long_it_was(app, code):
    error = refused(validate_uscc, code, "enterprise")
    assert error.field == "code"
    assert "18 位" in error.message
    assert f"{len(code)} 位" in error.message


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_validate_uscc_refuses_forbidden_letters(app, letter):
    code = CODE[:10] + letter + CODE[11:]
    error = refused(validate_uscc, code, "enterprise")
    assert error.field == "code"
    assert "I、O、Z、S、V" in error.message


def test_validate_uscc_refuses_letters_in_the_first_eight_characters(app):
    error = refused(validate_uscc, "9A" + CODE[2:], "enterprise")
    assert error.field == "code"
    assert "格式不正确" in error.message


@pytest.mark.parametrize("typed", [
    full_width(CODE),
    f"  {CODE[:6]} {CODE[6:12]} {CODE[12:]} ",
    f"{CODE[:8]}\u3000{CODE[8:]}",
    full_width(CODE[:9]) + "\u3000" + CODE[9:].lower(),
    CODE.lower(),
])
def test_validate_uscc_normalises_full_width_characters_spaces_and_case(app, typed):
    assert validate_uscc(typed, "enterprise") == CODE


@pytest.mark.parametrize(("prefix", "kind"), [
    ("92", "enterprise"), ("93", "enterprise"), ("91", "individual_business"),
    ("91", "cooperative"), ("12", "enterprise"),
])
def test_validate_uscc_refuses_a_prefix_of_another_kind(app, prefix, kind):
    code = make_uscc(prefix, "610203", "MA7T0001")
    error = refused(validate_uscc, code, kind)
    assert error.field == "code"
    assert prefix in error.message


# --- validate_household_id -------------------------------------------------------------------

@pytest.mark.parametrize("typed", [HOUSEHOLD, f" {HOUSEHOLD} ", full_width(HOUSEHOLD),
                                   f"{HOUSEHOLD[:9]} {HOUSEHOLD[9:]}"])
def test_validate_household_id_accepts_a_district_code(app, typed):
    assert validate_household_id(typed) == HOUSEHOLD


@pytest.mark.parametrize("town", ["610203001", "610203100", "610203104"])
def test_validate_household_id_accepts_every_town_of_the_district(app, town):
    code = town + "001020031"
    assert validate_household_id(code) == code


@pytest.mark.parametrize("code", [
    "610202106001020031",  # another district of 铜川
    "610203999001020031",  # no such town in 印台区
    "110101001001020031",  # Beijing
])
def test_validate_household_id_refuses_a_prefix_outside_the_district(app, code):
    error = refused(validate_household_id, code)
    assert error.field == "code"
    assert "前 9 位" in error.message


@pytest.mark.parametrize("code", [HOUSEHOLD[:-1], HOUSEHOLD + "1", HOUSEHOLD[:-1] + "X", "", None])
def test_validate_household_id_refuses_anything_but_18_digits(app, code):
    error = refused(validate_household_id, code)
    assert error.field == "code"
    assert "18 位数字" in error.message


# --- register_subject ------------------------------------------------------------------------

def test_register_subject_stores_the_subject(app):
    subject = register_subject(db.session, "enterprise", "  陈炉窑火陶瓷有限公司 ", full_width(CODE),
                               "610203100", industry_code="3074", established_on=date(2018, 5, 1))
    db.session.commit()
    stored = db.session.scalars(select(CreditSubject)).one()
    assert stored.id == subject.id
    assert stored.name == "陈炉窑火陶瓷有限公司"
    assert stored.uscc == CODE
    assert stored.household_id is None
    assert stored.kind == "enterprise"
    assert stored.town_code == "610203100"
    assert stored.industry_code == "3074"
    assert stored.established_on == date(2018, 5, 1)
    assert stored.status == "active"


def test_register_subject_accepts_an_establishment_date_of_today(app):
    subject = register_subject(db.session, "enterprise", "今天成立有限公司", CODE, "610203100",
                               established_on=date.today())
    assert subject.established_on == date.today()


def test_register_subject_refuses_a_uscc_already_registered(app):
    factories.SubjectFactory(uscc=CODE)
    db.session.commit()
    error = refused(register_subject, db.session, "enterprise", "另一家公司", CODE.lower(), "610203101")
    assert error.field == "code"
    assert "已在平台注册" in error.message
    db.session.rollback()
    assert subject_count() == 1


def test_register_subject_refuses_the_same_uscc_twice_in_one_session(app):
    register_subject(db.session, "enterprise", "第一家", CODE, "610203100")
    error = refused(register_subject, db.session, "enterprise", "第二家", CODE, "610203100")
    assert error.field == "code"


@pytest.mark.parametrize("town_code", ["610203999", "610202100", "", None])
def test_register_subject_refuses_a_town_outside_the_district(app, town_code):
    error = refused(register_subject, db.session, "enterprise", "某公司", CODE, town_code)
    assert error.field == "town_code"
    assert not db.session.new


def test_register_subject_refuses_a_future_establishment_date(app):
    tomorrow = local_date() + timedelta(days=1)
    error = refused(register_subject, db.session, "enterprise", "未来公司", CODE, "610203100", None, tomorrow)
    assert error.field == "established_on"
    assert not db.session.new


@pytest.mark.parametrize(("kind", "name", "field"), [
    ("bank", "某公司", "kind"),
    ("", "某公司", "kind"),
    ("enterprise", "   ", "name"),
    ("enterprise", "名" * 121, "name"),
])
def test_register_subject_refuses_an_unknown_kind_or_a_bad_name(app, kind, name, field):
    error = refused(register_subject, db.session, kind, name, CODE, "610203100")
    assert error.field == field
    assert not db.session.new


def test_register_subject_refuses_a_bad_code(app):
    error = refused(register_subject, db.session, "individual_business", "某个体户", CODE, "610203100")
    assert error.field == "code"
    assert not db.session.new


def test_register_farmer_is_stored_by_household_id(app):
    register_subject(db.session, "farmer", "王建国", full_width(HOUSEHOLD), "610203106")
    db.session.commit()
    stored = db.session.scalars(select(CreditSubject)).one()
    assert stored.kind == "farmer"
    assert stored.household_id == HOUSEHOLD
    assert stored.uscc is None
    assert stored.identifier == HOUSEHOLD


def test_register_farmer_refuses_a_uscc_instead_of_a_household_id(app):
    error = refused(register_subject, db.session, "farmer", "王建国", CODE, "610203106")
    assert error.field == "code"


def test_register_farmer_refuses_a_household_already_registered(app):
    register_subject(db.session, "farmer", "王建国", HOUSEHOLD, "610203106")
    db.session.commit()
    error = refused(register_subject, db.session, "farmer", "王建民", HOUSEHOLD, "610203106")
    assert error.field == "code"
    db.session.rollback()
    assert subject_count() == 1


def test_two_farmers_without_uscc_can_both_register(app):
    register_subject(db.session, "farmer", "王建国", HOUSEHOLD, "610203106")
    register_subject(db.session, "farmer", "李秀英", HOUSEHOLD[:-1] + "2", "610203106")
    db.session.commit()
    assert subject_count() == 2


HEAD_BODY = "61020319750505321"
HEAD_ID = HEAD_BODY + ric.calc_check_digit(HEAD_BODY + "0")


def test_a_farmer_without_a_code_registers_by_id_number_and_village(app):
    farmer = register_farmer_by_id(db.session, "王建军", HEAD_ID, "610203106", "阿庄村", "k")
    db.session.commit()
    assert farmer.kind == "farmer" and farmer.identifier == "" and farmer.village == "阿庄村"
    assert farmer.legal_rep_id_masked == "610203********" + HEAD_ID[-4:]
    assert farmer.legal_rep_id_hash == idnumbers.keyed_hash(HEAD_ID, "k")
    stored = " ".join(str(v) for v in db.session.execute(select(CreditSubject.__table__)).one())
    assert HEAD_ID not in stored and HEAD_ID[6:14] not in stored


@pytest.mark.parametrize(("changes", "field", "says"), [
    ({"id_number": HEAD_ID[:-1] + ("0" if HEAD_ID[-1] != "0" else "1")}, "id_number", "校验位"),
    ({"id_number": ""}, "id_number", "身份证"),
    ({"village": ""}, "village", "村"),
    ({"village": "村" * 41}, "village", "村"),
    ({"town_code": "610203999"}, "town_code", "乡镇"),
])
def test_a_farmer_by_id_with_bad_input_is_refused(app, changes, field, says):
    values = {"name": "王建军", "id_number": HEAD_ID, "town_code": "610203106", "village": "阿庄村", **changes}
    with pytest.raises(InvalidInput, match=says) as caught:
        register_farmer_by_id(db.session, key="k", **values)
    assert caught.value.field == field


def test_the_same_id_number_registers_one_farmer(app):
    register_farmer_by_id(db.session, "王建军", HEAD_ID, "610203106", "阿庄村", "k")
    db.session.commit()
    with pytest.raises(InvalidInput, match="已登记农户"):
        register_farmer_by_id(db.session, "王建军", HEAD_ID.lower(), "610203106", "阿庄村", "k")


def test_find_subjects_by_code_or_name(app):
    firm = factories.SubjectFactory(name="陈炉丙陶瓷有限公司")
    factories.SubjectFactory(name="红土丁果业")
    assert find_subjects(db.session, firm.uscc.lower()) == [firm]
    assert find_subjects(db.session, "陶瓷") == [firm]
    assert find_subjects(db.session, "%") == [] and find_subjects(db.session, "  ") == []
