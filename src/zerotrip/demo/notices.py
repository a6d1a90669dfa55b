"""The demo's staff notices: what the publisher ``zj-notice`` has sent when the demo starts, so the
recipient's inbox (``hz-xh-em-duty``, 西湖区应急管理局) is not empty: an emergency typhoon notice to the
whole of 杭州市 that asks for an acknowledgement and a report-back (报送) of the evacuation figures, and a
normal notice to the whole province. Published through the messaging action, as the publisher would."""

from __future__ import annotations

from sqlalchemy.orm import Session

from zerotrip.config import NoticesSettings
from zerotrip.demo.orgs import OrgTree
from zerotrip.demo.people import DEMO_COUNTY
from zerotrip.identity.auth import find_staff_actor
from zerotrip.messaging import notices
from zerotrip.messaging.schemas_notices import FormFieldSpec, LinkSpec, NoticeCreate, TargetSpec

PUBLISHER = "zj-notice"

_TYPHOON_BODY = """\
杭州市各区、县（市）人民政府，市级有关单位：

据气象部门预报，今年第9号台风“利奇马”将于明日夜间至后日凌晨在我省沿海登陆，登陆时中心附近最大风力\
可达16级，杭州市大部将出现大暴雨、局部特大暴雨。为切实做好台风防御工作，确保人民群众生命财产安全，\
现将有关事项紧急通知如下：

一、立即启动防台风Ⅰ级应急响应，各级领导干部到岗到位，24小时值班值守。
二、全面排查山洪、地质灾害隐患点和危旧房屋，按照“应转尽转、应撤尽撤”要求，于明日18时前完成危险区域人员转移。
三、开放全部避灾安置场所，落实生活物资保障。
四、各单位收到本通知后立即在系统中确认收到，并于明日20时前报送转移人数、开放避灾安置场所数和在岗值守人数。
"""

_REVIEW_BODY = """\
全省各级政务服务单位：

为进一步提升政务服务“好差评”数据质量，省政务服务管理部门将于下月开展年度数据核查。请各单位对照评价\
明细核对本单位的差评整改情况，整改材料在政务服务平台“好差评”模块上传，无需另行报送纸质材料。
"""


def seed_notices(db: Session, *, tree: OrgTree, settings: NoticesSettings) -> int:
    """Publish the demo's notices as ``zj-notice`` (whose login the seed created before); returns how
    many. Adds and flushes; the caller commits."""
    publisher = find_staff_actor(db, PUBLISHER)
    assert publisher is not None, "the demo logins are seeded before the notices"
    city = tree.get(DEMO_COUNTY[:4] + "00")  # 杭州市, around the demo's county 西湖区
    specs = [
        NoticeCreate(
            title="关于做好全省政务服务“好差评”年度数据核查工作的通知",
            body=_REVIEW_BODY,
            targets=[TargetSpec()],  # the publisher's own unit: the whole province
            publish=True,
        ),
        NoticeCreate(
            title="关于切实做好第9号台风“利奇马”防御工作的紧急通知",
            body=_TYPHOON_BODY,
            priority="emergency",
            requires_ack=True,
            targets=[TargetSpec(org_id=city.id)],
            links=[LinkSpec(title="台风路径实时发布", url="https://typhoon.example.gov.cn/lekima")],
            form=[
                FormFieldSpec(key="evacuated", label="转移人数", unit="人"),
                FormFieldSpec(key="shelters_open", label="开放避灾安置场所", unit="个"),
                FormFieldSpec(key="on_duty", label="在岗值守人员", unit="人"),
            ],
            publish=True,
        ),
    ]
    for spec in specs:
        notices.create_notice(db, actor=publisher, spec=spec, settings=settings)
    return len(specs)
