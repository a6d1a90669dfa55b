"""GB/T 2260 administrative divisions of Zhejiang province (浙江省, 330000).

The province, its 11 prefecture-level cities and their 90 county-level divisions (37 districts, 20
county-level cities, 33 counties) with their real codes, as in force since the 2021 adjustments
(Hangzhou's 临平区 and 钱塘区; Wenzhou's 龙港市).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["province", "city", "county"]


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: Level
    parent_code: str | None


ZHEJIANG: tuple[Division, ...] = (
    Division("330000", "浙江省", "province", None),
    Division("330100", "杭州市", "city", "330000"),
    Division("330102", "上城区", "county", "330100"),
    Division("330105", "拱墅区", "county", "330100"),
    Division("330106", "西湖区", "county", "330100"),
    Division("330108", "滨江区", "county", "330100"),
    Division("330109", "萧山区", "county", "330100"),
    Division("330110", "余杭区", "county", "330100"),
    Division("330111", "富阳区", "county", "330100"),
    Division("330112", "临安区", "county", "330100"),
    Division("330113", "临平区", "county", "330100"),
    Division("330114", "钱塘区", "county", "330100"),
    Division("330122", "桐庐县", "county", "330100"),
    Division("330127", "淳安县", "county", "330100"),
    Division("330182", "建德市", "county", "330100"),
    Division("330200", "宁波市", "city", "330000"),
    Division("330203", "海曙区", "county", "330200"),
    Division("330205", "江北区", "county", "330200"),
    Division("330206", "北仑区", "county", "330200"),
    Division("330211", "镇海区", "county", "330200"),
    Division("330212", "鄞州区", "county", "330200"),
    Division("330213", "奉化区", "county", "330200"),
    Division("330225", "象山县", "county", "330200"),
    Division("330226", "宁海县", "county", "330200"),
    Division("330281", "余姚市", "county", "330200"),
    Division("330282", "慈溪市", "county", "330200"),
    Division("330300", "温州市", "city", "330000"),
    Division("330302", "鹿城区", "county", "330300"),
    Division("330303", "龙湾区", "county", "330300"),
    Division("330304", "瓯海区", "county", "330300"),
    Division("330305", "洞头区", "county", "330300"),
    Division("330324", "永嘉县", "county", "330300"),
    Division("330326", "平阳县", "county", "330300"),
    Division("330327", "苍南县", "county", "330300"),
    Division("330328", "文成县", "county", "330300"),
    Division("330329", "泰顺县", "county", "330300"),
    Division("330381", "瑞安市", "county", "330300"),
    Division("330382", "乐清市", "county", "330300"),
    Division("330383", "龙港市", "county", "330300"),
    Division("330400", "嘉兴市", "city", "330000"),
    Division("330402", "南湖区", "county", "330400"),
    Division("330411", "秀洲区", "county", "330400"),
    Division("330421", "嘉善县", "county", "330400"),
    Division("330424", "海盐县", "county", "330400"),
    Division("330481", "海宁市", "county", "330400"),
    Division("330482", "平湖市", "county", "330400"),
    Division("330483", "桐乡市", "county", "330400"),
    Division("330500", "湖州市", "city", "330000"),
    Division("330502", "吴兴区", "county", "330500"),
    Division("330503", "南浔区", "county", "330500"),
    Division("330521", "德清县", "county", "330500"),
    Division("330522", "长兴县", "county", "330500"),
    Division("330523", "安吉县", "county", "330500"),
    Division("330600", "绍兴市", "city", "330000"),
    Division("330602", "越城区", "county", "330600"),
    Division("330603", "柯桥区", "county", "330600"),
    Division("330604", "上虞区", "county", "330600"),
    Division("330624", "新昌县", "county", "330600"),
    Division("330681", "诸暨市", "county", "330600"),
    Division("330683", "嵊州市", "county", "330600"),
    Division("330700", "金华市", "city", "330000"),
    Division("330702", "婺城区", "county", "330700"),
    Division("330703", "金东区", "county", "330700"),
    Division("330723", "武义县", "county", "330700"),
    Division("330726", "浦江县", "county", "330700"),
    Division("330727", "磐安县", "county", "330700"),
    Division("330781", "兰溪市", "county", "330700"),
    Division("330782", "义乌市", "county", "330700"),
    Division("330783", "东阳市", "county", "330700"),
    Division("330784", "永康市", "county", "330700"),
    Division("330800", "衢州市", "city", "330000"),
    Division("330802", "柯城区", "county", "330800"),
    Division("330803", "衢江区", "county", "330800"),
    Division("330822", "常山县", "county", "330800"),
    Division("330824", "开化县", "county", "330800"),
    Division("330825", "龙游县", "county", "330800"),
    Division("330881", "江山市", "county", "330800"),
    Division("330900", "舟山市", "city", "330000"),
    Division("330902", "定海区", "county", "330900"),
    Division("330903", "普陀区", "county", "330900"),
    Division("330921", "岱山县", "county", "330900"),
    Division("330922", "嵊泗县", "county", "330900"),
    Division("331000", "台州市", "city", "330000"),
    Division("331002", "椒江区", "county", "331000"),
    Division("331003", "黄岩区", "county", "331000"),
    Division("331004", "路桥区", "county", "331000"),
    Division("331022", "三门县", "county", "331000"),
    Division("331023", "天台县", "county", "331000"),
    Division("331024", "仙居县", "county", "331000"),
    Division("331081", "温岭市", "county", "331000"),
    Division("331082", "临海市", "county", "331000"),
    Division("331083", "玉环市", "county", "331000"),
    Division("331100", "丽水市", "city", "330000"),
    Division("331102", "莲都区", "county", "331100"),
    Division("331121", "青田县", "county", "331100"),
    Division("331122", "缙云县", "county", "331100"),
    Division("331123", "遂昌县", "county", "331100"),
    Division("331124", "松阳县", "county", "331100"),
    Division("331125", "云和县", "county", "331100"),
    Division("331126", "庆元县", "county", "331100"),
    Division("331127", "景宁畲族自治县", "county", "331100"),
    Division("331181", "龙泉市", "county", "331100"),
)

_BY_CODE = {d.code: d for d in ZHEJIANG}


def get_division(code: str) -> Division:
    """The division with ``code``; raises KeyError for codes outside Zhejiang."""
    return _BY_CODE[code]


def find_division(code: str) -> Division | None:
    return _BY_CODE.get(code)


def children_of(code: str) -> tuple[Division, ...]:
    return tuple(d for d in ZHEJIANG if d.parent_code == code)


def cities() -> tuple[Division, ...]:
    return tuple(d for d in ZHEJIANG if d.level == "city")


def counties() -> tuple[Division, ...]:
    return tuple(d for d in ZHEJIANG if d.level == "county")
