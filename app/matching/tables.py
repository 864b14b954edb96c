"""Needs and products as column arrays: what the engine evaluates.

Money is kept in integer cents and rates in thousandths of a percent, so that comparisons are
exact; a missing value is encoded so that every rule that needs it fails and no other rule does
(unknown firm age is −∞ years; an unscored firm has PD −∞ and grade index `len(grades)`, and the
grade table decides for it). Facts are plain values built by the services from the database.
"""
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

import numpy as np

from app.common.vocab import GUARANTEE_TYPES, REPAYMENT_METHODS, SUBJECT_KINDS

from .rules import ATTRIBUTES, SECTIONS

NO_RATE_LIMIT = 10**9  # thousandths of a percent: a need that names no bearable rate


@dataclass
class NeedFacts:
    """One open need and the facts about its firm that the rules read."""

    need_id: int
    subject_id: int
    amount: Decimal
    term_months: int
    guarantee: str
    max_rate: Decimal | None
    kind: str
    industry: str | None
    town: str
    age_years: float | None
    grade: str | None = None
    pd: float | None = None
    source_counts: dict = field(default_factory=dict)
    # On a list whose measures restrict pure credit loans (no_credit_loans), or give priority (priority).
    blacklisted: bool = False
    redlisted: bool = False
    attributes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ProductTerms:
    """A product's terms as a lender sets them: ranges, fees, repayment, rules (see `spec`), name and text.

    One value from the lender's form through the product service (which validates it) to the
    product's columns and to the engine's table; amounts in 元, rates and fees in %.
    """

    amount_min: Decimal
    amount_max: Decimal
    term_min: int
    term_max: int
    rate_min: Decimal
    rate_max: Decimal
    guarantee_types: tuple
    upfront_fee_pct: Decimal = Decimal(0)
    guarantee_fee_pct: Decimal = Decimal(0)
    repayment: str = "annuity"
    rules: dict = field(default_factory=dict)
    name: str = ""
    description: str = ""


def cents(value):
    """元 → integer cents."""
    return int((Decimal(value) * 100).to_integral_value())


def milli(rate):
    """% → integer thousandths of a percent."""
    return int((Decimal(rate) * 1000).to_integral_value())


def source_key(source, months):
    """The key of a required-source count: `tax_filing:12`; months 0 means any record at all."""
    return f"{source}:{int(months)}"


def encode_attribute(name, value):
    """A firm attribute as a number: choices by position, flags as 0/1, missing as NaN."""
    attribute = ATTRIBUTES[name]
    if value is None:
        return np.nan
    if attribute.kind == "choice":
        keys = list(attribute.choices)
        return float(keys.index(value)) if value in keys else np.nan
    return float(bool(value)) if attribute.kind == "flag" else float(value)


@dataclass
class NeedTable:
    """N needs as arrays (see the module docstring for the encodings)."""

    ids: np.ndarray
    subject_ids: np.ndarray
    amount: np.ndarray
    term: np.ndarray
    max_rate: np.ndarray
    guarantee: np.ndarray
    kind: np.ndarray
    industry: np.ndarray
    industry_vocab: tuple
    town: np.ndarray
    town_vocab: tuple
    age: np.ndarray
    grade: np.ndarray
    pd: np.ndarray
    black: np.ndarray
    red: np.ndarray
    grades: tuple
    sources: dict = field(default_factory=dict)
    attributes: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.ids)

    def subset(self, rows):
        """The needs at positions `rows` (same vocabularies)."""
        rows = np.asarray(rows)
        arrays = {name: getattr(self, name)[rows] for name in (
            "ids", "subject_ids", "amount", "term", "max_rate", "guarantee", "kind", "industry", "town", "age",
            "grade", "pd", "black", "red")}
        return NeedTable(**arrays, industry_vocab=self.industry_vocab, town_vocab=self.town_vocab,
                         grades=self.grades, sources={k: v[rows] for k, v in self.sources.items()},
                         attributes={k: v[rows] for k, v in self.attributes.items()})

    @classmethod
    def from_facts(cls, facts, grades, source_keys=(), attribute_names=()):
        """Build the table; `source_keys` and `attribute_names` are those the products use."""
        industry_vocab = tuple(sorted({f.industry for f in facts if f.industry}))
        town_vocab = tuple(sorted({f.town for f in facts}))
        scored = [f.grade in grades and f.pd is not None for f in facts]
        return cls(
            ids=np.array([f.need_id for f in facts], dtype=np.int64),
            subject_ids=np.array([f.subject_id for f in facts], dtype=np.int64),
            amount=np.array([cents(f.amount) for f in facts], dtype=np.int64),
            term=np.array([f.term_months for f in facts], dtype=np.int16),
            max_rate=np.array([NO_RATE_LIMIT if f.max_rate is None else milli(f.max_rate) for f in facts],
                              dtype=np.int64),
            guarantee=np.array([GUARANTEE_TYPES.index(f.guarantee) for f in facts], dtype=np.int8),
            kind=np.array([SUBJECT_KINDS.index(f.kind) for f in facts], dtype=np.int8),
            industry=_indices([f.industry for f in facts], industry_vocab),
            industry_vocab=industry_vocab,
            town=_indices([f.town for f in facts], town_vocab),
            town_vocab=town_vocab,
            age=np.array([-np.inf if f.age_years is None else f.age_years for f in facts], dtype=np.float64),
            grade=np.array([grades.index(f.grade) if ok else len(grades) for f, ok in zip(facts, scored, strict=True)],
                           dtype=np.int16),
            pd=np.array([f.pd if ok else -np.inf for f, ok in zip(facts, scored, strict=True)], dtype=np.float64),
            black=np.array([f.blacklisted for f in facts], dtype=bool),
            red=np.array([f.redlisted for f in facts], dtype=bool),
            grades=tuple(grades),
            sources={k: np.array([f.source_counts.get(k, 0) for f in facts], dtype=np.int16)
                     for k in source_keys},
            attributes={a: np.array([encode_attribute(a, f.attributes.get(a)) for f in facts], dtype=np.float64)
                        for a in attribute_names},
        )


