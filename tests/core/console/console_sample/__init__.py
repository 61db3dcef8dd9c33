"""A plugin with console pages, as a plugin author writes one (see core/console/README.md)."""

from pydantic import Field
from pyramid.httpexceptions import HTTPSeeOther

from pyramidion import hookimpl
from pyramidion.api import In, Invalid
from pyramidion.console import FORM_ERRORS, Form, console_view, flash
from pyramidion.realtime import user_topic

NOTES: list[str] = []


class NoteIn(In):
    title: str = Field(min_length=3, max_length=40)
    pages: int = Field(1, ge=1, le=500)
    urgent: bool = False
    tags: list[str] = []


def add_note(body: NoteIn) -> str:
    """The service: a rule the API would share ("no note called forbidden")."""
    if body.title == "forbidden":
        raise Invalid.field("title", "this title is reserved")
    NOTES.append(body.title)
    return body.title


@hookimpl
def pyramidion_permissions():
    return [("sample.write", "write sample notes")]


@hookimpl
def pyramidion_console(config):
    config.add_route("sample.console.notes", "/")
    config.add_route("sample.console.secret", "/secret")
    config.add_route("sample.console.live", "/live")
    config.add_route("sample.console.upload", "/upload")
    config.add_route("sample.console.ping", "/ping")
    config.add_route("sample.console.broken", "/broken")
    config.add_console_menu("Notes", "sample.console.notes", order=40)
    config.add_console_menu("Secret notes", "sample.console.secret", permission="sample.write", order=41)
    config.add_console_static("console_sample:static")
    config.scan(".")


@console_view(
    "sample.console.notes",
    template="console_sample:templates/notes.jinja2",
    request_method=("GET", "POST"),
)
def notes(request):
    form = Form(request, NoteIn)
    if form.submitted:
        try:
            title = add_note(form.validate())
        except FORM_ERRORS as exc:
            form.fail(exc)
        else:
            flash(request, f"Note {title} added")
            return HTTPSeeOther(request.route_url("sample.console.notes"))
    return {"form": form, "notes": NOTES}


@console_view("sample.console.secret", template="console_sample:templates/notes.jinja2", permission="sample.write")
def secret(request):
    return {"form": Form(request, NoteIn), "notes": ["the secret note"]}


@console_view("sample.console.live", template="console_sample:templates/live.jinja2")
def live(request):
    """Follows the user's own topic, and tries someone else's (user 0: nobody's)."""
    return {"mine": user_topic("sample", request.identity.user.id, "news"), "theirs": user_topic("sample", 0, "news")}


@console_view("sample.console.upload", renderer="string", request_method="POST", max_body_size=2 * 1024 * 1024)
def upload(request):
    return f"received {len(request.POST['file'].value)} bytes"


@console_view("sample.console.ping", template="console_sample:templates/pong.jinja2", request_method="POST")
def ping(request):
    """An htmx fragment: answered only with the CSRF header htmx sends by itself."""
    return {"who": request.identity.user.username}


@console_view("sample.console.broken")
def broken(request):
    raise RuntimeError("a bug in a page")
