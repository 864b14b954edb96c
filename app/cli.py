"""The `flask platform|data|models|scores|matches|applications|loans|clock|compliance|market|backup|jobs|audit`
commands."""
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext

from app import jobs
from app.common.errors import InvalidInput, NotAllowed
from app.common.vocab import GOVERNING_ROLES, ROLES
from app.credit import registry, snapshot
from app.credit.cluster import SUBJECTS_PER_PARTITION, DaskEngine
from app.demo import DEMO_PASSWORD, build_demo, demo_logins
from app.entities import ApiToken
from app.entities.base import utcnow
from app.extensions import db
from app.ingest.runner import export_files
from app.jobs import simulation as simulation_runs
from app.services import (
    accounts,
    activation,
    api_tokens,
    applications,
    audit,
    backup,
    compliance_checks,
    exchange,
    feedback,
    idempotency,
    ingestion,
    lists,
    match_runs,
    models,
    notifications,
    outbox,
    response_clock,
    scoring_runs,
)


@click.group("platform")
def platform_cli():
    """Platform administration commands."""


@platform_cli.command("demo")
@with_appcontext
def demo_command():
    """Load the demo district (once) and print a login for every role."""
    loaded = build_demo(db.session, current_app.config["REGION_CODE"])
    db.session.commit()
    click.echo("演示数据已载入 / demo district loaded" if loaded
               else "演示数据已存在 / demo district already present")
    click.echo(f"\n演示账号 / demo logins (密码 password: {DEMO_PASSWORD})")
    for role, username, display in demo_logins():
        user = accounts.find_user(db.session, username)  # a demo firm is a subject of the district
        click.echo(f"  {ROLES.label(role):<8} {role:<16} {username:<18} {user.display_name if user else display}")


@click.group("data")
def data_cli():
    """Department data commands."""


@data_cli.command("ingest")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@with_appcontext
def ingest_command(path):
    """Load department exports from PATH (a folder or one file); prints a JSON summary.

    Each file is loaded whole or not at all; when a model is active, the subjects whose records
    changed are re-scored (a recorded run). The command fails when nothing could be loaded or the
    re-scoring failed; the summary, with the run's figures under "scores", is the last line.
    """
    config = current_app.config
    result = ingestion.ingest(db.session, export_files(path), config["REGION_CODE"])
    db.session.commit()
    summary = result.summary
    summary["scores"] = None if result.model_version is None else {"run": None, "scored": 0}
    if result.run is not None:
        run = scoring_runs.execute(db.session, result.run, config["MODEL_REGISTRY"], config["REGION_CODE"],
                                   result.subject_ids)
        summary["scores"] = scoring_runs.figures(run)
    click.echo(json.dumps(summary, ensure_ascii=False))
    if not summary["ok"] or (result.run is not None and result.run.status != "done"):
        sys.exit(1)


@data_cli.command("snapshot")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="the snapshot folder (created; a later run adds only the batches loaded since)")
@with_appcontext
def snapshot_command(out_dir):
    """Write the department records as Parquet partitioned by source and period, with a manifest.

    Incremental: only the batches loaded since the last run are written; a run with nothing new
    changes nothing. Prints the figures (batches and rows written, in all, the manifest's digest).
    """
    click.echo(json.dumps(snapshot.write_snapshot(db.session, out_dir)))


@data_cli.command("purge-uploads")
@with_appcontext
def purge_uploads_command():
    """Remove uploaded originals and reject reports older than UPLOAD_RETENTION_DAYS (run it daily; each
    upload does it too). Their batches keep checksum and counts and record when the files went. Running
    it again removes nothing more. Prints the figures as JSON on the last line."""
    config = current_app.config
    purged = ingestion.purge_kept_files(db.session, config["UPLOAD_DIR"], config["REJECT_DIR"],
                                        config["UPLOAD_RETENTION_DAYS"])
    db.session.commit()
    click.echo(json.dumps(purged.as_json()))
    if purged.failures:
        sys.exit(1)


@click.group("models")
def models_cli():
    """Credit model registry commands."""


@models_cli.command("list")
@with_appcontext
def list_models():
    """List the registered versions; the active one is marked with `*`."""
    active = models.active_version(db.session)
    for version in registry.versions(current_app.config["MODEL_REGISTRY"]):
        click.echo(f"{'*' if version == active else ' '} {version}")


