"""The `flask platform …` commands; each commits once at its end."""
import click
from flask import current_app
from flask.cli import with_appcontext

from app.demo import DEMO_PASSWORD, build_demo, demo_logins
from app.extensions import db
from app.labels import ROLES


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
