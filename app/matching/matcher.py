"""The one path every match takes: a firm's need page, a product's re-match and a district's full re-match.

`screen` evaluates needs against products chunk by chunk and keeps, per chunk, what the platform
uses: the eligible pairs with their fit, odds, APR and green channel, and the failing pairs with
the mask of their failed rules — the near misses, and every pair of a need that found nothing (a
regulator's page shows why), or every failing pair when asked. What a chunk keeps is compact (row
pointers as in a CSR matrix, product positions, float32 figures, uint32 masks), so that a whole
district's re-match fits in memory. `match_one` is the same evaluation for one need, in the order
a firm sees it.
"""
from dataclasses import dataclass

import numpy as np

from .engine import evaluate_chunks
from .fit import AprGrid, rank

NEAR_MISS_MAX_FAILED = 2
GRID_FROM_NEEDS = 64  # from this many needs on, APRs come from a grid computed once


@dataclass
class Screened:
    """One chunk of needs (`start:stop`): eligible pairs with their fit, failing pairs with their masks."""

    start: int
    stop: int
    indptr: np.ndarray
    cols: np.ndarray
    fit: np.ndarray
    odds: np.ndarray
    apr: np.ndarray
    priority: np.ndarray
    failed_indptr: np.ndarray
    failed_cols: np.ndarray
    failed_masks: np.ndarray

    @property
    def eligible_count(self):
        return len(self.cols)

    @property
    def failed_count(self):
        return len(self.failed_cols)

    @property
    def rows(self):
        """The need position of each eligible pair."""
        return np.repeat(np.arange(self.start, self.stop), np.diff(self.indptr))

    @property
    def failed_rows(self):
        """The need position of each kept failing pair."""
        return np.repeat(np.arange(self.start, self.stop), np.diff(self.failed_indptr))

    @property
    def nbytes(self):
        return sum(getattr(self, name).nbytes for name in (
            "indptr", "cols", "fit", "odds", "apr", "priority", "failed_indptr", "failed_cols", "failed_masks"))


def _indptr(rows, count):
    return np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=count))]).astype(np.int64)


def screen(needs, products, market, min_coverage_pct=50, near_miss_max=NEAR_MISS_MAX_FAILED, every_failure=False,
           matched_elsewhere=None, workers=1, fit_settings=None):
    """Yield a `Screened` per chunk of needs, in order (positions index `needs` and `products`).

    A need keeps its near misses (at most `near_miss_max` failed rules); a need with no eligible
    product keeps every failing pair, unless `matched_elsewhere` (a boolean per need) says it has
    an eligible product outside `products`. `every_failure` keeps every failing pair of every need.
    """
    grid = AprGrid(products, needs.term, needs.grade) if len(needs) >= GRID_FROM_NEEDS else None
    settings = fit_settings or {}
    col_type = np.uint16 if len(products) <= np.iinfo(np.uint16).max else np.int64

    def keep(start, stop, failed):
        rows, cols = np.nonzero(failed == 0)
        ranking = rank(needs, products, market, rows + start, cols, grid=grid, **settings)
        count = np.bitwise_count(failed)
        kept = count > 0
        if not every_failure:
            stranded = np.bincount(rows, minlength=stop - start) == 0
            if matched_elsewhere is not None:
                stranded &= ~matched_elsewhere[start:stop]
            kept &= (count <= near_miss_max) | stranded[:, None]
        failed_rows, failed_cols = np.nonzero(kept)
        return Screened(start, stop, _indptr(rows, stop - start), cols.astype(col_type),
                        ranking["fit"].astype(np.float32), ranking["odds"].astype(np.float32),
                        ranking["apr"].astype(np.float32), ranking["priority"],
                        _indptr(failed_rows, stop - start), failed_cols.astype(col_type),
                        failed[failed_rows, failed_cols])

    yield from evaluate_chunks(needs, products, min_coverage_pct, workers=workers, reduce=keep)


def order(fit, priority):
    """Positions of pairs by priority (绿色通道) first, then fit, best first."""
    return np.lexsort((-fit, ~priority))


@dataclass
class NeedVerdict:
    """One need against every product, as a firm sees it: eligible products best first, then the others
    by how many rules they fail (fewest first) and position."""

    cols: np.ndarray
    fit: np.ndarray
    odds: np.ndarray
    apr: np.ndarray
    priority: np.ndarray
    failed_cols: np.ndarray
    failed_masks: np.ndarray

    @property
    def failed_counts(self):
        return np.bitwise_count(self.failed_masks)


def match_one(need, products, market, min_coverage_pct=50, fit_settings=None):
    """The verdict of the one need in table `need` against every product."""
    if len(products) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return NeedVerdict(empty, empty.astype(np.float32), empty.astype(np.float32), empty.astype(np.float32),
                           empty.astype(bool), empty, empty.astype(np.uint32))
    chunk = next(screen(need, products, market, min_coverage_pct, every_failure=True, fit_settings=fit_settings))
    best = order(chunk.fit, chunk.priority)
    masks = chunk.failed_masks
    fewest = np.lexsort((chunk.failed_cols, np.bitwise_count(masks)))
    return NeedVerdict(chunk.cols[best], chunk.fit[best], chunk.odds[best], chunk.apr[best], chunk.priority[best],
                       chunk.failed_cols[fewest], masks[fewest])
