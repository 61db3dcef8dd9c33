"""``pyramidion createsuperuser`` and ``pyramidion create-groups``, run as the command would be."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pyramidion.auth.models import Group, User
from pyramidion.cli import main


@pytest.fixture
def ini(tmp_path, base_settings) -> str:
    """An ini file for the test database."""
    path = tmp_path / "app.ini"
    settings = "\n".join(f"{key} = {value}" for key, value in base_settings.items())
    path.write_text(f"[app:main]\nuse = egg:pyramidion\n{settings}\n")
    return str(path)


def test_createsuperuser_non_interactive(ini, app, capsys, db):
    main(["createsuperuser", ini, "--username", "boss", "--email", "boss@example.com", "--password", "long-enough-1"])
    assert capsys.readouterr().out.strip() == "created superuser boss"
    tokens = app.post_json("/api/auth/token", {"username": "boss", "password": "long-enough-1"}).json
    me = app.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['access']}"}).json
    assert me["username"] == "boss" and me["is_superuser"] is True


def test_createsuperuser_promotes_an_existing_user(ini, make_user, capsys, db):
    make_user("carol", active=False)
    main(
        ["createsuperuser", ini, "--username", "carol", "--email", "carol@example.com", "--password", "new-password-1"]
    )
    assert capsys.readouterr().out.strip() == "made carol a superuser"
    carol = db.scalar(select(User).where(User.username == "carol"))
    assert carol.is_superuser and carol.is_active


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--username", "boss", "--email", "boss@example.com", "--password", "short"], "at least 8 characters"),
        (
            ["--username", "other", "--email", "taken@example.com", "--password", "long-enough-1"],
            "belongs to another user",
        ),
    ],
)
def test_createsuperuser_refuses_with_a_message(ini, make_user, capsys, db, args, message):
    make_user("taken", email="taken@example.com")
    with pytest.raises(SystemExit) as stopped:
        main(["createsuperuser", ini, *args])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    assert db.scalar(select(User).where(User.is_superuser)) is None


def test_create_groups_makes_the_default_groups_once(ini, registry, capsys, db):
    main(["create-groups", ini])
    said = capsys.readouterr().out
    assert "created group administrators" in said and "granted auth.admin to administrators" in said
    groups = {g.name: g.permissions for g in db.scalars(select(Group))}
    assert groups == {name: sorted(perms) for name, perms in registry.default_groups.items()}
    db.rollback()
    main(["create-groups", ini])
    assert capsys.readouterr().out.strip() == "default groups already in place"


def test_commands_name_a_missing_ini_file(capsys, tmp_path):
    with pytest.raises(SystemExit) as stopped:
        main(["create-groups", str(tmp_path / "nope.ini")])
    assert stopped.value.code == 2 and "no such ini file" in capsys.readouterr().err
