"""The `flask platform|data|models|scores|matches …` commands."""
import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.common.errors import NotAllowed
from app.common.region import load_region
from app.common.vocab import GOVERNING_ROLES, ROLES
from app.credit import registry
from app.demo import DEMO_PASSWORD, build_demo, demo_logins
from app.extensions import db
from app.ingest.runner import export_files, ingest_paths
from app.services import accounts, match_runs, models, scoring_runs


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
        click.echo(f"  {ROLES.label(role):<8} {role:<16} {username:<18} {display}")


@click.group("data")
def data_cli():
    """Department data commands."""


@data_cli.command("ingest")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@with_appcontext
def ingest_command(path):
    """Load department exports from PATH (a folder or one file); prints a JSON summary.

    Each file is loaded whole or not at all; the command fails only when nothing could be loaded.
    """
    towns = [t["code"] for t in load_region(current_app.config["REGION_CODE"])["towns"]]
    summary = ingest_paths(db.session, export_files(path), towns)
    # New or corrected records change scores: re-score just the subjects they belong to.
    summary["scores"] = models.rescore_after_ingest(db.session, current_app.config["MODEL_REGISTRY"],
                                                    current_app.config["REGION_CODE"], summary)
    db.session.commit()
    click.echo(json.dumps(summary, ensure_ascii=False))
    if not summary["ok"]:
        sys.exit(1)


@click.group("models")
def models_cli():
    """Credit model registry commands."""


@models_cli.command("list")
@with_appcontext
def list_models():
    """List the registered versions and which one is active."""
    root = current_app.config["MODEL_REGISTRY"]
    active = registry.read_registry(root)["active"]
    for version in registry.versions(root):
        click.echo(f"{'*' if version == active else ' '} {version}")


@models_cli.command("activate")
@click.argument("version")
@click.option("--reason", required=True, help="why this version becomes the active one (audited)")
@click.option("--by", "username", help="the platform admin or regulator who decided it (recorded)")
@with_appcontext
def activate_model(version, reason, username):
    """Activate a registered model version (after every registry check); audited."""
    actor = None
    if username:
        actor = accounts.find_user(db.session, username)
        if actor is None or actor.role not in GOVERNING_ROLES:
            raise click.ClickException(f"{username}: 只有平台管理员或监管部门可以启用模型 / "
                                       "only a platform admin or regulator may activate a model")
    try:
        models.activate_version(db.session, current_app.config["MODEL_REGISTRY"], version, actor, reason,
                                by=f"cli:{username or 'operator'}")
    except registry.RegistryError as error:
        raise click.ClickException(f"模型版本不可用 / cannot activate: {error}") from None
    db.session.commit()
    click.echo(json.dumps({"active": version}))


@click.group("scores")
def scores_cli():
    """Credit score commands."""


@scores_cli.command("refresh")
@click.option("--subject", "subject_ids", multiple=True, type=int, help="only these subject ids")
@with_appcontext
def refresh_command(subject_ids):
    """Score every subject (or the given ones) with the active model, recorded as a scoring run.

    Prints a JSON summary; commits after each chunk, as a background run from the web does.
    """
    config = current_app.config
    if not scoring_runs.model_is_active(config["MODEL_REGISTRY"]):
        raise click.ClickException(f"没有可用的模型 / no usable model: no active version in {config['MODEL_REGISTRY']}")
    try:
        run = scoring_runs.start(db.session, "cli", subject_ids=list(subject_ids) or None)
    except NotAllowed as refusal:
        raise click.ClickException(refusal.message) from None
    run = scoring_runs.execute(db.session, run, config["MODEL_REGISTRY"], config["REGION_CODE"],
                               list(subject_ids) or None)
    if run.status != "done":
        raise click.ClickException(f"评分失败 / scoring failed: {run.error}")
    click.echo(json.dumps({"run": run.id, "model_version": run.model_version, "scored": run.subjects_scored,
                           "seconds": round(run.seconds, 2)}, ensure_ascii=False))


@click.group("matches")
def matches_cli():
    """Matching commands."""


@matches_cli.command("refresh")
@with_appcontext
def refresh_matches_command():
    """Re-match every open need against every published product, recorded as a match run.

    Prints its progress on stderr and a JSON summary as the last line; commits after each batch of needs.
    """
    try:
        run = match_runs.start(db.session, "cli")
    except NotAllowed as refusal:
        raise click.ClickException(refusal.message) from None

    def progress(run):
        click.echo(f"已匹配需求 / needs matched {run.needs_done}/{run.needs_total}, "
                   f"已保存 / stored {run.matches_stored}", err=True)

    run = match_runs.execute(db.session, run, on_progress=progress)
    if run.status != "done":
        raise click.ClickException(f"重新匹配失败 / re-match failed: {run.error}")
    click.echo(json.dumps(match_runs.summary(run), ensure_ascii=False))
