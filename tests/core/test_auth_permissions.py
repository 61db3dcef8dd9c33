"""Who may do what: the permission matrix of the identity endpoints, and object-level ACLs of a plugin."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, EmailStr
from pyramid.authorization import DENY_ALL, Allow
from pyramid.httpexceptions import HTTPNotFound

from pyramidion import hookimpl
from pyramidion.auth.models import APIKey, Group, User

ROLES = ("anonymous", "plain", "grouped", "admin", "superuser")


# -- a plugin with a permission of its own and an object-level rule ----------------


class ProfileIn(BaseModel):
    email: EmailStr


class ProfileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str


class Profile:
    """A user's profile: its owner and moderators may edit it, nobody else."""

    def __init__(self, request: Any) -> None:
        self.user = request.db.get(User, int(request.matchdict["id"]))
        if self.user is None:
            raise HTTPNotFound("no such profile")
        self.__acl__ = [
            (Allow, f"user:{self.user.id}", "acltest.edit"),
            (Allow, "perm:acltest.moderate", "acltest.edit"),
            DENY_ALL,
        ]


def edit_profile(request: Any, context: Profile, body: ProfileIn) -> User:
    """Change the email of a profile (owner or moderator)."""
    context.user.email = body.email
    return context.user


def report(request: Any) -> dict[str, str]:
    """A report only holders of acltest.view may read."""
    return {"report": "ok"}


class ACLTestPlugin:
    @hookimpl
    def pyramidion_permissions(self) -> list[tuple[str, str]]:
        return [("acltest.view", "read reports"), ("acltest.moderate", "edit anyone's profile")]

    @hookimpl
    def pyramidion_includeme(self, config: Any) -> None:
        config.add_route("acltest.profile", r"/profiles/{id:\d+}", factory=Profile)
        config.add_route("acltest.report", "/report")
        config.add_api_view(
            edit_profile,
            "acltest.profile",
            request_method="PATCH",
            body=ProfileIn,
            response=ProfileOut,
            permission="acltest.edit",
        )
        config.add_api_view(report, "acltest.report", permission="acltest.view")


@pytest.fixture
def acl_app(make_app):
    return make_app(extra_plugins=[("acltest", ACLTestPlugin())])


@pytest.fixture
def callers(make_user, login) -> dict[str, dict[str, str]]:
    return {
        "anonymous": {},
        "plain": login(make_user("plain")),
        "grouped": login(make_user("grouped", permissions=["acltest.view"])),
        "admin": login(make_user("admin", permissions=["auth.admin"])),
        "superuser": login(make_user("root", superuser=True)),
    }


# -- the matrix ---------------------------------------------------------------------

_serial = itertools.count()


def victim_user(db: Any) -> int:
    n = next(_serial)
    user = User(username=f"victim{n}", email=f"victim{n}@example.com", password_hash=None)
    db.add(user)
    db.commit()
    return user.id


def victim_group(db: Any) -> int:
    group = Group(name=f"group{next(_serial)}")
    db.add(group)
    db.commit()
    return group.id


def victim_key(db: Any) -> int:
    user_id = victim_user(db)
    key = APIKey(name="theirs", user_id=user_id, prefix=f"p{next(_serial)}", key_hash="0" * 64, paths=["/api/*"])
    db.add(key)
    db.commit()
    return key.id


def unique(name: str) -> str:
    return f"{name}{next(_serial)}"


# (method, path, body, expected status for anonymous, plain, grouped, admin, superuser)
MATRIX = [
    pytest.param("GET", "/api/users", None, (401, 403, 403, 200, 200), id="list users"),
    pytest.param(
        "POST",
        "/api/users",
        lambda db: {"username": (n := unique("new")), "email": f"{n}@example.com", "password": "correct-horse-9"},
        (401, 403, 403, 201, 201),
        id="create user",
    ),
    pytest.param("GET", lambda db: f"/api/users/{victim_user(db)}", None, (401, 403, 403, 200, 200), id="read user"),
    pytest.param(
        "PATCH",
        lambda db: f"/api/users/{victim_user(db)}",
        lambda db: {"is_active": False},
        (401, 403, 403, 200, 200),
        id="change user",
    ),
    pytest.param(
        "DELETE", lambda db: f"/api/users/{victim_user(db)}", None, (401, 403, 403, 204, 204), id="delete user"
    ),
    pytest.param("GET", "/api/groups", None, (401, 403, 403, 200, 200), id="list groups"),
    pytest.param(
        "POST",
        "/api/groups",
        lambda db: {"name": unique("team"), "permissions": ["acltest.view"]},
        (401, 403, 403, 201, 201),
        id="create group",
    ),
    pytest.param("GET", lambda db: f"/api/groups/{victim_group(db)}", None, (401, 403, 403, 200, 200), id="read group"),
    pytest.param(
        "PATCH",
        lambda db: f"/api/groups/{victim_group(db)}",
        lambda db: {"description": "changed"},
        (401, 403, 403, 200, 200),
        id="change group",
    ),
    pytest.param(
        "DELETE", lambda db: f"/api/groups/{victim_group(db)}", None, (401, 403, 403, 204, 204), id="delete group"
    ),
    pytest.param("GET", "/api/groups/permissions", None, (401, 403, 403, 200, 200), id="list permissions"),
    pytest.param("GET", "/api/auth/me", None, (401, 200, 200, 200, 200), id="me"),
    pytest.param("GET", "/api/auth/api-keys", None, (401, 200, 200, 200, 200), id="list own API keys"),
    pytest.param(
        "POST",
        "/api/auth/api-keys",
        lambda db: {"name": "mine", "paths": ["/api/*"]},
        (401, 201, 201, 201, 201),
        id="create own API key",
    ),
    pytest.param(
        "POST",
        "/api/auth/api-keys",
        lambda db: {"name": "theirs", "paths": ["/api/*"], "user_id": victim_user(db)},
        (401, 403, 403, 201, 201),
        id="create API key for another user",
    ),
    # Someone else's key does not exist as far as a plain user can tell.
    pytest.param(
        "DELETE",
        lambda db: f"/api/auth/api-keys/{victim_key(db)}",
        None,
        (401, 404, 404, 204, 204),
        id="revoke another user's API key",
    ),
    pytest.param("GET", "/api/plugins", None, (401, 200, 200, 200, 200), id="list plugins"),
    pytest.param("GET", "/api/acltest/report", None, (401, 403, 200, 403, 200), id="plugin permission via group"),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX)
