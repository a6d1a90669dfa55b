"""The steward's catalogue and load pages through the app: who may open which data page, the catalogue, a
resource, loading a file and reading its rejections; and the words and templates all data pages share."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

import zerotrip.datahub.errors
from zerotrip.problems import Problem
from zerotrip.web.datahub_text import PROBLEM_TITLES, phrase
from zerotrip.web.render import TEMPLATE_DIR

from .conftest import HTML, csrf_token, sign_in
from .datahub_client import cells, staff, upload
from .datahub_world import (
    CITIZEN_LOGIN,
    CSV_HEADER,
    INSURANCE,
    LAND,
    OTHER_STEWARD_LOGIN,
    STEWARD_LOGIN,
    DataWorld,
    bad_csv,
    grant_and_read,
)

STEWARD_PAGES = (
    "/staff/datahub",
    f"/staff/datahub/resources/{INSURANCE}",
    f"/staff/datahub/resources/{INSURANCE}/load",
    "/staff/datahub/requests",
    "/staff/datahub/objections",
    "/staff/datahub/oversight",
)


# -- who may open what ----------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_the_staff_login(client: TestClient, world: DataWorld) -> None:
    response = client.get("/staff/datahub/requests?status=all", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login?next=%2Fstaff%2Fdatahub%2Frequests%3Fstatus%3Dall"
    response = client.get("/me/data-uses", headers=HTML, follow_redirects=False)
    assert response.headers["location"] == "/login?next=%2Fme%2Fdata-uses"


def test_a_citizen_cannot_open_the_steward_pages(client: TestClient, world: DataWorld) -> None:
    assert sign_in(client, CITIZEN_LOGIN).status_code == 303
    for path in STEWARD_PAGES:
        page = client.get(path, headers=HTML)
        assert page.status_code == 403, path
        assert "此页面仅供工作人员使用" in page.text, path


def test_staff_cannot_open_the_citizen_pages(client: TestClient, world: DataWorld) -> None:
    staff(client, STEWARD_LOGIN)
    for path in ("/me/data-uses", "/me/objections", f"/me/objections/new?resource={INSURANCE}"):
        page = client.get(path, headers=HTML)
        assert page.status_code == 403 and "此页面仅供个人用户使用" in page.text, path


def test_a_steward_of_another_department_cannot_load_or_see_loads(
    client: TestClient, world: DataWorld
) -> None:
    staff(client, STEWARD_LOGIN)
    batch_url = upload(client, bad_csv(world)).headers["location"]
    client.cookies.clear()
    staff(client, OTHER_STEWARD_LOGIN)
    page = client.get(f"/staff/datahub/resources/{INSURANCE}/load", headers=HTML)
    assert page.status_code == 403
    assert "需要具有该资源所属部门的数据管理员角色" in page.text
    assert client.get(batch_url, headers=HTML).status_code == 403
    # The description is the catalogue's, which any staff member may read; the loads are not.
    detail = client.get(f"/staff/datahub/resources/{INSURANCE}", headers=HTML)
    assert detail.status_code == 200 and "社会保险参保信息" in detail.text
    assert f"/resources/{INSURANCE}/load" not in detail.text and 'id="quality-title"' not in detail.text
    assert "仅向资源所属部门的数据管理员显示" in detail.text


def test_only_the_platform_operator_sees_the_oversight(client: TestClient, world: DataWorld) -> None:
    staff(client, STEWARD_LOGIN)
    page = client.get("/staff/datahub/oversight", headers=HTML)
    assert page.status_code == 403 and "共享监管仅供平台主管部门使用" in page.text
    assert "/staff/datahub/oversight" not in client.get("/staff/datahub", headers=HTML).text


# -- the catalogue and a resource ------------------------------------------------------------------


def test_the_steward_sees_their_resources_and_searches_the_catalogue(
    client: TestClient, world: DataWorld
) -> None:
    staff(client, STEWARD_LOGIN)
    home = client.get("/staff", headers=HTML).text
    assert 'href="/staff/datahub/requests"' in home and "数据工作" in home
    page = client.get("/staff/datahub", headers=HTML).text
    assert "本部门的数据资源" in page and "社会保险参保信息" in page and "各区县新增就业人数" in page
    assert "土地出让地块" not in page, "another department's resource is not the steward's"
    assert "L2 敏感" in page and "有条件共享" in page and "禁止开放" in page
    found = client.get("/staff/datahub?q=土地", headers=HTML).text
    assert "土地出让地块" in found and "社会保险参保信息" not in found


def test_a_resource_shows_fields_grades_versions_and_quality(client: TestClient, world: DataWorld) -> None:
    staff(client, STEWARD_LOGIN)
    page = client.get(f"/staff/datahub/resources/{INSURANCE}", headers=HTML).text
    assert "公民身份号码" in page and "主键" in page and "缴费基数" in page
    assert "第 1 版" in page and "编目" in page
    assert "数据质量" in page and "近期归集" in page and "接口推送" in page
    assert f'href="/staff/datahub/resources/{INSURANCE}/load"' in page
    assert client.get("/staff/datahub/resources/no.such.thing", headers=HTML).status_code == 404


# -- loading a file --------------------------------------------------------------------------------


def test_a_csv_with_bad_rows_shows_each_reason(client: TestClient, world: DataWorld) -> None:
    staff(client, STEWARD_LOGIN)
    response = upload(client, bad_csv(world))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/datahub/batches/")
    page = client.get(response.headers["location"], headers=HTML)
    assert page.status_code == 200
    counts = dict(re.findall(r"<dt>(.*?)</dt><dd>(\d+)</dd>", page.text))
    assert counts == {"读取行数": "7", "接收": "4", "拒绝": "3", "无变化": "1"}
    for header in ("行号", "字段", "规则", "原因", "值"):
        assert f">{header}</th>" in page.text
    rows = cells(page.text, "rejections")
    assert [row[0] for row in rows] == ["4", "5", "6"]
    assert rows[0][1:4] == ["公民身份号码", "校验位", "不是有效的公民身份号码：校验码错误"]
    assert rows[1][1:4] == ["参保状态", "取值范围", "取值须为以下之一：正常参保, 暂停缴费, 终止参保"]
    assert rows[1][4] == "已退休"
    assert rows[2][1:4] == ["姓名", "必填", "不能为空"]


def test_a_file_with_the_wrong_columns_is_refused_whole(client: TestClient, world: DataWorld) -> None:
    staff(client, STEWARD_LOGIN)
    text = (
        CSV_HEADER.replace("status", "state") + f"\n{world.others[0]},王小明,2018-03-01,1,正常参保,330106\n"
    )
    page = upload(client, text)
    assert page.status_code == 422
    assert "无法按 CSV、JSON 或 XLSX 读取该文件" in page.text
    assert "无法识别的列：state" in page.text and "缺少的列：status (参保状态)" in page.text
    assert 'role="alert"' in page.text and 'aria-invalid="true"' in page.text


def test_a_load_without_a_file_or_a_known_format_says_so(client: TestClient, world: DataWorld) -> None:
    staff(client, STEWARD_LOGIN)
    form = client.get(f"/staff/datahub/resources/{INSURANCE}/load", headers=HTML)
    empty = client.post(
        f"/staff/datahub/resources/{INSURANCE}/load",
        data={"csrf_token": csrf_token(form.text)},
        files={"file": ("", b"", "application/octet-stream")},
        headers=HTML,
    )
    assert empty.status_code == 422 and "请选择要归集的 CSV、JSON 或 XLSX 文件" in empty.text
    odd = upload(client, "a,b\n", name="insured.txt")
    assert odd.status_code == 422 and "文件扩展名不是" in odd.text


def test_loading_needs_the_forms_csrf_token(client: TestClient, world: DataWorld) -> None:
    staff(client, STEWARD_LOGIN)
    response = client.post(
        f"/staff/datahub/resources/{INSURANCE}/load",
        files={"file": ("insured.csv", bad_csv(world).encode(), "text/csv")},
        headers=HTML,
    )
    assert response.status_code == 403 and "表单已失效" in response.text


def test_the_rejections_are_paged(client: TestClient, world: DataWorld) -> None:
    staff(client, STEWARD_LOGIN)
    lines = [CSV_HEADER] + [f"{world.others[0]},,2018-03-01,1,正常参保,330106" for _ in range(60)]
    location = upload(client, "\n".join(lines)).headers["location"]
    first = client.get(location, headers=HTML).text
    assert len(cells(first, "rejections")) == 50 and "第 1 页，共 2 页" in first
    second = client.get(f"{location}?page=2", headers=HTML).text
    assert [row[0] for row in cells(second, "rejections")] == [str(n) for n in range(52, 62)]
    assert client.get("/staff/datahub/batches/not-a-load", headers=HTML).status_code == 404


# -- words, templates ------------------------------------------------------------------------------


def test_every_datahub_problem_title_is_translated() -> None:
    titles = {
        cls.title for cls in Problem.registry.values() if cls.__module__ == zerotrip.datahub.errors.__name__
    }
    assert titles <= set(PROBLEM_TITLES), sorted(titles - set(PROBLEM_TITLES))


def test_datahub_phrases_become_messages_with_values() -> None:
    assert phrase("must be one of: 住宅, 商业").values == {"choices": "住宅, 商业"}
    assert phrase("the same key is already on row 12").msgid == "the same key is already on row %(row)s"
    assert phrase("a phrase nobody wrote yet").msgid == "a phrase nobody wrote yet"


def test_the_data_templates_have_no_inline_scripts_styles_or_handlers() -> None:
    templates = [*Path(TEMPLATE_DIR).glob("datahub/*.html"), *Path(TEMPLATE_DIR).glob("open/*.html")]
    assert len(templates) >= 12
    for template in templates:
        text = template.read_text(encoding="utf-8")
        assert "<script" not in text and "<style" not in text, template.name
        assert not re.search(r"\sstyle=", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name


def test_the_pages_work_in_english(client: TestClient, db: Session, world: DataWorld) -> None:
    grant_and_read(db, world)
    client.get("/lang/en")
    staff(client, STEWARD_LOGIN)
    batch = client.get(upload(client, bad_csv(world)).headers["location"], headers=HTML).text
    assert '<html lang="en">' in batch and "Rejected rows" in batch
    assert "not a valid resident ID number: check character is wrong" in batch
    for path in (
        "/staff/datahub",
        f"/staff/datahub/resources/{INSURANCE}",
        "/staff/datahub/requests?status=all",
    ):
        page = client.get(path, headers=HTML)
        assert page.status_code == 200 and "Social insurance enrolment" in page.text, path
    assert LAND not in client.get("/staff/datahub", headers=HTML).text
