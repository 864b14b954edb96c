"""Routes of the data-admin area."""
from flask import render_template
from sqlalchemy import func, select

from app.access import role_required
from app.dataadmin import bp
from app.entities import CreditSubject, SourceBatch, SourceRecord
from app.extensions import db

data_admin_only = role_required("data_admin")


@bp.get("/")
@data_admin_only
def dashboard():
    """Received batches, newest first, and stored record counts per source."""
    batches = db.session.scalars(select(SourceBatch).order_by(SourceBatch.id.desc()).limit(100)).all()
    per_source = db.session.execute(
        select(SourceRecord.source, func.count(SourceRecord.id), func.max(SourceRecord.received_at))
        .where(SourceRecord.superseded_by_id.is_(None)).group_by(SourceRecord.source)
        .order_by(SourceRecord.source)).all()
    subjects = db.session.scalar(select(func.count(CreditSubject.id)))
    return render_template("dataadmin/dashboard.html", batches=batches, per_source=per_source,
                           subjects=subjects)
