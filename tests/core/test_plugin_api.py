"""The plugin API: what a plugin may import from the core, used the way a plugin uses it."""

from __future__ import annotations

import types

import pytest
from pydantic import Field, ValidationError
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from pyramidion import hookimpl, make_config, migrations
from pyramidion.api import In, Out, Patch, error_response, get_or_404, validation_details
from pyramidion.auth import User, hash_secret, secret_matches
from pyramidion.commands import CommandError, in_transaction, load
from pyramidion.db import Base
from pyramidion.demo import demo_password, demo_user
from pyramidion.request import Request

# -- a small plugin: notes with a required title and an optional colour -------


class Note(Base):
    __tablename__ = "kitnotes_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))
    colour: Mapped[str | None] = mapped_column(String(20))


class NoteIn(In):
    title: str = Field(min_length=1, max_length=50)
    colour: str | None = None


class NotePatch(Patch):
    title: str = Field(min_length=1, max_length=50)
    colour: str | None


class NoteOut(Out):
    id: int
    title: str
    colour: str | None


def create_note(request: Request, body: NoteIn) -> Note:
    note = Note(**body.model_dump())
    request.db.add(note)
    request.db.flush()
    return note


def show_note(request: Request) -> Note:
    return get_or_404(request.db, Note, request.matchdict["id"])


def update_note(request: Request, body: NotePatch) -> Note:
    note = get_or_404(request.db, Note, request.matchdict["id"])
    for name, value in body.changes().items():
        setattr(note, name, value)
    return note


class NotesPlugin:
    @hookimpl
    def pyramidion_includeme(self, config):
        config.add_route("kitnotes.notes", "/notes")
        config.add_route("kitnotes.note", "/notes/{id}")
        config.add_api_view(
            create_note, "kitnotes.notes", request_method="POST", body=NoteIn, response=NoteOut, status=201
        )
        config.add_api_view(show_note, "kitnotes.note", response=NoteOut)
        config.add_api_view(update_note, "kitnotes.note", request_method="PATCH", body=NotePatch, response=NoteOut)


@pytest.fixture
def notes(make_app, registry, make_user, login):
    """The notes plugin in an app of its own, its table created, and headers of a logged-in user."""
    Note.__table__.create(registry.db_engine, checkfirst=True)
    app = make_app(extra_plugins=[("kitnotes", NotesPlugin())])
    headers = login(make_user("ann"))
    return types.SimpleNamespace(app=app, headers=headers)


def _create(notes, **fields):
    return notes.app.post_json("/api/kitnotes/notes", fields, headers=notes.headers, status=201).json


def test_patch_leaves_absent_fields_unchanged(notes):
    note = _create(notes, title="Groceries", colour="green")
    changed = notes.app.patch_json(f"/api/kitnotes/notes/{note['id']}", {"title": "Shopping"}, headers=notes.headers)
    assert changed.json == {"id": note["id"], "title": "Shopping", "colour": "green"}


def test_patch_null_clears_a_nullable_field(notes):
    note = _create(notes, title="Groceries", colour="green")
    changed = notes.app.patch_json(f"/api/kitnotes/notes/{note['id']}", {"colour": None}, headers=notes.headers)
    assert changed.json["colour"] is None
    assert changed.json["title"] == "Groceries"
    assert notes.app.get(f"/api/kitnotes/notes/{note['id']}", headers=notes.headers).json["colour"] is None


def test_patch_null_on_a_required_field_is_a_422_and_changes_nothing(notes):
    note = _create(notes, title="Groceries", colour="green")
    refused = notes.app.patch_json(
        f"/api/kitnotes/notes/{note['id']}", {"title": None, "colour": "red"}, headers=notes.headers, status=422
    )
    assert [d["field"] for d in refused.json["error"]["details"]] == ["title"]
    stored = notes.app.get(f"/api/kitnotes/notes/{note['id']}", headers=notes.headers).json
    assert stored == note


def test_unknown_fields_are_a_422_in_create_and_patch(notes):
    refused = notes.app.post_json(
        "/api/kitnotes/notes", {"title": "x", "colur": "red"}, headers=notes.headers, status=422
    )
    assert refused.json["error"]["details"][0]["field"] == "colur"
    note = _create(notes, title="Groceries")
    refused = notes.app.patch_json(
        f"/api/kitnotes/notes/{note['id']}", {"colur": "red"}, headers=notes.headers, status=422
    )
    assert refused.json["error"]["details"][0]["field"] == "colur"


def test_patch_constraints_still_apply_to_what_is_sent(notes):
    note = _create(notes, title="Groceries")
    notes.app.patch_json(f"/api/kitnotes/notes/{note['id']}", {"title": ""}, headers=notes.headers, status=422)


def test_an_empty_patch_changes_nothing(notes):
    note = _create(notes, title="Groceries", colour="green")
    assert notes.app.patch_json(f"/api/kitnotes/notes/{note['id']}", {}, headers=notes.headers).json == note


def test_the_patch_schema_in_the_document_requires_nothing_and_offers_no_null_title(notes):
    document = notes.app.get("/api/openapi.json").json
    schema = document["components"]["schemas"]["NotePatch"]
    assert "required" not in schema
    assert schema["properties"]["title"] == {"type": "string", "minLength": 1, "maxLength": 50, "title": "Title"}


