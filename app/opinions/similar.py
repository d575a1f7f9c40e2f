"""Similar opinions: the same matter raised again nearby, found by comparing words.

Chinese has no spaces, so texts are cut into words with jieba; rapidfuzz then compares the
word sets, so word order and filler do not hide a repeat. Bounded: at most ``POOL`` recent
candidates from the same town (or the station's own region above village level) are scored.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

import jieba
from rapidfuzz import fuzz
from sqlalchemy.orm import selectinload

from app.auth.models import StaffUser
from app.auth.scope import scoped_select, station_ids_under
from app.extensions import db
from app.models_base import utcnow
from app.opinions.models import Opinion, OpinionStatus

jieba.setLogLevel(logging.WARNING)

DAYS = 180
POOL = 500
LIMIT = 5
THRESHOLD = 45.0
# Words that say nothing about the matter itself: what every resident's message contains.
_FILLER = """
的 了 是 在 我 我们 你 你们 他 她 它 和 与 及 或 也 都 就 还 又 很 太 请 希望 能 能否 可以
一下 一个 这个 那个 这 那 有 没有 不 没 吗 呢 吧 啊 呀 嘛 问题 反映 建议 情况 相关 部门 有关
尽快 解决 处理 一直 已经 现在 目前 非常 比较 感谢 谢谢 您好 你好
"""
STOPWORDS = frozenset(_FILLER.split())
_WORD = re.compile(r"\w", re.UNICODE)


def tokens(text: str) -> list[str]:
    """The meaningful words of a text: jieba's cut without punctuation, stopwords and blanks."""
    words = jieba.lcut((text or "").lower())
    return [w for w in (w.strip() for w in words) if w and _WORD.search(w) and w not in STOPWORDS]


def similarity(a: str | list[str], b: str | list[str]) -> float:
    """0–100: how much two texts say the same thing, by their word sets."""
    left = " ".join(tokens(a) if isinstance(a, str) else a)
    right = " ".join(tokens(b) if isinstance(b, str) else b)
    if not left or not right:
        return 0.0
    # token_set_ratio forgives a longer text that contains the shorter one's words;
    # token_sort_ratio keeps two short, different complaints from matching on one shared word.
    return (fuzz.token_set_ratio(left, right) + fuzz.token_sort_ratio(left, right)) / 2


@dataclass(frozen=True)
class SimilarOpinion:
    opinion: Opinion
    score: float


def home_region(opinion: Opinion):
    """Where "nearby" ends: the town above a village station, else the station's own region."""
    region = opinion.station.region
    while region.level == "village" and region.parent is not None:
        region = region.parent
    return region


def similar_opinions(
    opinion: Opinion, user: StaffUser, *, limit: int = LIMIT, threshold: float = THRESHOLD
) -> list[SimilarOpinion]:
    """Opinions the user may see, from the same area in the last 180 days, most similar first."""
    region = home_region(opinion)
    since = utcnow() - timedelta(days=DAYS)
    stmt = (
        scoped_select(
            Opinion,
            user,
            Opinion.id != opinion.id,
            Opinion.status != OpinionStatus.MERGED,
            Opinion.created_at >= since,
            Opinion.station_id.in_(station_ids_under(region.path)),
        )
        .options(selectinload(Opinion.station))
        .order_by(Opinion.created_at.desc(), Opinion.id.desc())
        .limit(POOL)
    )
    words = tokens(opinion.content)
    if not words:
        return []
    scored = []
    for candidate in db.session.scalars(stmt):
        score = similarity(words, candidate.content)
        if score >= threshold:
            # The same station first when scores tie: that is where a duplicate usually is.
            scored.append((score, candidate.station_id == opinion.station_id, candidate))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [SimilarOpinion(candidate, round(score)) for score, _same, candidate in scored[:limit]]