def _indices(values, vocab):
    position = {v: i for i, v in enumerate(vocab)}
    return np.array([position.get(v, len(vocab)) for v in values], dtype=np.int32)


def industry_prefixes(tokens):
    """Digit prefixes of a product's industry tokens, each section letter expanded to its divisions."""
    prefixes = []
    for token in tokens:
        if token in SECTIONS:
            lo, hi = SECTIONS[token]
            prefixes.extend(f"{d:02d}" for d in range(lo, hi + 1))
        else:
            prefixes.append(token)
    return tuple(dict.fromkeys(prefixes))


@dataclass
class ProductTable:
    """M products as arrays; per-product lists for the set rules and the lender's own rules."""

    ids: np.ndarray
    institution_ids: np.ndarray
    amount_min: np.ndarray
    amount_max: np.ndarray
    term_min: np.ndarray
    term_max: np.ndarray
    rate_min: np.ndarray
    rate_max: np.ndarray
    guarantee_mask: np.ndarray
    kind_mask: np.ndarray
    industries: tuple
    towns: tuple
    min_age: np.ndarray
    min_grade: np.ndarray
    max_pd: np.ndarray
    unscored_pass: np.ndarray
    black_exclude: np.ndarray
    red_priority: np.ndarray
    upfront_fee: np.ndarray
    guarantee_fee: np.ndarray
    repayment: np.ndarray
    grades: tuple
    sources: dict = field(default_factory=dict)
    extras: tuple = ()

    def __len__(self):
        return len(self.ids)

    @cached_property
    def lends_on_credit(self):
        """Which products accept a loan without guarantee (信用)."""
        return ((self.guarantee_mask >> np.uint8(GUARANTEE_TYPES.index("credit"))) & 1) == 1

    @property
    def source_keys(self):
        return tuple(self.sources)

    @property
    def attribute_names(self):
        return tuple(sorted({rule["attribute"] for rules in self.extras for rule in rules}))

    @cached_property
    def industry_pairs(self):
        """(product position, prefix as a number, prefix length) of every industry prefix."""
        rows = [(j, int(p), len(p)) for j, prefixes in enumerate(self.industries) for p in prefixes]
        return tuple(np.array(column, dtype=np.int64) for column in zip(*rows, strict=True)) if rows else (
            np.zeros(0, np.int64),) * 3

    @cached_property
    def town_pairs(self):
        """(product position, town code) of every town a product is limited to, and whether it is."""
        rows = [(j, town) for j, towns in enumerate(self.towns) for town in sorted(towns)]
        limited = np.zeros(len(self.towns), dtype=bool)
        by_town = {}
        for j, town in rows:
            limited[j] = True
            by_town.setdefault(town, []).append(j)
        return limited, {town: np.array(positions, dtype=np.int64) for town, positions in by_town.items()}

    @cached_property
    def extra_groups(self):
        """The lender's own rules grouped by (slot, attribute, operator) for the engine."""
        groups = {}
        for j, rules in enumerate(self.extras):
            for slot, rule in enumerate(rules):
                groups.setdefault((slot, rule["attribute"], rule["operator"]), []).append((j, rule["value"]))
        return tuple(ExtraGroup.build(slot, attribute, operator, members)
                     for (slot, attribute, operator), members in sorted(groups.items()))

    @classmethod
    def from_terms(cls, terms, grades, ids, institution_ids):
        """Build the table from validated product terms and each product's id and institution."""
        rules = [t.rules for t in terms]
        keys = sorted({source_key(r["source"], r["months"]) for rs in rules for r in rs.get("required_sources", ())})
        return cls(
            ids=np.asarray(ids, dtype=np.int64).reshape(-1),
            institution_ids=np.asarray(institution_ids, dtype=np.int64).reshape(-1),
            amount_min=np.array([cents(t.amount_min) for t in terms], dtype=np.int64),
            amount_max=np.array([cents(t.amount_max) for t in terms], dtype=np.int64),
            term_min=np.array([t.term_min for t in terms], dtype=np.int16),
            term_max=np.array([t.term_max for t in terms], dtype=np.int16),
            rate_min=np.array([milli(t.rate_min) for t in terms], dtype=np.int64),
            rate_max=np.array([milli(t.rate_max) for t in terms], dtype=np.int64),
            guarantee_mask=np.array([_mask(t.guarantee_types, GUARANTEE_TYPES) for t in terms], dtype=np.uint8),
            kind_mask=np.array([_mask(r.get("subject_kinds") or SUBJECT_KINDS, SUBJECT_KINDS) for r in rules],
                               dtype=np.uint8),
            industries=tuple(industry_prefixes(r.get("industries", ())) for r in rules),
            towns=tuple(frozenset(r.get("towns", ())) for r in rules),
            min_age=np.array([_or(r.get("min_age_years"), -np.inf) for r in rules], dtype=np.float64),
            min_grade=np.array([grades.index(r["min_grade"]) if r.get("min_grade") else len(grades)
                                for r in rules], dtype=np.int16),
            max_pd=np.array([_or(r.get("max_pd"), np.inf) for r in rules], dtype=np.float64),
            unscored_pass=np.array([r.get("unscored_pass", True) for r in rules], dtype=bool),
            black_exclude=np.array([r.get("blacklist_policy", "exclude") == "exclude" for r in rules], dtype=bool),
            red_priority=np.array([r.get("red_list_priority", False) for r in rules], dtype=bool),
            upfront_fee=np.array([float(t.upfront_fee_pct) for t in terms], dtype=np.float64),
            guarantee_fee=np.array([float(t.guarantee_fee_pct) for t in terms], dtype=np.float64),
            repayment=np.array([REPAYMENT_METHODS.index(t.repayment) for t in terms], dtype=np.int8),
            grades=tuple(grades),
            sources={k: np.array([_required(r, k) for r in rules], dtype=np.int16) for k in keys},
            extras=tuple(tuple(r.get("extra", ())) for r in rules),
        )


