"""Synthetic Chinese place and person names, and phone numbers in an obviously fake pattern."""

from __future__ import annotations

import numpy as np

PLACE_CHARS = (
    "荔木兰壶凤霞溪兴宁海清华东西南新安平泉梅桥龙山江湖塘洋岭林坑埔厝坂洲美和福庄前后"
    "上下仁德昌盛园沟峰石田头塔亭溪港湾铺阳浦坪岩竹桂柳枫松金玉锦秀云霄灵泰顺永嘉"
)
SURNAMES = "林陈黄吴郑翁许蔡朱方李王张刘杨余游魏卓徐严宋姚谢范傅"
GIVEN_CHARS = "志明建国文华秀英丽娟伟强军平俊杰淑芳玉兰春梅海燕宏伟金水天福振兴佳慧雅琴子涵宇航思远"


class NameMaker:
    """Draws unique synthetic names from a seeded generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def place(self, suffix: str) -> str:
        """A fresh two-character place name plus its suffix (区, 镇, 街道, 村, 社区)."""
        for _ in range(1000):
            a, b = self.rng.choice(list(PLACE_CHARS), 2, replace=False)
            name = f"{a}{b}{suffix}"
            if name not in self.used:
                self.used.add(name)
                return name
        for n in range(1, 100000):  # the two-character space is exhausted: number them
            name = f"{a}{b}{n}{suffix}"
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("no fresh place name")

    def person(self) -> str:
        """A synthetic person's name: surname and one or two given characters."""
        surname = self.rng.choice(list(SURNAMES))
        n = 1 if self.rng.random() < 0.3 else 2
        return surname + "".join(self.rng.choice(list(GIVEN_CHARS), n))

    def phone(self) -> str:
        """An obviously fake phone number: 100-0000-NNNN (no Chinese number starts 100)."""
        return f"100-0000-{int(self.rng.integers(10000)):04d}"
