"""The `flask platform …` and `flask data …` commands."""
import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.demo import DEMO_PASSWORD, build_demo, demo_logins
from app.extensions import db
from app.ingest.runner import export_files, ingest_paths
from app.labels import ROLES
from app.services.region import load_region


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
        click.echo(f"  {str(ROLES[role]):<8} {role:<16} {username:<18} {display}")


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
    click.echo(json.dumps(summary, ensure_ascii=False))
    if not summary["ok"]:
        sys.exit(1)
