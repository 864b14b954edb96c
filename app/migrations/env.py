"""Alembic environment: migrates the database of the running Flask app (`flask db …`)."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
# Keep the app's own loggers alive when Alembic configures logging (tests run migrations too).
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_ext = current_app.extensions["migrate"]
engine = migrate_ext.db.engine
config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
metadata = migrate_ext.db.metadata


def skip_empty_autogenerate(ctx, revision, directives):
    """Write no revision file when autogenerate finds no change."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_offline():
    """Emit SQL for the migrations without a database connection."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online():
    """Run the migrations on the app's engine."""
    options = dict(migrate_ext.configure_args)
    options.setdefault("process_revision_directives", skip_empty_autogenerate)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch migrations rebuild a table by copy, drop and rename; with foreign keys enforced the
            # drop would delete (or refuse over) the rows that reference it. Outside a transaction, as
            # SQLite requires; the app's own connections keep them on.
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.commit()  # ends the autobegun transaction, so that Alembic's own commits
        context.configure(connection=connection, target_metadata=metadata, **options)
        with context.begin_transaction():
            context.run_migrations()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys = ON")  # the connection goes back to the pool
            connection.commit()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
