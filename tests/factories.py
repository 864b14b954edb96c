"""factory_boy factories for the platform's records, and a small world built from them."""
import uuid
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

import factory
from factory.alchemy import SQLAlchemyModelFactory

from app import entities as e
from app.common.codes import make_uscc
from app.common.dates import add_months, local_date
from app.common.vocab import APPROVED_STATUSES, LOAN_STATUSES
from app.entities.base import utcnow
from app.extensions import db
from app.services.accounts import hash_password
from app.services.applications import Offer

PASSWORD = "Test-pass-2026"


@cache
def password_hash():
    """One argon2id hash of PASSWORD for every test user (hashing is deliberately slow)."""
    return hash_password(PASSWORD)


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class InstitutionFactory(Base):
    class Meta:
        model = e.Institution

    name = factory.Sequence(lambda n: f"测试银行{n}")
    kind = "bank"
    response_limit_days = 3


class SubjectFactory(Base):
    class Meta:
        model = e.CreditSubject

    kind = "enterprise"
    name = factory.Sequence(lambda n: f"印台测试企业{n}有限公司")
    uscc = factory.Sequence(lambda n: make_uscc("91", "610203", f"MA7T{n:04d}"))
    town_code = "610203100"
    industry_code = "3074"
    established_on = date(2015, 1, 1)


class UserFactory(Base):
    class Meta:
        model = e.User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda o: o.username)
    role = "firm"
    password_hash = factory.LazyFunction(password_hash)


class ProductFactory(Base):
    class Meta:
        model = e.Product

    institution = factory.SubFactory(InstitutionFactory)
    name = factory.Sequence(lambda n: f"测试贷{n}")
    amount_min = Decimal("10000.00")
    amount_max = Decimal("2000000.00")
    term_min_months = 3
    term_max_months = 36
    rate_min = Decimal("3.850")
    rate_max = Decimal("6.000")
    guarantee_types = factory.LazyFunction(lambda: ["credit", "guarantor"])
    status = "published"
    published_at = factory.LazyFunction(utcnow)


class NeedFactory(Base):
    class Meta:
        model = e.FinancingNeed

    subject = factory.SubFactory(SubjectFactory)
    amount = Decimal("500000.00")
    term_months = 12
    purpose = "购置设备"
    guarantee = "credit"
    status = "open"


class ConsentFactory(Base):
    class Meta:
        model = e.Consent

    purpose_code = "underwriting"
    purpose_text = "贷前审核"
    data_categories = factory.LazyFunction(lambda: ["tax"])
    valid_from = factory.LazyFunction(lambda: utcnow() - timedelta(minutes=1))
    valid_to = factory.LazyFunction(lambda: utcnow() + timedelta(days=30))
    status = "active"


class ApplicationFactory(Base):
    class Meta:
        model = e.Application

    amount = Decimal("500000.00")
    term_months = 12
    status = "submitted"


def build_world():
    """Two institutions (A, B), two firms, one user of each role, and an application to A."""
    bank_a = InstitutionFactory(name="甲银行")
    bank_b = InstitutionFactory(name="乙小贷", kind="microloan")
    firm = SubjectFactory(name="陈炉甲陶瓷有限公司")
    other_firm = SubjectFactory(name="红土乙果业有限公司", town_code="610203101")
    users = {
        "firm": UserFactory(username="firm", role="firm", subject=firm, owner=True),
        "firm_other": UserFactory(username="firm_other", role="firm", subject=other_firm, owner=True),
        "officer": UserFactory(username="officer", role="lender_officer", institution=bank_a),
        "officer_other": UserFactory(username="officer_other", role="lender_officer", institution=bank_b),
        "lender_admin": UserFactory(username="lender_admin", role="lender_admin", institution=bank_a),
        "regulator": UserFactory(username="regulator", role="regulator"),
        "data_admin": UserFactory(username="data_admin", role="data_admin"),
        "platform_admin": UserFactory(username="platform_admin", role="platform_admin"),
    }
    product = ProductFactory(institution=bank_a)
    need = NeedFactory(subject=firm, created_by_id=users["firm"].id)
    consent = ConsentFactory(subject_id=firm.id, institution_id=bank_a.id)
    application = ApplicationFactory(need=need, product=product, subject_id=firm.id,
                                     institution_id=bank_a.id, consent_id=consent.id)
    application.events.append(e.ApplicationEvent(to_status="submitted", actor_id=users["firm"].id))
    db.session.commit()
    return {"users": users, "bank_a": bank_a, "bank_b": bank_b, "firm": firm, "other_firm": other_firm,
            "product": product, "need": need, "consent": consent, "application": application}


def offer(**changes):
    """An offer the world's application and product allow (40 万元 at 4.5 % over 12 months, valid 10 days)."""
    terms = {"amount": Decimal("400000.00"), "rate": Decimal("4.5"), "term_months": 12, "repayment": "annuity",
             "guarantee": "credit", "valid_until": local_date() + timedelta(days=10), "collateral": ""}
    return Offer(**{**terms, **changes})


