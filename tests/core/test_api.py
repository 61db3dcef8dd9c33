"""The API toolkit as a plugin author meets it: errors, lists, money, timestamps, platform endpoints."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from pyramidion import hookimpl
from pyramidion.api import Argument, Filter, Listing, Money, Page, Timestamp, money
from pyramidion.auth.models import User

# -- a plugin using the toolkit ------------------------------------------------------


class Member(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    is_active: bool
    created_at: dt.datetime


members = Listing(
    key=User.id,
    ordering={"id": User.id, "username": User.username, "created_at": User.created_at},
    default_ordering="username",
    search=[User.username, User.email],
    filters={
        "active": Filter(User.is_active, bool),
        "joined_after": Filter(User.created_at, Timestamp, "gte"),
        "name_contains": Filter(User.username, str, "contains"),
    },
    arguments={"whose": Argument(Literal["everyone", "mine"], "everyone", "mine: only yourself")},
    default_limit=2,
    max_limit=5,
)


def list_members(request: Any, query: Any) -> dict[str, Any]:
    """Users as a plugin would list its things."""
    stmt = select(User)
    if query.arguments["whose"] == "mine":  # an argument the view applies, knowing the caller
        stmt = stmt.where(User.id == request.identity.user.id)
    return query.page(stmt)


class Price(BaseModel):
    amount: Money
    at: Timestamp


def echo_price(request: Any, body: Price) -> Price:
    """Validate a price and send it back."""
    return body


def broken(request: Any) -> None:
    """A bug: must become a 500 with the error body, nothing more."""
    raise RuntimeError("secret internals")


class APITestPlugin:
    @hookimpl
    def pyramidion_includeme(self, config: Any) -> None:
        config.add_route("apitest.members", "/members")
        config.add_route("apitest.prices", "/prices")
        config.add_route("apitest.broken", "/broken")
        config.add_api_view(list_members, "apitest.members", query=members, response=Page[Member])
        config.add_api_view(echo_price, "apitest.prices", request_method="POST", body=Price, response=Price)
        config.add_api_view(broken, "apitest.broken")


@pytest.fixture
def api(make_app):
    return make_app(extra_plugins=[("apitest", APITestPlugin())])


@pytest.fixture
def headers(make_user, login):
    return login(make_user("alice"))


def error_of(response, status: int) -> dict:
    """The error body, checked for the shape every error has."""
    assert response.status_int == status
    assert response.content_type == "application/json"
    body = response.json
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message", "details"}
    assert body["error"]["status"] == status and body["error"]["message"]
    assert isinstance(body["error"]["details"], list)
    return body["error"]


# -- errors ----------------------------------------------------------------------------


def test_malformed_json_is_400(app):
    response = app.post("/api/auth/register", "{not json", content_type="application/json", status=400)
    assert "malformed JSON" in error_of(response, 400)["message"]


def test_invalid_body_is_422_naming_every_field(api, headers):
    response = api.post_json(
        "/api/apitest/prices", {"amount": "1.234", "at": "2026-01-31T12:00:00"}, headers=headers, status=422
    )
    details = error_of(response, 422)["details"]
    assert {d["field"]: d["location"] for d in details} == {"amount": "body", "at": "body"}
    assert "two decimal places" in next(d["message"] for d in details if d["field"] == "amount")
    assert "time zone" in next(d["message"] for d in details if d["field"] == "at")


def test_unknown_route_is_404_json(app):
    error_of(app.get("/api/no-such-thing", status=404), 404)
    error_of(app.get("/nowhere", status=404), 404)


def test_wrong_method_is_405_with_allow(app, headers):
    response = app.put_json("/api/auth/me", {}, headers=headers, status=405)
    error_of(response, 405)
    assert response.headers["Allow"] == "GET, PATCH"
    assert app.delete("/api/users", status=405).headers["Allow"] == "GET, POST"


def test_unexpected_error_is_a_plain_500(api, headers):
    error = error_of(api.get("/api/apitest/broken", headers=headers, status=500), 500)
    assert error["message"] == "internal server error"


def test_error_statuses_share_one_shape(api, app, make_user, headers):
    make_user("taken")
    register = {"username": "taken", "email": "new@example.com", "password": "password123"}
    error_of(app.post_json("/api/auth/register", register, status=409), 409)
    error_of(app.get("/api/users", status=401), 401)
    error_of(app.get("/api/users", headers=headers, status=403), 403)
    error_of(api.get("/api/apitest/members?limit=0", headers=headers, status=422), 422)
    # 400, 404, 405 and 500 are above; 429 in test_auth's rate-limit tests.


# -- lists -----------------------------------------------------------------------------


@pytest.fixture
def five_members(make_user):
    for name in ("carol", "dave", "erin", "frank"):
        make_user(name, active=name != "erin")


def get_list(api, headers, query: str = "", status: int = 200):
    return api.get(f"/api/apitest/members{query}", headers=headers, status=status)


def test_pagination_pages_through_everything_once(api, headers, five_members):
    first = get_list(api, headers).json
    assert first["count"] == 5 and first["previous"] is None
    assert [m["username"] for m in first["results"]] == ["alice", "carol"]  # default ordering, default limit 2
    seen, page = [], first
    while True:
        seen += [m["username"] for m in page["results"]]
        if page["next"] is None:
            break
        url = urllib.parse.urlsplit(page["next"])
        page = get_list(api, headers, f"?{url.query}").json
    assert seen == ["alice", "carol", "dave", "erin", "frank"]
    last = get_list(api, headers, "?limit=2&offset=4").json
    assert [m["username"] for m in last["results"]] == ["frank"]
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(last["previous"]).query) == {"limit": ["2"], "offset": ["2"]}
    assert get_list(api, headers, "?offset=50").json["results"] == []


@pytest.mark.parametrize("query", ["?limit=0", "?limit=6", "?limit=two", "?offset=-1"])
def test_limit_and_offset_are_bounded(api, headers, query):
    field = query[1:].split("=")[0]
    details = error_of(get_list(api, headers, query, status=422), 422)["details"]
    assert details == [{"field": field, "location": "query", "message": details[0]["message"]}]


def test_ordering_by_allowed_fields_only(api, headers, five_members):
    names = [m["username"] for m in get_list(api, headers, "?ordering=-username&limit=5").json["results"]]
    assert names == ["frank", "erin", "dave", "carol", "alice"]
    active_first = [m["username"] for m in get_list(api, headers, "?ordering=-id,username&limit=1").json["results"]]
    assert active_first == ["frank"]
    details = error_of(get_list(api, headers, "?ordering=password_hash", status=422), 422)["details"]
    assert details[0]["field"] == "ordering" and "password_hash" in details[0]["message"]


def test_search_and_filters(api, headers, five_members):
    def names(query: str) -> list[str]:
        return [m["username"] for m in get_list(api, headers, query + "&limit=5").json["results"]]

    assert names("?search=RIN") == ["erin"]
    assert names("?search=%25") == []  # a LIKE wildcard is searched for, not obeyed
    assert names("?active=false") == ["erin"]
    assert names("?name_contains=a&active=true") == ["alice", "carol", "dave", "frank"]
    tomorrow = urllib.parse.quote((dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat())
    assert names(f"?joined_after={tomorrow}") == []
    assert get_list(api, headers, "?search=r&active=true").json["count"] == 2  # carol, frank
    details = error_of(get_list(api, headers, "?active=maybe", status=422), 422)["details"]
    assert details[0]["field"] == "active"


def test_a_list_argument_is_checked_documented_and_defaulted(api, headers, five_members):
    assert get_list(api, headers, "?limit=5").json["count"] == 5  # default: everyone
    assert [m["username"] for m in get_list(api, headers, "?whose=mine").json["results"]] == ["alice"]
    assert error_of(get_list(api, headers, "?whose=theirs", status=422), 422)["details"][0]["field"] == "whose"
    parameters = api.get("/api/openapi.json").json["paths"]["/api/apitest/members"]["get"]["parameters"]
    whose = next(p for p in parameters if p["name"] == "whose")
    assert whose["schema"]["enum"] == ["everyone", "mine"] and whose["schema"]["default"] == "everyone"


def test_unknown_query_parameter_is_422_naming_it(api, headers):
    details = error_of(get_list(api, headers, "?password_hash=x&limit=1", status=422), 422)["details"]
    assert details == [{"field": "password_hash", "location": "query", "message": "not a parameter of this list"}]


# -- money and time ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "back"), [("12.5", "12.50"), ("12.50", "12.50"), (12.5, "12.50"), (3, "3.00"), ("-0.10", "-0.10")]
)
def test_money_leaves_as_a_two_place_string(api, headers, sent, back):
    response = api.post_json(
        "/api/apitest/prices", {"amount": sent, "at": "2026-01-31T12:00:00+01:00"}, headers=headers
    )
    assert response.json == {"amount": back, "at": "2026-01-31T11:00:00Z"}


@pytest.mark.parametrize("amount", ["1.234", "NaN", "Infinity", "1e12", "1e60", 7.9e54, "twelve", 0.125])
def test_money_refuses_what_is_not_an_amount(api, headers, amount):
    details = api.post_json(
        "/api/apitest/prices", {"amount": amount, "at": "2026-01-31T12:00:00Z"}, headers=headers, status=422
    ).json["error"]["details"]
    assert [d["field"] for d in details] == ["amount"]


def test_money_helper_rounds_half_up():
    assert money("2.345") == money("2.35") and str(money(3)) == "3.00"


def test_timestamps_carry_a_time_zone(app, headers):
    created = app.post_json("/api/auth/api-keys", {"name": "k", "paths": ["/api/*"]}, headers=headers, status=201).json
    stamp = dt.datetime.fromisoformat(created["created_at"])
    assert stamp.tzinfo is not None and stamp.utcoffset() == dt.timedelta(0)


# -- platform ------------------------------------------------------------------------------


def test_plugins_lists_what_loaded_with_versions_and_hooks(app, headers, registry):
    error_of(app.get("/api/plugins", status=401), 401)
    plugins = {p["name"]: p for p in app.get("/api/plugins", headers=headers).json}
    assert set(plugins) == set(registry.pm.names)
    for name, plugin in plugins.items():
        implemented = sorted(caller.name for caller in registry.pm.get_hookcallers(registry.pm.get_plugin(name)) or ())
        assert plugin["version"] and plugin["module"].startswith("pyramidion_")
        assert plugin["hooks"] == implemented
    assert any(plugin["hooks"] for plugin in plugins.values())


def test_numbers_beyond_what_the_database_stores_are_refused_not_a_500(app, headers, make_user, login):
    admin = login(make_user("root", superuser=True))
    details = error_of(app.get("/api/users?offset=99999999999999999999999", headers=admin, status=422), 422)["details"]
    assert details[0]["field"] == "offset"
    # SQLite cannot even bind such an id (422); PostgreSQL compares it and finds nothing (404).
    assert app.get("/api/users/99999999999999999999999", headers=admin, expect_errors=True).status_int in (404, 422)


def test_a_duplicate_is_409_naming_the_field_and_changing_nothing(app, make_user, login, db):
    from pyramidion.auth.models import Group

    admin = login(make_user("root", superuser=True))
    app.post_json("/api/groups", {"name": "bar staff"}, headers=admin, status=201)
    other = app.post_json("/api/groups", {"name": "kitchen"}, headers=admin, status=201).json
    duplicate = app.post_json("/api/groups", {"name": "bar staff"}, headers=admin, status=409).json["error"]
    assert duplicate["details"] == [{"field": "name", "location": "body", "message": "already taken"}]
    app.patch_json(f"/api/groups/{other['id']}", {"name": "bar staff"}, headers=admin, status=409)
    app.patch_json(f"/api/groups/{other['id']}", {"name": "kitchen"}, headers=admin, status=200)  # its own name is fine
    assert sorted(db.scalars(select(Group.name).where(Group.name.in_(["bar staff", "kitchen"])))) == [
        "bar staff",
        "kitchen",
    ]


def test_a_time_zone_name_is_checked_against_the_zone_database():
    from pydantic import TypeAdapter, ValidationError

    from pyramidion.api import TimeZoneName

    zone = TypeAdapter(TimeZoneName)
    assert zone.validate_python("Europe/Zurich") == "Europe/Zurich"
    with pytest.raises(ValidationError, match="'Mars/Base' is not a time zone name"):
        zone.validate_python("Mars/Base")
