"""The audit log page, shared by the regulator's and the platform admin's areas (each blueprint's routes
check who may see it, then call these): filters, paging, CSV export and the tamper check."""
import tempfile

from flask import Response, render_template, request, send_file
from flask_babel import gettext as _
from sqlalchemy import select

from app.common.errors import InvalidInput
from app.common.exports import csv_chunks
from app.common.ids import page_number
from app.common.vocab import AUDIT_ACTIONS
from app.entities import Institution
from app.extensions import db
from app.services import audit

# An export up to this size stays in memory; a longer one goes to a temporary file.
SPOOL_IN_MEMORY = 8 << 20


def _page(area, verification=None):
    try:
        filters = audit.checked_filters(db.session, request.args)
    except InvalidInput as error:
        return _render(area, audit.AuditFilters(), None, verification, error.message), 400
    result = audit.page_of(db.session, filters, request.args.get("page", 1, type=page_number))
    return _render(area, filters, result, verification)


def _render(area, filters, result, verification, error=None):
    institutions = db.session.scalars(select(Institution).order_by(Institution.name)).all()
    return render_template("audit.html", area=area, filters=filters, result=result, error=error,
                           verification=verification, actions=AUDIT_ACTIONS.choices(), institutions=institutions)


def show(area):
    """The filtered log, a page at a time; `area` is the blueprint serving it (for its links)."""
    return _page(area)


def show_verified(area):
    """The page with the result of re-hashing the whole chain (as `flask audit verify` does)."""
    return _page(area, audit.verify(db.session))


def export():
    """Every entry the filters match, as a CSV download (formula cells neutralised, ID numbers masked);
    written to a spooled file first, so a long log costs disk, not memory."""
    try:
        filters = audit.checked_filters(db.session, request.args)
    except InvalidInput as error:
        return Response(error.message, status=400, mimetype="text/plain")
    header = [str(name) for name in audit.EXPORT_HEADER]
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115  (send_file closes it)
    for chunk in csv_chunks(header, audit.export_rows(db.session, filters)):
        spool.write(chunk)
    spool.seek(0)
    return send_file(spool, mimetype="text/csv", as_attachment=True, download_name=_("审计日志.csv"))
