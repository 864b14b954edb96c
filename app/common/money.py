"""Money conversions: users type and read 万元; the database keeps 元. And the one parser of the
numbers people type (amounts, rates), with bounds, so a bad figure is a message, never an exception."""
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import gettext as _

from .errors import InvalidInput

WAN = Decimal(10_000)
# A plain decimal number, optionally signed, with an exponent; `NaN` and `Infinity` are not numbers here.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# Longer text is no figure a person typed; it is refused before it is read as one.
MAX_NUMBER_TEXT = 64


def wan_to_yuan(value):
    """万元 → 元 (Decimal, cents)."""
    return (Decimal(value) * WAN).quantize(Decimal("0.01"))


def yuan_to_wan(value):
    """元 → 万元 (Decimal)."""
    return Decimal(value) / WAN


def _plain(text):
    """User text with full-width digits made ASCII and thousands separators dropped."""
    text = str(text).strip().replace(",", "").replace("，", "")
    return "".join(chr(ord(c) - 0xFEE0) if "０" <= c <= "９" or c in "．＋－" else c for c in text)


def parse_decimal(text):
    """A finite Decimal from user text (full-width digits and thousands separators allowed), or None."""
    if text is None:
        return None
    text = _plain(text)
    if len(text) > MAX_NUMBER_TEXT or not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def parse_number(text, what, low, high, *, unit="", low_open=True, field=None):
    """The Decimal a person typed, None when blank; InvalidInput naming `what` when it is no number
    ("格式不正确") or lies outside low … high ("超出范围"; `low` itself excluded when `low_open`).

    The bounds keep every accepted figure inside what the database columns and Decimal's
    arithmetic hold, so the caller's conversions cannot fail on it.
    """
    if text is None or not str(text).strip():
        return None
    value = parse_decimal(text)
    if value is None:
        raise InvalidInput(_("%(what)s格式不正确：请输入数字，如 12.5。", what=what), field)
    if value < low or value > high or (low_open and value == low):
        shown = {"what": what, "low": format_number(low), "high": format_number(high), "unit": unit}
        if low_open:
            raise InvalidInput(_("%(what)s超出范围：应大于 %(low)s 且不超过 %(high)s%(unit)s。", **shown), field)
        raise InvalidInput(_("%(what)s超出范围：应在 %(low)s 到 %(high)s%(unit)s 之间。", **shown), field)
    return value


def format_number(value):
    """A Decimal with thousands separators and without trailing zeros or exponent, e.g. `10,000`, `0.5`."""
    return f"{Decimal(value).normalize():,f}"


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
