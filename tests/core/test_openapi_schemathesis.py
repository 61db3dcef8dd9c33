"""Property-based run of the whole document (schemathesis), every check, stateless and stateful.

* Stateless: each operation gets a few derandomized examples of valid data
  and of invalid data, as a superuser (the widest reach) and anonymously
  (every protected operation must answer 401 as documented), checked with
  every check schemathesis has (no 5xx, statuses, content types, headers and
  bodies as documented, invalid data refused, valid data accepted, the
  ``Allow`` header, authentication not ignored...).
* Stateful: schemathesis chains operations along the links of the document
  (those it infers from ids in responses and paths: create, then read, change,
  delete), with the same checks, including use-after-free (a deleted resource
  is gone) and resource availability (a created one is there).

What may be left is a **documented business refusal**: valid data that a rule
refuses (a 422 whose details come from the rule, such as a due date in the
past, a 409 on a duplicate, a 404 for an id that does not exist, a 403 on
someone else's object). Those are counted, never a schema mismatch.

The operations are split into shards so that xdist spreads them over the
workers. schemathesis' own pytest integration (``from_fixture``) does not
work with pytest 9 (it writes ``node._nodeid``), so operations are driven here
with their Hypothesis strategies directly.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup

load_all_checks()
ALL_CHECKS = CHECKS.get_all()
EXAMPLES = settings(
    max_examples=4, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
)
STATEFUL = settings(
    max_examples=6,
    stateful_step_count=6,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
SHARDS = 4


def business_refusal(failure: Any, response: Any) -> bool:
    """Valid data refused by a rule the document names, not by the schema.

    A rule's details (``Invalid``) carry no pydantic ``type``; a rule only
    code can state (one field after another, a date not in the past) is a
    ``value_error``. Any other type means the document promised what the
    schema then refused: a real failure.
    """
    if type(failure).__name__ != "RejectedPositiveData" or response.status_code != 422:
        return False
    try:
        details = response.json()["error"]["details"]
    except (ValueError, KeyError, TypeError):
        return False
    return all(detail.get("type", "value_error") == "value_error" for detail in details)


def validate(case: Any, response: Any, headers: dict[str, str], refusals: list[str] | None = None) -> None:
    """Every check; a documented business refusal is noted, anything else raised."""
    try:
        case.validate_response(response, checks=ALL_CHECKS, headers=headers)
    except FailureGroup as group:
        left = [failure for failure in group.exceptions if not business_refusal(failure, response)]
        if refusals is not None:
            refusals += [case.operation.label for failure in group.exceptions if failure not in left]
        if left:
            raise FailureGroup(left, group.message) from None


def document(app: Any) -> Any:
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app.app)


def run_shard(app: Any, shard: int, headers_for: Callable[[str], dict[str, str]]) -> None:
    """Run the operations of one shard, valid and invalid data; fail listing every operation that broke a check."""
    operations = [result.ok() for result in document(app).get_all_operations()]
    assert operations, "the document lists no operations"
    failures = []
    for operation, mode in itertools.product(
        itertools.islice(operations, shard, None, SHARDS), (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ):
        headers = headers_for(operation.label)

        # Defined, called and dropped in this iteration: the closure's variables cannot change under it.
        @given(case=operation.as_strategy(generation_mode=mode))
        @EXAMPLES
        def check(case: Any) -> None:
            validate(case, case.call(headers=headers), headers)  # noqa: B023

        try:
            check()
        except Unsatisfiable:
            pass  # nothing invalid to send (no parameters, no body): no negative data to try
        except (Exception, BaseExceptionGroup) as exc:  # collect them all: one report for the whole shard
            failures.append(f"{operation.label} ({mode.value} data): {exc}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("shard", range(SHARDS))
def test_as_superuser(app, make_user, login, shard):
    serial = itertools.count()
    # A fresh superuser per operation: an earlier one may have disabled itself.
    run_shard(app, shard, lambda label: login(make_user(f"root{next(serial)}", superuser=True)))


@pytest.mark.parametrize("shard", range(SHARDS))
def test_anonymously(app, shard):
    run_shard(app, shard, lambda label: {})


def test_stateful_links_as_superuser(app, make_user, login):
    """Chains of calls along the document's links, every check at each step."""
    root = make_user("stateful-root", superuser=True)
    base = document(app).as_state_machine()
    refusals: list[str] = []

    class Workflow(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            # A fresh login per call: a step may deactivate or re-password the caller's own account.
            return {"headers": login(root)}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            validate(case, response, kwargs.get("headers") or {}, refusals)

    Workflow.run(settings=STATEFUL)
