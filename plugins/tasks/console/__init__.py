"""Console pages of the task tracker, under ``/console/tasks/``.

Every page calls the use cases of :mod:`pyramidion_tasks.services` and
validates with the API's schemas, so a page can never allow what the API
refuses: a task you may not read is the 403 page here as it is a 403 there.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther

from pyramidion.console import FORM_ERRORS, Form, console_view, flash
from pyramidion.request import Request

from .. import services
from ..attachments import IAttachmentStore, upload_body_limit, uploaded_file
from ..models import Status, Task
from ..schemas import CommentIn, DelegateIn, TaskIn, TaskPatch
from ..services import VIEW_ALL, mail_of

TEMPLATES = "pyramidion_tasks:console/templates/"
STATUSES = [(status.value, status.value.replace("_", " ")) for status in Status]
ORDERINGS = [
    ("-due_date", "Due date, latest first"),
    ("due_date", "Due date, soonest first"),
    ("name", "Name"),
    ("status", "Status"),
    ("-updated_at", "Recently changed"),
]


def _task_id(request: Request) -> int:
    return int(request.matchdict["id"])


def _to_task(request: Request, task_id: int) -> HTTPSeeOther:
    return HTTPSeeOther(request.route_url("tasks.console.task", id=task_id))


def _performers_field(form: Form) -> None:
    # The page has one performers input, by username; what the schema says
    # of the ids (none given at all) belongs beside it too.
    for message in form.errors.pop("performer_ids", []):
        form.errors.setdefault("performer_usernames", []).append(message)


# -- the list -----------------------------------------------------------------


@console_view("tasks.console.list", template=TEMPLATES + "list.jinja2")
def task_list(request: Request) -> dict[str, Any]:
    """My tasks (or every task, for supervisors), 10 a page, searched and ordered as the API's list."""
    query = services.task_listing.parse(request)
    scope = query.arguments["scope"]
    page = query.page(services.tasks_visible(request.db, request.identity, scope))
    first = query.offset + 1 if page["results"] else 0
    return {
        "page": page,
        "shown": (first, query.offset + len(page["results"])),
        "search": request.GET.get("search", ""),
        "ordering": request.GET.get("ordering", services.task_listing.default_ordering),
        "orderings": ORDERINGS,
        "scope": scope,
        "may_see_all": request.identity.holds(request.db, VIEW_ALL),
    }


# -- creating and changing ----------------------------------------------------


@console_view("tasks.console.new", template=TEMPLATES + "form.jinja2", request_method=("GET", "POST"))
def new_task(request: Request) -> Any:
    """The form for a new task; you become its creator."""
    form = Form(request, TaskIn)
    if form.submitted:
        try:
            task = services.create_task(request.db, request.identity, form.validate(), mail=mail_of(request))
        except FORM_ERRORS as exc:
            form.fail(exc)
            _performers_field(form)
        else:
            flash(request, f"Task “{task.name}” created")
            return _to_task(request, task.id)
    return {"form": form, "task": None, "statuses": STATUSES, "may_change_performers": True}


def _initial(task: Task) -> dict[str, Any]:
    return {
        "name": task.name,
        "specification": task.specification,
        "due_date": task.due_date.isoformat(),
        "status": task.status.value,
        "performer_usernames": [user.username for user in task.performers],
    }


def _changes(request: Request, form: Form, initial: dict[str, Any]) -> dict[str, Any]:
    """What the edit form changes, as a :class:`TaskPatch` would give it.

    The form sends every field; one left as it was is no change (so a task
    already overdue keeps its due date without the "not in the past" check),
    and an emptied specification is one (where a form's empty input would
    otherwise count as not sent).
    """
    sent = {name: value for name, value in form.values().items() if value != initial.get(name)}
    if "performer_usernames" in sent and {n.casefold() for n in sent["performer_usernames"]} == {
        n.casefold() for n in initial["performer_usernames"]
    }:
        del sent["performer_usernames"]
    if "specification" in request.POST and not request.POST["specification"].strip() and initial["specification"]:
        sent["specification"] = ""
    return TaskPatch.model_validate(sent).changes()


@console_view("tasks.console.edit", template=TEMPLATES + "form.jinja2", request_method=("GET", "POST"))
def edit_task(request: Request) -> Any:
    """The form changing a task (its creator or a performer; the performers only by the creator)."""
    task = services.changeable_task(request.db, request.identity, _task_id(request))
    initial = _initial(task)
    form = Form(request, TaskPatch, initial=initial)
    may_change_performers = services.may_change_performers(request.identity, task)
    if form.submitted:
        try:
            changes = _changes(request, form, initial)
            services.update_task(request.db, request.identity, task.id, changes, mail=mail_of(request))
        except FORM_ERRORS as exc:
            form.fail(exc)
            _performers_field(form)
        else:
            flash(request, "Task saved" if changes else "Nothing to change", "success" if changes else "info")
            return _to_task(request, task.id)
    return {"form": form, "task": task, "statuses": STATUSES, "may_change_performers": may_change_performers}


