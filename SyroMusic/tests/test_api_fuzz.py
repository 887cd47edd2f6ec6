"""Schemathesis generates requests from the OpenAPI schema and checks every answer against it.

A bounded number of examples per operation, throttling relaxed, a small seeded
catalogue so that ids in paths often exist.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from Syro.wsgi import application

from .factories import seed_catalogue

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def api_schema(settings, db):
    settings.ALLOWED_HOSTS = ["*"]
    # Throttling relaxed for this run: the fuzzer sends hundreds of requests.
    settings.API_THROTTLE_RATES = {"anonymous": 10**9, "user": 10**9}
    seed_catalogue(200)
    # As Django's test client does: requests must not close the test's database connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize("who", ["anonymous", "superuser"])
def test_no_5xx_and_every_answer_matches_the_schema(api_schema, django_user_model, who):
    headers = {"Accept-Encoding": "identity"}  # the in-process client does not decompress
    if who == "superuser":
        from rest_framework.authtoken.models import Token

        admin = django_user_model.objects.create_superuser("fuzz", "fuzz@example.com", "correct horse battery")
        headers["Authorization"] = f"Token {Token.objects.create(user=admin).key}"  # every write is allowed
    failures = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(checks=CHECKS, headers=headers)

        try:
            check()
        except Exception as error:  # collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert not failures, "\n\n".join(failures)
