"""Property-based run of every documented operation (schemathesis): no 5xx, answers match the document.

Each operation gets a few derandomized examples, as a superuser (the widest
reach) and anonymously (every protected operation must answer 401 as
documented). The operations are split into shards so that xdist spreads
them over the workers; the whole run stays around a minute on two cores.

schemathesis' own pytest integration (``from_fixture``) does not work with
pytest 9 (it writes ``node._nodeid``), so operations are driven here with
their Hypothesis strategies directly.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = (not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance)
EXAMPLES = settings(
    max_examples=4, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
)
SHARDS = 4


def run_shard(app: Any, shard: int, headers_for: Callable[[str], dict[str, str]]) -> None:
    """Run the operations of one shard; fail listing every operation that broke a check."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the document lists no operations"
    failures = []
    for operation in itertools.islice(operations, shard, None, SHARDS):
        headers = headers_for(operation.label)

        @given(case=operation.as_strategy())
        @EXAMPLES
        def check(case: Any) -> None:
            # Run at once below, inside this iteration: the loop variable is the one meant.
            case.validate_response(case.call(headers=headers), checks=CHECKS)  # noqa: B023

        try:
            check()
        except Exception as exc:  # collect them all: one report for the whole shard
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("shard", range(SHARDS))
def test_as_superuser(app, make_user, login, shard):
    serial = itertools.count()
    # A fresh superuser per operation: an earlier one may have disabled itself.
    run_shard(app, shard, lambda label: login(make_user(f"root{next(serial)}", superuser=True)))


@pytest.mark.parametrize("shard", range(SHARDS))
def test_anonymously(app, shard):
    run_shard(app, shard, lambda label: {})
