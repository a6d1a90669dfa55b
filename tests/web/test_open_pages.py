"""The open data portal: the list, a resource's preview with filter, sort and paging, and downloads."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.datahub import aggregation

from .conftest import HTML
from .datahub_world import INSURANCE, JOBS, LAND, DataWorld


def preview(html: str) -> list[list[str]]:
    body = html.split('class="table data-table"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)]


def test_the_portal_lists_open_resources_only(client: TestClient, world: DataWorld) -> None:
    home = client.get("/", headers=HTML).text
    assert 'href="/open"' in home
    page = client.get("/open", headers=HTML)
    assert page.status_code == 200
    assert "各区县新增就业人数" in page.text and "无条件开放" in page.text
    assert "社会保险参保信息" not in page.text and "土地出让地块" not in page.text
    assert "各区县新增就业人数" in client.get("/open?q=就业", headers=HTML).text
    assert "没有与搜索匹配的开放数据集" in client.get("/open?q=不存在的词", headers=HTML).text


def test_a_closed_resource_is_not_on_the_portal(client: TestClient, world: DataWorld) -> None:
    for code in (INSURANCE, LAND, "no.such.thing"):
        assert client.get(f"/open/{code}", headers=HTML).status_code == 404, code


def test_the_preview_filters_sorts_and_links_the_downloads(client: TestClient, world: DataWorld) -> None:
    page = client.get(f"/open/{JOBS}", headers=HTML)
    assert page.status_code == 200
    assert "区县代码" in page.text and "新增就业人数" in page.text and "共 4 条记录" in page.text
    assert f'href="/api/datahub/open/resources/{JOBS}/download.csv"' in page.text
    filtered = client.get(f"/open/{JOBS}", params={"district": "330106", "month": ""}, headers=HTML)
    assert preview(filtered.text) == [["330106", "2024-01", "812"], ["330106", "2024-02", "455"]]
    assert 'value="330106"' in filtered.text and "共 2 条记录" in filtered.text
    assert f'href="/api/datahub/open/resources/{JOBS}/download.json?district=330106"' in filtered.text
    ordered = client.get(f"/open/{JOBS}", params={"sort": "-new_jobs"}, headers=HTML)
    assert [row[2] for row in preview(ordered.text)] == ["812", "640", "455", "301"]
    assert 'aria-sort="descending"' in ordered.text
    assert f'href="/open/{JOBS}?sort=new_jobs"' in ordered.text, "a second click sorts the other way"


def test_a_bad_filter_is_explained_on_the_page(client: TestClient, world: DataWorld) -> None:
    page = client.get(f"/open/{JOBS}", params={"new_jobs": "many", "colour": "red"}, headers=HTML)
    assert page.status_code == 422
    assert "新增就业人数：不是有效的整数" in page.text
    assert "不能按此字段筛选" in page.text
    assert 'role="alert"' in page.text


def test_the_preview_pages(client: TestClient, db: Session, world: DataWorld) -> None:
    rows = [
        {"district": "330106", "month": f"20{y:02d}-{m:02d}", "new_jobs": y * m}
        for y in range(10, 13)
        for m in range(1, 13)
    ]
    aggregation.push_records(db, actor=world.steward, resource_code=JOBS, records=rows)
    db.flush()
    first = client.get(f"/open/{JOBS}", params={"district": "330106"}, headers=HTML).text
    assert "第 1 页，共 2 页" in first and len(preview(first)) == 20
    assert f'href="/open/{JOBS}?district=330106&amp;page=2"' in first
    second = client.get(f"/open/{JOBS}", params={"district": "330106", "page": 2}, headers=HTML).text
    assert len(preview(second)) == 38 - 20