@models_cli.command("activate")
@click.argument("version")
@click.option("--reason", required=True, help="why this version becomes the active one (audited)")
@click.option("--by", "username", help="the platform admin or regulator who decided it (recorded)")
@click.option("--override", default=None,
              help="why a version losing to its baseline or to the active version is activated all the same (audited)")
@with_appcontext
def activate_model(version, reason, username, override):
    """Activate a registered model version (after every registry check), audited, then re-score everyone.

    Refused while a full scoring run is in progress. Prints the run's figures as JSON.
    """
    config = current_app.config
    actor = None
    if username:
        actor = accounts.find_user(db.session, username)
        if actor is None or actor.role not in GOVERNING_ROLES:
            raise click.ClickException(f"{username}: 只有平台管理员或监管部门可以启用模型 / "
                                       "only a platform admin or regulator may activate a model")
    try:
        run = activation.activate(db.session, config["MODEL_REGISTRY"], version, actor, reason,
                                  via=f"cli:{username or 'operator'}", override=override)
    except registry.RegistryError as error:
        raise click.ClickException(f"模型版本不可用 / cannot activate: {error}") from None
    except (InvalidInput, NotAllowed) as refusal:
        raise click.ClickException(in_both_languages(refusal.message)) from None
    db.session.commit()
    run = scoring_runs.execute(db.session, run, config["MODEL_REGISTRY"], config["REGION_CODE"])
    click.echo(json.dumps({"active": version, **scoring_runs.figures(run)}, ensure_ascii=False))
    if run.status != "done":
        raise click.ClickException(f"已启用，但评分失败 / activated, but scoring failed: {run.error}")


@click.group("scores")
def scores_cli():
    """Credit score commands."""


@scores_cli.command("refresh")
@click.option("--subject", "subject_ids", multiple=True, type=int, help="only these subject ids")
@click.option("--engine", type=click.Choice(["pandas", "dask"]), default="pandas",
              help="dask: score everyone per partition of subjects on a Dask cluster, from a Parquet snapshot")
@click.option("--scheduler", help="with --engine dask: the scheduler's address (default: a LocalCluster)")
@click.option("--snapshot", "snapshot_dir", type=click.Path(file_okay=False),
              help="with --engine dask: the snapshot folder, brought up to date first (default SNAPSHOT_DIR)")
@click.option("--workers", type=int, default=1, help="workers of the LocalCluster")
@click.option("--memory-limit", default="6GiB", help="memory limit of each LocalCluster worker")
@click.option("--partition-size", type=int, default=SUBJECTS_PER_PARTITION,
              help="with --engine dask: subjects a partition")
@with_appcontext
def refresh_command(subject_ids, engine, scheduler, snapshot_dir, workers, memory_limit, partition_size):
    """Score every subject (or the given ones) with the active model, recorded as a scoring run.

    Prints a JSON summary; commits after each chunk (with --engine dask, after each partition), as a
    background run from the web does.
    """
    config = current_app.config
    subject_ids = list(subject_ids) or None
    if engine == "dask" and subject_ids:
        raise click.UsageError("--engine dask scores everyone; leave out --subject")
    dask_engine = None
    if engine == "dask":
        if not (snapshot_dir or config.get("SNAPSHOT_DIR")):
            raise click.UsageError("--engine dask needs --snapshot DIR (or the SNAPSHOT_DIR setting)")
        dask_engine = DaskEngine(snapshot_dir or config["SNAPSHOT_DIR"], scheduler, workers, memory_limit,
                                 partition_size=partition_size)
    try:
        run = scoring_runs.start(db.session, "cli", subject_ids=subject_ids)
    except NotAllowed as refusal:
        raise click.ClickException(in_both_languages(refusal.message)) from None
    db.session.commit()
    run = scoring_runs.execute(db.session, run, config["MODEL_REGISTRY"], config["REGION_CODE"], subject_ids,
                               engine=dask_engine)
    if run.status != "done":
        raise click.ClickException(f"评分失败 / scoring failed: {run.error}")
    click.echo(json.dumps(scoring_runs.figures(run), ensure_ascii=False))


