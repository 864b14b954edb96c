"""The annualised rate by the IRR method, against explicit cash flows solved by bisection."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching.apr import annualised_rate, method_index


def schedule(rate_pct, months, method):
    """The monthly payments of a loan of 1, written out."""
    c = rate_pct / 1200
    if method == "annuity":
        return [c / (1 - (1 + c) ** -months)] * months
    if method == "equal_principal":
        return [1 / months + c * (1 - k / months) for k in range(months)]
    return [c] * (months - 1) + [1 + c]


def irr_by_bisection(received, payments):
    low, high = 0.0, 1.0
    for _ in range(200):
        mid = (low + high) / 2
        value = sum(p / (1 + mid) ** (k + 1) for k, p in enumerate(payments))
        low, high = (mid, high) if value > received else (low, mid)
    return 1200 * low


@settings(max_examples=80)
@given(st.floats(1, 36), st.integers(1, 120), st.sampled_from(("annuity", "equal_principal", "bullet")),
       st.floats(0, 5), st.floats(0, 3))
def test_apr_is_the_irr_of_the_repayment_schedule(rate, months, method, upfront, guarantee):
    received = 1 - upfront / 100 - guarantee / 100 * months / 12
    expected = irr_by_bisection(received, schedule(rate, months, method))
    assert float(annualised_rate(rate, months, method_index(method), upfront, guarantee)) == pytest.approx(
        expected, rel=1e-7, abs=1e-7)


def test_without_fees_the_apr_is_the_nominal_rate():
    for method in ("annuity", "equal_principal", "bullet"):
        assert float(annualised_rate(4.35, 36, method_index(method))) == pytest.approx(4.35)


def test_fees_raise_the_apr_more_on_a_short_loan():
    short, long = annualised_rate([6, 6], [6, 36], method_index("annuity"), 1.0, 0.0)
    assert 6 < long < short


def test_fees_that_take_the_whole_loan_are_refused():
    with pytest.raises(ValueError):
        annualised_rate(6, 12, 0, 60, 50)
