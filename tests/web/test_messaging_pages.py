"""The staff notices pages: compose and publish, the inbox, a notice read on opening and acknowledged,
report-back, the roll-up, approvals and the directory; who may open what, and readable refusals."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ..messaging.notices_world import NoticesWorld, build_notices_world
from .conftest import HTML, csrf_token, sign_in


@pytest.fixture
def notices_world(db: Session) -> NoticesWorld:
    return build_notices_world(db)


def as_staff(client: TestClient, login: str) -> None:
    client.cookies.clear()
    response = sign_in(client, login, portal="/staff/login")
    assert response.status_code == 303, response.text


def compose(client: TestClient, **fields: object) -> object:
    form = client.get("/staff/notices/new", headers=HTML)
    assert form.status_code == 200
    data = {
        "csrf_token": csrf_token(form.text),
        "title": "关于做好防汛工作的通知",
        "body": "请各单位加强值班值守。\n及时报送转移人数。",
        "priority": "normal",
        "action": "publish",
        **fields,
    }
    return client.post("/staff/notices/new", data=data, headers=HTML, follow_redirects=False)


def test_a_notice_is_published_read_on_opening_acknowledged_and_reported_back(
    client: TestClient, notices_world: NoticesWorld
) -> None:
    w = notices_world
    as_staff(client, "hz-pub")
    page = client.get("/staff/notices/new", headers=HTML)
    assert "杭州市西湖区应急管理局" in page.text and "宁波市海曙区应急管理局" not in page.text
    sent = compose(
        client,
        priority="urgent",
        requires_ack="yes",
        units=[str(w.orgs["330106-emergency"])],
        form="转移人数 | 人",
        links="台风路径 | https://typhoon.example.gov.cn/",
    )
    assert sent.status_code == 303  # type: ignore[attr-defined]
    url = sent.headers["location"]  # type: ignore[attr-defined]
    notice_id = int(url.rsplit("/", 1)[1])
    assert f'href="/staff/notices/{notice_id}"' in client.get("/staff/notices/sent", headers=HTML).text

    as_staff(client, "xh-em-2")
    assert "1 条未读" in client.get("/staff", headers=HTML).text
    inbox = client.get("/staff/notices", headers=HTML).text
    assert "关于做好防汛工作的通知" in inbox and 'id="unread-count">1<' in inbox and ">急<" in inbox
    assert 'data-stream="/staff/notices/stream?since=' in inbox
    opened = client.get(url, headers=HTML)
    assert opened.status_code == 200 and "请各单位加强值班值守。" in opened.text
    assert 'href="https://typhoon.example.gov.cn/"' in opened.text
    assert 'id="read-at">2' in opened.text, "opening the notice marks it read"
    assert 'id="unread-count">0<' in client.get("/staff/notices", headers=HTML).text
    token = csrf_token(opened.text)
    assert client.post(f"{url}/ack", data={"csrf_token": "forged"}, headers=HTML).status_code == 403
    acked = client.post(f"{url}/ack", data={"csrf_token": token}, headers=HTML, follow_redirects=False)
    assert acked.status_code == 303 and acked.headers["location"] == url
    after = client.get(url, headers=HTML).text
    assert 'id="acked-at">2' in after and f'action="/staff/notices/{notice_id}/ack"' not in after
    bad = client.post(
        f"{url}/report",
        data={"csrf_token": token, "org_id": str(w.orgs["330106-emergency"]), "v_q1": "十二"},
        headers=HTML,
    )
    assert bad.status_code == 422 and "请填写数字" in bad.text
    reported = client.post(
        f"{url}/report",
        data={"csrf_token": token, "org_id": str(w.orgs["330106-emergency"]), "v_q1": "120"},
        headers=HTML,
        follow_redirects=False,
    )
    assert reported.status_code == 303 and reported.headers["location"] == f"{url}#report"

    # A staff member the notice did not reach cannot open it, nor its roll-up.
    as_staff(client, "hs-em-1")
    assert client.get(url, headers=HTML).status_code == 404
    assert client.get(f"{url}/rollup", headers=HTML).status_code == 404
    assert "关于做好防汛工作的通知" not in client.get("/staff/notices", headers=HTML).text

    # The publisher's roll-up: 4 reached in 西湖区应急管理局, 1 read and acknowledged, 120 evacuated.
    as_staff(client, "hz-pub")
    rollup = client.get(f"{url}/rollup", headers=HTML)
    assert rollup.status_code == 200
    total = re.search(r'class="total">.*?</tr>', rollup.text, re.S)
    assert total is not None
    cells = re.findall(r"<td class=\"[a-z-]+\">([^<]+)</td>", total.group(0))
    assert cells == ["4", "1", "25.0%", "1", "25.0%"]
    assert "尚未阅读（3 人）" in rollup.text and "冯审核" in rollup.text and "陈值班" not in rollup.text
    assert re.search(r"<td>120</td><td>1 / 1</td>", rollup.text)
    county = client.get(f"{url}/rollup?unit={w.orgs['330106']}", headers=HTML)
    assert county.status_code == 200 and "杭州市" in county.text  # the way back up


def test_a_publisher_cannot_reach_outside_their_subtree_and_the_form_says_why(
    client: TestClient, notices_world: NoticesWorld
) -> None:
    w = notices_world
    as_staff(client, "xh-em-pub")
    outside = compose(client, units=[str(w.orgs["330203-emergency"])], title="越级通知")
    assert outside.status_code == 403  # type: ignore[attr-defined]
    text = outside.text  # type: ignore[attr-defined]
    assert "发送对象超出了您发布通知的单位范围" in text
    assert "宁波市海曙区应急管理局 不在 杭州市西湖区应急管理局 之下。" in text
    assert 'value="越级通知"' in text, "what was typed is kept"
    none = compose(client, title="无对象")
    assert none.status_code == 422 and "请至少选择一个单位或一个行政区划。" in none.text  # type: ignore[attr-defined]
    region = compose(client, division_code="330203")
    assert region.status_code == 403 and "行政区划 330203 不在" in region.text  # type: ignore[attr-defined]
    # Someone without the publisher role gets no form at all.
    as_staff(client, "xh-em-2")
    assert client.get("/staff/notices/new", headers=HTML).status_code == 403


def test_a_province_wide_emergency_waits_for_a_second_publisher(
    client: TestClient, notices_world: NoticesWorld
) -> None:
    w = notices_world
    as_staff(client, "zj-pub")
    sent = compose(client, priority="emergency", units=[str(w.orgs["330000"])], title="全省紧急通知")
    url = sent.headers["location"]  # type: ignore[attr-defined]
    page = client.get(url, headers=HTML).text
    assert "待审批" in page and "/approve" not in page, "the publisher does not approve their own"
    as_staff(client, "zj-pub2")
    approvals = client.get("/staff/notices/approvals", headers=HTML).text
    assert f'href="{url}"' in approvals
    page = client.get(url, headers=HTML).text
    approved = client.post(
        f"{url}/approve", data={"csrf_token": csrf_token(page)}, headers=HTML, follow_redirects=False
    )
    assert approved.status_code == 303
    assert f'href="{url}"' not in client.get("/staff/notices/approvals", headers=HTML).text
    as_staff(client, "hs-em-1")
    assert "全省紧急通知" in client.get("/staff/notices", headers=HTML).text


def test_the_directory_shows_only_what_the_searcher_may_see(
    client: TestClient, notices_world: NoticesWorld
) -> None:
    as_staff(client, "xh-em-pub")
    found = client.get("/staff/directory", params={"q": "审核"}, headers=HTML).text
    assert "冯审核" in found and "沈审核" not in found and "卫审核" not in found
    reviewers = client.get("/staff/directory", params={"role": "data_steward"}, headers=HTML).text
    assert "褚数据" in reviewers and "冯审核" not in reviewers
    client.cookies.clear()
    assert client.get("/staff/directory", headers=HTML, follow_redirects=False).status_code == 303