def in_both_languages(message):
    """A service's refusal (in the default language, Chinese) followed by its English, for a terminal."""
    with force_locale("en"):
        english = gettext(message)
    return message if english == message else f"{message} / {english}"


QUEUE_HELP = "hand the run to the job queue (JOBS_BACKEND=rq) and print its id instead of running it here"


def queue_run(kind, run):
    """Commit the staged run and submit its job; print {"queued": kind, "run": id}. With the thread
    backend the job runs in this process, which waits for it (its thread would die with the command)."""
    db.session.commit()
    jobs.submit(kind, run.id)
    if jobs.backend().name == "threads":
        jobs.wait(timeout=None)
    click.echo(json.dumps({"queued": kind, "run": run.id, "backend": jobs.backend().name}))


@click.group("matches")
def matches_cli():
    """Matching commands."""


@matches_cli.command("refresh")
@click.option("--queue", "queued", is_flag=True, help=QUEUE_HELP)
@with_appcontext
def refresh_matches_command(queued):
    """Re-match every open need against every published product, recorded as a match run.

    Prints its progress on stderr and a JSON summary as the last line; commits after each batch of needs.
    """
    try:
        run = match_runs.start(db.session, "cli")
    except NotAllowed as refusal:
        raise click.ClickException(in_both_languages(refusal.message)) from None
    if queued:
        return queue_run("matching", run)

    def progress(run):
        click.echo(f"已匹配需求 / needs matched {run.needs_done}/{run.needs_total}, "
                   f"已保存 / stored {run.matches_stored}", err=True)

    run = match_runs.execute(db.session, run, on_progress=progress)
    if run.status != "done":
        raise click.ClickException(f"重新匹配失败 / re-match failed: {run.error}")
    click.echo(json.dumps(match_runs.summary(run), ensure_ascii=False))


@click.group("applications")
def applications_cli():
    """Application commands."""


@applications_cli.command("expire-offers")
@with_appcontext
def expire_offers_command():
    """Expire every offer past its last day that the firm has not accepted (run daily; the pages also
    expire a stale offer when they show it). Prints {"expired": n} as JSON."""
    expired = applications.expire_offers(db.session)
    db.session.commit()
    click.echo(json.dumps({"expired": expired}))


@click.group("notifications")
def notifications_cli():
    """Notification commands."""


@notifications_cli.command("remind")
@with_appcontext
def remind_command():
    """Notify firms of offers and consents that end soon, once each (run daily). Prints
    {"offers": n, "consents": n} as JSON."""
    sent = notifications.remind(db.session)
    db.session.commit()
    click.echo(json.dumps(sent))


@click.group("outbox")
def outbox_cli():
    """E-mail/SMS outbox commands."""


@outbox_cli.command("send")
@with_appcontext
def outbox_send_command():
    """Hand the waiting e-mails and SMS to the configured sender (OUTBOX_SENDER), committing after each.
    Prints {"sent": n, "failed": n} as JSON."""
    try:
        sender = outbox.sender_named(current_app.config["OUTBOX_SENDER"])
    except KeyError as error:
        raise click.ClickException(str(error.args[0])) from None
    counts = outbox.send_pending(db.session, sender, after_each=db.session.commit)
    db.session.commit()
    click.echo(json.dumps(counts))


@click.group("loans")
def loans_cli():
    """Loan commands."""


@loans_cli.command("feedback")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--institution", "institution_name", required=True, help="the lender's name or id")
@click.option("--by", "username", required=True, help="the officer or lender admin sending the file (recorded)")
@with_appcontext
def feedback_command(path, institution_name, username):
    """Load a 贷后反馈 file (CSV in UTF-8 or GBK, or .xlsx) of one lender's loans, as its upload page does.

    The loaded rows and the upload's record are committed together; rejected rows are listed with their
    lines. Prints the upload's JSON summary as the last line; fails when no row loaded or was already there.
    """
    institution = feedback.find_institution(db.session, institution_name)
    if institution is None:
        raise click.ClickException(f"{institution_name}: 没有这个机构 / no such institution")
    try:
        record = feedback.upload(db.session, path, institution, accounts.find_user(db.session, username))
    except (InvalidInput, NotAllowed) as refusal:
        db.session.rollback()
        raise click.ClickException(in_both_languages(refusal.message)) from None
    db.session.commit()
    summary = feedback.summary(record)
    click.echo(json.dumps(summary, ensure_ascii=False))
    if not summary["ok"]:
        sys.exit(1)


