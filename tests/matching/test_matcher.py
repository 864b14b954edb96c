"""The one engine path: what `screen` keeps and how `match_one` orders, against the plain masks."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching.engine import evaluate
from app.matching.explain import rule_results
from app.matching.fit import Market
from app.matching.matcher import match_one, screen
from app.matching.tables import NeedTable, ProductTable

from .strategies import GRADES, market_sides

SETTINGS = settings(max_examples=80, deadline=None)


def tables(sides):
    need_facts, product_terms = sides
    count = len(product_terms)
    ptable = ProductTable.from_terms(product_terms, GRADES, ids=range(1, count + 1), institution_ids=[1] * count)
    ntable = NeedTable.from_facts(need_facts, GRADES, ptable.source_keys, ptable.attribute_names)
    return ntable, ptable, Market.unknown(ptable)


def kept(chunks):
    """({(i, j)} eligible, {(i, j): mask} kept failing pairs) over every chunk."""
    eligible, failing = set(), {}
    for chunk in chunks:
        eligible |= set(zip(chunk.rows.tolist(), chunk.cols.tolist(), strict=True))
        failing |= {(i, j): int(m) for i, j, m in zip(chunk.failed_rows.tolist(), chunk.failed_cols.tolist(),
                                                       chunk.failed_masks.tolist(), strict=True)}
    return eligible, failing


@SETTINGS
@given(market_sides(max_needs=8), st.integers(0, 3), st.data())
def test_screen_keeps_eligible_pairs_near_misses_and_every_pair_of_a_need_that_found_nothing(sides, near_max, data):
    ntable, ptable, market = tables(sides)
    failed = evaluate(ntable, ptable)
    elsewhere = np.array(data.draw(st.lists(st.booleans(), min_size=len(ntable), max_size=len(ntable))))
    eligible, failing = kept(screen(ntable, ptable, market, near_miss_max=near_max, matched_elsewhere=elsewhere))
    count = np.bitwise_count(failed)
    assert eligible == {tuple(p) for p in np.argwhere(failed == 0).tolist()}
    for i, j in np.argwhere(failed > 0).tolist():
        stranded = not (failed[i] == 0).any() and not elsewhere[i]
        assert ((i, j) in failing) == bool(count[i, j] <= near_max or stranded)
        assert failing.get((i, j), int(failed[i, j])) == int(failed[i, j])


@SETTINGS
@given(market_sides(max_needs=6))
def test_screen_can_keep_every_failing_pair(sides):
    ntable, ptable, market = tables(sides)
    failed = evaluate(ntable, ptable)
    _, failing = kept(screen(ntable, ptable, market, near_miss_max=0, every_failure=True))
    assert failing == {(i, j): int(failed[i, j]) for i, j in np.argwhere(failed > 0).tolist()}


@SETTINGS
@given(market_sides(max_needs=1))
def test_match_one_orders_eligible_products_best_first_and_the_others_by_failed_rules(sides):
    ntable, ptable, market = tables(sides)
    verdict = match_one(ntable, ptable, market)
    failed = evaluate(ntable, ptable)[0]
    assert sorted(verdict.cols.tolist()) == np.flatnonzero(failed == 0).tolist()
    ranks = list(zip((~verdict.priority).tolist(), (-verdict.fit).tolist(), strict=True))
    assert ranks == sorted(ranks)
    expected = sorted(np.flatnonzero(failed).tolist(), key=lambda j: (int(np.bitwise_count(failed[j])), j))
    assert verdict.failed_cols.tolist() == expected
    assert verdict.failed_masks.tolist() == [int(failed[j]) for j in expected]


@SETTINGS
@given(market_sides())
def test_a_stored_miss_keeps_exactly_the_failed_results(sides):
    _, product_terms = sides
    ntable, ptable, _ = tables(sides)
    failed = evaluate(ntable, ptable)
    for i, j in np.argwhere(failed > 0).tolist():
        every = rule_results(ntable, i, ptable, j, failed[i, j], product_terms[j].rules)
        only = rule_results(ntable, i, ptable, j, failed[i, j], product_terms[j].rules, only_failed=True)
        assert only == [r for r in every if not r["passed"]]
