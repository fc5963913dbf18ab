"""Alembic environment: the URL comes from db.alembic_config; models from every package."""

from alembic import context

import db

db.load_models()
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
