"""Helpers for the data page tests that drive the app through TestClient."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from .conftest import HTML, csrf_token, sign_in
from .datahub_world import INSURANCE

STAFF = "/staff/login"


def staff(client: TestClient, login: str) -> None:
    assert sign_in(client, login, portal=STAFF).status_code == 303


def upload(
    client: TestClient, text: str, *, name: str = "insured.csv", code: str = INSURANCE
) -> httpx.Response:
    """Open the load form and post ``text`` as a file through it (redirects are not followed)."""
    form = client.get(f"/staff/datahub/resources/{code}/load", headers=HTML)
    assert form.status_code == 200, form.text
    return client.post(
        f"/staff/datahub/resources/{code}/load",
        data={"csrf_token": csrf_token(form.text), "format": ""},
        files={"file": (name, text.encode(), "text/csv")},
        headers=HTML,
        follow_redirects=False,
    )


def cells(html: str, table_id: str) -> list[list[str]]:
    """The text of each body row's cells in the table with this id."""
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)
        ]
        for row in rows
    ]
