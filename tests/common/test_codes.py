"""Identifiers built with correct check characters (GB 11714 organisation code, GB 32100 USCC)."""
import pytest
from stdnum.cn import uscc as uscc_std

from app.common.codes import make_uscc, organisation_check_digit


def gb11714_check(body8):
    """The GB 11714 check character, computed here from the standard's rule, not from the app."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body8]
    c9 = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(c9, str(c9))


# Bodies chosen to cover every branch of the rule: plain digit, "X" (C9 = 10) and "0" (C9 = 11).
BODIES = ["D2600000", "MA7T0001", "MA6X9001", "12345678", "00000006", "00000000", "MA7TQP4K"]


def test_the_chosen_bodies_cover_the_x_and_zero_cases():
    checks = {gb11714_check(body) for body in BODIES}
    assert "X" in checks and "0" in checks


@pytest.mark.parametrize("body", BODIES)
def test_organisation_check_digit_follows_gb11714(body):
    assert organisation_check_digit(body) == gb11714_check(body)


@pytest.mark.parametrize("prefix", ["91", "92", "93"])
@pytest.mark.parametrize("body", BODIES)
def test_make_uscc_passes_the_gb32100_check(prefix, body):
    code = make_uscc(prefix, "610203", body)
    assert len(code) == 18
    assert uscc_std.validate(code) == code
    assert code.startswith(prefix + "610203")


@pytest.mark.parametrize("body", BODIES)
def test_make_uscc_embeds_the_organisation_code_with_its_check_char(body):
    code = make_uscc("91", "610203", body)
    organisation_code = code[8:17]
    assert organisation_code == body + gb11714_check(body)


def test_different_bodies_give_different_codes():
    codes = {make_uscc("91", "610203", f"MA7T{n:04d}") for n in range(200)}
    assert len(codes) == 200
    assert all(uscc_std.is_valid(code) for code in codes)
