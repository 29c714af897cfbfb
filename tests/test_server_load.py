"""`graphmem bench serve`, small: concurrent clients adding and searching through a real server process."""

from __future__ import annotations

import pytest

from graphmem.bench.serve import bench_serve


@pytest.mark.slow
@pytest.mark.parametrize("per_client", [False, True], ids=["shared-namespace", "namespace-per-client"])
def test_concurrent_clients_lose_and_duplicate_nothing(tmp_path, monkeypatch, per_client):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("GRAPHMEM_JVM_HEAP", "512m")
    result = bench_serve(clients=4, seconds=8, namespace_per_client=per_client)
    assert result["namespaces"] == (4 if per_client else 1)
    assert result["errors"] == 0, result["error_samples"]
    assert result["endpoints"]["add"]["requests"] >= 4 and result["endpoints"]["search"]["requests"] >= 4
    assert result["messages_acknowledged"] == result["endpoints"]["add"]["requests"]
    assert result["messages_stored"] == result["messages_acknowledged"]
    assert result["lost"] == 0 and result["duplicated"] == 0
    assert result["check_ok"] is True, result["check_problems"]
    assert result["server_exit"] == 0, result.get("server_log_tail")