@click.group("clock")
def clock_cli():
    """Response clock commands."""


@clock_cli.command("escalate")
@with_appcontext
def escalate_command():
    """Escalate every overdue application to its institution's admin, once each (run it every working day).

    Prints a JSON line: how many were escalated now and how many are overdue in all.
    """
    now = utcnow()
    escalated = response_clock.escalate_overdue(db.session, now)
    db.session.commit()
    click.echo(json.dumps({"escalated": len(escalated), "overdue": response_clock.overdue_count(db.session, now)}))


@click.group("lists")
def lists_cli():
    """Red and black list commands (docs/credit-governance.md)."""


@lists_cli.command("close-expired")
@with_appcontext
def lists_close_expired_command():
    """Close the entries whose term ended (run daily; the market replay does it in its daily round): each leaves
    its list on its last day, audited and notified, and the subject is re-scored and re-matched. Prints
    {"closed": n, "subjects": [...]} as JSON."""
    subject_ids = lists.close_expired(db.session)
    db.session.commit()
    click.echo(json.dumps({"closed": len(subject_ids), "subjects": subject_ids}))


@click.group("compliance")
def compliance_cli():
    """Compliance rule commands (docs/compliance.md)."""


@compliance_cli.command("check")
@with_appcontext
def compliance_check_command():
    """Run every active compliance rule and flag what it finds that is not flagged yet (run daily).

    The last line is JSON: per rule, the flags found now ("new") and those still unacknowledged ("open").
    """
    try:
        figures = compliance_checks.run(db.session)
    except ValueError as error:  # a mistyped COMPLIANCE_RULES setting
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(json.dumps(figures, ensure_ascii=False))


@click.group("market")
def market_cli():
    """The simulated market of the demo."""


def _moment(text):
    """An ISO date or date and time (Beijing time when it has none: the platform's days are Beijing's)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter("YYYY-MM-DD[THH:MM]") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return moment.astimezone(UTC).replace(tzinfo=None)


@market_cli.command("simulate")
@click.option("--months", type=click.IntRange(1, 60), default=24, show_default=True,
              help="How many months up to now (or --until) to replay.")
@click.option("--seed", type=click.IntRange(0, 9999), default=7, show_default=True)
@click.option("--truth", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The synthetic district's _truth/firms.csv: the hidden risk repayments follow.")
@click.option("--until", "until", help="Replay up to this moment instead of now (YYYY-MM-DD[THH:MM], Beijing).")
@click.option("--activity", type=click.FloatRange(0, 20, min_open=True), default=1.0, show_default=True,
              help="Multiplies how often firms post needs (a small district made busy).")
@click.option("--queue", "queued", is_flag=True, help=QUEUE_HELP)
@with_appcontext
def simulate_command(months, seed, truth, until, activity, queued):
    """Replay the district's needs, applications, decisions, loans and repayments month by month through the
    platform's services, recorded as a simulation run. A second run adds nothing; a later one carries on.
    Prints each month's progress on stderr and the counts per status as JSON on the last line."""
    run = simulation_runs.stage(db.session, seed, months, _moment(until) if until else None,
                                truth.resolve() if truth else None, activity)
    if queued:
        return queue_run("simulation", run)
    db.session.commit()

    def progress(window, added):
        click.echo(f"{window.month:%Y-%m}: 需求 needs {added['needs']}, 申请 applications {added['applications']}, "
                   f"放款 loans {added['loans']}, 月报 reports {added['reports']}", err=True)

    run = simulation_runs.execute(db.session, run, on_month=progress)
    if run.status != "done":
        raise click.ClickException(f"市场模拟失败 / simulation failed: {run.error}")
    click.echo(json.dumps(run.figures, ensure_ascii=False))


@click.group("backup")
def backup_cli():
    """Backup and restore: the database, the model registry, the uploads and reject reports (docs/deploy.md)."""


def _backup_places():
    """(folders by archive name, the code's migrations folder) of this deployment."""
    config = current_app.config
    return ({"models": config["MODEL_REGISTRY"], "uploads": config["UPLOAD_DIR"], "rejects": config["REJECT_DIR"],
             "attachments": config["MESSAGE_ATTACHMENT_DIR"]},
            current_app.extensions["migrate"].directory)


