"""Schemathesis against the committed schema (docs/openapi.json), in the test suite: every
operation, positive and negative examples (bounded, so the run stays short), as an admin
and as a rep. No server error, and every response fits the schema (status code, content
type, body)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from loudou.api.schema import COMMITTED
from loudou.deals import services
from loudou.wsgi import application

from .base import ApiTestCase

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 12  # per operation and mode: ~40 operations, about a minute


@pytest.mark.slow
@override_settings(ALLOWED_HOSTS=["*"], DEBUG_PROPAGATE_EXCEPTIONS=True)
class SchemathesisTests(ApiTestCase):
    def setUp(self):
        # As Django's test client does: requests served here must not close the test's
        # connection (the test's transaction holds the data).
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        self.addCleanup(request_started.connect, close_old_connections)
        self.addCleanup(request_finished.connect, close_old_connections)
        for i in range(3):
            deal = self.make_deal(name=f"D{i}", account=self.account)
        services.lose_deal(actor=self.rep, deal=deal, reason=self.price)
        self.schema = schemathesis.openapi.from_path(str(COMMITTED))
        self.schema.app = application

    def test_every_operation(self):
        operations = [result.ok() for result in self.schema.get_all_operations()]
        self.assertGreater(len(operations), 30)
        failures = []
        statuses: dict[int, int] = {}
        for operation in operations:
            if operation.path == "/api/v1/reports/{name}":
                continue  # runs a report in a child process: test_reports.py
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    strategy = operation.as_strategy(generation_mode=mode)
                except Exception as exc:  # an operation without negative examples
                    if mode is GenerationMode.NEGATIVE:
                        continue
                    raise exc

                @settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=strategy, who=st.sampled_from(["admin", "rep"]))
                def run(case, who):
                    response = case.call_and_validate(
                        headers={"Authorization": f"Bearer {self.tokens[who]}"}, checks=CHECKS
                    )
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

                try:
                    run()
                except Exception as exc:
                    failures.append(f"{operation.method.upper()} {operation.path} {mode}: {exc}")
        self.assertEqual(failures, [], "\n\n".join(failures)[:20000])
        # The run reached the code behind the validation, not only the 400s.
        print("schemathesis statuses:", sorted(statuses.items()))
        self.assertGreater(sum(statuses.values()), 300)
        self.assertGreater(sum(n for code, n in statuses.items() if code < 300), 50)
