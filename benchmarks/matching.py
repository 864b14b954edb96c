"""Matching speed, measured on the path the platform takes: `python -m benchmarks.matching [--quick]`.

In one run:
- one need against 5,000 products: `matcher.match_one`, the engine call behind a firm's need page
  (eligibility, fit, order, every other product with its failed rules), on a product table built
  as the app builds it (`ProductTable.from_terms`): p50 and p99 in ms;
- every need of a 100k-firm district against 1,000 products (10⁸ pairs; `--quick`: 10k needs):
  `matcher.screen` with a re-match's settings, keeping the eligible pairs with their fit and the
  failing pairs with their failed rules (near misses, and every pair of a need that found nothing),
  chunk after chunk as the re-match stores them: seconds;
- the baseline, in the same run: bare numpy with seven range/set rules over the same pairs;
- `flask matches refresh` on a district written here into a temporary SQLite database (see
  `benchmarks/_match_district.py`): the whole command against the engine alone on the same tables,
  and a firm's need page service (`matches.evaluate_need`), p50.
Progress goes to stderr; the last line printed is one JSON object.
"""
import argparse
import json
import resource
import sys
import time
from decimal import Decimal

import numpy as np

from app.common.region import town_codes
from app.common.vocab import GUARANTEE_TYPES, REPAYMENT_METHODS, SUBJECT_KINDS
from app.config import Config
from app.matching.engine import chunk_bounds
from app.matching.fit import Market
from app.matching.matcher import NEAR_MISS_MAX_FAILED, match_one, screen
from app.matching.rules import ATTRIBUTES, SECTIONS
from app.matching.tables import NeedTable, ProductTable, ProductTerms
from benchmarks._match_district import app_path_figures

GRADES = ("A", "B", "C", "D", "E")
TOWNS = tuple(town_codes(Config.REGION_CODE))
SOURCES = (("tax_filing", 12), ("social_insurance", 6))
ATTRIBUTE_NAMES = ("revenue_12m_wan", "tax_grade", "insured_headcount", "dishonest_debtor")
INDUSTRY_CODES = tuple(sorted({f"{d:02d}{k:02d}" for d in range(1, 97) for k in range(10, 14)}))
TERMS = np.array([3, 6, 12, 18, 24, 36, 60])
INSTITUTIONS = 12
WAN = 10_000  # 元 in 1 万元
NO_RATE_LIMIT = 10**9


def say(message):
    """Progress, on stderr."""
    print(message, file=sys.stderr, flush=True)


def _pick(rng, values, share_any):
    """A random non-empty subset of `values`, or [] (no limit) with probability `share_any`."""
    if rng.random() < share_any:
        return []
    return sorted(rng.choice(values, size=rng.integers(1, min(4, len(values)) + 1), replace=False).tolist())


def _extra_rules(rng):
    rules = []
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
        name = str(rng.choice(ATTRIBUTE_NAMES))
        rules.append({"attribute": name, **{
            "revenue_12m_wan": {"operator": "ge", "value": float(rng.choice([50, 100, 300]))},
            "insured_headcount": {"operator": "ge", "value": float(rng.choice([3, 5, 10]))},
            "tax_grade": {"operator": "in", "value": ["A", "B"]},
            "dishonest_debtor": {"operator": "eq", "value": False},
        }[name]})
    return rules


def _rules(rng):
    """A product's rules as the product form stores them (app/matching/spec.py), every kind used."""
    sources = [{"source": s, "months": m} for (s, m), share in zip(SOURCES, (0.5, 0.2), strict=True)
               if rng.random() < share]
    return {
        "subject_kinds": [] if rng.random() < 0.7 else _pick(rng, list(SUBJECT_KINDS), 0),
        "industries": _pick(rng, [*SECTIONS, "30", "0151", "543"], 0.7), "towns": _pick(rng, list(TOWNS), 0.8),
        "min_age_years": None if rng.random() < 0.5 else float(rng.choice([1, 2, 3])),
        "min_grade": str(rng.choice(GRADES[1:4])) if rng.random() < 0.6 else None,
        "max_pd": float(rng.choice([0.05, 0.1, 0.2])) if rng.random() < 0.4 else None,
        "unscored_pass": bool(rng.random() < 0.5), "required_sources": sources,
        "blacklist_policy": "exclude" if rng.random() < 0.8 else "review",
        "red_list_priority": bool(rng.random() < 0.2), "extra": _extra_rules(rng),
    }


def synthetic_terms(rng, count):
    """`count` products' terms with every kind of rule, as a lender's form would give them."""
    terms = []
    for _ in range(count):
        amount_min = int(rng.choice([1, 5, 10, 20, 50])) * WAN
        rate_min = round(float(rng.uniform(3.5, 12)), 3)
        accepted = int(rng.integers(1, 16))
        guarantees = [g for k, g in enumerate(GUARANTEE_TYPES) if accepted >> k & 1]
        terms.append(ProductTerms(
            amount_min=Decimal(amount_min), amount_max=Decimal(amount_min * int(rng.choice([10, 20, 50, 100]))),
            term_min=int(rng.choice([1, 3, 6, 12])), term_max=int(rng.choice([12, 24, 36, 60])),
            rate_min=Decimal(str(rate_min)), rate_max=Decimal(str(round(rate_min * 1.5, 3))),
            guarantee_types=tuple(guarantees),
            upfront_fee_pct=Decimal(str(round(rng.uniform(0, 2), 3))) if rng.random() < 0.5 else Decimal(0),
            guarantee_fee_pct=Decimal(str(round(rng.uniform(1, 2), 3))) if rng.random() < 0.2 else Decimal(0),
            repayment=str(rng.choice(REPAYMENT_METHODS)), rules=_rules(rng), name=f"基准产品{len(terms) + 1}"))
    return terms


