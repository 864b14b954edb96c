"""Lending institutions and the financial products they publish."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import Money, Timestamped

INSTITUTION_KINDS = ("bank", "guarantee", "pawn", "microloan")
GUARANTEE_TYPES = ("credit", "guarantor", "mortgage", "pledge")
PRODUCT_STATUSES = ("draft", "published", "retired")


class Institution(Timestamped, db.Model):
    """A bank, guarantee company (担保公司), pawn shop (典当行) or microloan company (小贷公司)."""

    __tablename__ = "institution"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    response_limit_days: Mapped[int] = mapped_column(default=3)
    active: Mapped[bool] = mapped_column(default=True)

    products: Mapped[list["Product"]] = relationship(back_populates="institution")


class Product(Timestamped, db.Model):
    """A financial product (金融产品) with its ranges; amounts in 元, rates in % a year."""

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
    status: Mapped[str] = mapped_column(String(12), default="draft")
    published_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    institution: Mapped[Institution] = relationship(back_populates="products")
