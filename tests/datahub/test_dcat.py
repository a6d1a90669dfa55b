"""The DCAT export validates as JSON-LD: PyLD expands it offline into DCAT datasets with the expected IRIs."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyld import jsonld
from sqlalchemy.orm import Session

from zerotrip.datahub import dcat

from .conftest import DatahubWorld
from .open_helpers import COUNTY_ROWS, load, restricted_resource

DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
CONTEXT_URL = "https://zerotrip.example/contexts/dcat.jsonld"


def local_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Serves the context zerotrip embeds and nothing else: expanding never touches the network."""
    if url != CONTEXT_URL:
        raise AssertionError(f"the JSON-LD processor tried to fetch {url}")
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": {"@context": dcat.CONTEXT},
    }


def expand(document: dict[str, Any]) -> list[dict[str, Any]]:
    expanded: list[dict[str, Any]] = jsonld.expand(document, {"documentLoader": local_loader})
    return expanded


def nodes_of_type(expanded: list[dict[str, Any]], iri: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if iri in node.get("@type", []):
                found.append(node)
            for value in node.values():
                walk(value)

    walk(expanded)
    return found


@pytest.fixture
def catalog(client: TestClient, db: Session, hub: DatahubWorld) -> dict[str, Any]:
    load(db, hub.county_stats, COUNTY_ROWS)
    restricted_resource(db, hub)
    response = client.get("/api/datahub/open/catalog.jsonld")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json"
    document: dict[str, Any] = response.json()
    return document


def test_the_export_expands_to_dcat_datasets(catalog: dict[str, Any]) -> None:
    expanded = expand(catalog)
    assert len(nodes_of_type(expanded, DCAT + "Catalog")) == 1
    datasets = {d[DCT + "identifier"][0]["@value"]: d for d in nodes_of_type(expanded, DCAT + "Dataset")}
    assert sorted(datasets) == [
        "330100-land.registrations-by-county",
        "330100-land.transactions",
    ]  # never closed
    stats = datasets["330100-land.registrations-by-county"]
    assert (
        stats["@id"] == "http://127.0.0.1:8000/api/datahub/open/resources/330100-land.registrations-by-county"
    )
    titles = {t["@language"]: t["@value"] for t in stats[DCT + "title"]}
    assert titles == {"zh": "各区县不动产登记量", "en": "Real-estate registrations by county"}
    assert stats[DCT + "publisher"][0]["@type"] == [FOAF + "Organization"]
    assert stats[DCT + "publisher"][0][FOAF + "name"][0]["@value"] == "杭州市自然资源和规划局"
    assert stats[DCT + "accrualPeriodicity"] == [{"@id": "http://purl.org/cld/freq/monthly"}]
    assert stats[DCT + "license"] == [{"@id": dcat.LICENSE}]
    modified = stats[DCT + "modified"][0]
    assert modified["@type"] == "http://www.w3.org/2001/XMLSchema#dateTime" and modified["@value"].endswith(
        "Z"
    )
    assert DCAT + "keyword" in datasets["330100-land.transactions"]
    rights = datasets["330100-land.transactions"][DCT + "accessRights"][0]["@id"]
    assert rights.endswith("/access-right/RESTRICTED")
    distributions = {
        d[DCAT + "mediaType"][0]["@id"]: d[DCAT + "downloadURL"][0]["@id"]
        for d in stats[DCAT + "distribution"]
        if DCAT + "Distribution" in d["@type"]
    }
    base = "http://127.0.0.1:8000/api/datahub/open/resources/330100-land.registrations-by-county"
    assert distributions == {
        "https://www.iana.org/assignments/media-types/text/csv": f"{base}/download.csv",
        "https://www.iana.org/assignments/media-types/application/json": f"{base}/download.json",
    }


def test_the_embedded_context_is_the_one_served_and_yields_rdf(catalog: dict[str, Any]) -> None:
    by_reference = {**catalog, "@context": CONTEXT_URL}
    assert expand(by_reference) == expand(catalog)
    quads = jsonld.to_rdf(catalog, {"format": "application/n-quads", "documentLoader": local_loader})
    assert f"<{DCAT}Dataset>" in quads
    assert '"各区县不动产登记量"@zh' in quads


def test_the_download_addresses_answer(client: TestClient, catalog: dict[str, Any]) -> None:
    for entry in catalog["dcat:dataset"]:
        if entry["dct:identifier"] != "330100-land.registrations-by-county":
            continue
        for distribution in entry["dcat:distribution"]:
            path = distribution["dcat:downloadURL"].removeprefix("http://127.0.0.1:8000")
            assert client.get(path).status_code == 200
