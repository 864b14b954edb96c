"""The loan's own terms in the trees (issue 16): what the lender and the term add to the borrower's records is
learned in full, so that a group borrowing short from banks is not priced at the average of long and short loans."""
import numpy as np
import pandas as pd

from app.credit.features import BY_NAME, MODEL_INPUTS, categories
from training import train
from training.train import LOAN_TERMS, fit_booster

LENDERS = ("bank", "guarantee", "microloan", "pawn")
LENDER_RISK = {"bank": 0.0, "guarantee": 0.15, "microloan": 0.3, "pawn": 0.5}
LONG_RISK = 0.3  # a loan of 24 months or more (as the synthetic district's risk process has it)


class Book:
    """Loans oldest first (train 60 %, validation 20 %) whose default depends on the borrower's records and,
    much less, on the lender and the term: as on the district, the records carry most of the gain."""

    def __init__(self, seed=0, n=10000):
        rng = np.random.default_rng(seed)
        levels = categories(["610203001"])
        X = pd.DataFrame({name: np.full(n, np.nan) for name in MODEL_INPUTS})
        for name in MODEL_INPUTS:
            if BY_NAME[name].kind == "cat":
                X[name] = pd.Categorical([None] * n, categories=levels[name])
        health = rng.normal(0, 1, (n, 4))
        for k, name in enumerate(("health_revenue", "health_electricity", "health_insured", "health_index")):
            X[name] = health[:, k] + rng.normal(0, 0.3, n)
        lender = rng.choice(LENDERS, n, p=(0.5, 0.15, 0.2, 0.15))
        term = np.where(lender == "pawn", rng.choice((3, 6), n), rng.choice((6, 12, 12, 24, 36), n))
        X["lender_kind"] = pd.Categorical(lender, categories=levels["lender_kind"])
        X["loan_term_months"] = term.astype(float)
        logit = (-3.2 - 0.6 * health.sum(axis=1) + np.vectorize(LENDER_RISK.get)(lender) + LONG_RISK * (term >= 24))
        self.X, self.y = X, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
        self.train, self.valid = np.arange(n) < 0.6 * n, (np.arange(n) >= 0.6 * n) & (np.arange(n) < 0.8 * n)


def effect(booster, X, column, high, low):
    """The trees' mean raw log-odds of the loans as `high` against the same loans as `low` (one column changed)."""
    a, b = X.copy(), X.copy()
    a[column], b[column] = high, low
    return float(np.mean(booster.predict(a, raw_score=True) - booster.predict(b, raw_score=True)))


def test_the_trees_learn_the_loan_terms_as_well_as_the_borrower(monkeypatch):
    # a faster rate keeps the test short (under the shipped 0.02 the gap is the same: docs/model.md)
    monkeypatch.setitem(train.PARAMS, "learning_rate", 0.1)
    book = Book()
    booster, _params = fit_booster(book, book.train, book.valid, seed=0)
    X = book.X[list(MODEL_INPUTS)]
    slope = effect(booster, X, "health_index", 1.0, 0.0) / -0.6  # how far the trees took the borrower's records
    levels = X["lender_kind"].cat.categories
    bank, pawn = (pd.Categorical([kind] * len(X), categories=levels) for kind in ("bank", "pawn"))
    # the term and the lender reach four fifths of their true weight, in the borrower signal's units; trees on
    # every input from the first round took 0.73 of the term's and 0.55 of the pawnshop's here
    assert effect(booster, X, "loan_term_months", 24.0, 12.0) >= 0.8 * LONG_RISK * slope
    assert effect(booster, X, "lender_kind", pawn, bank) >= 0.8 * LENDER_RISK["pawn"] * slope
    trees = booster.trees_to_dataframe()
    last = trees[trees["tree_index"] >= booster.num_trees() - 20]["split_feature"].dropna()
    assert len(last) and set(last) <= set(LOAN_TERMS)  # the model ends with trees on the loan's terms alone
