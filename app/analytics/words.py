"""What people talk about: hot words per period and place, rising topics, clusters of one matter.

Words come from jieba with a user dictionary of local Wuxi names (``data/userdict.txt``, so
"惠山古镇" or "崇安寺街道" stay one word) and a stop-word list (``data/stopwords.txt``). A word
counts once per opinion that contains it: thirty residents reporting one pothole make "坑洼"
thirty, one resident writing it three times makes it one.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import jieba
from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.analytics import kpi
from app.analytics.kpi import (
    Filters,
    months_between,
    next_month,
    opinion_conditions,
    split_period,
    station_filter,
    uses_store,
)
from app.analytics.models import WordMonth
from app.auth.scope import Scope
from app.extensions import db
from app.opinions.models import Opinion, OpinionStatus
from app.opinions.similar import tokens as similar_tokens

DATA = Path(__file__).resolve().parent / "data"
WORD_MAX = 32  # the stored column's width
_CJK_OR_LETTER = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(word for line in _lines("stopwords.txt") for word in line.split())


def tokenizer() -> jieba.Tokenizer:
    """A jieba tokenizer of our own with the local names added (jieba's global one is left alone)."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            for line in _lines("userdict.txt"):
                parts = line.split()
                word = parts[0]
                freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                tag = parts[2] if len(parts) > 2 else None
                tk.add_word(word, freq, tag)
            _tokenizer = tk
        return _tokenizer


@lru_cache(maxsize=65536)
def words_of(content: str) -> frozenset[str]:
    """The distinct words of an opinion worth counting: two characters or more, no stop words."""
    stop = stopwords()
    out = set()
    for raw in tokenizer().lcut(content or ""):
        word = raw.strip().lower()
        if len(word) < 2 or len(word) > WORD_MAX or word in stop or not _CJK_OR_LETTER.search(word):
            continue
        out.add(word)
    return frozenset(out)


def count_words(contents) -> Counter:
    counts: Counter = Counter()
    for content in contents:
        counts.update(words_of(content))
    return counts


Days = list[tuple[date, date]]


def _day_count(ranges: Days) -> int:
    return sum((hi - lo).days + 1 for lo, hi in ranges)


def _mostly_stored(scope: Scope, f: Filters, today: date, live: Days) -> tuple[list[date], Days, Days]:
    """Live day ranges that cover most of a clean stored month are answered by that month's
    stored rows minus the few days of it outside the range, counted live (a period starting
    on the 5th, as the previous period of the default twelve months does, then tokenizes four
    days instead of twenty-seven): ``(months to add, day ranges to subtract, ranges still live)``.
    Exact: a month not changed since the refresh holds every opinion of it, counted per opinion."""
    if not live or not uses_store(scope) or f.unit is not None or f.category is not None:
        return [], [], live
    dirty = kpi.dirty_months()  # through the module: tests force the live path there
    if dirty is None:
        return [], [], live
    months: list[date] = []
    minus: Days = []
    still: Days = []
    for lo, hi in live:
        for month in months_between(lo, hi):
            last = next_month(month) - timedelta(days=1)
            a, b = max(lo, month), min(hi, last)
            end = min(last, today)  # nothing is received after today
            outside = ([(month, a - timedelta(days=1))] if a > month else []) + (
                [(b + timedelta(days=1), end)] if b < end else []
            )
            if month <= today and month not in dirty and _day_count(outside) < _day_count([(a, min(b, end))]):
                months.append(month)
                minus += outside
            else:
                still.append((a, b))
    return months, minus, still


def word_counts(scope: Scope, f: Filters, today: date) -> Counter:
    """How many of the selected opinions contain each word (stored months plus live days)."""
    stored, live = split_period(scope, f, today)
    if f.category is not None:  # the stored words are not split by category
        stored, live = [], [(f.date_from, f.date_to)]
    extra, minus, live = _mostly_stored(scope, f, today, live)
    stored = [*stored, *extra]
    counts: Counter = Counter()
    if stored:
        t = WordMonth
        stmt = (
            select(t.word, func.sum(t.n))
            .where(t.month.in_(stored), *station_filter(scope, f, t.station_id))
            .group_by(t.word)
        )
        for word, n in db.session.execute(stmt):
            counts[word] += int(n)

    def live_words(lo: date, hi: date) -> Counter:
        part = replace(f, date_from=lo, date_to=hi)
        return count_words(
            db.session.scalars(select(Opinion.content).where(*opinion_conditions(scope, part)))
        )

    for lo, hi in live:
        counts.update(live_words(lo, hi))
    for lo, hi in minus:
        counts.subtract(live_words(lo, hi))
    return +counts if minus else counts


@dataclass(frozen=True)
class HotWord:
    word: str
    count: int
    previous: int

    @property
    def change(self) -> int:
        """Opinions containing the word now minus in the previous period of the same length."""
        return self.count - self.previous


def period_words(scope: Scope, f: Filters, today: date) -> tuple[Counter, Counter]:
    """Word counts of the period and of the previous period of the same length."""
    return word_counts(scope, f, today), word_counts(scope, f.previous(), today)


def hot_words(
    scope: Scope, f: Filters, today: date, limit: int = 30, counts: tuple[Counter, Counter] | None = None
) -> list[HotWord]:
    """The most frequent words of the period, most frequent first (ties: alphabetical)."""
    now, before = counts or period_words(scope, f, today)
    top = sorted(now.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [HotWord(word, n, before.get(word, 0)) for word, n in top]


def rising_topics(
    scope: Scope,
    f: Filters,
    today: date,
    limit: int = 15,
    min_count: int = 2,
    counts: tuple[Counter, Counter] | None = None,
) -> list[HotWord]:
    """Words that gained most on the previous period (at least ``min_count`` opinions now)."""
    now, before = counts or period_words(scope, f, today)
    rising = [
        HotWord(w, n, before.get(w, 0)) for w, n in now.items() if n >= min_count and n > before.get(w, 0)
    ]
    rising.sort(key=lambda h: (-h.change, -h.count, h.word))
    return rising[:limit]


# --- clusters: one matter, many residents ----------------------------------------------------

CLUSTER_POOL = 400  # the newest opinions of the period that are grouped
CLUSTER_THRESHOLD = 62.0


@dataclass
class Cluster:
    lead: Opinion
    members: list[Opinion]

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def residents(self) -> int:
        """Distinct residents (an opinion without a known resident counts as one)."""
        known = {o.resident_id for o in self.members if o.resident_id}
        return len(known) + sum(1 for o in self.members if not o.resident_id)

    @property
    def stations(self) -> list[str]:
        return sorted({o.station.name for o in self.members})

    @property
    def ids(self) -> list[int]:
        return [o.id for o in self.members]


@lru_cache(maxsize=65536)
def _cluster_text(content: str) -> str:
    """The words app.opinions.similar compares, joined as its scorers want them."""
    return " ".join(similar_tokens(content))


def clusters(scope: Scope, f: Filters, limit: int = 10, min_size: int = 2) -> list[Cluster]:
    """Groups of similar opinions among the newest of the period, by app.opinions.similar's
    measure (the mean of rapidfuzz's token-set and token-sort ratios): each opinion joins the
    group whose first opinion it resembles most, if at least ``CLUSTER_THRESHOLD``."""
    stmt = (
        select(Opinion)
        .where(*opinion_conditions(scope, f), Opinion.status != OpinionStatus.MERGED)
        .order_by(Opinion.created_at.desc(), Opinion.id.desc())
        .limit(CLUSTER_POOL)
        # Cluster.stations names them: one query for all, not one per station.
        .options(selectinload(Opinion.station))
    )
    leads: list[str] = []
    found: list[Cluster] = []
    # The mean of two ratios reaches the threshold only if the token-set ratio alone reaches
    # 2·threshold − 100: rapidfuzz scores all groups against that cut-off in one C loop.
    cutoff = max(0.0, 2 * CLUSTER_THRESHOLD - 100)
    for opinion in db.session.scalars(stmt):
        text = _cluster_text(opinion.content)
        if not text:
            continue
        best, best_score = None, CLUSTER_THRESHOLD
        for _choice, set_score, index in process.extract(
            text, leads, scorer=fuzz.token_set_ratio, limit=None, score_cutoff=cutoff
        ):
            score = (set_score + fuzz.token_sort_ratio(text, leads[index])) / 2
            if score > best_score or (score == best_score and best is None):
                best, best_score = found[index], score
        if best is None:
            leads.append(text)
            found.append(Cluster(opinion, [opinion]))
        else:
            best.members.append(opinion)
    groups = [c for c in found if c.size >= min_size]
    groups.sort(key=lambda c: (-c.size, -c.lead.id))
    return groups[:limit]