def _in_both(text):
    """A lazy text or a backup's refusal in Chinese, then in English, for a terminal."""
    render = (lambda: text.message) if isinstance(text, backup.BackupError) else (lambda: str(text))
    with force_locale("zh"):
        chinese = render()
    with force_locale("en"):
        english = render()
    return chinese if english == chinese else f"{chinese} / {english}"


def _say(text):
    click.echo(_in_both(text), err=True)


@backup_cli.command("create")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the archive (default: instance/backups).")
@with_appcontext
def backup_create_command(out_dir):
    """Write one archive of the database (PostgreSQL: pg_dump; SQLite: the online backup API), the model
    registry, the uploads and the reject reports, with a manifest (time, database kind, Alembic revision,
    rows per table, sha256 of every file). Progress on stderr; the JSON summary is the last line."""
    folders, _migrations = _backup_places()
    try:
        summary = backup.create(db.engine, folders, out_dir or Path(current_app.instance_path) / "backups",
                                say=_say)
    except backup.BackupError as error:
        raise click.ClickException(_in_both(error)) from None
    click.echo(json.dumps(summary, ensure_ascii=False))


@backup_cli.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds rows and files that differ.")
@with_appcontext
def backup_restore_command(archive, force):
    """Restore an archive into DATABASE_URL, MODEL_REGISTRY, UPLOAD_DIR and REJECT_DIR after checking every
    file's sha256 and that this code knows the archive's revision; a target holding data needs --force. The
    JSON summary (rows restored per table) is the last line."""
    folders, migrations = _backup_places()
    db.session.remove()
    try:
        summary = backup.restore(db.engine, archive, folders, migrations, Path(current_app.instance_path),
                                 force=force, say=_say)
    except backup.BackupError as error:
        raise click.ClickException(_in_both(error)) from None
    if summary["upgrade_needed"]:
        click.echo(f"数据库版本 {summary['alembic_revision']} 早于本程序的 {summary['code_revision']}，"
                   "请运行 flask db upgrade / run `flask db upgrade` next", err=True)
    click.echo(json.dumps(summary, ensure_ascii=False))


@click.group("jobs")
def jobs_cli():
    """Background job commands."""


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="stop when the queue is empty instead of waiting for more jobs")
@with_appcontext
def worker_command(burst):
    """Run the job worker (JOBS_BACKEND=rq): takes the queued runs from Redis (REDIS_URL) one at a time, each
    in a process of its own, until stopped with Ctrl-C or SIGTERM (the job in hand is finished first)."""
    from app.jobs.worker import work

    if jobs.backend().name != "rq":
        raise click.ClickException("作业队列未启用：请设置 JOBS_BACKEND=rq 和 REDIS_URL / "
                                   "no job queue: set JOBS_BACKEND=rq and REDIS_URL")
    work(current_app._get_current_object(), burst=burst)


@click.group("audit")
def audit_cli():
    """Audit log commands."""


@audit_cli.command("verify")
@with_appcontext
def verify_audit_command():
    """Re-hash the audit log and follow its chain, streamed; the last line is {"ok", "rows", "first_broken"}
    and the exit status is 1 when an entry was changed, deleted or written around the platform."""
    result = audit.verify(db.session)
    if not result.ok:
        click.echo(f"审计日志自第 {result.first_broken} 条起被篡改 / the audit log was tampered with from entry "
                   f"{result.first_broken} on", err=True)
    click.echo(json.dumps(result.as_dict()))
    if not result.ok:
        sys.exit(1)


@click.group("api")
def api_cli():
    """The JSON API's tokens (docs/api.md)."""


@api_cli.group("token")
def token_cli():
    """Tokens of institutions' and the regulator's systems."""


@token_cli.command("create")
@click.option("--institution", "institution_id", help="the lender's id or name (omit for a regulator's token)")
@click.option("--scopes", required=True, help="comma-separated, e.g. applications:read,decisions:write")
@click.option("--name", required=True, help="what the token is for, e.g. the loan system's name")
@click.option("--by", "username", help="who answers for it (default: the institution's first admin; a regulator "
                                       "for market:read)")
