"""The vectorised evaluation: for every (need, product) pair, a mask with one bit per failed rule.

Needs are processed in chunks of rows against all products at once; no Python loop runs over
pairs. Rules on categories (guarantee, subject type, blacklist, town, grade, industry, term,
source counts) are looked up in small per-category tables built for the categories that occur,
so a chunk costs one row gather per table; rules on amounts and thresholds are compared directly.
Threads share the chunks (numpy releases the GIL in its loops).
"""
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from app.common.vocab import GUARANTEE_TYPES, SUBJECT_KINDS

from .rules import BIT, EXTRA_RULES, RULE_NAMES

PAIRS_PER_CHUNK = 1 << 18
CREDIT = GUARANTEE_TYPES.index("credit")


def _bits(condition, rule):
    """A boolean array as the uint32 mask of `rule`."""
    return condition.astype(np.uint32) << np.uint32(BIT[rule])


@dataclass
class _Lookup:
    """A table of masks (rows: categories that occur) and each need's row in it."""

    table: np.ndarray
    rows: np.ndarray

    @classmethod
    def build(cls, codes, make_rows):
        present, rows = np.unique(codes, return_inverse=True)
        return cls(make_rows(present), rows.reshape(-1).astype(np.int64))


class Plan:
    """Everything a chunk needs, computed once for a pair of tables."""

    def __init__(self, needs, products, min_coverage_pct):
        if needs.grades != products.grades:
            raise ValueError("needs and products use different grade scales")
        self.needs, self.products = needs, products
        self.amount_cover = needs.amount * int(min_coverage_pct)
        self.amount_max100 = products.amount_max * 100
        self.lookups = [self._category_lookup(), self._place_lookup(), self._industry_lookup(),
                        self._term_lookup(), *self._source_lookups()]
        self.compare_rate = bool((needs.max_rate < products.rate_min.max(initial=0)).any())
        self.compare_age = bool(np.isfinite(products.min_age).any())
        self.compare_pd = bool(np.isfinite(products.max_pd).any())

    def _category_lookup(self):
        needs, products = self.needs, self.products
        kinds = len(SUBJECT_KINDS)
        codes = (needs.guarantee.astype(np.int64) * kinds + needs.kind) * 2 + needs.black

        def rows(present):
            guarantee, kind, black = present // (2 * kinds), (present // 2) % kinds, present % 2
            g_fail = ((products.guarantee_mask[None, :] >> guarantee[:, None].astype(np.uint8)) & 1) == 0
            k_fail = ((products.kind_mask[None, :] >> kind[:, None].astype(np.uint8)) & 1) == 0
            # A black list's measure (过惩相当) restricts pure credit loans only: a loan is one when the need
            # offers no guarantee and the product lends on credit; the product's policy then excludes the
            # loan or sends it to review.
            restricted = (black == 1) & (guarantee == CREDIT)
            b_fail = restricted[:, None] & (products.black_exclude & products.lends_on_credit)[None, :]
            return _bits(g_fail, "guarantee") | _bits(k_fail, "subject_kind") | _bits(b_fail, "blacklist")

        return _Lookup.build(codes, rows)

    def _place_lookup(self):
        """Town and grade in one table (the unscored row also settles the PD rule)."""
        needs, products = self.needs, self.products
        levels = len(needs.grades) + 1
        codes = needs.town.astype(np.int64) * levels + needs.grade
        town_ok = self._town_ok()
        has_grade = products.min_grade < len(products.grades)
        has_pd = np.isfinite(products.max_pd)

        def rows(present):
            town, grade = present // levels, present % levels
            unscored = (grade == len(needs.grades))[:, None]
            grade_fail = np.where(unscored, has_grade & ~products.unscored_pass,
                                  has_grade & (grade[:, None] > products.min_grade[None, :]))
            pd_fail = unscored & (has_pd & ~products.unscored_pass)[None, :]
            return (_bits(~town_ok[town], "town") | _bits(grade_fail, "grade") | _bits(pd_fail, "pd"))

        return _Lookup.build(codes, rows)

    def _town_ok(self):
        """(towns in the needs' vocabulary + unknown) × products: is the town served."""
        limited, by_town = self.products.town_pairs
        ok = np.tile(~limited, (len(self.needs.town_vocab) + 1, 1))
        for t, town in enumerate(self.needs.town_vocab):
            ok[t, by_town.get(town, [])] = True
        return ok

    def _industry_lookup(self):
        vocab, products = self.needs.industry_vocab, self.products
        positions, prefixes, lengths = products.industry_pairs
        limited = np.zeros(len(products), dtype=bool)
        limited[positions] = True

        def rows(present):
            ok = np.tile(~limited, (len(present), 1))
            for r, v in enumerate(present):
                if v == len(vocab):
                    continue
                code = vocab[v]
                hit = np.zeros(len(prefixes), dtype=bool)
                for length in range(1, len(code) + 1):
                    if code[:length].isdigit():
                        hit |= (lengths == length) & (prefixes == int(code[:length]))
                ok[r, positions[hit]] = True
            return _bits(~ok, "industry")

        return _Lookup.build(self.needs.industry, rows)

    def _term_lookup(self):
        products = self.products

        def rows(present):
            terms = present[:, None]
            return _bits((terms < products.term_min[None, :]) | (terms > products.term_max[None, :]), "term")

        return _Lookup.build(self.needs.term, rows)

    def _source_lookups(self):
        for key, required in self.products.sources.items():
            counts = self.needs.sources.get(key)
            if counts is None:
                counts = np.zeros(len(self.needs), dtype=np.int16)
            yield _Lookup.build(counts, lambda present, r=required: _bits(
                present[:, None] < r[None, :], "sources"))

    def chunk(self, start, stop):
        """The failed-rule masks of needs `start:stop` against every product."""
        needs, products = self.needs, self.products
        first, *rest = self.lookups
        failed = first.table[first.rows[start:stop]]
        for lookup in rest:
            failed |= lookup.table[lookup.rows[start:stop]]
        amount = needs.amount[start:stop, None]
        too_small = amount < products.amount_min[None, :]
        too_small |= self.amount_cover[start:stop, None] > self.amount_max100[None, :]
        failed |= _bits(too_small, "amount")
        if self.compare_rate:
            failed |= _bits(needs.max_rate[start:stop, None] < products.rate_min[None, :], "rate")
        if self.compare_age:
            failed |= _bits(needs.age[start:stop, None] < products.min_age[None, :], "firm_age")
        if self.compare_pd:
            failed |= _bits(needs.pd[start:stop, None] > products.max_pd[None, :], "pd")
        for group in products.extra_groups:
            failed[:, group.positions] |= _bits(self._extra_fail(group, start, stop), EXTRA_RULES[group.slot])
        return failed

    def _extra_fail(self, group, start, stop):
        values = self.needs.attributes[group.attribute][start:stop]
        missing = np.isnan(values)
        if group.fail_table is not None:
            codes = np.where(missing, len(group.fail_table) - 1, np.nan_to_num(values)).astype(np.int64)
            return group.fail_table[codes]
        x, v = values[:, None], group.values[None, :]
        passed = {"ge": x >= v, "le": x <= v, "eq": x == v, "ne": x != v}[group.operator]
        return ~passed | missing[:, None]


