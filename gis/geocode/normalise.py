"""Address text as the matcher reads it: NFKC, no spaces or punctuation, 村委会→村, 居委会→社区,
Chinese numerals turned into digits beside 号/组/队/栋/幢/单元/层/室 only (三组十二号 → 3组12号,
while 三山村 and 七境社区 stay names), and the relation to a landmark split off (旁, 对面,
附近, 东侧50米)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_DIGIT |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNIT = {"十": 10, "百": 100, "千": 1000}
_NUMERAL = "零〇一二两三四五六七八九十百千"
NUMBERED = "号|组|队|栋|幢|单元|层|室|村民小组|小组"
"""The words a number stands before in an address (a Chinese numeral there becomes digits)."""
_BESIDE = re.compile(rf"第?([{_NUMERAL}]+)(?=(?:{NUMBERED}))")
_ORDINAL = re.compile(rf"第(\d+)(?=(?:{NUMBERED}))")
_OFFICES = (
    ("村民委员会", "村"),
    ("居民委员会", "社区"),
    ("村委会", "村"),
    ("居委会", "社区"),
    ("村委", "村"),
    ("居委", "社区"),
)
_SYNONYMS = (  # (pattern, replacement, a word the text must hold for it to apply)
    (re.compile(r"(\d+)队"), r"\1组", "队"),  # 生产队 and 村民小组 are numbered alike
    (re.compile(r"(\d+)幢"), r"\1栋", "幢"),
    (re.compile(r"(\d+)号楼"), r"\1栋", "号楼"),
    (re.compile(r"(\d+)村民小组"), r"\1组", "小组"),
    (re.compile(r"(\d+)小组"), r"\1组", "小组"),
)
_ANY_NUMERAL = re.compile(f"[{_NUMERAL}]")
_DROP = re.compile(r"[^\w\-]|_")  # after NFKC: keep letters, digits, CJK and '-'
_DIGITS = re.compile(r"[0-9\-]+")


def chinese_number(text: str) -> int:
    """十二 -> 12, 二十 -> 20, 一百零五 -> 105, 一二三 -> 123 (read digit by digit)."""
    if not any(c in _UNIT for c in text):
        return int("".join(str(_DIGIT[c]) for c in text))
    total, current = 0, 0
    for c in text:
        if c in _UNIT:
            total += (current or 1) * _UNIT[c]
            current = 0
        else:
            current = _DIGIT[c]
    return total + current


def normalise(text: str) -> str:
    """The text the gazetteer and the matcher compare: the same rules for both sides."""
    t = unicodedata.normalize("NFKC", text)
    t = _DROP.sub("", t)
    if "委" in t:
        for office, short in _OFFICES:
            t = t.replace(office, short)
    if _ANY_NUMERAL.search(t):
        t = _BESIDE.sub(lambda m: str(chinese_number(m.group(1))), t)
    for pattern, repl, word in _SYNONYMS:
        if word in t:
            t = pattern.sub(repl, t)
    return _ORDINAL.sub(r"\1", t) if "第" in t else t


def bigrams(norm: str) -> list[str]:
    """The character bigrams of a normalised name with its digits stripped (the fuzzy key:
    溪白村 -> 溪白, 白村), sorted; a one-character name is its own key."""
    t = _DIGITS.sub("", norm)
    if len(t) < 2:
        return [t] if t else []
    return sorted({t[i : i + 2] for i in range(len(t) - 1)})


@dataclass(frozen=True)
class Modifier:
    """Where the place is relative to the landmark named: 旁, 对面, 东侧50米 ..."""

    text: str
    bearing_deg: float | None = None  # clockwise from north, when a side is named
    distance_m: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "bearing_deg": self.bearing_deg, "distance_m": self.distance_m}


_SIDES = {
    "东北": 45.0,
    "东南": 135.0,
    "西南": 225.0,
    "西北": 315.0,
    "东": 90.0,
    "南": 180.0,
    "西": 270.0,
    "北": 0.0,
}
_RELATION = re.compile(
    r"(?P<side>东北|东南|西南|西北|东|南|西|北)"  # a side needs 侧/边/面/方 or a distance
    r"(?:(?:侧|边|面|方向|方)约?(?:(?P<n>\d+(?:\.\d+)?)(?P<u>米|m|公里|km))?"
    r"|约?(?P<n3>\d+(?:\.\d+)?)(?P<u3>米|m|公里|km))(?:处|左右)?$"
    r"|(?:约)?(?P<n2>\d+(?:\.\d+)?)(?P<u2>米|m)(?:处|左右)?$"
    r"|(?:旁边|旁|边上|对面|对过|附近|周边|周围|隔壁|门口|前面|后面|背后|里面|一带|路口|交叉口)$"
)


def split_modifier(norm: str) -> tuple[str, Modifier | None]:
    """The normalised address without its trailing relation words, and those words."""
    core, parts = norm, list[str]()
    side: float | None = None
    distance: float | None = None
    while len(core) > 1:
        m = _RELATION.search(core)
        if m is None or m.start() == 0:
            break
        if m.group("side"):
            side = _SIDES[m.group("side")]
        n = m.group("n") or m.group("n2") or m.group("n3")
        unit = m.group("u") or m.group("u2") or m.group("u3")
        if n:
            distance = float(n) * (1000.0 if unit in ("公里", "km") else 1.0)
        parts.insert(0, m.group())
        core = core[: m.start()]
    if not parts:
        return norm, None
    return core, Modifier("".join(parts), side, distance)