def test_get_or_404_names_what_is_missing(notes):
    missing = notes.app.get("/api/kitnotes/notes/999", headers=notes.headers, status=404)
    assert missing.json["error"]["message"] == "no such note"
    not_a_key = notes.app.get("/api/kitnotes/notes/abc", headers=notes.headers, status=404)
    assert not_a_key.json["error"]["message"] == "no such note"


def test_get_or_404_takes_a_name_for_the_message(registry, db):
    with pytest.raises(Exception, match="no such account"):
        get_or_404(db, User, 12345, what="account")


# -- errors ---------------------------------------------------------------------


def test_error_response_has_the_api_error_shape():
    response = error_response(429, "slow down", headers={"Retry-After": "30"})
    assert response.status_int == 429
    assert response.headers["Retry-After"] == "30"
    assert response.json == {"error": {"status": 429, "message": "slow down", "details": []}}


def test_validation_details_name_each_field():
    with pytest.raises(ValidationError) as caught:
        NoteIn.model_validate({"title": "", "extra": 1})
    details = validation_details(caught.value)
    assert {(d["field"], d["location"]) for d in details} == {("title", "body"), ("extra", "body")}


# -- secrets ----------------------------------------------------------------------


def test_a_secret_matches_its_digest_only():
    digest = hash_secret("s3cr3t-0123456789")
    assert digest != "s3cr3t-0123456789" and len(digest) == 64
    assert secret_matches("s3cr3t-0123456789", digest)
    assert not secret_matches("s3cr3t-0123456788", digest)
    assert not secret_matches("", None)


def test_api_keys_are_stored_as_hash_secret_digests(app, make_user, login, db):
    from pyramidion.auth.models import APIKey

    headers = login(make_user("ann"))
    created = app.post_json("/api/auth/api-keys", {"name": "ci", "paths": ["/api/*"]}, headers=headers, status=201).json
    db.rollback()
    stored = db.scalar(select(APIKey).where(APIKey.name == "ci"))
    assert stored.key_hash == hash_secret(created["key"])


# -- demo users -------------------------------------------------------------------


def test_demo_users_log_in_with_the_one_password_scheme(app, registry, in_transaction):
    in_transaction(lambda db: demo_user(db, registry, "olga", groups=["administrators"]))
    assert demo_password("olga") == "olga-password"
    token = app.post_json("/api/auth/token", {"username": "olga", "password": "olga-password"}).json["access"]
    me = app.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json
    assert me["username"] == "olga"
    assert "auth.admin" in me["permissions"]


def test_demo_user_twice_makes_one_user_and_keeps_its_password(registry, in_transaction, db):
    first = in_transaction(lambda session: demo_user(session, registry, "olga").password_hash)
    again = in_transaction(lambda session: demo_user(session, registry, "olga", groups=["olga-team"]).password_hash)
    assert first == again
    users = db.scalars(select(User).where(User.username == "olga")).all()
    assert len(users) == 1
    assert [group.name for group in users[0].groups] == ["olga-team"]


# -- commands ---------------------------------------------------------------------


def test_load_names_a_missing_ini_file(tmp_path):
    with pytest.raises(CommandError, match="no such ini file"):
        load(str(tmp_path / "nowhere.ini"))


def test_in_transaction_commits_and_rolls_back(registry, db):
    in_transaction(registry, lambda session: session.add(User(username="kept", email="kept@example.com")))

    def fail(session):
        session.add(User(username="dropped", email="dropped@example.com"))
        raise CommandError("no")

    with pytest.raises(CommandError):
        in_transaction(registry, fail)
    assert db.scalars(select(User.username)).all() == ["kept"]


# -- migrations by convention -------------------------------------------------------


def _package(tmp_path, name):
    folder = tmp_path / name
    (folder / "migrations").mkdir(parents=True)
    return types.ModuleType(name), folder


def test_a_plugin_packages_migrations_folder_is_found_without_a_hook(base_settings, tmp_path):
    plugin, folder = _package(tmp_path, "conventional")
    plugin.__path__ = [str(folder)]
    registry = make_config(dict(base_settings), [("conventional", plugin)]).registry
    found = {source.name: source for source in migrations.sources(registry)}
    assert found["conventional"].versions == folder / "migrations"
    assert found["conventional"].version_table == "alembic_version_conventional"


def test_the_hook_names_another_folder(base_settings, tmp_path):
    plugin, folder = _package(tmp_path, "elsewhere")
    plugin.__path__ = [str(folder)]
    other = tmp_path / "revisions"
    other.mkdir()
    plugin.pyramidion_migrations = hookimpl(lambda: str(other))
    registry = make_config(dict(base_settings), [("elsewhere", plugin)]).registry
    found = {source.name: source for source in migrations.sources(registry)}
    assert found["elsewhere"].versions == other


def test_a_plugin_without_migrations_is_no_source(base_settings):
    registry = make_config(dict(base_settings), [("bare", types.ModuleType("bare"))]).registry
    assert "bare" not in {source.name for source in migrations.sources(registry)}
