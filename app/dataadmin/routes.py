"""Routes of the data-admin area: uploads, batch history, source health, reject reports."""
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app import jobs
from app.access import role_required
from app.common.errors import in_user_language
from app.dataadmin.forms import UploadForm
from app.entities import CreditSubject, IngestionRun, ScoringRun, SourceBatch
from app.extensions import db
from app.ingest.health import source_health
from app.ingest.uploads import UploadRefused, receive, safe_name
from app.services import ingestion, scoring_runs

bp = Blueprint("dataadmin", __name__, url_prefix="/data")

data_admin_only = role_required("data_admin")


@bp.get("/")
@data_admin_only
def dashboard():
    """Per-source health and the latest batches."""
    batches = db.session.scalars(select(SourceBatch).order_by(SourceBatch.id.desc()).limit(100)).all()
    return render_template("dataadmin/dashboard.html", batches=batches,
                           health=source_health(db.session, current_app.config["SOURCE_STALE_DAYS"]),
                           subjects=db.session.scalar(select(func.count(CreditSubject.id))),
                           runs=scoring_runs.recent_runs(db.session), running=scoring_runs.running(db.session))


@bp.route("/upload", methods=["GET", "POST"])
@data_admin_only
def upload():
    """Upload department exports (CSV, Excel or a zip of them): saved and checked here, loaded by a job
    whose progress and result the next page shows."""
    form = UploadForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("dataadmin/upload.html", form=form), status
    config = current_app.config
    try:
        received = receive(form.file.data, config["UPLOAD_DIR"], config["MAX_UNZIPPED_BYTES"], config["MAX_ZIP_RATIO"])
    except UploadRefused as refusal:
        form.file.errors.append(in_user_language(refusal.message, refusal.message_en))
        return render_template("dataadmin/upload.html", form=form), 400
    # Files received longer ago than their retention go now (the daily command removes them too).
    ingestion.purge_kept_files(db.session, config["UPLOAD_DIR"], config["REJECT_DIR"], config["UPLOAD_RETENTION_DAYS"])
    run = ingestion.stage_upload(db.session, received, safe_name(form.file.data.filename or ""), current_user)
    db.session.commit()
    jobs.submit("ingestion", run.id)
    return redirect(url_for("dataadmin.upload_run", run_id=run.id), 303)


@bp.get("/uploads/<id:run_id>")
@data_admin_only
def upload_run(run_id):
    """An upload's loading: its progress while it runs (the page reloads itself), then the result per file."""
    run = db.session.get(IngestionRun, run_id)
    if run is None:
        abort(404)
    rescoring = db.session.get(ScoringRun, run.scoring_run_id) if run.scoring_run_id else None
    return render_template("dataadmin/upload_run.html", run=run, summary=run.summary, rescoring=rescoring,
                           describe=in_user_language)


@bp.get("/batches/<id:batch_id>/rejects")
@data_admin_only
def batch_rejects(batch_id):
    """Download a batch's reject report (CSV)."""
    batch = db.session.get(SourceBatch, batch_id)
    if batch is None or not batch.reject_file:
        abort(404)
    path = Path(batch.reject_file).resolve()
    if not path.is_relative_to(Path(current_app.config["REJECT_DIR"]).resolve()) or not path.exists():
        abort(404)
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=path.name)
