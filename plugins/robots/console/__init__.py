"""The robots' console pages: the fleet, one robot (trail, commands, sharing), a new secret shown once.

Every page calls the same use cases as the JSON API (:mod:`..services`), with
the API's schemas, so a page can never allow what the API refuses. Live
parts (connected state, positions, command statuses) come over WAMP through
the core's ``pyramidion-live.js``, with the user's own rights: the router
asks the plugin's authorizer, so a page only hears robots its user may use.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response

from pyramidion.console import FORM_ERRORS, Form, console_view, flash
from pyramidion.request import Request

from .. import services
from ..models import Command, Frame, Robot, RobotState
from ..schemas import CommandIn, RobotIn, RobotPatch, ShareIn
from ..settings import robots_settings
from .trail import Trail

TEMPLATES = "pyramidion_robots:console/templates/"
TRAIL_LENGTH = 500  # positions drawn on a robot's page
COMMANDS_SHOWN = 20


def _fleet(request: Request) -> dict[str, Any]:
    """A page of the robots the user may see, with the API's own query parameters (search, filters, pages)."""
    page = services.robots_listing.parse(request).page(services.visible_robots(request.db, request.identity))
    robots = page["results"]
    return {
        "page": page,
        "robots": robots,
        "search": request.GET.get("search", "").strip(),
        "positions": services.last_positions(request.db, [robot.id for robot in robots]),
        "status_topic": services.status_topic,
        "is_manager": services.is_manager(request.db, request.identity),
    }


@console_view("robots.console.fleet", template=TEMPLATES + "fleet.jinja2", request_method=("GET", "POST"))
def fleet(request: Request) -> Any:
    """The robots the user may use, with live connected state and last position; managers register robots here."""
    form = Form(request, RobotIn)
    if form.submitted:
        try:
            body = form.validate()
            robot, secret = services.register_robot(request.db, request.identity, body.serial, body.name)
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            return _secret_page(request, robot, secret, "registered")
    return {**_fleet(request), "form": form}


def _secret_page(request: Request, robot: Robot, secret: str, what: str) -> Any:
    """The secret, this once: rendered in the answer to the POST (never stored, never redirected to)."""
    return render_to_response(
        TEMPLATES + "secret.jinja2", {"robot": robot, "secret": secret, "what": what}, request=request
    )


def _robot_page(request: Request, robot: Robot, **forms: Form) -> dict[str, Any]:
    db, caller = request.db, request.identity
    commands = db.scalars(
        services.commands_of(db, caller, robot.id).order_by(Command.id.desc()).limit(COMMANDS_SHOWN)
    ).all()
    positions = db.scalars(
        services.positions_of(db, caller, robot.id).order_by(Frame.timestamp.desc()).limit(TRAIL_LENGTH)
    ).all()
    return {
        "robot": robot,
        "commands": commands,
        "trail": Trail.of(reversed(positions), TRAIL_LENGTH),
        "last_position": positions[0] if positions else None,
        "states": list(RobotState),
        "commands_shown": COMMANDS_SHOWN,
        "shares": robot.shared_with,
        "may_manage": services.may_manage(db, caller, robot),
        "status_topic": services.status_topic(robot.id),
        "is_manager": services.is_manager(db, caller),
        "share_form": forms.get("share_form") or Form(request, None),
        "command_form": forms.get("command_form") or Form(request, None),
        "rename_form": forms.get("rename_form") or Form(request, None, initial={"name": robot.name}),
    }


@console_view("robots.console.robot", template=TEMPLATES + "robot.jinja2")
def robot_page(request: Request) -> dict[str, Any]:
    """One robot: connected state and position trail (live), commands with their status, sharing."""
    robot = services.robot_for(request.db, request.identity, request.matchdict["id"])
    return _robot_page(request, robot)


@console_view("robots.console.commands", template=TEMPLATES + "robot.jinja2", request_method="POST")
def send_command(request: Request) -> Any:
    """A command button: the same use case as ``POST /api/robots/{id}/commands``."""
    robot = services.robot_for(request.db, request.identity, request.matchdict["id"])
    form = Form(request, CommandIn)
    try:
        body = form.validate()
        ttl = robots_settings(request.registry.settings).command_ttl
        command = services.send_command(
            request.db, request.identity, robot.id, body.command, ttl=ttl, realtime=request.realtime
        )
    except FORM_ERRORS as exc:
        form.fail(exc)
        return _robot_page(request, robot, command_form=form)
    flash(request, f"Command {command.command.value} sent to {robot.serial}")
    return HTTPSeeOther(request.route_url("robots.console.robot", id=robot.id))


@console_view("robots.console.shares", template=TEMPLATES + "robot.jinja2", request_method="POST")
def share(request: Request) -> Any:
    """Share the robot with a user named by username (owner, managers)."""
    robot = services.robot_for(request.db, request.identity, request.matchdict["id"])
    form = Form(request, ShareIn)
    try:
        body = form.validate()
        user = services.share_robot(request.db, request.identity, robot.id, username=body.username)
    except FORM_ERRORS as exc:
        form.fail(exc)
        return _robot_page(request, robot, share_form=form)
    flash(request, f"{robot.serial} is shared with {user.username}")
    return HTTPSeeOther(request.route_url("robots.console.robot", id=robot.id))


@console_view("robots.console.unshare", request_method="POST")
def unshare(request: Request) -> Any:
    """Stop sharing the robot with a user (owner, managers)."""
    robot_id, user_id = request.matchdict["id"], request.matchdict["user_id"]
    services.unshare_robot(request.db, request.identity, robot_id, user_id, realtime=request.realtime)
    flash(request, "No longer shared with that user")
    return HTTPSeeOther(request.route_url("robots.console.robot", id=robot_id))


@console_view("robots.console.rename", template=TEMPLATES + "robot.jinja2", request_method="POST")
def rename(request: Request) -> Any:
    """Rename the robot (managers), with the API's PATCH schema."""
    robot = services.robot_for(request.db, request.identity, request.matchdict["id"])
    form = Form(request, RobotPatch)
    try:
        name = form.validate().changes().get("name", "")
        services.rename_robot(request.db, request.identity, robot.id, name)
    except FORM_ERRORS as exc:
        form.fail(exc)
        return _robot_page(request, robot, rename_form=form)
    flash(request, f"{robot.serial} is now called “{name}”" if name else f"{robot.serial} has no name now")
    return HTTPSeeOther(request.route_url("robots.console.robot", id=robot.id))


@console_view("robots.console.delete", request_method="POST")
def delete(request: Request) -> Any:
    """Delete the robot with its history (managers)."""
    robot = services.robot_for(request.db, request.identity, request.matchdict["id"])
    serial = robot.serial
    services.delete_robot(request.db, request.identity, robot.id, realtime=request.realtime)
    flash(request, f"{serial} is deleted, with its history")
    return HTTPSeeOther(request.route_url("robots.console.fleet"))


@console_view("robots.console.secret", request_method="POST")
def rotate_secret(request: Request) -> Any:
    """A new secret for the robot, shown this once (owner, managers)."""
    secret = services.rotate_secret(request.db, request.identity, request.matchdict["id"])
    robot = services.robot_for(request.db, request.identity, request.matchdict["id"])
    return _secret_page(request, robot, secret, "given a new secret")
