"""Matching engine speed: `python -m benchmarks.matching [--quick]`.

Measures, on synthetic needs and products generated here in memory:
- one need against 5,000 products (eligibility, fit, order): p50 and p99 in ms;
- every open need of a 100k-firm district against 1,000 products (100 million pairs), keeping the
  eligible pairs with their fit and the near misses with their failed rules: seconds;
- in the same run, a bare numpy evaluation of seven range/set rules over the same pairs (the
  baseline), and the process's peak memory.
The last line printed is one JSON object. `--quick` uses 10k needs (10 million pairs).
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np

from app.common.vocab import REPAYMENT_METHODS, SUBJECT_KINDS
from app.matching.engine import chunk_bounds
from app.matching.fit import Market
from app.matching.matcher import match_one, screen
from app.matching.rules import ATTRIBUTES, SECTIONS
from app.matching.tables import NeedTable, ProductTable, industry_prefixes

GRADES = ("A", "B", "C", "D", "E")
TOWNS = ("610203001", "610203002", "610203003", "610203004", "610203100", "610203101", "610203102",
         "610203104", "610203106")
SOURCE_KEYS = ("tax_filing:12", "social_insurance:6")
ATTRIBUTE_NAMES = ("revenue_12m_wan", "tax_grade", "insured_headcount", "dishonest_debtor")
TERMS = np.array([3, 6, 12, 18, 24, 36, 60])
WAN = 1_000_000  # cents in 1 万元


def _pick(rng, values, share_any):
    """A random non-empty subset of `values`, or () (no limit) with probability `share_any`."""
    if rng.random() < share_any:
        return ()
    return tuple(rng.choice(values, size=rng.integers(1, min(4, len(values)) + 1), replace=False).tolist())


def _extra_rules(rng):
    rules = []
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
        name = str(rng.choice(ATTRIBUTE_NAMES))
        rule = {"attribute": name, **{
            "revenue_12m_wan": {"operator": "ge", "value": float(rng.choice([50, 100, 300]))},
            "insured_headcount": {"operator": "ge", "value": float(rng.choice([3, 5, 10]))},
            "tax_grade": {"operator": "in", "value": ["A", "B"]},
            "dishonest_debtor": {"operator": "eq", "value": False},
        }[name]}
        rules.append(rule)
    return tuple(rules)


def synthetic_products(rng, count):
    """`count` products with every kind of rule, as the engine's table."""
    amount_min = rng.choice([1, 5, 10, 20, 50], count) * WAN
    sections = list(SECTIONS)
    industries = tuple(_pick(rng, sections + ["30", "0151", "543"], 0.7) for _ in range(count))
    required = rng.random((count, 2)) < (0.5, 0.2)
    rate_min = rng.uniform(3.5, 12, count)
    return ProductTable(
        ids=np.arange(1, count + 1), institution_ids=rng.integers(1, 40, count),
        amount_min=amount_min, amount_max=amount_min * rng.choice([10, 20, 50, 100], count),
        term_min=rng.choice([1, 3, 6, 12], count).astype(np.int16),
        term_max=rng.choice([12, 24, 36, 60], count).astype(np.int16),
        rate_min=(rate_min * 1000).astype(np.int64), rate_max=(rate_min * 1500).astype(np.int64),
        guarantee_mask=rng.integers(1, 16, count).astype(np.uint8),
        kind_mask=np.where(rng.random(count) < 0.7, 15, rng.integers(1, 16, count)).astype(np.uint8),
        industries=tuple(industry_prefixes(t) for t in industries),
        towns=tuple(frozenset(_pick(rng, list(TOWNS), 0.8)) for _ in range(count)),
        min_age=np.where(rng.random(count) < 0.5, -np.inf, rng.choice([1.0, 2.0, 3.0], count)),
        min_grade=np.where(rng.random(count) < 0.6, rng.integers(1, 4, count), len(GRADES)).astype(np.int16),
        max_pd=np.where(rng.random(count) < 0.4, rng.choice([0.05, 0.1, 0.2], count), np.inf),
        unscored_pass=rng.random(count) < 0.5, black_exclude=rng.random(count) < 0.8,
        red_priority=rng.random(count) < 0.2,
        upfront_fee=np.where(rng.random(count) < 0.5, rng.uniform(0, 2, count), 0.0),
        guarantee_fee=np.where(rng.random(count) < 0.2, rng.uniform(1, 2, count), 0.0),
        repayment=rng.integers(0, len(REPAYMENT_METHODS), count).astype(np.int8), grades=GRADES,
        sources={key: np.where(required[:, k], int(key.split(":")[1]), 0).astype(np.int16)
                 for k, key in enumerate(SOURCE_KEYS)},
        extras=tuple(_extra_rules(rng) for _ in range(count)),
    )


