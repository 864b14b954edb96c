"""Money as users type and read it (万元) and as the database keeps it (元)."""
from decimal import Decimal

import pytest

from app.common.errors import InvalidInput
from app.common.money import format_wan, format_yuan, parse_decimal, parse_number, wan_to_yuan, yuan_to_wan


@pytest.mark.parametrize(("wan", "yuan"), [
    ("12.5", Decimal("125000.00")),
    (Decimal("1"), Decimal("10000.00")),
    (300, Decimal("3000000.00")),
    ("0.0001", Decimal("1.00")),
    ("0.000001", Decimal("0.01")),
    ("10000", Decimal("100000000.00")),
])
def test_wan_to_yuan(wan, yuan):
    result = wan_to_yuan(wan)
    assert result == yuan
    assert result.as_tuple().exponent == -2  # kept to the cent, like the database column


@pytest.mark.parametrize(("yuan", "wan"), [
    (Decimal("125000.00"), Decimal("12.5")),
    (Decimal("10000"), Decimal("1")),
    (Decimal("1.00"), Decimal("0.0001")),
    (3_000_000, Decimal("300")),
])
def test_yuan_to_wan(yuan, wan):
    assert yuan_to_wan(yuan) == wan


@pytest.mark.parametrize("wan", ["12.5", "0.01", "300", "9999.99"])
def test_wan_round_trip(wan):
    assert yuan_to_wan(wan_to_yuan(wan)) == Decimal(wan)


@pytest.mark.parametrize(("text", "expected"), [
    ("12.5", Decimal("12.5")),
    ("  12.5  ", Decimal("12.5")),
    ("１２．５", Decimal("12.5")),
    ("１２", Decimal("12")),
    ("1,234.5", Decimal("1234.5")),
    ("1,234,567", Decimal("1234567")),
    ("1，234.5", Decimal("1234.5")),
    ("１，２３４．５", Decimal("1234.5")),
    ("0", Decimal("0")),
    ("-3", Decimal("-3")),
    (7, Decimal("7")),
    (Decimal("4.35"), Decimal("4.35")),
])
def test_parse_decimal_accepts_what_people_type(text, expected):
    assert parse_decimal(text) == expected


@pytest.mark.parametrize("text", [
    None, "", "   ", "abc", "12元", "十二", "1.2.3", "12 5", "--1",
    "NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "Inf",
])
def test_parse_decimal_refuses_garbage_and_non_finite_numbers(text):
    assert parse_decimal(text) is None


@pytest.mark.parametrize(("yuan", "text"), [
    (Decimal("125000.00"), "12.5"),
    (Decimal("10000.00"), "1"),
    (Decimal("100000"), "10"),
    (Decimal("3000000"), "300"),
    (Decimal("100000000"), "10,000"),
    (Decimal("123456700"), "12,345.67"),
    (Decimal("12345"), "1.23"),
    (Decimal("5000"), "0.5"),
    (Decimal("0"), "0"),
])
def test_format_wan(yuan, text):
    assert format_wan(yuan) == text


@pytest.mark.parametrize(("yuan", "text"), [
    (Decimal("125000"), "125,000.00"),
    (Decimal("125000.5"), "125,000.50"),
    (Decimal("0.01"), "0.01"),
    (Decimal("0"), "0.00"),
    (Decimal("1234567.89"), "1,234,567.89"),
    (999, "999.00"),
])
def test_format_yuan(yuan, text):
    assert format_yuan(yuan) == text


# Figures typed into the amount and rate fields that once reached wan_to_yuan or the database as they were.
NOT_NUMBERS = ["NaN", "nan", "Infinity", "-inf", "sNaN", "1,2e", "五十", "9" * 3000, "1e30.5"]
OUT_OF_RANGE = ["1e30", "1E+5000", "-1", "0", "100000.01", "-0"]


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_text_that_is_no_number_is_a_format_error(app, text):
    with pytest.raises(InvalidInput) as refused:
        parse_number(text, "金额", Decimal(0), Decimal(100_000), unit=" 万元", field="amount_wan")
    assert refused.value.message.startswith("金额格式不正确") and refused.value.field == "amount_wan"


@pytest.mark.parametrize("text", OUT_OF_RANGE)
def test_a_number_out_of_bounds_is_a_range_error(app, text):
    with pytest.raises(InvalidInput) as refused:
        parse_number(text, "金额", Decimal(0), Decimal(100_000), unit=" 万元")
    assert refused.value.message == "金额超出范围：应大于 0 且不超过 100,000 万元。"


def test_every_accepted_amount_converts_to_yuan(app):
    for text in ("１２．５", "1,000", "100000", "0.000001", "1e-5000", "+3", "2.5E+2"):
        value = parse_number(text, "金额", Decimal(0), Decimal(100_000))
        assert wan_to_yuan(value) <= Decimal("1000000000.00")
    assert parse_number("  ", "金额", Decimal(0), Decimal(1)) is None
    assert parse_number("0", "费用率", Decimal(0), Decimal(100), low_open=False) == 0
