"""The steward's share requests and objections, the operator's oversight, and the citizen's data-use log
and objections, through the app."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.datahub import sharing_queries

from .conftest import HTML, csrf_token, sign_in
from .datahub_client import cells, staff
from .datahub_world import (
    CITIZEN_LOGIN,
    CONSUMER_NAME,
    INSURANCE,
    JOBS,
    OPERATOR_LOGIN,
    OTHER_STEWARD_LOGIN,
    PURPOSE,
    STEWARD_LOGIN,
    DataWorld,
    grant_and_read,
    request_insurance,
)

# -- share requests --------------------------------------------------------------------------------


def test_the_steward_approves_a_request(client: TestClient, db: Session, world: DataWorld) -> None:
    number = request_insurance(db, world)
    staff(client, STEWARD_LOGIN)
    page = client.get("/staff/datahub/requests", headers=HTML)
    assert number in page.text and "待审批" in page.text and world.consumer_client_id in page.text
    assert "浙江省数据局" in page.text and PURPOSE in page.text and "参保日期" in page.text
    response = client.post(
        f"/staff/datahub/requests/{number}/approve",
        data={"csrf_token": csrf_token(page.text)},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    done = client.get(response.headers["location"], headers=HTML).text
    assert f"共享申请 {number} 已同意" in done
    assert sharing_queries.find_share_request(db, number).status == "approved"  # type: ignore[union-attr]
    again = client.post(
        f"/staff/datahub/requests/{number}/approve", data={"csrf_token": csrf_token(done)}, headers=HTML
    )
    assert again.status_code == 409 and "该共享申请已经审批" in again.text and "该申请已同意" in again.text


def test_a_refusal_needs_a_reason(client: TestClient, db: Session, world: DataWorld) -> None:
    number = request_insurance(db, world)
    staff(client, STEWARD_LOGIN)
    token = csrf_token(client.get("/staff/datahub/requests", headers=HTML).text)
    bare = client.post(
        f"/staff/datahub/requests/{number}/refuse", data={"csrf_token": token, "reason": " "}, headers=HTML
    )
    assert bare.status_code == 422
    assert "拒绝时须说明理由" in bare.text and f"共享申请 {number}" in bare.text
    refused = client.post(
        f"/staff/datahub/requests/{number}/refuse",
        data={"csrf_token": token, "reason": "用途与公积金提取无关"},
        headers=HTML,
    )
    assert refused.status_code == 200 and f"共享申请 {number} 已拒绝" in refused.text
    listed = client.get("/staff/datahub/requests?status=refused", headers=HTML).text
    assert "用途与公积金提取无关" in listed


def test_another_departments_steward_cannot_decide(client: TestClient, db: Session, world: DataWorld) -> None:
    number = request_insurance(db, world)
    staff(client, OTHER_STEWARD_LOGIN)
    page = client.get("/staff/datahub/requests", headers=HTML).text
    assert number not in page
    response = client.post(
        f"/staff/datahub/requests/{number}/approve", data={"csrf_token": csrf_token(page)}, headers=HTML
    )
    assert response.status_code == 403


def test_overdue_requests_are_flagged_for_the_steward_and_the_operator(
    client: TestClient, db: Session, world: DataWorld
) -> None:
    with clock.frozen(datetime(2024, 3, 1, 2, 0, tzinfo=UTC)):
        number = request_insurance(db, world, purpose="人才引进资格审核")
    grant_and_read(db, world)
    staff(client, STEWARD_LOGIN)
    page = client.get("/staff/datahub/requests", headers=HTML).text
    card = page.split(f'id="request-{number}"', 1)[1].split("</li>", 1)[0]
    assert "已逾期" in card
    client.cookies.clear()
    staff(client, OPERATOR_LOGIN)
    oversight = client.get("/staff/datahub/oversight", headers=HTML)
    assert oversight.status_code == 200
    late = cells(oversight.text, "overdue")
    assert len(late) == 1 and number in late[0][0] and "杭州市人力资源和社会保障局" in late[0][1]
    assert "人才引进资格审核" in late[0][3]
    assert cells(oversight.text, "by-resource")[0][-1].endswith("1")
    assert "社会保险参保信息" in cells(oversight.text, "by-resource")[0][0]
    assert CONSUMER_NAME in cells(oversight.text, "by-consumer")[0][0]
    assert '<svg class="bar"' in oversight.text and 'aria-hidden="true"' in oversight.text


# -- the citizen: data uses and objections ---------------------------------------------------------


def test_the_data_use_log_shows_a_gateway_read(client: TestClient, db: Session, world: DataWorld) -> None:
    grant_and_read(db, world)
    assert sign_in(client, CITIZEN_LOGIN).status_code == 303
    assert 'href="/me/data-uses"' in client.get("/me", headers=HTML).text
    page = client.get("/me/data-uses", headers=HTML)
    assert page.status_code == 200
    assert "数据使用记录" in page.text and CONSUMER_NAME in page.text and "浙江省数据局" in page.text
    assert "社会保险参保信息" in page.text and PURPOSE in page.text and "申请 HF2024000123" in page.text
    for title in ("姓名", "参保日期", "参保状态"):
        assert f"<li>{title}</li>" in page.text
    assert f'href="/me/objections/new?resource={INSURANCE}"' in page.text


def test_a_citizen_objects_and_the_steward_corrects(
    client: TestClient, db: Session, world: DataWorld
) -> None:
    grant_and_read(db, world)
    assert sign_in(client, CITIZEN_LOGIN).status_code == 303
    form = client.get(f"/me/objections/new?resource={INSURANCE}&field=insured_since", headers=HTML)
    assert form.status_code == 200 and '<option value="insured_since" selected>' in form.text
    values = {"csrf_token": csrf_token(form.text), "resource": INSURANCE, "field": "insured_since"}
    empty = client.post("/me/objections", data={**values, "claim": ""}, headers=HTML)
    assert empty.status_code == 422 and "请说明哪里有误" in empty.text
    sent = client.post(
        "/me/objections",
        data={
            **values,
            "claim": "我 2014 年就开始参保了",
            "proposed_value": "2014-07-01",
            "evidence": "社保卡",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert sent.status_code == 303
    mine = client.get(sent.headers["location"], headers=HTML).text
    number = re.search(r"您的异议 (OB\S+) 已提交", mine)
    assert number and "核查中" in mine and "我 2014 年就开始参保了" in mine

    client.cookies.clear()
    staff(client, STEWARD_LOGIN)
    page = client.get("/staff/datahub/objections", headers=HTML).text
    assert number.group(1) in page and "社保卡" in page and "参保日期" in page
    answered = client.post(
        f"/staff/datahub/objections/{number.group(1)}/corrected",
        data={"csrf_token": csrf_token(page), "corrected_value": "2014-07-01", "answer": "已核实参保记录"},
        headers=HTML,
    )
    assert answered.status_code == 200
    assert f"异议 {number.group(1)} 已答复，数据已更正" in answered.text
    assert "调用过错误数据、需要通知的使用方：1 个" in answered.text
    assert "已更正" in client.get("/staff/datahub/objections?status=corrected", headers=HTML).text


def test_an_objection_to_someone_elses_record_is_refused_on_the_form(
    client: TestClient, world: DataWorld
) -> None:
    assert sign_in(client, CITIZEN_LOGIN).status_code == 303
    form = client.get(f"/me/objections/new?resource={JOBS}", headers=HTML)
    assert 'name="key_month"' in form.text and 'name="key_district"' in form.text
    response = client.post(
        "/me/objections",
        data={
            "csrf_token": csrf_token(form.text),
            "resource": JOBS,
            "key_district": "330106",
            "key_month": "2024-01",
            "field": "new_jobs",
            "claim": "数字不对",
        },
        headers=HTML,
    )
    assert response.status_code == 403 and "您只能对本人的记录提出异议" in response.text
    assert 'value="2024-01"' in response.text and "数字不对" in response.text
