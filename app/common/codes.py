"""Building identifiers with correct check characters (GB 11714, GB 32100)."""
from stdnum.cn import uscc as uscc_std

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def organisation_check_digit(body8):
    """GB 11714 check character of an 8-character organisation code body."""
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def make_uscc(prefix, region_code, body8):
    """A 统一社会信用代码 from its registration prefix (e.g. `91`), region and org-code body."""
    org = body8 + organisation_check_digit(body8)
    first17 = f"{prefix}{region_code}{org}"
    return first17 + uscc_std.calc_check_digit(first17)
