"""Migrations: every source in its own history; drift between models and migrations is caught."""

from __future__ import annotations

from sqlalchemy import String, inspect
from sqlalchemy.orm import Mapped, mapped_column

from pyramidion import hookimpl, make_config, migrations
from pyramidion.db import Base


def test_models_and_migrations_agree(registry):
    assert migrations.check(registry) == []


def test_every_source_is_at_its_head(registry):
    for name, revision, head in migrations.current(registry):
        assert revision == head, f"{name} is at {revision}, head is {head}"


def test_each_plugin_has_its_own_version_table(registry):
    tables = set(inspect(registry.db_engine).get_table_names())
    for source in migrations.sources(registry):
        assert source.version_table in tables


class DriftThing(Base):
    __tablename__ = "drift_thing"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(20))


def test_check_reports_a_plugin_whose_models_have_no_migration(base_settings, tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()

    class DriftPlugin:
        @hookimpl
        def pyramidion_migrations(self):
            return str(folder)

    registry = make_config(dict(base_settings), [("drift", DriftPlugin())]).registry
    problems = dict(migrations.check(registry))
    assert list(problems) == ["drift"]
    assert "drift_thing" in problems["drift"]


def test_the_heads_read_as_text_are_alembics(registry):
    # The readiness check reads each source's head without Alembic (pyramidion.revisions): the same answer.
    from alembic.script import ScriptDirectory

    from pyramidion.migrations import _config

    for source in migrations.sources(registry):
        expected = ScriptDirectory.from_config(_config(source, None)).get_heads()
        assert source.head() == ",".join(sorted(expected)), source.name


def test_a_source_with_two_heads_names_both(tmp_path):
    from pyramidion.revisions import Source

    (tmp_path / "a.py").write_text('revision = "x_0001"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision: str = "x_0002"\ndown_revision: str | None = "x_0001"\n')
    (tmp_path / "c.py").write_text('revision = "x_0003"\ndown_revision = "x_0001"\n')
    (tmp_path / "d.py").write_text('"""A merge."""\nrevision = "x_0004"\ndown_revision = ("x_0002", "x_0003")\n')
    source = Source("x", tmp_path, "alembic_version_x", ("x_",))
    assert source.head() == "x_0004"
    (tmp_path / "d.py").unlink()
    assert source.head() == "x_0002,x_0003"
