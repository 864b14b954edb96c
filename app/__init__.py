"""The 印台区 digital finance service platform: the Flask application factory."""
from collections.abc import Mapping

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale

from app.config import APP_DIR, Config, normalise_database_url
from app.extensions import babel, configure_sqlite, csrf, db, limiter, login_manager, migrate


def create_app(config=None):
    """Build the app from `config`, a Config class or a mapping over Config's defaults.

    Without one, from Config and the process environment as it is at this call (a real run);
    a given config is taken as it is, the environment unread (tests pass their own).
    """
    app = Flask(__name__, instance_relative_config=True)
    if config is None:
        app.config.from_mapping(Config.from_environment())
    elif isinstance(config, Mapping):
        app.config.from_mapping({**Config.settings(), **config})
    else:
        app.config.from_mapping(config.settings())
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    _ensure_sqlite_folder(app)
    register_security(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    register_operations(app)
    check_compliance_rules(app)
    return app


def check_compliance_rules(app):
    """Refuse to start with a mistyped COMPLIANCE_RULES or LPR setting: the error names the setting."""
    from app.services import compliance

    with app.app_context():
        compliance.caps()
        compliance.lpr()


def _ensure_sqlite_folder(app):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
        from pathlib import Path

        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def select_locale():
    """The logged-in user's language, else the one chosen with the switch (kept in the session), else Chinese."""
    if not has_request_context():
        return "zh"
    from flask_login import current_user

    user_locale = current_user.locale if current_user and current_user.is_authenticated else None
    lang = user_locale or session.get("lang")
    return lang if lang in ("zh", "en") else "zh"


def register_security(app):
    """Production checks, trusted proxies, body limits, the Origin check and security headers."""
    from app import security

    security.register(app)


def register_extensions(app):
    """Bind the unbound extensions to this app."""
    from app import entities  # noqa: F401  (registers every table on the metadata)
    from app.services.accounts import load_session_user

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_SECONDS"])
    migrate.init_app(app, db, directory=str(APP_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                    default_translation_directories=str(APP_DIR / "translations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.login_message_category = "info"
    login_manager.user_loader(lambda session_id: load_session_user(db.session, session_id))

    @login_manager.unauthorized_handler
    def unauthorized():
        from app.errors import unauthorized_response

        return unauthorized_response()


def register_blueprints(app):
    """One blueprint per area; record ids in their routes are `<id:…>` (bounded to a primary key's range)."""
    from app import api, auth, dataadmin, firm, lender, messages, notifications, platform, regulator
    from app.common.ids import IdConverter

    app.url_map.converters["id"] = IdConverter
    for module in (auth, firm, lender, regulator, dataadmin, platform, messages, notifications, api):
        app.register_blueprint(module.bp)
    # Token requests carry no cookie a forged form could ride on (the session is never taken for them):
    # CSRF does not apply to them, and only to them.
    for name in api.token_endpoints():
        csrf.exempt(app.view_functions[name])


def register_errorhandlers(app):
    """HTML pages for people, JSON for the API, both in the user's language."""
    from app.errors import register

    register(app)


def register_template_helpers(app):
    """Filters and globals the templates use (money in 万元, local time, labels)."""
    from app.templating import register

    register(app)

    @app.context_processor
    def inject_locale():
        return {"current_locale": str(get_locale()), "request_path": request.path}


def register_operations(app):
    """What running it in production needs: the job backend, LightGBM's threads, request timing,
    and the probes and metrics (/healthz, /readyz, /metrics) — docs/deploy.md."""
    from app import jobs, metrics, ops
    from app.credit.registry import set_predict_threads

    jobs.init_app(app)
    set_predict_threads(app.config["SCORING_THREADS"])
    metrics.observe_requests(app)
    app.register_blueprint(ops.bp)


def register_commands(app):
    """The `flask platform|data|models|…|compliance|lists|market|backup|jobs|audit|notifications|outbox` groups."""
    from app.cli import (
        api_cli,
        applications_cli,
        audit_cli,
        backup_cli,
        clock_cli,
        compliance_cli,
        data_cli,
        exchange_cli,
        jobs_cli,
        lists_cli,
        loans_cli,
        market_cli,
        matches_cli,
        models_cli,
        notifications_cli,
        outbox_cli,
        platform_cli,
        scores_cli,
    )

    for group in (platform_cli, data_cli, models_cli, scores_cli, matches_cli, applications_cli, loans_cli,
                  clock_cli, compliance_cli, market_cli, backup_cli, jobs_cli, notifications_cli, outbox_cli,
                  audit_cli, api_cli, exchange_cli, lists_cli):
        app.cli.add_command(group)
