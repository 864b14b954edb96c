"""JSON endpoints; the same services as the pages."""
from flask import jsonify
from sqlalchemy import select

from app.access import own_need_or_404, role_required
from app.api import bp
from app.api.schemas import need_json, product_json
from app.entities import Institution, Product
from app.entities.users import ROLES
from app.extensions import db
from app.services import products, supervision


@bp.get("/health")
def health():
    """Liveness and database reachability; public."""
    db.session.execute(select(1))
    return jsonify(status="ok")


@bp.get("/products")
@role_required(*ROLES)
def product_list():
    """Published products of active institutions."""
    query = (select(Product).join(Institution)
             .where(Product.status == "published", Institution.active.is_(True)).order_by(Product.id))
    return jsonify(products=[product_json(p) for p in db.session.scalars(query)])


@bp.get("/needs/<int:need_id>/products")
@role_required("firm")
def need_products(need_id):
    """The products that fit one of the firm's needs, and the near misses with reasons."""
    need = own_need_or_404(need_id)
    fitting, others = products.products_for_need(db.session, need)
    return jsonify(need=need_json(need), fitting=[product_json(p) for p in fitting],
                   others=[{"product": product_json(p), "failed": [str(f) for f in failed]}
                           for p, failed in others])


@bp.get("/market/summary")
@role_required("regulator")
def market_summary():
    """Market counts overall and by institution."""
    return jsonify(counts=supervision.market_counts(db.session),
                   institutions=supervision.by_institution(db.session))