@click.option("--days", default=None, type=int, help="days until it expires (default API_TOKEN_DEFAULT_DAYS)")
@with_appcontext
def token_create_command(institution_id, scopes, name, username, days):
    """Make a token and print it once, as the last line's JSON (only its hash is kept)."""
    institution = None
    if institution_id:
        institution = feedback.find_institution(db.session, institution_id)
        if institution is None:
            raise click.ClickException(f"{institution_id}: 没有这个机构 / no such institution")
    if username:
        holder = accounts.find_user(db.session, username)
    else:
        holder = api_tokens.default_holder(db.session, institution.id) if institution else None
    if holder is None or (institution is not None and holder.institution_id != institution.id):
        raise click.ClickException("请用 --by 指定令牌的负责人（该机构的工作人员或监管部门） / "
                                   "name the token's holder with --by (staff of the institution, or a regulator)")
    try:
        token, plain = api_tokens.create(db.session, holder, holder, name, scopes.split(","),
                                         days or current_app.config["API_TOKEN_DEFAULT_DAYS"])
    except (InvalidInput, NotAllowed) as refusal:
        db.session.rollback()
        raise click.ClickException(in_both_languages(refusal.message)) from None
    db.session.commit()
    click.echo(json.dumps({"id": token.id, "token": plain, "institution_id": token.institution_id,
                           "holder": holder.username, "scopes": token.scopes,
                           "expires_at": token.expires_at.isoformat()}, ensure_ascii=False))


@token_cli.command("revoke")
@click.argument("token_id", type=int)
@click.option("--by", "username", required=True, help="the institution's admin or a platform admin (recorded)")
@with_appcontext
def token_revoke_command(token_id, username):
    """Revoke a token now."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"{token_id}: 没有这个令牌 / no such token")
    try:
        api_tokens.revoke(db.session, token, accounts.find_user(db.session, username))
    except NotAllowed as refusal:
        raise click.ClickException(in_both_languages(refusal.message)) from None
    db.session.commit()
    click.echo(json.dumps({"id": token.id, "revoked_at": token.revoked_at.isoformat()}))


@click.group("exchange")
def exchange_cli():
    """Signed batches with the city/province 信易贷 node (docs/exchange.md); no network: files only."""


def _operator(username):
    """The user a batch is recorded under: --by, else the first active platform admin."""
    user = accounts.find_user(db.session, username) if username else exchange.operator(db.session)
    if user is None:
        raise click.ClickException("请用 --by 指定操作人 / name the operator with --by")
    return user


@exchange_cli.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", "username", help="who sends it (default: the first platform admin)")
@with_appcontext
def exchange_export_command(out, username):
    """Write the signed batch of open needs (anonymised unless released), products and outcomes to OUT."""
    try:
        batch = exchange.export(db.session, _operator(username))
    except NotAllowed as refusal:
        raise click.ClickException(in_both_languages(refusal.message)) from None
    out.write_text(json.dumps(batch, ensure_ascii=False, indent=1), encoding="utf-8")
    db.session.commit()
    click.echo(json.dumps({"batch_id": batch["batch_id"], "file": str(out),
                           **{kind: len(batch[kind]) for kind in exchange.KINDS}}, ensure_ascii=False))


@exchange_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "username", help="who takes it in (default: the first platform admin)")
@with_appcontext
def exchange_import_command(path, username):
    """Take a signed batch of products and needs from the node; per-record rejects on the last line."""
    try:
        batch = json.loads(path.read_text(encoding="utf-8"))
        record, new = exchange.import_batch(db.session, batch, _operator(username))
    except json.JSONDecodeError:
        raise click.ClickException(f"{path}: 不是 JSON / not JSON") from None
    except (InvalidInput, NotAllowed) as refusal:
        db.session.rollback()
        raise click.ClickException(in_both_languages(refusal.message)) from None
    db.session.commit()
    click.echo(json.dumps({"batch_id": record.batch_id, "new": new, **record.counts, "rejects": record.rejects},
                          ensure_ascii=False))


@api_cli.command("purge-keys")
@with_appcontext
def purge_keys_command():
    """Delete the Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS (run daily); prints {"purged": n}."""
    purged = idempotency.purge(db.session)
    db.session.commit()
    click.echo(json.dumps({"purged": purged}))
