"""Events: registration, and a background charge run that debits each registrant once."""

import datetime as dt
from decimal import Decimal

import pytest


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def event(app, bar):
    manager = bar.staff("manager")
    now = dt.datetime.now(dt.UTC)
    body = {
        "title": "Beer tasting",
        "starts_at": iso(now + dt.timedelta(days=7)),
        "cost": "12.50",
        "registration_opens_at": iso(now - dt.timedelta(hours=1)),
        "registration_closes_at": iso(now + dt.timedelta(days=6)),
        "max_participants": 4,
    }
    created = app.post_json("/api/bar/events", body, headers=manager, status=201).json
    return created["id"], manager


def test_registering_and_unregistering(app, bar, event):
    event_id, manager = event
    ann, ann_headers = bar.member("ann")
    bob, bob_headers = bar.member("bob")

    registered = app.post_json(
        f"/api/bar/events/{event_id}/registrations",
        {"quantity": 3, "comment": "+2 guests"},
        headers=ann_headers,
        status=201,
    ).json
    assert (registered["holder_id"], registered["status"], registered["username"]) == (ann, "registered", "ann")
    app.post_json(f"/api/bar/events/{event_id}/registrations", {}, headers=ann_headers, status=409)
    full = app.post_json(
        f"/api/bar/events/{event_id}/registrations", {"quantity": 2}, headers=bob_headers, status=409
    ).json
    assert "1 place(s) left" in full["error"]["message"]
    app.post_json(f"/api/bar/events/{event_id}/registrations", {"quantity": 1}, headers=bob_headers, status=201)
    assert app.get(f"/api/bar/events/{event_id}", headers=bob_headers).json["participants"] == 4
    assert app.get(f"/api/bar/events/{event_id}/registrations", headers=bob_headers).json["count"] == 1
    assert app.get(f"/api/bar/events/{event_id}/registrations", headers=manager).json["count"] == 2

    app.delete(f"/api/bar/events/{event_id}/registration", headers=ann_headers, status=204)
    app.delete(f"/api/bar/events/{event_id}/registration", headers=ann_headers, status=404)
    assert app.get(f"/api/bar/events/{event_id}", headers=bob_headers).json["participants"] == 1


def test_registration_only_while_open(app, bar):
    manager = bar.staff("manager")
    _, member = bar.member("ann")
    now = dt.datetime.now(dt.UTC)
    closed = app.post_json(
        "/api/bar/events",
        {
            "title": "Past",
            "starts_at": iso(now),
            "cost": "1.00",
            "registration_opens_at": iso(now - dt.timedelta(days=2)),
            "registration_closes_at": iso(now - dt.timedelta(days=1)),
        },
        headers=manager,
        status=201,
    ).json
    app.post_json(f"/api/bar/events/{closed['id']}/registrations", {}, headers=member, status=409)
    backwards = app.post_json(
        "/api/bar/events",
        {
            "title": "Backwards",
            "starts_at": iso(now),
            "cost": "1.00",
            "registration_opens_at": iso(now),
            "registration_closes_at": iso(now - dt.timedelta(days=1)),
        },
        headers=manager,
        status=422,
    ).json
    assert backwards["error"]["details"][0]["field"] == "registration_closes_at"
    app.post_json("/api/bar/events", {"title": "Mine"}, headers=member, status=403)


def test_the_charge_run_debits_each_registrant_once_and_reports_who_could_not_pay(app, bar, event):
    event_id, manager = event
    ann, ann_headers = bar.member("ann", "30.00")
    bob, bob_headers = bar.member("bob", "5.00")
    app.post_json(f"/api/bar/events/{event_id}/registrations", {"quantity": 2}, headers=ann_headers, status=201)
    app.post_json(f"/api/bar/events/{event_id}/registrations", {}, headers=bob_headers, status=201)

    queued = app.post(f"/api/bar/events/{event_id}/charge", headers=manager, status=202).json
    assert queued["task_id"]

    report = app.get(f"/api/bar/events/{event_id}/charge", headers=manager).json
    assert (report["charged"], report["pending"]) == (1, 0)
    assert [(r["username"], r["status"]) for r in report["unpaid"]] == [("bob", "unpaid")]
    assert bar.balance(ann) == Decimal("5.00")
    assert bar.balance(bob) == Decimal("5.00")

    # A rerun charges nobody twice; once Bob has money, it charges him.
    app.post(f"/api/bar/events/{event_id}/charge", headers=manager, status=202)
    assert bar.balance(ann) == Decimal("5.00")
    app.post_json(f"/api/bar/holders/{bob}/top-ups", {"amount": "10.00", "method": "cash"}, headers=manager, status=201)
    app.post(f"/api/bar/events/{event_id}/charge", headers=manager, status=202)
    report = app.get(f"/api/bar/events/{event_id}/charge", headers=manager).json
    assert (report["charged"], report["unpaid"]) == (2, [])
    assert bar.balance(bob) == Decimal("2.50")
    assert bar.balance(ann) == Decimal("5.00")
    assert bar.ledger_ok()

    # Money was taken: the event stays, and a charged registrant cannot step out.
    app.delete(f"/api/bar/events/{event_id}", headers=manager, status=409)
    app.delete(f"/api/bar/events/{event_id}/registration", headers=ann_headers, status=409)
    app.post(f"/api/bar/events/{event_id}/charge", headers=ann_headers, status=403)
