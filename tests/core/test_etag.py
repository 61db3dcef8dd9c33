"""Conditional GETs of API views: an ETag on every JSON answer to a GET, a 304
without a body while nothing in the answer changed, a fresh 200 when something did."""

from __future__ import annotations

from typing import Any

import pytest
from pyramid.httpexceptions import HTTPNotFound

from pyramidion import hookimpl
from pyramidion.auth import User, UserRef

DIRECTORY = "/api/users/directory"


def person(request: Any) -> User:
    """A user as other records mention one."""
    user = request.db.get(User, int(request.matchdict["id"]))
    if user is None:
        raise HTTPNotFound("no such user")
    return user


class DetailPlugin:
    @hookimpl
    def pyramidion_includeme(self, config: Any) -> None:
        config.add_route("etagtest.person", r"/people/{id:\d+}")
        config.add_api_view(person, "etagtest.person", response=UserRef)


@pytest.fixture
def api(make_app):
    return make_app(extra_plugins=[("etagtest", DetailPlugin())])


def test_an_unchanged_list_is_a_304_without_a_body_until_another_user_changes_it(api, make_user, login):
    alice, bob = make_user("alice"), make_user("bob")
    first = api.get(DIRECTORY, headers=login(alice))
    tag = first.headers["ETag"]
    assert tag.startswith('W/"') and first.json["count"] == 2

    again = api.get(DIRECTORY, headers={**login(alice), "If-None-Match": tag}, status=304)
    assert again.body == b"" and again.headers["ETag"] == tag
    assert again.headers["Cache-Control"] == "no-store"  # as the 200 says

    api.patch_json("/api/auth/me", {"first_name": "Robert"}, headers=login(bob))
    fresh = api.get(DIRECTORY, headers={**login(alice), "If-None-Match": tag}, status=200)
    assert fresh.headers["ETag"] != tag
    assert [entry["display_name"] for entry in fresh.json["results"]] == ["alice", "Robert"]
    api.get(DIRECTORY, headers={**login(alice), "If-None-Match": fresh.headers["ETag"]}, status=304)


def test_an_unchanged_detail_is_a_304_and_a_changed_one_a_200(api, make_user, login):
    alice, bob = make_user("alice"), make_user("bob")
    url = f"/api/etagtest/people/{bob.id}"
    tag = api.get(url, headers=login(alice)).headers["ETag"]
    assert api.get(url, headers={**login(alice), "If-None-Match": tag}, status=304).body == b""

    api.patch_json("/api/auth/me", {"last_name": "Builder"}, headers=login(bob))
    fresh = api.get(url, headers={**login(alice), "If-None-Match": tag}, status=200)
    assert fresh.json["display_name"] == "Builder"
    assert fresh.headers["ETag"] != tag


def test_each_caller_has_tags_of_their_own(api, make_user, login):
    alice, bob = make_user("alice"), make_user("bob")
    for_alice = api.get(DIRECTORY, headers=login(alice))
    for_bob = api.get(DIRECTORY, headers={**login(bob), "If-None-Match": for_alice.headers["ETag"]}, status=200)
    assert for_bob.json == for_alice.json  # the same list, yet alice's tag is no answer for bob
    assert for_bob.headers["ETag"] != for_alice.headers["ETag"]


def test_if_none_match_compares_weakly_and_takes_lists_and_a_star(api, make_user, login):
    alice = make_user("alice")
    headers = login(alice)
    tag = api.get(DIRECTORY, headers=headers).headers["ETag"]
    opaque = tag.removeprefix("W/")
    for sent in (opaque, f'"other", {tag}', "*"):
        api.get(DIRECTORY, headers={**headers, "If-None-Match": sent}, status=304)
    api.get(DIRECTORY, headers={**headers, "If-None-Match": '"other"'}, status=200)


def test_no_tag_on_errors_and_writes(api, make_user, login):
    alice = make_user("alice")
    missing = api.get("/api/etagtest/people/999999", headers={**login(alice), "If-None-Match": "*"}, status=404)
    assert "ETag" not in missing.headers
    patched = api.patch_json("/api/auth/me", {"first_name": "Alice"}, headers=login(alice))
    assert "ETag" not in patched.headers


def test_the_api_document_tells_clients_every_json_get_is_conditional(app):
    paths = app.get("/api/openapi.json").json["paths"]
    listing = paths["/api/users"]["get"]
    assert "304" in listing["responses"]
    assert "ETag" in listing["responses"]["200"]["headers"]
    # Writes are not conditional.
    assert "304" not in paths["/api/users"]["post"]["responses"]
