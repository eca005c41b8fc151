"""Matching a normalised address against the gazetteer: names found in the text (exact, other
names, short names, one-character typos), each name's place followed down by the numbers after
it (组, 号, 栋), checked against the administrative levels the text gives (a child must sit
under its parent), scored, and ranked: a place in another town than the one written never
comes first, and near-equal places in different grids share the confidence."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gis.geocode.index import LEVEL_WORDS, GazetteerIndex

NUMBER = re.compile(r"(\d+(?:-\d+)?)(组|号|栋|单元|层|室)")
CHILD = {"组": "group", "号": "house", "栋": "building"}
QUALITY = {"name": 1.0, "former": 0.97, "miswriting": 0.93, "short": 0.85, "fuzzy": 0.8}
FACTOR = {
    "house": 1.0,
    "building": 1.0,
    "grid": 1.0,
    "unit": 1.0,
    "poi": 0.95,
    "group": 0.85,
    "road": 0.75,
    "area": 1.0,
    "village": 1.0,
    "town": 0.3,
    "district": 0.2,
    "city": 0.1,
    "province": 0.1,
}
"""How sure an answer at each level is of the grid (areas over several grids: halved)."""
RANK = {lvl: k for k, lvl in enumerate(("building", "house", "poi", "unit", "grid", "group"))}
ADMIN_CHECKED = ("district", "town", "village")
NOT_ADMIN_QU = ("小区", "社区", "片区", "工业区", "园区", "景区", "城区", "开发区", "新区", "校区")
_ADMIN_WORD = re.compile("省|市|州|盟|县|旗|区")
FOREIGN = re.compile(r"[\u4e00-\u9fff]{2,}?(?:自治区|省|自治州|市|州|盟|县|旗|区)")
_LEVEL_WORD = re.compile("|".join(LEVEL_WORDS))  # 街道 before 道..., as LEVEL_WORDS orders them
CLOSE = 0.8  # a rival within this share of the best score, in another grid, makes it ambiguous


@dataclass
class Hit:
    """A name of the gazetteer found in the text."""

    entry: int
    place: int
    start: int
    end: int
    quality: float
    how: str


@dataclass
class Candidate:
    """A place the text may mean, with how well the text supports it."""

    entry: int
    hit: Hit
    start: int
    end: int
    raw: float
    score: float = 0.0
    wrong_town: bool = False
    conflicts: int = 0
    missing_number: bool = False
    spans: list[tuple[int, int]] = field(default_factory=list)  # the text it explains

    def matched(self, core: str) -> str:
        """The parts of the text this candidate was read from, in order."""
        out, reach = [], 0
        for a, b in sorted(self.spans):
            if b > reach:
                out.append(core[max(a, reach) : b])
                reach = b
        return "".join(out)


def find_hits(ix: GazetteerIndex, core: str) -> list[Hit]:
    """Every gazetteer name in `core` (not those inside a longer one), then typos elsewhere."""
    hits: list[Hit] = []
    n = len(core)
    lookup, prefixes, longest = ix.lookup, ix.prefixes, ix.max_len
    for i in range(n):
        for j in range(i + 1, min(n, i + longest) + 1):
            s = core[i:j]
            found = lookup.get(s)
            if found is not None:
                hits += [Hit(e, place, i, j, QUALITY[how], how) for e, place, how in found]
            if s not in prefixes:
                break
    if len(hits) > 1:  # drop a name inside a longer one (阳昌 in 阳昌村, 阳昌村 in 阳昌村小学)
        ends = [0] * (n + 1)  # the furthest end of a name starting at each position
        for h in hits:
            ends[h.start] = max(ends[h.start], h.end)
        before = [0] * (n + 1)  # ... starting before each position
        for k in range(1, n + 1):
            before[k] = max(before[k - 1], ends[k - 1])
        hits = [h for h in hits if before[h.start] < h.end and ends[h.start] <= h.end]
    covered = [False] * n
    for h in hits:
        for k in range(h.start, h.end):
            covered[k] = True
    return hits + _typos(ix, core, covered) if not all(covered) else hits


def _typos(ix: GazetteerIndex, core: str, covered: list[bool]) -> list[Hit]:
    """Names one character off (溪百村 for 溪白村), ending in a level word, where no name was."""
    out = []
    for m in _LEVEL_WORD.finditer(core):
        w, p = m.group(), m.start()
        for base in (2, 3):
            s0 = p - base
            if s0 < 0 or any(covered[s0:p]) or covered[p]:
                continue
            s = core[s0 : p + len(w)]
            seen = set()
            for k in range(base):  # one character replaced: the key with a gap there
                for e in ix.one_off.get(s[:k] + "?" + s[k + 1 :], ()):
                    if e not in seen:
                        seen.add(e)
                        out.append(Hit(e, ix.place[e], s0, p + len(w), QUALITY["fuzzy"], "fuzzy"))
    return out


def foreign(ix: GazetteerIndex, core: str, hits: list[Hit]) -> str | None:
    """A province, city or county named before the first place of ours at district level or
    below that is not ours (nor one typo from ours): the address is elsewhere."""
    inner = [h.start for h in hits if ix.level[h.place] not in ("province", "city")]
    end = min(inner, default=len(core))
    if not _ADMIN_WORD.search(core, 0, end):
        return None
    covered = [False] * end
    for h in hits:
        for k in range(h.start, min(h.end, end)):
            covered[k] = True
    text = "".join(c if not covered[k] else "|" for k, c in enumerate(core[:end]))
    for m in FOREIGN.finditer(text):
        token = m.group()
        if not any(token.endswith(q) for q in NOT_ADMIN_QU) and not _ours(ix, token):
            return token
    return None


def _ours(ix: GazetteerIndex, token: str) -> bool:
    """Whether the end of `token` is one character off a province, city or district of ours."""
    for n in range(3, min(len(token), 6) + 1):
        t = token[-n:]
        for k in range(n - 1):
            for e in ix.one_off.get(t[:k] + "?" + t[k + 1 :], ()):
                if ix.level[ix.place[e]] in ("province", "city", "district"):
                    return True
    return False


def _follow(
    ix: GazetteerIndex, place: int, pos: int, tokens: dict[int, re.Match[str]]
) -> tuple[int, int, bool]:
    """The place reached by the numbers right after `pos` (3组12号), where the text ends, and
    whether a number named no child."""
    cur, missing = place, False
    while pos in tokens:
        m = tokens[pos]
        pos = m.end()
        level = CHILD.get(m.group(2))
        if level is None or missing:
            continue  # 单元, 层, 室: no finer point; after a missing number: read, not followed
        child = ix.children.get((cur, level, m.group(1)))
        if child is None:
            missing = True
        else:
            cur = child
    return cur, pos, missing


def candidates(ix: GazetteerIndex, core: str, hits: list[Hit]) -> list[Candidate]:
    """The places `core` may mean, best first, with their scores."""
    tokens = {m.start(): m for m in NUMBER.finditer(core)}
    given: dict[str, list[Hit]] = {}
    for h in hits:
        if ix.level[h.place] in ADMIN_CHECKED:
            given.setdefault(ix.level[h.place], []).append(h)
    out = []
    n = len(core)
    above = {a for p in {h.place for h in hits} for a in ix.ancestors[p]}
    for h in hits:
        if h.place in above:
            continue  # a parent of another place named: that place's candidate answers for it
        entry, end, missing = _follow(ix, h.place, h.end, tokens)
        c = Candidate(entry, h, h.start, end, h.quality, missing_number=missing)
        c.spans.append((h.start, end))
        mine_admin = ix.admin[h.entry]
        for level, found in given.items():
            mine = mine_admin.get(level)
            if mine is None:
                continue
            others = [g for g in found if g.end <= h.start or g.start >= h.end]
            if not others:
                continue
            support = [(g.start, g.end) for g in others if g.place == mine]
            if support:
                c.spans += support
            else:
                c.conflicts += 1
                c.wrong_town |= level == "town"
        ancestors = ix.ancestors[h.entry]
        explained = c.spans + [(g.start, g.end) for g in hits if g.place in ancestors]
        level = ix.level[entry]
        factor = FACTOR.get(level, 0.5)
        if level in ("village", "area") and len(ix.shares(entry)) > 1:
            factor = 0.5
        c.raw *= factor * 0.3**c.conflicts * (0.6 if missing else 1.0)
        c.raw *= max(0.5, 1.0 - 0.04 * (n - _covered(explained)))
        out.append(c)
    return _rank(ix, out)


def _covered(spans: list[tuple[int, int]]) -> int:
    """How many characters the spans cover together."""
    total, reach = 0, 0
    for a, b in sorted(spans):
        a = max(a, reach)
        if b > a:
            total += b - a
            reach = b
    return total


def _rank(ix: GazetteerIndex, found: list[Candidate]) -> list[Candidate]:
    best: dict[int, Candidate] = {}
    for c in found:  # one candidate per place, the best supported
        if c.entry not in best or c.raw > best[c.entry].raw:
            best[c.entry] = c
    kept = [
        c
        for c in best.values()
        if not any(
            c.entry in ix.ancestors[d.entry] and d.conflicts <= c.conflicts
            for d in best.values()
            if d is not c
        )
    ]
    kept.sort(
        key=lambda c: (c.wrong_town, -c.raw, RANK.get(ix.level[c.entry], 9), ix.code[c.entry])
    )
    if not kept:
        return []
    top = kept[0]
    rivals = [
        c
        for c in kept[1:]
        if c.raw >= CLOSE * top.raw
        and ix.grid[c.entry] != ix.grid[top.entry]
        and c.wrong_town == top.wrong_town
    ]
    share = 1.0 / (1 + len(rivals))
    for c in kept:
        c.score = c.raw * (share if c is top or c in rivals else 1.0)
    return [c for c in kept if c.raw >= 0.2 * top.raw][:5]
