"""Lending institutions and the financial products they publish."""
from datetime import datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import Money, Timestamped, utcnow


def configured_response_limit():
    """The days a new institution has to respond, unless it says otherwise (DEFAULT_RESPONSE_LIMIT_DAYS)."""
    return current_app.config["DEFAULT_RESPONSE_LIMIT_DAYS"]


class Institution(Timestamped, db.Model):
    """A bank, guarantee company (担保公司), pawn shop (典当行) or microloan company (小贷公司)."""

    __tablename__ = "institution"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    response_limit_days: Mapped[int] = mapped_column(default=configured_response_limit)
    active: Mapped[bool] = mapped_column(default=True)
    # 经营许可 (licence) as its supervisor last said: valid, suspended or revoked (LICENCE_STATUSES).
    licence_status: Mapped[str] = mapped_column(String(12), default="valid", server_default="valid")

    products: Mapped[list["Product"]] = relationship(back_populates="institution")


class Product(Timestamped, db.Model):
    """A financial product (金融产品): ranges, fees and rules; amounts in 元, rates and fees in %.

    `rules` holds the eligibility rules as data (see app/matching/spec.py); every change of the
    terms is kept as a `ProductVersion`, and `version` is the number of the current one.
    """

    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    amount_min: Mapped[Decimal] = mapped_column(Money)
    amount_max: Mapped[Decimal] = mapped_column(Money)
    term_min_months: Mapped[int]
    term_max_months: Mapped[int]
    rate_min: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    rate_max: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    guarantee_types: Mapped[list] = mapped_column(JSON)
    # Fees count in the annualised cost: upfront in % of the loan, guarantee fee in % a year.
    upfront_fee_pct: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=Decimal(0), server_default="0")
    guarantee_fee_pct: Mapped[Decimal] = mapped_column(Numeric(6, 3), default=Decimal(0), server_default="0")
    repayment: Mapped[str] = mapped_column(String(16), default="annuity", server_default="annuity")
    rules: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    status: Mapped[str] = mapped_column(String(12), default="draft")
    published_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    institution: Mapped[Institution] = relationship(back_populates="products")


class ProductVersion(db.Model):
    """A product's terms as they stood from one change to the next (who changed them, when)."""

    __tablename__ = "product_version"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    version: Mapped[int]
    terms: Mapped[dict] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    changed_by: Mapped["User | None"] = relationship()  # noqa: F821
