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
