"""Rate limits live in Redis (shared by every app process) and answer 429 with Retry-After."""

from tests.conftest import make_app


def test_login_is_refused_with_429_and_retry_after_past_its_limit(settings_env):
    client = make_app(settings_env, ratelimit_login="3 per minute").test_client()
    statuses = [client.get("/login").status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    refused = client.get("/login")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert b"too many requests" in refused.data


def test_api_429_has_the_json_error_shape(settings_env):
    client = make_app(settings_env, ratelimit_default="2 per minute").test_client()
    for _ in range(2):
        assert client.get("/api/pipelines/active").status_code == 200
    refused = client.get("/api/pipelines/active")
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    assert "Retry-After" in refused.headers


def test_the_limit_is_shared_between_app_processes(settings_env):
    first = make_app(settings_env, ratelimit_login="2 per minute").test_client()
    second = make_app(settings_env, ratelimit_login="2 per minute").test_client()
    assert first.get("/login").status_code == 302
    assert second.get("/login").status_code == 302
    assert first.get("/login").status_code == 429


def test_health_endpoints_are_never_rate_limited(settings_env):
    client = make_app(settings_env, ratelimit_default="1 per minute").test_client()
    assert {client.get("/livez").status_code for _ in range(5)} == {200}
