"""The request id and the security headers, added by pure ASGI middleware to every HTTP response."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_the_callers_request_id_is_echoed_and_one_is_made_up_otherwise(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert given.headers["x-request-id"] == "trace-42"
    made = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/healthz").headers["x-request-id"] != made
    long = client.get("/healthz", headers={"X-Request-ID": "x" * 100})
    assert long.headers["x-request-id"] == "x" * 64  # what the audit log's column holds


def test_api_answers_and_problems_carry_the_security_headers(client: TestClient) -> None:
    for response in (client.get("/healthz"), client.get("/api/datahub/no-such-thing")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "x-request-id" in response.headers
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "content-security-policy" not in docs.headers  # the docs page loads its scripts elsewhere
    assert docs.headers["referrer-policy"] == "same-origin"
