"""Resident ID numbers: validation with the reason, mask and keyed hash."""
import pytest
from stdnum.cn import ric

from app.common import idnumbers


def id_number(body="61020319800101123"):
    """A valid ID number: the 17-character body with its check character."""
    return body + ric.calc_check_digit(body + "0")


def test_a_valid_number_is_cleaned():
    number = id_number()
    assert idnumbers.validate(f" {number[:9]} {number[9:].lower()}") == number
    assert idnumbers.validate("".join(chr(ord(c) + 0xFEE0) for c in number)) == number  # full-width


@pytest.mark.parametrize(("text", "reason"), [
    ("6102031980010112", idnumbers.WRONG_LENGTH),
    ("61020319800101123A", idnumbers.WRONG_FORMAT),
    (id_number("61020319801301123"), idnumbers.WRONG_DATE_OR_PLACE),  # month 13
    (id_number("00000019800101123"), idnumbers.WRONG_DATE_OR_PLACE),  # no such region
])
def test_wrong_numbers_say_which_part(text, reason):
    with pytest.raises(idnumbers.InvalidIdNumber) as caught:
        idnumbers.validate(text)
    assert caught.value.reason == reason


def test_a_wrong_check_digit_is_refused():
    number = id_number()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(idnumbers.InvalidIdNumber) as caught:
        idnumbers.validate(wrong)
    assert caught.value.reason == idnumbers.WRONG_CHECK


def test_mask_and_keyed_hash():
    number = id_number()
    assert idnumbers.mask(number) == number[:6] + "********" + number[-4:]
    assert idnumbers.matches_mask(number, idnumbers.mask(number))
    assert not idnumbers.matches_mask(id_number("61020319900101123"), idnumbers.mask(number)[:-1] + "9")
    digest = idnumbers.keyed_hash(number, "key-1")
    assert len(digest) == 64 and number not in digest
    assert digest == idnumbers.keyed_hash(number.lower(), "key-1")
    assert digest != idnumbers.keyed_hash(number, "key-2")
