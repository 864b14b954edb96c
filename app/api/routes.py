"""JSON endpoints; the same services as the pages."""
from flask import Blueprint, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from app.access import institution_product_or_404, own_need_or_404, role_required
from app.api.schemas import match_json, need_json, product_json
from app.common.errors import InvalidInput
from app.common.vocab import LENDER_ROLES, ROLES
from app.entities import Institution, Product
from app.errors import error_response
from app.extensions import db
from app.services import market, matches, screening, supervision

bp = Blueprint("api", __name__, url_prefix="/api/v1")


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


@bp.get("/needs/<id:need_id>/products")
@role_required("firm")
def need_products(need_id):
    """The products that fit one of the firm's needs, and the near misses with reasons."""
    need = own_need_or_404(need_id)
    result = matches.evaluate_need(db.session, need)
    return jsonify(need=need_json(need), fitting=[match_json(m) for m in result.eligible],
                   near_misses=[match_json(m) for m in result.near_misses],
                   others=[match_json(m) for m in result.near_misses + result.others])


@bp.get("/products/<id:product_id>/screening")
@role_required(*LENDER_ROLES)
def product_screening(product_id):
    """在线优企筛选 of one of the institution's products: anonymised unless the firm is identified."""
    product = institution_product_or_404(product_id)
    filters = {k: request.args.get(k) for k in screening.FILTERS}
    try:
        rows = screening.screen_product(db.session, product, current_user, filters)
    except InvalidInput as error:
        return error_response(400, error.message)
    screening.log_views(db.session, current_user, product, rows)
    db.session.commit()
    return jsonify(product_id=product.id, firms=[screening.row_json(r) for r in rows])


@bp.get("/matching/reliability")
@role_required("regulator")
def odds_reliability():
    """The reliability table of the approval odds (predicted against observed on later decisions)."""
    return jsonify(market.reliability_report(db.session))


@bp.get("/market/summary")
@role_required("regulator")
def market_summary():
    """Market counts overall and by institution."""
    return jsonify(counts=supervision.market_counts(db.session),
                   institutions=supervision.by_institution(db.session))
