"""One Alembic environment for the core and every plugin.

``pyramidion.migrations`` runs it once per source (the core, then each
plugin) with that source's revisions, version table and tables: a source's
autogenerate and check see only the tables it owns.
"""

from __future__ import annotations

from alembic import context
from pyramidion.db import Base

config = context.config
source = config.attributes["source"]


def include_object(obj, name, type_, reflected, compare_to):
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return table is None or source.owns(table.name)


def include_name(name, type_, parent_names):
    if type_ == "table":
        return source.owns(name)
    return True


connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=source.version_table,
    include_object=include_object,
    include_name=include_name,
    compare_type=True,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