# -- one task -----------------------------------------------------------------


def _task_page(request: Request, **forms: Form) -> dict[str, Any]:
    """What the task page shows: the task, its discussion, what the caller may do, and its forms."""
    caller = request.identity
    task = services.readable_task(request.db, caller, _task_id(request), discussion=True)
    return {
        "task": task,
        "may_change": services.may_change(caller, task),
        "may_delegate": services.may_delegate(caller, task),
        "may_delete": services.may_delete(request.db, caller, task),
        "comment_form": forms.get("comment_form") or Form(request, CommentIn),
        "delegate_form": forms.get("delegate_form") or Form(request, DelegateIn),
        "upload_form": forms.get("upload_form") or Form(request),
        "max_size": request.find_service(IAttachmentStore).max_size,
    }


@console_view("tasks.console.task", template=TEMPLATES + "task.jinja2")
def task_page(request: Request) -> dict[str, Any]:
    """A task with its attachments and its comments, newest first."""
    return _task_page(request)


@console_view("tasks.console.comment", template=TEMPLATES + "task.jinja2", request_method="POST")
def comment(request: Request) -> Any:
    """Comment on the task; its people are mailed."""
    form = Form(request, CommentIn)
    try:
        services.add_comment(
            request.db, request.identity, _task_id(request), form.validate().text, mail=mail_of(request)
        )
    except FORM_ERRORS as exc:
        form.fail(exc)
        return _task_page(request, comment_form=form)
    flash(request, "Comment added")
    return _to_task(request, _task_id(request))


@console_view("tasks.console.delegate", template=TEMPLATES + "task.jinja2", request_method="POST")
def delegate(request: Request) -> Any:
    """Hand your part of the task to someone else, named by username."""
    form = Form(request, DelegateIn)
    try:
        successor = form.validate()
        task = services.delegate_task(request.db, request.identity, _task_id(request), successor, mail=mail_of(request))
    except FORM_ERRORS as exc:
        form.fail(exc)
        return _task_page(request, delegate_form=form)
    flash(request, f"Your part of “{task.name}” went to {successor.username}")
    if services.may_read(request.db, request.identity, task):
        return _to_task(request, task.id)
    return HTTPSeeOther(request.route_url("tasks.console.list"))


@console_view("tasks.console.delete", request_method="POST")
def delete(request: Request) -> HTTPSeeOther:
    """Delete the task with its comments and attachments."""
    store = request.find_service(IAttachmentStore)
    services.delete_task(request.db, request.identity, _task_id(request), store=store)
    flash(request, "Task deleted")
    return HTTPSeeOther(request.route_url("tasks.console.list"))


# -- attachments --------------------------------------------------------------


@console_view(
    "tasks.console.upload",
    template=TEMPLATES + "task.jinja2",
    request_method="POST",
    max_body_size=upload_body_limit,
)
def upload(request: Request) -> Any:
    """Attach a file to the task (downloads go through the API's own URL)."""
    form = Form(request)
    store = request.find_service(IAttachmentStore)
    try:
        file = uploaded_file(request, store)
        attachment = services.add_attachment(
            request.db, request.identity, _task_id(request), file.filename, file.type, file.file, store=store
        )
    except FORM_ERRORS as exc:
        form.fail(exc)
        return _task_page(request, upload_form=form)
    flash(request, f"{attachment.filename} attached")
    return _to_task(request, _task_id(request))


@console_view("tasks.console.remove_attachment", request_method="POST")
def remove_attachment(request: Request) -> HTTPSeeOther:
    """Remove an attachment from the task."""
    store = request.find_service(IAttachmentStore)
    attachment_id = int(request.matchdict["attachment_id"])
    services.delete_attachment(request.db, request.identity, _task_id(request), attachment_id, store=store)
    flash(request, "Attachment removed")
    return _to_task(request, _task_id(request))


def includeme(config: Any) -> None:
    """The pages' routes, under ``/console/tasks``."""
    config.add_route("tasks.console.list", "/")
    config.add_route("tasks.console.new", "/new")
    config.add_route("tasks.console.task", r"/{id:\d+}")
    config.add_route("tasks.console.edit", r"/{id:\d+}/edit")
    config.add_route("tasks.console.comment", r"/{id:\d+}/comments")
    config.add_route("tasks.console.delegate", r"/{id:\d+}/delegate")
    config.add_route("tasks.console.delete", r"/{id:\d+}/delete")
    config.add_route("tasks.console.upload", r"/{id:\d+}/attachments")
    config.add_route("tasks.console.remove_attachment", r"/{id:\d+}/attachments/{attachment_id:\d+}/delete")
    config.add_console_menu("Tasks", "tasks.console.list", order=40)
    config.add_console_static("pyramidion_tasks:console/static")
    config.scan(__name__)
