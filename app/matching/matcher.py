"""Screening many needs against many products: eligible pairs with their fit, near misses with their rules.

What a chunk keeps is compact (row pointers as in a CSR matrix, product positions, float32 figures,
and for a near miss the bit numbers of its one or two failed rules), so that a whole district's
re-match fits in memory.
"""
from dataclasses import dataclass

import numpy as np

from .engine import evaluate_chunks
from .fit import AprGrid, rank

NEAR_MISS_MAX_FAILED = 2
GRID_FROM_NEEDS = 64  # from this many needs on, APRs come from a grid computed once
NO_RULE = 255


@dataclass
class Screened:
    """One chunk of needs (`start:stop`): eligible pairs ranked, near misses with their failed rules."""

    start: int
    stop: int
    indptr: np.ndarray
    cols: np.ndarray
    fit: np.ndarray
    odds: np.ndarray
    apr: np.ndarray
    priority: np.ndarray
    near_indptr: np.ndarray
    near_cols: np.ndarray
    near_rules: np.ndarray

    @property
    def eligible_count(self):
        return len(self.cols)

    @property
    def near_count(self):
        return len(self.near_cols)

    @property
    def rows(self):
        """The need position of each eligible pair."""
        return np.repeat(np.arange(self.start, self.stop), np.diff(self.indptr))

    @property
    def near_rows(self):
        """The need position of each near miss."""
        return np.repeat(np.arange(self.start, self.stop), np.diff(self.near_indptr))

    @property
    def nbytes(self):
        return sum(getattr(self, name).nbytes for name in (
            "indptr", "cols", "fit", "odds", "apr", "priority", "near_indptr", "near_cols", "near_rules"))


def _indptr(rows, count):
    return np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=count))]).astype(np.int64)


def _lowest_bit(masks):
    """The bit number of each mask's lowest set bit (NO_RULE for 0)."""
    low = masks & (~masks + np.uint32(1))
    return np.where(masks == 0, NO_RULE, np.bitwise_count(low - np.uint32(1))).astype(np.uint8)


def screen(needs, products, market, min_coverage_pct=50, near_miss_max=NEAR_MISS_MAX_FAILED, workers=1,
           fit_settings=None):
    """Yield a `Screened` per chunk of needs, in order (positions index `needs` and `products`)."""
    grid = AprGrid(products, needs.term, needs.grade) if len(needs) >= GRID_FROM_NEEDS else None
    settings = fit_settings or {}
    col_type = np.uint16 if len(products) <= np.iinfo(np.uint16).max else np.int64

    def keep(start, stop, failed):
        rows, cols = np.nonzero(failed == 0)
        ranking = rank(needs, products, market, rows + start, cols, grid=grid, **settings)
        count = np.bitwise_count(failed)
        near_rows, near_cols = np.nonzero((count > 0) & (count <= near_miss_max))
        masks = failed[near_rows, near_cols]
        first = _lowest_bit(masks)
        second = _lowest_bit(masks & (masks - np.uint32(1)))
        return Screened(start, stop, _indptr(rows, stop - start), cols.astype(col_type),
                        ranking["fit"].astype(np.float32), ranking["odds"].astype(np.float32),
                        ranking["apr"].astype(np.float32), ranking["priority"],
                        _indptr(near_rows, stop - start), near_cols.astype(col_type),
                        np.stack([first, second], axis=1))

    yield from evaluate_chunks(needs, products, min_coverage_pct, workers=workers, reduce=keep)


def order(fit, priority):
    """Positions of pairs by priority (绿色通道) first, then fit, best first."""
    return np.lexsort((-fit, ~priority))
