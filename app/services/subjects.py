"""Credit subjects: identifier checks and registration."""
import re

from flask_babel import gettext as _
from sqlalchemy import select
from stdnum.cn import uscc as uscc_std

from app.common.dates import local_date
from app.common.errors import InvalidInput
from app.common.region import town_codes
from app.common.vocab import SUBJECT_KINDS
from app.entities import CreditSubject

# GB 32100-2015 entity-type prefixes expected for each kind of subject.
USCC_PREFIXES = {"enterprise": ("91",), "individual_business": ("92",), "cooperative": ("93",)}
_HOUSEHOLD = re.compile(r"^\d{18}$")
MAX_NAME = 120


def normalise_code(text):
    """Upper-case, strip spaces and turn full-width characters into ASCII."""
    text = (text or "").strip().upper()
    text = "".join(chr(ord(c) - 0xFEE0) if "！" <= c <= "～" else c for c in text)
    return text.replace(" ", "").replace("\u3000", "")


def validate_uscc(code, kind):
    """Return the cleaned 统一社会信用代码 or raise InvalidInput saying what is wrong."""
    code = normalise_code(code)
    if len(code) != 18:
        raise InvalidInput(_("统一社会信用代码应为 18 位，当前为 %(n)d 位。", n=len(code)), "code")
    try:
        uscc_std.validate(code)
    except uscc_std.InvalidChecksum:
        raise InvalidInput(_("统一社会信用代码校验位不正确，请核对后重新输入。"), "code") from None
    except uscc_std.ValidationError:
        raise InvalidInput(
            _("统一社会信用代码格式不正确（只能包含数字和除 I、O、Z、S、V 以外的大写字母）。"), "code"
        ) from None
    if not code.startswith(USCC_PREFIXES[kind]):
        raise InvalidInput(
            _("该代码的登记类型（前两位 %(p)s）与所选主体类型不符。", p=code[:2]), "code"
        )
    return code


def validate_household_id(code):
    """Return a farmer's 18-digit household code (承包方编码) after checking its town prefix."""
    code = normalise_code(code)
    if not _HOUSEHOLD.match(code):
        raise InvalidInput(_("农户编码应为 18 位数字（承包方编码）。"), "code")
    if code[:9] not in town_codes():
        raise InvalidInput(_("农户编码的前 9 位应为本区乡镇（街道）代码。"), "code")
    return code


def register_subject(session, kind, name, code, town_code, industry_code=None, established_on=None):
    """Stage a new credit subject after validating its identifier and town."""
    if kind not in SUBJECT_KINDS:
        raise InvalidInput(_("请选择主体类型。"), "kind")
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(_("主体名称不能为空，且不超过 %(n)d 个字符。", n=MAX_NAME), "name")
    if town_code not in town_codes():
        raise InvalidInput(_("请选择本区的乡镇（街道）。"), "town_code")
    if established_on is not None and established_on > local_date():
        raise InvalidInput(_("成立日期不能晚于今天。"), "established_on")
    subject = CreditSubject(kind=kind, name=name, town_code=town_code,
                            industry_code=industry_code, established_on=established_on)
    if kind == "farmer":
        subject.household_id = validate_household_id(code)
        if subject.household_id[:9] != town_code:
            raise InvalidInput(_("农户编码的前 9 位应与所选乡镇（街道）一致。"), "code")
        taken = select(CreditSubject).where(CreditSubject.household_id == subject.household_id)
    else:
        subject.uscc = validate_uscc(code, kind)
        taken = select(CreditSubject).where(CreditSubject.uscc == subject.uscc)
    if session.scalar(taken) is not None:
        raise InvalidInput(_("该信用主体已在平台注册，请联系其管理员。"), "code")
    session.add(subject)
    return subject
