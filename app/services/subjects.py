"""Credit subjects: identifier checks and registration (with a code, or a farmer by ID number and village)."""
import re

from flask_babel import gettext as _
from sqlalchemy import or_, select
from stdnum.cn import uscc as uscc_std

from app.common import idnumbers
from app.common.dates import local_date
from app.common.errors import InvalidInput
from app.common.region import current_region, town_codes, town_name
from app.common.vocab import SUBJECT_KINDS
from app.entities import CreditSubject

# GB 32100-2015 entity-type prefixes expected for each kind of subject.
USCC_PREFIXES = {"enterprise": ("91",), "individual_business": ("92",), "cooperative": ("93",)}
_HOUSEHOLD = re.compile(r"^\d{18}$")
MAX_NAME = 120
MAX_VILLAGE = 40

ID_REASONS = {
    idnumbers.WRONG_LENGTH: lambda: _("身份证号码应为 18 位。"),
    idnumbers.WRONG_FORMAT: lambda: _("身份证号码应为 17 位数字加 1 位数字或 X。"),
    idnumbers.WRONG_DATE_OR_PLACE: lambda: _("身份证号码中的地区码或出生日期无效。"),
    idnumbers.WRONG_CHECK: lambda: _("身份证号码校验位不正确，请核对后重新输入。"),
}


def valid_id_number(text, field="id_number"):
    """The cleaned ID number, or InvalidInput in the user's language saying which part is wrong."""
    if not (text or "").strip():
        raise InvalidInput(_("请输入身份证号码。"), field)
    try:
        return idnumbers.validate(text)
    except idnumbers.InvalidIdNumber as error:
        raise InvalidInput(ID_REASONS[error.reason](), field) from None


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
        raise InvalidInput(_("该信用主体已在平台注册。请凭邀请码“加入已有主体”：已有账户的向本主体账户管理员索取，"
                             "尚无账户的向平台管理员申领。"), "code")
    session.add(subject)
    return subject


def valid_village(village, town_code):
    """The typed village (村/社区) of a farmer in the chosen town, checked against the region's towns.

    The region file lists towns, not villages (no public list of 印台区's villages is in the project's
    sources), so a village is typed; what can be checked is that it is not a town itself and does not
    name another town of the district than the one chosen.
    """
    village = (village or "").strip()
    if not village or len(village) > MAX_VILLAGE:
        raise InvalidInput(_("请填写所在村（社区），不超过 %(n)d 个字符。", n=MAX_VILLAGE), "village")
    towns = {town["code"]: town["name"] for town in current_region()["towns"]}
    if village in towns.values():
        raise InvalidInput(_("请填写乡镇（街道）下的村（社区），而不是乡镇（街道）本身。"), "village")
    elsewhere = [code for code, name in towns.items() if code != town_code and name in village]
    if elsewhere:
        named = town_name(elsewhere[0])
        raise InvalidInput(_("所填的村（社区）写的是%(town)s，与所选乡镇（街道）不一致。", town=named), "village")
    return village


def register_farmer_by_id(session, name, id_number, town_code, village, key):
    """Stage a farmer household without a household code, known by its head's ID number and village.

    The ID number is kept as a keyed hash and a mask only; when a department source later brings the
    household's code for the same ID number, ingestion links it to this subject (app/ingest/registration.py).
    """
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(_("主体名称不能为空，且不超过 %(n)d 个字符。", n=MAX_NAME), "name")
    if town_code not in town_codes():
        raise InvalidInput(_("请选择本区的乡镇（街道）。"), "town_code")
    village = valid_village(village, town_code)
    number = valid_id_number(id_number)
    digest = idnumbers.keyed_hash(number, key)
    taken = select(CreditSubject.id).where(CreditSubject.kind == "farmer", CreditSubject.legal_rep_id_hash == digest)
    if session.scalar(taken) is not None:
        raise InvalidInput(_("该身份证号码已登记农户，请使用平台管理员发放的邀请码加入。"), "id_number")
    subject = CreditSubject(kind="farmer", name=name, town_code=town_code, village=village, legal_rep_name=name,
                            legal_rep_id_hash=digest, legal_rep_id_masked=idnumbers.mask(number))
    session.add(subject)
    return subject


def find_subjects(session, text, limit=20):
    """Subjects whose code is `text` or whose name contains it, by name (at most `limit`)."""
    text = (text or "").strip()[:MAX_NAME]
    if not text:
        return []
    code = normalise_code(text)
    query = select(CreditSubject).where(or_(CreditSubject.uscc == code, CreditSubject.household_id == code,
                                            CreditSubject.name.contains(text, autoescape=True)))
    return session.scalars(query.order_by(CreditSubject.name).limit(limit)).all()