def product_table(terms):
    """The engine's table of `terms`, built as the app builds it (ids from 1, institutions in turn)."""
    ids = np.arange(1, len(terms) + 1)
    return ProductTable.from_terms(terms, GRADES, ids, (ids - 1) % INSTITUTIONS + 1)


def synthetic_needs(rng, count):
    """`count` open needs of distinct firms, as the engine's table."""
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
        amount=(np.clip(rng.lognormal(np.log(50), 1.0, count), 1, 5000) * WAN * 100).astype(np.int64),
        term=rng.choice(TERMS, count).astype(np.int16),
        max_rate=np.where(rng.random(count) < 0.6, NO_RATE_LIMIT, rng.integers(5000, 20000, count)).astype(np.int64),
        guarantee=rng.choice(4, count, p=[0.5, 0.2, 0.2, 0.1]).astype(np.int8),
        kind=rng.choice(len(SUBJECT_KINDS), count, p=[0.5, 0.3, 0.05, 0.15]).astype(np.int8),
        industry=rng.integers(0, len(INDUSTRY_CODES) + 1, count).astype(np.int32), industry_vocab=INDUSTRY_CODES,
        town=rng.integers(0, len(TOWNS), count).astype(np.int32), town_vocab=TOWNS,
        age=np.where(rng.random(count) < 0.05, -np.inf, rng.uniform(0, 30, count)),
        grade=grade, pd=pd, black=rng.random(count) < 0.02, red=rng.random(count) < 0.05, grades=GRADES,
        sources={f"{s}:{m}": rng.integers(0, 25, count).astype(np.int16) for s, m in SOURCES},
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
    """Latency of a need page's engine call (one need against every product), in ms (p50, p99)."""
    needs = synthetic_needs(rng, repeats)
    times = []
    for k in range(repeats):
        need = needs.subset([k])
        started = time.perf_counter()
        match_one(need, products, market)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def full_rematch(needs, products, market, workers):
    """Every need against every product with a re-match's settings, each chunk's keep counted and let go."""
    figures = {"eligible_pairs": 0, "near_miss_pairs": 0, "stranded_pairs": 0, "kept_bytes": 0}
    started = time.perf_counter()
    for chunk in screen(needs, products, market, near_miss_max=NEAR_MISS_MAX_FAILED, workers=workers):
        near = int(np.count_nonzero(np.bitwise_count(chunk.failed_masks) <= NEAR_MISS_MAX_FAILED))
        figures["eligible_pairs"] += chunk.eligible_count
        figures["near_miss_pairs"] += near
        figures["stranded_pairs"] += chunk.failed_count - near
        figures["kept_bytes"] += chunk.nbytes
    return time.perf_counter() - started, figures


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


def engine_figures(rng, quick, workers):
    """The one-need latency, the full re-match and its baseline, on tables generated in memory."""
    need_count, repeats = (10_000, 100) if quick else (100_000, 400)
    products_5000 = product_table(synthetic_terms(rng, 5000))
    p50, p99 = one_need(rng, products_5000, synthetic_market(rng, products_5000), repeats)
    say(f"one need × 5,000 products: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    products, needs = product_table(synthetic_terms(rng, 1000)), synthetic_needs(rng, need_count)
    market = synthetic_market(rng, products)
    pairs = len(needs) * len(products)
    baseline_s, baseline_eligible = bare_baseline(needs, products)
    say(f"bare numpy, 7 rules, {pairs:,} pairs: {baseline_s:.2f} s ({baseline_eligible:,} pass)")
    seconds, kept = full_rematch(needs, products, market, workers)
    say(f"full re-match, {pairs:,} pairs, {workers} threads: {seconds:.2f} s; {kept['eligible_pairs']:,} eligible, "
        f"{kept['near_miss_pairs']:,} near misses, {kept['stranded_pairs']:,} pairs of needs that found nothing "
        f"({kept['kept_bytes'] / 2**20:.0f} MB kept, chunk by chunk)")
    return {
        "one_need_5000_products_p50_ms": round(p50, 3), "one_need_5000_products_p99_ms": round(p99, 3),
        "full_rematch_s": round(seconds, 3), "pairs": pairs, "needs": len(needs), "products": len(products),
        "workers": workers, "eligible_pairs": kept["eligible_pairs"], "near_miss_pairs": kept["near_miss_pairs"],
        "stranded_pairs": kept["stranded_pairs"], "kept_mb": round(kept["kept_bytes"] / 2**20, 1),
        "baseline_seven_rules_s": round(baseline_s, 3), "full_rematch_to_baseline": round(seconds / baseline_s, 2),
    }


def main(argv=None):
    """Run the benchmark and print its figures; the last line is the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k needs instead of 100k, a smaller SQLite district")
    parser.add_argument("--workers", type=int, default=1,
                        help="threads for the 10^8-pair re-match (the app's re-match uses one)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(20260601)
    figures = {"quick": args.quick, **engine_figures(rng, args.quick, args.workers)}
    need_count, product_count = (1_000, 100) if args.quick else (5_000, 200)
    figures.update(app_path_figures(rng, need_count, synthetic_terms(rng, product_count)))
    figures["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
