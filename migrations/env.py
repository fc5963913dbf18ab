"""Alembic environment: the URL comes from db.alembic_config; models from every package."""

from alembic import context

# Every package's tables, so autogenerate sees the whole schema: migrations sit above all packages.
import db
import ivr.lease  # service_lease
import ivr.tables  # noqa: F401
import menus.tables  # noqa: F401
import qa.tables  # noqa: F401
import recordings.tables  # noqa: F401
import transcribe.tables  # noqa: F401

target_metadata = db.Base.metadata


def run() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = db.make_engine(url)
    with engine.connect() as connection:
        # batch mode lets later revisions alter SQLite tables (copy-and-move)
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
