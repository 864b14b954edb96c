"""The lender's product form refuses a product above its APR cap with the rule's message; an offer above it
is refused on its rate."""
from sqlalchemy import func, select

from app.entities import Product
from app.extensions import db

from .. import factories
from ..conftest import logged_in_client, page_text
from ..test_journey import post_form

COSTLY = {"name": "惠农快贷", "amount_min_wan": "1", "amount_max_wan": "50", "term_min": "12", "term_max": "24",
          "rate_min": "24", "rate_max": "36", "upfront_fee_pct": "1", "guarantee_fee_pct": "0",
          "repayment": "equal_principal", "guarantee_types": ["credit"]}


def test_a_product_above_the_cap_gets_a_form_error_and_is_not_published(app, world):
    admin = factories.UserFactory(role="lender_admin", institution=world["bank_b"])  # a microloan company
    db.session.commit()
    client = logged_in_client(app, admin)
    response = post_form(client, "/lender/products/new", COSTLY)
    page = page_text(response)
    assert response.status_code == 400
    assert "38.13%" in page and "超过小额贷款公司的上限 24%" in page and "不能发布" in page
    assert db.session.scalar(select(func.count(Product.id)).where(Product.name == "惠农快贷")) == 0


def test_a_suspended_licence_refuses_publication(app, world):
    world["bank_a"].licence_status = "suspended"
    db.session.commit()
    client = logged_in_client(app, world["users"]["lender_admin"])
    page = page_text(post_form(client, "/lender/products/new", {**COSTLY, "rate_min": "4", "rate_max": "6"}))
    assert "经营许可处于暂停或吊销状态" in page
    assert db.session.scalar(select(func.count(Product.id)).where(Product.name == "惠农快贷")) == 0