def test_permission_matrix(acl_app, callers, db, method, path, body, expected):
    got = {}
    for role in ROLES:
        url = path(db) if callable(path) else path
        payload = body(db) if body else None
        response = acl_app.request(url, method=method, headers=callers[role], json=payload, expect_errors=True)
        got[role] = response.status_int
        if response.status_int >= 400:
            assert response.json["error"]["status"] == response.status_int
    assert got == dict(zip(ROLES, expected, strict=True))


def test_administrators_get_users_groups_and_permissions_right(app, callers, db):
    admin = callers["admin"]
    group = app.post_json(
        "/api/groups", {"name": "till", "permissions": ["auth.admin"]}, headers=admin, status=201
    ).json
    app.post_json("/api/groups", {"name": "till"}, headers=admin, status=409)
    bad = app.post_json("/api/groups", {"name": "other", "permissions": ["no.such"]}, headers=admin, status=422)
    assert bad.json["error"]["details"][0]["field"] == "permissions"
    user = app.post_json(
        "/api/users",
        {"username": "carol", "email": "carol@example.com", "password": "correct-horse-9", "groups": ["till"]},
        headers=admin,
        status=201,
    ).json
    assert [g["name"] for g in user["groups"]] == ["till"]
    app.post_json(
        "/api/users",
        {"username": "carol", "email": "c2@example.com", "password": "correct-horse-9"},
        headers=admin,
        status=409,
    )
    app.patch_json(f"/api/users/{user['id']}", {"groups": ["nope"]}, headers=admin, status=422)
    app.patch_json(f"/api/users/{user['id']}", {"email": "admin@example.com"}, headers=admin, status=409)
    assert app.get(f"/api/groups/{group['id']}", headers=admin).json["permissions"] == ["auth.admin"]
    app.get("/api/users/999999", headers=admin, status=404)
    listed = app.get("/api/users?search=caro", headers=admin).json
    assert [u["username"] for u in listed["results"]] == ["carol"]


def test_nobody_deletes_themselves(app, callers):
    me = app.get("/api/auth/me", headers=callers["superuser"]).json
    app.delete(f"/api/users/{me['id']}", headers=callers["superuser"], status=422)


def test_me_lists_groups_and_permissions(app, callers, registry):
    grouped = app.get("/api/auth/me", headers=callers["grouped"]).json
    assert grouped["groups"] == ["grouped-grants"] and grouped["permissions"] == ["acltest.view"]
    root = app.get("/api/auth/me", headers=callers["superuser"]).json
    assert root["is_superuser"] and set(root["permissions"]) == set(registry.permissions)


# -- object level -------------------------------------------------------------------


def test_owner_may_edit_their_profile_and_others_may_not(acl_app, make_user, login, db):
    owner, stranger = make_user("owner"), make_user("stranger")
    moderator = make_user("moderator", permissions=["acltest.moderate"])
    root = make_user("root", superuser=True)
    url = f"/api/acltest/profiles/{owner.id}"

    assert acl_app.patch_json(url, {"email": "mine@example.com"}, headers=login(owner)).json == {
        "id": owner.id,
        "email": "mine@example.com",
    }
    refused = acl_app.patch_json(url, {"email": "hijack@example.com"}, headers=login(stranger), status=403)
    assert refused.json["error"]["status"] == 403
    acl_app.patch_json(url, {"email": "anon@example.com"}, status=401)
    acl_app.patch_json(url, {"email": "moderated@example.com"}, headers=login(moderator))
    acl_app.patch_json(url, {"email": "root-set@example.com"}, headers=login(root))
    acl_app.patch_json("/api/acltest/profiles/999999", {"email": "x@example.com"}, headers=login(owner), status=404)
    db.expire_all()
    assert db.get(User, owner.id).email == "root-set@example.com"
