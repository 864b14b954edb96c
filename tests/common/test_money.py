"""Money as users type and read it (万元) and as the database keeps it (元)."""
from decimal import Decimal

import pytest

from app.common.money import format_wan, format_yuan, parse_decimal, wan_to_yuan, yuan_to_wan


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
