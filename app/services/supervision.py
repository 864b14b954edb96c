"""Market figures for the regulator (政府在线监管)."""
from sqlalchemy import case, func, select

from app.common.vocab import APPROVED_STATUSES, DECIDED_STATUSES, OPEN_APPLICATION_STATUSES
from app.entities import Application, FinancingNeed, Institution, Product


def market_counts(session):
    """Counts of needs, applications and decisions over the whole market."""
    needs = session.execute(select(
        func.count(FinancingNeed.id),
        func.count(case((FinancingNeed.status == "open", 1))),
    )).one()
    apps = session.execute(select(
        func.count(Application.id),
        func.count(case((Application.status.in_(DECIDED_STATUSES), 1))),
        func.count(case((Application.status.in_(APPROVED_STATUSES), 1))),
        func.count(case((Application.status == "declined", 1))),
    )).one()
    products = session.scalar(select(func.count(Product.id)).where(Product.status == "published"))
    return {
        "needs": needs[0], "open_needs": needs[1], "applications": apps[0], "decided": apps[1],
        "approved": apps[2], "declined": apps[3], "published_products": products,
    }


def by_institution(session):
    """Per institution: applications received, approved, declined and still open."""
    query = (select(
        Institution.id, Institution.name, Institution.kind,
        func.count(Application.id),
        func.count(case((Application.status.in_(APPROVED_STATUSES), 1))),
        func.count(case((Application.status == "declined", 1))),
        func.count(case((Application.status.in_(OPEN_APPLICATION_STATUSES), 1))),
    ).outerjoin(Application, Application.institution_id == Institution.id)
        .group_by(Institution.id, Institution.name, Institution.kind).order_by(Institution.name))
    keys = ("id", "name", "kind", "applications", "approved", "declined", "open")
    return [dict(zip(keys, row, strict=True)) for row in session.execute(query)]
