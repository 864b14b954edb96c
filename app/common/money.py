"""Money conversions: users type and read 万元; the database keeps 元."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

WAN = Decimal(10_000)


def wan_to_yuan(value):
    """万元 → 元 (Decimal, cents)."""
    return (Decimal(value) * WAN).quantize(Decimal("0.01"))


def yuan_to_wan(value):
    """元 → 万元 (Decimal)."""
    return Decimal(value) / WAN


def parse_decimal(text):
    """A Decimal from user text (full-width digits and thousands separators allowed), or None."""
    if text is None:
        return None
    text = str(text).strip().replace(",", "").replace("，", "")
    text = "".join(chr(ord(c) - 0xFEE0) if "０" <= c <= "９" or c == "．" else c for c in text)
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def format_wan(yuan):
    """Format an amount in 元 as 万元 with up to two decimals, e.g. `12.5`."""
    wan = yuan_to_wan(yuan).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{wan:,.2f}".rstrip("0").rstrip(".")
    return text


def format_rate(rate):
    """A rate in % without trailing zeros or exponent, e.g. `20`, `4.35`."""
    return f"{Decimal(rate).normalize():f}"


def format_yuan(yuan):
    """Format an amount in 元 with thousands separators, e.g. `125,000.00`."""
    return f"{Decimal(yuan):,.2f}"