def chunk_bounds(rows, columns, pairs_per_chunk=PAIRS_PER_CHUNK):
    """(start, stop) row ranges of about `pairs_per_chunk` pairs each."""
    step = max(1, pairs_per_chunk // max(columns, 1))
    return [(start, min(start + step, rows)) for start in range(0, rows, step)]


def evaluate_chunks(needs, products, min_coverage_pct=50, workers=1, reduce=None,
                    pairs_per_chunk=PAIRS_PER_CHUNK):
    """Yield, in order, `reduce(start, stop, failed masks)` for consecutive chunks of needs.

    Without `reduce`, yields (start, stop, failed). The reduction runs in the worker thread, so
    that what is kept of each chunk (eligible pairs, near misses) is extracted in parallel too.
    """
    plan = Plan(needs, products, min_coverage_pct)
    bounds = chunk_bounds(len(needs), len(products), pairs_per_chunk)

    def work(bound):
        failed = plan.chunk(*bound)
        return reduce(*bound, failed) if reduce else (*bound, failed)

    if workers <= 1 or len(bounds) <= 1:
        yield from map(work, bounds)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(work, bounds)


def evaluate(needs, products, min_coverage_pct=50, workers=1):
    """The (needs × products) uint32 masks of failed rules; 0 means eligible."""
    if len(needs) == 0 or len(products) == 0:
        return np.zeros((len(needs), len(products)), dtype=np.uint32)
    return np.concatenate([failed for _, _, failed in
                           evaluate_chunks(needs, products, min_coverage_pct, workers)], axis=0)


def failed_rule_names(mask):
    """The names of the rules whose bits are set in one pair's mask, lowest bit first."""
    mask, names = int(mask), []
    while mask:
        names.append(RULE_NAMES[(mask & -mask).bit_length() - 1])
        mask &= mask - 1
    return names
