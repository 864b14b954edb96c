"""Codes and names of synthetic subjects: 统一社会信用代码, household codes, people and firm names.

Codes are a bijection of the firm's position in the district, so they are unique without any
look-up across chunks; the seed shifts them so that two districts do not share codes.
"""
import numpy as np

from app.common.codes import make_uscc

from . import district as d
from .timeline import TEXT

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_NEW_SPACE = 31 ** 6  # "MA" + 6 characters: codes of firms registered since the 2015 reform
_OLD_SPACE = 10 ** 8  # 8 digits: organisation codes of older firms
_VILLAGES, _GROUPS, _HOUSEHOLDS = 25, 10, 9999
_ID_WEIGHTS = np.array((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2))
_ID_CHECK = np.array(list("10X98765432"))


def _base31(values, width):
    digits = []
    for _ in range(width):
        digits.append(values % 31)
        values = values // 31
    alphabet = np.array(list(USCC_ALPHABET))
    return ["".join(row) for row in alphabet[np.array(digits[::-1]).T]]


def org_bodies(gidx, new_style, seed):
    """8-character organisation-code bodies, unique per global firm index."""
    gidx = np.asarray(gidx, dtype=np.int64)
    new = _base31((gidx * 7919 + 104729 * (seed % 997) + 13) % _NEW_SPACE, 6)
    old = (gidx * 7877 + 1009 * (seed % 9973) + 20_000_000) % _OLD_SPACE
    return [f"MA{n}" if is_new else f"{o:08d}" for n, o, is_new in zip(new, old, new_style, strict=True)]


def unregistered_bodies(rng, n):
    """Bodies that no registered firm has ("MB" is never handed out here)."""
    return [f"MB{b}" for b in _base31(rng.integers(0, _NEW_SPACE, n), 6)]


def usccs(prefixes, region_code, bodies):
    """统一社会信用代码 for each (prefix, body)."""
    return np.array([make_uscc(p, region_code, b) for p, b in zip(prefixes, bodies, strict=True)], dtype=TEXT)


def household_codes(gidx, town_codes, seed):
    """18-digit household codes: town (9) + village (3) + group (2) + household (4), unique."""
    space = _VILLAGES * _GROUPS * _HOUSEHOLDS
    slot = (np.asarray(gidx, dtype=np.int64) * 7919 + 31 * seed) % space
    village, rest = np.divmod(slot, _GROUPS * _HOUSEHOLDS)
    group, household = np.divmod(rest, _HOUSEHOLDS)
    return np.array([f"{t}{v + 1:03d}{g + 1:02d}{h + 1:04d}" for t, v, g, h in
                     zip(town_codes, village, group, household, strict=True)], dtype=TEXT)


def unregistered_households(rng, town_codes):
    """Household codes in villages 9xx, which the district never hands out."""
    n = len(town_codes)
    village = rng.integers(900, 1000, n)
    return [f"{t}{v:03d}{g:02d}{h:04d}" for t, v, g, h in
            zip(town_codes, village, rng.integers(1, 13, n), rng.integers(1, 10000, n), strict=True)]


def id_numbers(rng, region_code, end_date, n):
    """Synthetic 18-digit resident ID numbers of adults aged 25–65, with valid check digits."""
    ages = rng.integers(25 * 365, 65 * 365, n)
    births = (end_date - ages).astype("datetime64[D]").astype(str)
    bodies = [f"{region_code}{b.replace('-', '')}{s:03d}" for b, s in zip(births, rng.integers(1, 1000, n),
                                                                          strict=True)]
    digits = np.array([list(b) for b in bodies], dtype=np.int64) if n else np.zeros((0, 17), dtype=np.int64)
    checks = _ID_CHECK[(digits @ _ID_WEIGHTS) % 11]
    return np.strings.add(np.array(bodies, dtype=TEXT), checks.astype(TEXT))


def _pick(rng, options, n):
    return np.array(options, dtype=TEXT)[rng.integers(0, len(options), n)]


def person_names(rng, n):
    """Chinese personal names: a surname and one or two given characters."""
    given = np.strings.add(_pick(rng, d.GIVEN, n), _pick(rng, d.GIVEN, n))
    one = rng.random(n) < 0.3
    given[one] = _pick(rng, d.GIVEN, int(one.sum()))
    return np.strings.add(_pick(rng, d.SURNAMES, n), given)


def firm_names(rng, kind, industry, rep_names):
    """A plausible name per subject from its kind, industry word and representative."""
    n = len(kind)
    word = d.IND_WORD[industry].astype(TEXT)
    brand = np.strings.add(_pick(rng, d.BRAND, n), _pick(rng, d.BRAND, n))
    suffix = _pick(rng, ("有限公司", "有限公司", "有限责任公司"), n)
    names = np.strings.add(np.strings.add(np.strings.add("铜川", brand), word), suffix)
    shop = np.strings.add(np.strings.add(np.strings.add("印台区", np.strings.slice(rep_names, 0, 1)), "记"),
                          np.strings.add(word, _pick(rng, ("店", "经营部", "商行", "坊"), n)))
    village = np.strings.add(np.strings.add(_pick(rng, d.VILLAGE, n), _pick(rng, d.VILLAGE, n)), "村")
    coop = np.strings.add(np.strings.add("铜川市印台区", village), np.strings.add(word, "专业合作社"))
    names = np.where(kind == d.INDIVIDUAL, shop, names)
    names = np.where(kind == d.COOPERATIVE, coop, names)
    return np.where(kind == d.FARMER, rep_names, names)
