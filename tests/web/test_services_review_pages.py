"""The staff's application pages and the applicant's workflow on their status page: the office's queue
with its filters, the application with its evidence and the reviewer's forms, a supplement request listing
everything at once and answered on the applicant's page, the decision, the rating and its answer, the
ratings per department; problems shown on the page; staff of another county and other citizens see
nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.common.clock import CHINA
from zerotrip.config import Settings
from zerotrip.keys import KeyStore

from ..services.workflow_world import PDF, WorkflowWorld, build_workflow_world, submitted_application
from ..services.world import sign_in_api
from .conftest import HTML

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=CHINA).astimezone(UTC)
SUBMITTED = "已提交"


@pytest.fixture
def workflow_world(db: Session, settings: Settings) -> WorkflowWorld:
    return build_workflow_world(db, settings)


def cells(html: str, table_id: str) -> list[list[str]]:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
        for r in rows
    ]


def post(client: TestClient, url: str, token: str, **data: object) -> str:
    """Post a form; it redirects back to the page, which is returned."""
    response = client.post(url, data={"csrf_token": token, **data}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client.get(response.headers["location"], headers=HTML).text


def test_a_reviewer_works_an_application_through_and_the_applicant_answers_on_their_page(
    client: TestClient, db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    with clock.frozen(MONDAY):
        number = submitted_application(db, w, w.xihu_resident, keys).number
    token = sign_in_api(client, db, "hz-xh-civil-reviewer")["X-CSRF-Token"]
    home = client.get("/staff", headers=HTML, follow_redirects=True).text
    assert 'href="/staff/services/applications"' in home
    queue = client.get("/staff/services/applications", headers=HTML).text
    (row,) = cells(queue, "queue")
    assert row[:6] == [number, "临时救助申请", "林晓雯", "西湖区民政局", SUBMITTED, "受理"]
    assert row[6].startswith("2026-03-09")  # five working days from Monday 2 March
    base = f"/staff/services/applications/{number}"
    page = client.get(base, headers=HTML).text
    assert 'id="accept-form"' in page and 'id="approve-form"' not in page
    assert f'href="/api/services/applications/{number}/materials/0/file"' in page
    assert [r[0] for r in cells(page, "evidence")] == ["家庭收入情况说明", "困难情况证明"]
    page = post(client, f"{base}/accept", token, note="材料齐全")
    assert 'id="review-form"' in page and "“初审”意见" in page
    # Nothing to list: shown on the page, nothing sent.
    empty = client.post(
        f"{base}/supplement",
        data={
            "csrf_token": token,
            "material_position": ["0", "1"],
            "material_detail": ["", ""],
            "others": " ",
        },
    )
    assert empty.status_code == 422 and "补正告知内容不完整，无法发送" in empty.text
    page = post(
        client,
        f"{base}/supplement",
        token,
        material_position=["0", "1"],
        material_detail=["", "未加盖公章"],
        others="说明家庭成员就业情况\n提供近三个月银行流水",
        note="请一并补正",
    )
    assert "第 1 次补正告知" in page and "未加盖公章" in page and "提供近三个月银行流水" in page
    assert 'id="review-form"' not in page  # waiting for the applicant

    token = sign_in_api(client, db, w.xihu_resident.login_name, portal="citizen")["X-CSRF-Token"]
    mine = f"/me/applications/{number}"
    status = client.get(mine, headers=HTML).text
    assert "需要您补正材料" in status and "暂停计时：等待申请人补正" in status
    assert status.count('id="answer-') == 3
    early = client.post(f"{mine}/resubmit", data={"csrf_token": token})
    assert early.status_code == 422 and "尚未补正：说明家庭成员就业情况" in early.text
    uploaded = client.post(
        f"{mine}/supplement/0/file",
        data={"csrf_token": token},
        files={"file": ("盖章.pdf", PDF + b"%1\n", "application/pdf")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303
    post(client, f"{mine}/supplement/1/answer", token, text="二人均无固定工作")
    post(client, f"{mine}/supplement/2/answer", token, text="已上传银行流水于困难证明中")
    status = post(client, f"{mine}/resubmit", token)
    assert "需要您补正材料" not in status and "补正后重新提交" in status

    token = sign_in_api(client, db, "hz-xh-civil-reviewer")["X-CSRF-Token"]
    post(client, f"{base}/review", token, note="符合救助条件")
    page = post(client, f"{base}/review", token, note="入户核查属实")
    assert 'id="approve-form"' in page
    page = post(client, f"{base}/approve", token, decision_text="")
    assert "准予办理“临时救助申请”" in page and 'id="approve-form"' not in page
    assert [r[1] for r in cells(page, "timeline")][-3:] == ["审查中", "审查环节完成", "准予办理"]

    token = sign_in_api(client, db, w.xihu_resident.login_name, portal="citizen")["X-CSRF-Token"]
    status = client.get(mine, headers=HTML).text
    assert 'id="rating-form"' in status and 'id="letter"' in status
    status = post(
        client, f"{mine}/rating", token, score="1", tags=["slow", "too_many_materials"], comment="补正太多"
    )
    assert "差评" in status and "超时办理" in status and 'id="rating-form"' not in status

    token = sign_in_api(client, db, "hz-xh-civil-reviewer")["X-CSRF-Token"]
    page = post(client, f"{base}/rectify", token, answer="已精简材料清单")
    assert "已精简材料清单" in page and 'id="rectify-form"' not in page
    ratings = client.get("/staff/services/ratings", headers=HTML).text
    assert cells(ratings, "ratings") == [["西湖区民政局", "1", "1.00", "1", "1", "100%"]]


def test_the_queue_filters_and_another_countys_staff_see_nothing(
    client: TestClient, db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    with clock.frozen(MONDAY):
        late = submitted_application(db, w, w.xihu_resident, keys).number
    fresh = submitted_application(db, w, w.xihu_resident, keys).number
    theirs = submitted_application(db, w, w.yuhang_resident, keys).number
    sign_in_api(client, db, "hz-xh-civil-reviewer")
    queue = client.get("/staff/services/applications", headers=HTML).text
    assert [r[0] for r in cells(queue, "queue")] == [late, fresh]
    overdue = client.get("/staff/services/applications?overdue=1", headers=HTML).text
    assert [r[0] for r in cells(overdue, "queue")] == [late]
    accepted = client.get("/staff/services/applications?status=accepted", headers=HTML).text
    assert 'id="queue-empty"' in accepted
    bad = client.get("/staff/services/applications?status=draft", headers=HTML)
    assert bad.status_code == 422

    token = sign_in_api(client, db, "hz-yh-civil-reviewer")["X-CSRF-Token"]
    queue = client.get("/staff/services/applications", headers=HTML).text
    assert [r[0] for r in cells(queue, "queue")] == [theirs]
    assert client.get(f"/staff/services/applications/{late}", headers=HTML).status_code == 404
    refused = client.post(f"/staff/services/applications/{late}/accept", data={"csrf_token": token})
    assert refused.status_code == 404

    sign_in_api(client, db, "hz-xh-admin")
    page = client.get(f"/staff/services/applications/{late}", headers=HTML).text
    assert 'id="read-only"' in page and 'id="accept-form"' not in page

    sign_in_api(client, db, w.yuhang_resident.login_name, portal="citizen")
    assert client.get(f"/me/applications/{late}", headers=HTML).status_code == 404
    assert client.get("/staff/services/applications", headers=HTML).status_code == 403
