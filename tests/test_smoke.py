def test_openapi(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    assert "/api/identity/token" in r.json()["paths"]
