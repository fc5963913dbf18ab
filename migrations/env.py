"""Alembic environment: the URL comes from db.alembic_config; models from every package."""

from alembic import context

# Every package's tables, so autogenerate sees the whole schema: migrations sit above all packages.
import accounts.tables  # noqa: F401
import db
import ivr.lease  # the service_lease table
import ivr.tables  # noqa: F401
import menus.tables  # noqa: F401
import qa.conversation_store  # the call_metrics table
import qa.scorecard_tables  # call_scores, score_answers, appeals
import qa.tables  # noqa: F401
import recordings.tables  # noqa: F401
import transcribe.tables  # noqa: F401

target_metadata = db.Base.metadata


def _ours(name: str | None, type_: str, _parent: object) -> bool:
    """Procrastinate's tables (revision 0010, from its own SQL, PostgreSQL only) have no models here:
    autogenerate and `alembic check` must not see them as tables to drop."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def run() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = db.make_engine(url)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # A batch (copy-and-move) rebuild drops the old table; with foreign keys on, SQLite
            # would cascade that drop into the rows that point at it (a flag's reviews).
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end the autobegun transaction: Alembic's own must be the outer one
        # batch mode lets later revisions alter SQLite tables (copy-and-move)
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          include_name=_ours)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Hosts starting at once: the second waits here, then finds the schema at head.
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(1752134764)")
            context.run_migrations()
    engine.dispose()


run()
