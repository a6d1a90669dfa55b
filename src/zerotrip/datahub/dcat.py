"""The open part of the catalogue as DCAT (W3C Data Catalog Vocabulary, version 2) in JSON-LD.

The document carries its own ``@context`` (no remote context to fetch), so any JSON-LD processor expands
it offline. Every open or restricted resource is a ``dcat:Dataset`` with its CSV and JSON downloads as
``dcat:Distribution``s; closed resources never appear. Frequencies use the Dublin Core collection
frequency vocabulary, access rights and media types the EU and IANA registers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.datahub.models import Resource
from zerotrip.identity import queries as identity_queries

CONTEXT: dict[str, Any] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dct:modified": {"@type": "xsd:dateTime"},
    "dct:issued": {"@type": "xsd:dateTime"},
    "dct:license": {"@type": "@id"},
    "dct:accrualPeriodicity": {"@type": "@id"},
    "dct:accessRights": {"@type": "@id"},
    "dcat:downloadURL": {"@type": "@id"},
    "dcat:accessURL": {"@type": "@id"},
    "dcat:mediaType": {"@type": "@id"},
    "dcat:landingPage": {"@type": "@id"},
}

# Terms of use of the open data: Creative Commons Attribution 4.0, the licence most open-data portals
# default to; a deployment that publishes under other terms changes it here.
LICENSE = "https://creativecommons.org/licenses/by/4.0/"

FREQUENCIES = {
    "realtime": "http://purl.org/cld/freq/continuous",
    "daily": "http://purl.org/cld/freq/daily",
    "weekly": "http://purl.org/cld/freq/weekly",
    "monthly": "http://purl.org/cld/freq/monthly",
    "quarterly": "http://purl.org/cld/freq/quarterly",
    "yearly": "http://purl.org/cld/freq/annual",
    "irregular": "http://purl.org/cld/freq/irregular",
}
ACCESS_RIGHTS = {
    "open": "http://publications.europa.eu/resource/authority/access-right/PUBLIC",
    "restricted": "http://publications.europa.eu/resource/authority/access-right/RESTRICTED",
}
MEDIA_TYPES = {
    "csv": "https://www.iana.org/assignments/media-types/text/csv",
    "json": "https://www.iana.org/assignments/media-types/application/json",
}
OPEN_API = "/api/datahub/open"


def _texts(zh: str, en: str | None) -> list[dict[str, str]]:
    texts = [{"@value": zh, "@language": "zh"}]
    if en:
        texts.append({"@value": en, "@language": "en"})
    return texts


def _instant(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def dataset(resource: Resource, *, owner_name: str, base_url: str) -> dict[str, Any]:
    """One resource as a ``dcat:Dataset``."""
    landing = f"{base_url}{OPEN_API}/resources/{resource.code}"
    distributions = [
        {
            "@id": f"{landing}/download.{kind}",
            "@type": "dcat:Distribution",
            "dct:title": kind.upper(),
            "dct:format": kind.upper(),
            "dcat:downloadURL": f"{landing}/download.{kind}",
            "dcat:accessURL": f"{landing}/records",
            "dcat:mediaType": MEDIA_TYPES[kind],
            "dct:license": LICENSE,
        }
        for kind in ("csv", "json")
    ]
    entry: dict[str, Any] = {
        "@id": landing,
        "@type": "dcat:Dataset",
        "dct:identifier": resource.code,
        "dct:title": _texts(resource.title, resource.title_en),
        "dct:description": resource.description or resource.title,
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": owner_name},
        "dcat:contactPoint": {"@type": "vcard:Kind", "vcard:fn": resource.contact},
        "dcat:keyword": list(resource.keywords),
        "dct:issued": _instant(resource.created_at),
        "dct:modified": _instant(resource.data_updated_at or resource.updated_at),
        "dct:accrualPeriodicity": FREQUENCIES[resource.update_frequency],
        "dct:accessRights": ACCESS_RIGHTS[resource.open_type],
        "dct:license": LICENSE,
        "dcat:landingPage": landing,
        "dcat:distribution": distributions,
    }
    return entry


def build_catalog(db: Session, *, base_url: str) -> dict[str, Any]:
    """The ``dcat:Catalog`` of every open and restricted resource, in catalogue-code order."""
    base_url = base_url.rstrip("/")
    resources = db.scalars(
        select(Resource).where(Resource.open_type.in_(("open", "restricted"))).order_by(Resource.code)
    ).all()
    owners: dict[int, str] = {}
    datasets = []
    for resource in resources:
        if resource.owner_org_id not in owners:
            owners[resource.owner_org_id] = identity_queries.get_organisation(db, resource.owner_org_id).name
        datasets.append(dataset(resource, owner_name=owners[resource.owner_org_id], base_url=base_url))
    return {
        "@context": CONTEXT,
        "@id": f"{base_url}{OPEN_API}/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": _texts("公共数据开放目录", "Open public data catalogue"),
        "dct:description": _texts(
            "本平台开放的公共数据资源目录。", "The public data resources this platform opens."
        ),
        "dct:license": LICENSE,
        "dcat:dataset": datasets,
    }