def put_in_status(world, status):
    """The world's application put straight into `status` (version 1, its submit event only), with
    the test offer once approved and a loan of 40 万元 disbursed 100 days ago once disbursed."""
    application = world["application"]
    application.status = status
    if status in APPROVED_STATUSES:
        terms = offer()
        application.approved_amount, application.approved_rate = terms.amount, terms.rate
        application.approved_term_months, application.approved_repayment = terms.term_months, terms.repayment
        application.approved_guarantee, application.offer_valid_until = terms.guarantee, terms.valid_until
        application.decided_at = utcnow() - timedelta(days=101)
        application.decided_by_id = world["users"]["officer"].id
    if status in LOAN_STATUSES:
        disbursed_on = local_date() - timedelta(days=100)
        db.session.add(e.Loan(application=application, subject_id=application.subject_id,
                              institution_id=application.institution_id, reference="YT-TEST-0001",
                              principal=Decimal("400000.00"), annual_rate=Decimal("4.5"), term_months=12,
                              repayment="annuity", disbursed_on=disbursed_on,
                              maturity_on=add_months(disbursed_on, 12), status=status))
    db.session.commit()
    return application


def add_loan(world, reference, status="disbursed", institution=None, months_ago=5, principal="400000.00"):
    """A loan of the world's firm at `institution` (bank A) disbursed on this day `months_ago` months
    ago, with the application it came from (its own need, product and consent) in the same status."""
    institution = institution or world["bank_a"]
    firm = world["firm"]
    consent = ConsentFactory(subject_id=firm.id, institution_id=institution.id)
    application = ApplicationFactory(need=NeedFactory(subject=firm), product=ProductFactory(institution=institution),
                                     subject_id=firm.id, institution_id=institution.id, consent_id=consent.id,
                                     status=status, approved_amount=Decimal(principal))
    disbursed_on = add_months(local_date(), -months_ago)
    loan = e.Loan(application=application, subject_id=firm.id, institution_id=institution.id, reference=reference,
                  principal=Decimal(principal), annual_rate=Decimal("4.5"), term_months=12, repayment="annuity",
                  disbursed_on=disbursed_on, maturity_on=add_months(disbursed_on, 12), status=status)
    db.session.add(loan)
    db.session.flush()
    return loan


def add_score(subject, grade, pd, as_of=None):
    """A credit score of `subject` (by a test model version), computed now from data as of `as_of`."""
    model = db.session.scalars(db.select(e.ModelVersion).where(e.ModelVersion.version == "test")).first()
    if model is None:
        model = e.ModelVersion(version="test", path="models/test", sha256="0" * 64)
        db.session.add(model)
        db.session.flush()
    score = e.CreditScore(subject_id=subject.id, model_version_id=model.id, pd=pd, score=600, grade=grade,
                          reasons=[], completeness={}, data_as_of=as_of or utcnow().date())
    db.session.add(score)
    db.session.flush()
    return score


def add_list_entry(subject, list_type, status="active", list_kind=None):
    """A red or black list entry about `subject`, on `list_kind` (by default the configured general list
    of its type: a black list restricting pure credit loans, a red list giving priority)."""
    list_kind = list_kind or ("serious_dishonest" if list_type == "black" else "trustworthy")
    entry = e.ListEntry(subject_id=subject.id, list_kind=list_kind, list_type=list_type, list_name="测试名单",
                        basis="测试依据",
                        reason="测试", exit_conditions="测试", listed_on=utcnow().date(), status=status)
    db.session.add(entry)
    db.session.flush()
    return entry


def add_records(subject, source, rows):
    """Department records of `source` about `subject`: rows of (period, payload), in a batch of their own
    (a file of its own checksum; each row a fact of its own key)."""
    batch = e.SourceBatch(source=source, file_name=f"{source}.csv", file_sha256=uuid.uuid4().hex * 2, status="loaded")
    db.session.add(batch)
    db.session.flush()
    for number, (period, payload) in enumerate(rows, start=2):
        db.session.add(e.SourceRecord(subject_id=subject.id, source=source,
                                      natural_key=f"{subject.id}|{batch.id}|{number}",
                                      period=period, payload=payload, payload_hash="0" * 16, batch_id=batch.id,
                                      raw_row_number=number, raw_row=""))
    db.session.flush()
    return batch


def months_ago(count):
    """The first day of the month `count` months before this one."""
    today = utcnow().date()
    index = today.year * 12 + today.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def show_in_screening(need, product):
    """The stored match that puts `need` in the screening of `product`'s institution."""
    db.session.add(e.Match(need_id=need.id, product_id=product.id, eligible=True, rule_results=[], fit=0.8))
    db.session.commit()


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def office_file(main_part):
    """The bytes of a minimal Office Open XML package whose main part is `main_part` (word/document.xml…)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(main_part, "<x/>")
    return buffer.getvalue()


def upload(data, name="营业执照.pdf"):
    """A file as a form posts it (werkzeug FileStorage)."""
    import io

    from werkzeug.datastructures import FileStorage

    return FileStorage(stream=io.BytesIO(data), filename=name)