def synthetic_needs(rng, count):
    """`count` open needs of distinct firms, as the engine's table."""
    codes = tuple(sorted({f"{d:02d}{k:02d}" for d in range(1, 97) for k in range(10, 14)}))
    grade = np.where(rng.random(count) < 0.8, rng.integers(0, len(GRADES), count), len(GRADES)).astype(np.int16)
    pd = np.where(grade < len(GRADES), (grade + 1) * 0.02 * rng.uniform(0.5, 1.5, count), -np.inf)
    choices = len(ATTRIBUTES["tax_grade"].choices)
    attributes = {
        "revenue_12m_wan": np.where(rng.random(count) < 0.2, np.nan, rng.lognormal(4.5, 1.2, count)),
        "tax_grade": np.where(rng.random(count) < 0.3, np.nan, rng.integers(0, choices, count)).astype(float),
        "insured_headcount": np.where(rng.random(count) < 0.3, np.nan, rng.integers(0, 40, count)).astype(float),
        "dishonest_debtor": (rng.random(count) < 0.03).astype(float),
    }
    return NeedTable(
        ids=np.arange(1, count + 1), subject_ids=np.arange(1, count + 1),
        amount=(np.clip(rng.lognormal(np.log(50), 1.0, count), 1, 5000) * WAN).astype(np.int64),
        term=rng.choice(TERMS, count).astype(np.int16),
        max_rate=np.where(rng.random(count) < 0.6, 10**9, rng.integers(5000, 20000, count)).astype(np.int64),
        guarantee=rng.choice(4, count, p=[0.5, 0.2, 0.2, 0.1]).astype(np.int8),
        kind=rng.choice(len(SUBJECT_KINDS), count, p=[0.5, 0.3, 0.05, 0.15]).astype(np.int8),
        industry=rng.integers(0, len(codes) + 1, count).astype(np.int32), industry_vocab=codes,
        town=rng.integers(0, len(TOWNS), count).astype(np.int32), town_vocab=TOWNS,
        age=np.where(rng.random(count) < 0.05, -np.inf, rng.uniform(0, 30, count)),
        grade=grade, pd=pd, black=rng.random(count) < 0.02, red=rng.random(count) < 0.05, grades=GRADES,
        sources={key: rng.integers(0, 25, count).astype(np.int16) for key in SOURCE_KEYS},
        attributes=attributes,
    )


def synthetic_market(rng, products):
    """Odds by grade level and response times for the products."""
    market = Market.unknown(products)
    market.odds[:] = np.clip(np.linspace(0.9, 0.3, len(GRADES) + 1)[None, :] + rng.normal(0, 0.05, market.odds.shape),
                             0.01, 0.99)
    market.response_days[:] = rng.uniform(0.5, 6, len(products))
    return market


def one_need(rng, products, market, repeats):
    """Latency of matching one need against every product, in ms (p50, p99)."""
    needs = synthetic_needs(rng, repeats)
    times = []
    for k in range(repeats):
        need = needs.subset([k])
        started = time.perf_counter()
        match_one(need, products, market)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def full_rematch(needs, products, market, workers):
    """Every need against every product, keeping what a re-match stores."""
    started = time.perf_counter()
    kept = list(screen(needs, products, market, workers=workers))
    seconds = time.perf_counter() - started
    return seconds, sum(k.eligible_count for k in kept), sum(k.failed_count for k in kept), kept


def bare_baseline(needs, products):
    """Seven range/set rules over the same pairs with plain numpy: amount, term, rate, age, guarantee,
    subject type and town (as bit masks), ANDed into an eligible count."""
    town_bit = (1 << needs.town).astype(np.uint16)
    town_mask = np.array([sum(1 << TOWNS.index(t) for t in towns) if towns else 0xFFFF for towns in products.towns],
                         dtype=np.uint16)
    g_bit, k_bit = (1 << needs.guarantee).astype(np.uint8), (1 << needs.kind).astype(np.uint8)
    started, eligible = time.perf_counter(), 0
    for start, stop in chunk_bounds(len(needs), len(products)):
        a, t = needs.amount[start:stop, None], needs.term[start:stop, None]
        ok = (a >= products.amount_min) & (a <= products.amount_max)
        ok &= (t >= products.term_min) & (t <= products.term_max)
        ok &= needs.max_rate[start:stop, None] >= products.rate_min
        ok &= needs.age[start:stop, None] >= products.min_age
        ok &= (g_bit[start:stop, None] & products.guarantee_mask) != 0
        ok &= (k_bit[start:stop, None] & products.kind_mask) != 0
        ok &= (town_bit[start:stop, None] & town_mask) != 0
        eligible += int(np.count_nonzero(ok))
    return time.perf_counter() - started, eligible


def main(argv=None):
    """Run the benchmark and print its figures; the last line is the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k needs instead of 100k")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(20260601)
    need_count, repeats = (10_000, 100) if args.quick else (100_000, 400)

    products_5000 = synthetic_products(rng, 5000)
    p50, p99 = one_need(rng, products_5000, synthetic_market(rng, products_5000), repeats)
    print(f"one need × 5,000 products: p50 {p50:.3f} ms, p99 {p99:.3f} ms", file=sys.stderr)

    products, needs = synthetic_products(rng, 1000), synthetic_needs(rng, need_count)
    market = synthetic_market(rng, products)
    pairs = len(needs) * len(products)
    baseline_s, baseline_eligible = bare_baseline(needs, products)
    print(f"bare numpy, 7 rules, {pairs:,} pairs: {baseline_s:.2f} s ({baseline_eligible:,} pass)", file=sys.stderr)
    seconds, eligible, near, kept = full_rematch(needs, products, market, args.workers)
    kept_mb = sum(k.nbytes for k in kept) / 2**20
    print(f"full re-match, {pairs:,} pairs, {args.workers} threads: {seconds:.2f} s; "
          f"{eligible:,} eligible, {near:,} near misses kept ({kept_mb:.0f} MB)", file=sys.stderr)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "quick": args.quick, "one_need_5000_products_p50_ms": round(p50, 3),
        "one_need_5000_products_p99_ms": round(p99, 3), "full_rematch_s": round(seconds, 3), "pairs": pairs,
        "needs": len(needs), "products": len(products), "workers": args.workers, "eligible_pairs": eligible,
        "near_miss_pairs": near, "kept_mb": round(kept_mb, 1), "baseline_seven_rules_s": round(baseline_s, 3),
        "full_rematch_to_baseline": round(seconds / baseline_s, 2), "peak_mb": round(peak_mb, 1),
    }))


if __name__ == "__main__":
    main()
