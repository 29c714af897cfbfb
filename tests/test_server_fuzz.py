"""Property-based fuzzing of the served OpenAPI with schemathesis (bounded examples): never a 5xx.

Driven with hypothesis directly (``APIOperation.as_strategy``): schemathesis' pytest plugin does not
load under this project's pytest 9."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from conftest import settings_for
from graphmem.server import MemoryHub
from serving import running

EXAMPLES = 12  # per operation: enough to reach every error path of a handler, bounded for the 2-core CI


@pytest.mark.slow
def test_no_server_errors(tmp_path, embedder):
    hub = MemoryHub.open(str(tmp_path / "store"), settings_for(tmp_path))
    try:
        with running(hub, token="fuzz") as url:
            # one namespace with data, so reads of it get past the 404
            hub.add("default", [{"speaker": "Maya", "text": "The fuzzing cat is called Biscuit."}], conversation="seed")
            schema = schemathesis.openapi.from_url(f"{url}/openapi.json", headers={"Authorization": "Bearer fuzz"})
            operations = [result.ok() for result in schema.get_all_operations()]
            assert len(operations) >= 9
            seen: dict[str, set[int]] = {}
            def pinned(case):  # random namespaces never exist: a second pass aims at the one with data
                case.path_parameters = {**(case.path_parameters or {}), "ns": "default"}
                return case

            for operation in operations:
                strategies = [operation.as_strategy()]
                if "{ns}" in operation.path:
                    strategies.append(operation.as_strategy().map(pinned))
                for strategy in strategies:
                    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                              database=None)
                    @given(case=strategy)
                    def fuzz(case) -> None:
                        response = case.call_and_validate(headers={"Authorization": "Bearer fuzz"}, checks=[not_a_server_error],
                                                          timeout=120)
                        seen.setdefault(operation.label, set()).add(response.status_code)

                    fuzz()
            print({label: sorted(codes) for label, codes in seen.items()})  # shown with -rP
            assert set(seen) == {op.label for op in operations}
            assert any(400 in codes for codes in seen.values())  # the fuzzer did reach the validation paths
            for label in ("POST /v1/namespaces/{ns}/search", "GET /v1/namespaces/{ns}/stats", "GET /v1/namespaces/{ns}/check"):
                assert 200 in seen[label], label  # ... and the handlers behind them
    finally:
        hub.close()
