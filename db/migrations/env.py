"""Alembic environment of the PCN desk.

URL: ``config.attributes["database_url"]`` (set by ``db.migrate``), else the
``sqlalchemy.url`` option if given, else ``PCN_DATABASE_URL`` / the default
SQLite file. A connection may also be passed in ``config.attributes["connection"]``.
Rasa's tracker table ``events`` is ignored by autogenerate
(``db.migrate.include_object``).
"""
from logging.config import fileConfig

from alembic import context
from sqlalchemy.pool import NullPool

from db.migrate import include_object
from db.models import metadata
from db.session import new_engine
from core import settings

config = context.config

if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = metadata


def _url() -> str:
    return (
        config.attributes.get("database_url")
        or config.get_main_option("sqlalchemy.url")
        or settings.database_url()
    )


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=url.startswith("sqlite"),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = new_engine(_url(), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
