"""The service guide and the trip analysis pages: search, one item's guide with what replaces each paper
and why each trip is needed, who may open the analysis, and its figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import zerotrip.services.errors
from zerotrip.cli import app as cli_app
from zerotrip.demo import services as demo
from zerotrip.identity import actions
from zerotrip.problems import Problem
from zerotrip.services import catalogue, queries
from zerotrip.services.schemas import MaterialSpec, SourceSpec
from zerotrip.web.services_text import PROBLEM_TITLES

from ..services.demo_world import SEED, build_demo_catalogue
from ..services.world import (
    CITIZEN_LOGIN,
    FUND_WITHDRAWAL,
    MARRIAGE,
    PASSWORD,
    PASSWORD_HASH,
    ServicesWorld,
    build_world,
    marriage_spec,
    sign_in_api,
)
from .conftest import HTML, sign_in
from .datahub_client import cells

STAFF = "/staff/login"


@pytest.fixture
def services(db: Session) -> ServicesWorld:
    return build_world(db)


def cards(html: str) -> list[str]:
    """The item codes the guide lists, in order."""
    return re.findall(r'href="/services/items/([^"]+)"', html)


def test_the_guide_is_linked_from_every_page_and_searches(
    client: TestClient, services: ServicesWorld
) -> None:
    home = client.get("/", headers=HTML).text
    assert '<a href="/services">办事指南</a>' in home
    page = client.get("/services", headers=HTML)
    assert page.status_code == 200
    assert cards(page.text) == [FUND_WITHDRAWAL, MARRIAGE]
    assert "零跑动" in page.text and "跑一次" in page.text and "秒批" in page.text
    assert "共 2 个事项" in page.text and "即办" in page.text
    assert cards(client.get("/services", params={"q": "公积金"}, headers=HTML).text) == [FUND_WITHDRAWAL]
    by_event = client.get("/services", params={"event": "marriage"}, headers=HTML).text
    assert cards(by_event) == [MARRIAGE]
    assert '<option value="marriage" selected>婚姻</option>' in by_event
    by_department = client.get("/services", params={"department": str(services.fund_id)}, headers=HTML).text
    assert cards(by_department) == [FUND_WITHDRAWAL]
    assert f'<option value="{services.fund_id}" selected>杭州住房公积金管理中心</option>' in by_department
    ignored = client.get("/services", params={"event": "graduation", "department": "x"}, headers=HTML).text
    assert cards(ignored) == [FUND_WITHDRAWAL, MARRIAGE]
    nothing = client.get("/services", params={"q": "不存在的事项"}, headers=HTML).text
    assert cards(nothing) == [] and "没有符合条件的事项" in nothing


def test_an_items_guide_shows_what_replaces_each_paper_and_why_each_trip(
    client: TestClient, services: ServicesWorld
) -> None:
    fund = client.get(f"/services/items/{FUND_WITHDRAWAL}", headers=HTML)
    assert fund.status_code == 200
    assert '<dd id="trip-count">0</dd>' in fund.text
    assert "全程网上办理" in fund.text
    assert "经您同意，向浙江省自然资源厅核验：330000-land.real-estate" in fund.text
    assert "经您同意，从杭州住房公积金管理中心调取：330100-fund.contributions" in fund.text
    assert "使用字段：年月、金额" in fund.text
    assert "在线签署告知承诺书代替证明材料，事后核查" in fund.text
    assert "《住房公积金管理条例》第二十四条" in fund.text and "网上办理（浙里办）、窗口办理" in fund.text

    marriage = client.get(f"/services/items/{MARRIAGE}", headers=HTML).text
    assert '<dd id="trip-count">1</dd>' in marriage
    visits = re.findall(r"<li>(第 \d+ 次：.*?)</li>", marriage, re.DOTALL)
    assert visits == [
        "第 1 次： 到窗口提交申请：该事项不能网上或邮寄申请；出示居民户口簿；出示本人身份证；"
        "“双方亲自到场”环节；“当场颁发结婚证”环节"
    ]
    assert "浙江省公安厅（330000-psb.household）已掌握此项信息，但尚未共享" in marriage
    assert [row[1:] for row in cells(marriage, "materials")] == [
        ["需到现场出示原件\n浙江省公安厅（330000-psb.household）已掌握此项信息，但尚未共享", "是"],
        ["需到现场出示原件", "是"],
        ["上传扫描件或照片", "否"],
    ]
    missing = client.get("/services/items/330100-fund-9999", headers=HTML)
    assert missing.status_code == 404 and "没有该政务服务事项" in missing.text


def test_the_guide_in_english(client: TestClient, services: ServicesWorld) -> None:
    client.get("/lang/en")
    page = client.get(f"/services/items/{MARRIAGE}", headers=HTML).text
    assert "Marriage registration" in page and "Show the original in person" in page
    assert "Applying at the counter: the item cannot be applied for online or by post" in page
    assert "Administrative confirmation" in page and "County level" in page


def test_a_certificate_sources_name_is_translated(
    client: TestClient, db: Session, services: ServicesWorld
) -> None:
    spec = marriage_spec(services.civil_id)
    spec = spec.model_copy(
        update={
            "materials": [
                MaterialSpec(
                    name="结婚证", source=SourceSpec(kind="certificate", ref="marriage-certificate")
                ),
                MaterialSpec(
                    name="不动产权证书",
                    source=SourceSpec(kind="onsite", held_by="certificate:real-estate-title"),
                ),
            ]
        }
    )
    catalogue.revise_item(db, actor=services.civil_reviewer, code=MARRIAGE, spec=spec)
    db.flush()
    page = client.get(f"/services/items/{MARRIAGE}", headers=HTML).text
    assert "经您同意，从电子证照卡包调取：结婚证" in page
    assert "不动产权证书已掌握此项信息，但尚未共享" in page


def test_who_may_open_the_trip_analysis(client: TestClient, services: ServicesWorld) -> None:
    response = client.get("/staff/services/trips", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login?next=%2Fstaff%2Fservices%2Ftrips"
    assert sign_in(client, CITIZEN_LOGIN, PASSWORD).status_code == 303
    refused = client.get("/staff/services/trips", headers=HTML)
    assert refused.status_code == 403 and "此页面仅供工作人员使用" in refused.text


def test_the_trip_analysis_shows_the_analysis(
    client: TestClient, db: Session, services: ServicesWorld
) -> None:
    assert sign_in(client, "xh-civil-reviewer", PASSWORD, portal=STAFF).status_code == 303
    page = client.get("/staff/services/trips", headers=HTML)
    assert page.status_code == 200
    assert '<a href="/staff/services/trips">跑动次数分析</a>' in page.text
    analysis = queries.trip_analysis(db)
    assert cells(page.text, "by-level") == [
        ["市级", "1", "0", "0", "1", "100.0%"],
        ["县级", "0", "1", "0", "1", "0.0%"],
    ]
    departments = cells(page.text, "by-department")
    assert [row[:7] for row in departments] == [
        ["杭州住房公积金管理中心", "市级", "1", "0", "0", "1", "100.0%"],
        ["杭州市西湖区民政局", "县级", "0", "1", "0", "1", "0.0%"],
    ]
    assert analysis.total.as_dict() == {"zero": 1, "one": 1, "more": 0, "total": 2}
    assert '<rect class="seg-zero" x="0.0" y="0" width="100.0" height="10">' in page.text
    assert '<rect class="seg-one" x="0.0" y="0" width="100.0" height="10">' in page.text
    assert cells(page.text, "forcing") == [
        ["居民户口簿", "datahub:330000-psb.household", "1", "0"],
        ["本人身份证", "—", "1", "0"],
    ]
    assert cells(page.text, "what-if") == [
        ["330000-psb.household · 浙江省公安厅 datahub:330000-psb.household", "1", "1", "0", "0"]
    ]
    assert 'href="/api/services/catalogue.csv"' in page.text


def test_the_services_problem_titles_are_listed_for_translation() -> None:
    titles = {c.title for c in Problem.registry.values() if c.__module__ == zerotrip.services.errors.__name__}
    assert titles == set(PROBLEM_TITLES)


LEVELS = {"省级": "province", "市级": "city", "县级": "county"}


def test_the_cli_reproduces_the_pages_figures_for_the_demo_catalogue_exported_as_csv(
    client: TestClient, db: Session, tmp_path: Path
) -> None:
    tree, _ = build_demo_catalogue(db)
    actions.add_staff_member(
        db,
        actor=SEED,
        org_id=tree.get("330000").id,
        login_name="zj-operator",
        display_name="运营",
        role="platform_admin",
        password_hash=PASSWORD_HASH,
    )
    sign_in_api(client, db, "zj-operator")
    exported = client.get("/api/services/catalogue.csv")
    assert exported.status_code == 200
    path = tmp_path / "demo-catalogue.csv"
    path.write_text(exported.text, encoding="utf-8")

    result = CliRunner().invoke(cli_app, ["services", "trips", str(path), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures == client.get("/api/services/trips").json()
    assert figures["items"] == len(demo.demo_items())

    page = client.get("/staff/services/trips", headers=HTML).text
    totals = re.findall(r"<dd>(\d+)</dd>", page.split('id="totals"', 1)[1].split("</dl>", 1)[0])
    total = figures["total"]
    assert [int(n) for n in totals] == [total["total"], total["zero"], total["one"], total["more"]]
    shown_levels = [
        {
            "level": LEVELS[row[0]],
            "zero": int(row[1]),
            "one": int(row[2]),
            "more": int(row[3]),
            "total": int(row[4]),
        }
        for row in cells(page, "by-level")
    ]
    assert shown_levels == figures["by_level"]
    shown_departments = [
        {
            "department": row[0],
            "level": LEVELS[row[1]],
            "zero": int(row[2]),
            "one": int(row[3]),
            "more": int(row[4]),
            "total": int(row[5]),
        }
        for row in cells(page, "by-department")
    ]
    assert shown_departments == figures["by_department"]
    shown_forcing = [
        {
            "name": row[0],
            "held_by": None if row[1] == "—" else row[1],
            "items": int(row[2]),
            "sole": int(row[3]),
        }
        for row in cells(page, "forcing")
    ]
    assert shown_forcing == figures["forcing_materials"][: len(shown_forcing)]
    assert len(shown_forcing) == min(20, len(figures["forcing_materials"]))
    shown_what_if = [
        {
            "holder": row[0].rsplit(" ", 1)[1],
            "materials": int(row[1]),
            "items": int(row[2]),
            "fewer_trips": int(row[3]),
            "to_zero": int(row[4]),
        }
        for row in cells(page, "what-if")
    ]
    assert shown_what_if == figures["what_if"]

    tables = CliRunner().invoke(cli_app, ["services", "trips", str(path)], env={"COLUMNS": "200"})
    assert f"{total['total']} items; {total['zero']} need no trip, {total['one']} one" in tables.output