def _mask(values, vocabulary):
    return sum(1 << vocabulary.index(v) for v in set(values))


def _or(value, default):
    return default if value is None else float(value)


def _required(rules, key):
    """How many periods (or records, for months 0) the product requires for `key`, 0 if none."""
    for requirement in rules.get("required_sources", ()):
        if source_key(requirement["source"], requirement["months"]) == key:
            return max(int(requirement["months"]), 1)
    return 0


@dataclass(frozen=True)
class ExtraGroup:
    """The products whose lender rule in `slot` tests `attribute` with `operator`."""

    slot: int
    attribute: str
    operator: str
    positions: np.ndarray
    values: np.ndarray | None = None
    fail_table: np.ndarray | None = None

    @classmethod
    def build(cls, slot, attribute, operator, members):
        positions = np.array([j for j, _ in members], dtype=np.int64)
        choices = list(ATTRIBUTES[attribute].choices)
        if ATTRIBUTES[attribute].kind != "choice":
            return cls(slot, attribute, operator, positions, values=np.array(
                [float(v) for _, v in members], dtype=np.float64))
        table = np.ones((len(choices) + 1, len(members)), dtype=bool)  # last row: value missing
        for column, (_, value) in enumerate(members):
            allowed = {value} if operator in ("eq", "ne") else set(value)
            inside = np.array([c in allowed for c in choices], dtype=bool)
            table[:-1, column] = ~inside if operator in ("eq", "in") else inside
        return cls(slot, attribute, operator, positions, fail_table=table)
