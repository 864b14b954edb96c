"""Resident ID numbers (居民身份证号码, GB 11643-1999): checked, masked and keyed-hashed, never kept whole.

The platform stores an ID number only as `mask` (region prefix and last four characters, for people to
recognise) and `keyed_hash` (HMAC-SHA256 under ID_HASH_KEY, for matching): an unkeyed hash of an
18-character number with a known structure could be reversed by trying every birth date and sequence.
"""
import hashlib
import hmac
from datetime import date

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

ID_LENGTH = 18
# Reasons a number is refused, as codes the services turn into sentences in the user's language.
WRONG_LENGTH, WRONG_FORMAT, WRONG_DATE_OR_PLACE, WRONG_CHECK = "length", "format", "component", "check"


class InvalidIdNumber(ValueError):
    """An ID number that GB 11643 refuses; `reason` is one of the codes above."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def normalise(text):
    """Upper-case (the check character X), without spaces, full-width digits folded to ASCII."""
    text = "".join(chr(ord(c) - 0xFEE0) if "！" <= c <= "～" else c for c in (text or ""))
    return text.replace(" ", "").replace("\u3000", "").strip().upper()


def validate(text, today=None):
    """The cleaned 18-character ID number, or InvalidIdNumber saying which part is wrong.

    The region code is not looked up: it names where the number was first issued, and stdnum's table
    dates each county code (610203 from 2000), which would refuse residents born before the district
    was formed. The birth date must exist and lie between 1900 and today.
    """
    number = normalise(text)
    if len(number) != ID_LENGTH:
        raise InvalidIdNumber(WRONG_LENGTH)
    if not number[:-1].isdigit() or not (number[-1].isdigit() or number[-1] == "X") or not number.isascii():
        raise InvalidIdNumber(WRONG_FORMAT)
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidIdNumber(WRONG_CHECK)
    try:
        born = ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        raise InvalidIdNumber(WRONG_DATE_OR_PLACE) from None
    if not date(1900, 1, 1) <= born <= (today or date.today()) or number.startswith("00"):
        raise InvalidIdNumber(WRONG_DATE_OR_PLACE)
    return number


def mask(number):
    """The region prefix and the last four characters, stars between (as department data is masked)."""
    number = normalise(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def keyed_hash(number, key):
    """HMAC-SHA256 of the normalised number under `key` (text), as 64 hex characters."""
    return hmac.new(key.encode("utf-8"), normalise(number).encode("utf-8"), hashlib.sha256).hexdigest()


def matches_mask(number, masked):
    """Whether `number` agrees with a stored mask on every character the mask shows."""
    number = normalise(number)
    return len(number) == len(masked) and all(m == "*" or m == c for c, m in zip(number, masked, strict=True))
