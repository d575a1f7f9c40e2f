"""An opinion's progress as the resident reads it on ``/t/<no>``: steps, timeline, answer.

Built from the event rows, but only from what is meant for the resident: status changes,
each told in plain words, and the date. Never who on the staff did it, never a note: the
answer meant for the resident is its own field (``public_answer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.opinions.models import Category, Opinion, OpinionStatus
from app.timeutil import to_local

# 三(三)3 闭环处理: 受理、分类、交办、督办、反馈 — the main path a resident follows.
MAIN_STEPS: tuple[tuple[str, str], ...] = (
    (OpinionStatus.PENDING, "待受理"),
    (OpinionStatus.ACCEPTED, "已受理"),
    (OpinionStatus.ASSIGNED, "已交办"),
    (OpinionStatus.REPLIED, "已答复"),
    (OpinionStatus.FED_BACK, "已反馈"),
    (OpinionStatus.CLOSED, "已办结"),
)
STEP_OF = {
    OpinionStatus.PENDING: 0,
    OpinionStatus.ACCEPTED: 1,
    OpinionStatus.CLASSIFIED: 1,  # classifying is part of accepting, to the resident
    OpinionStatus.ASSIGNED: 2,
    OpinionStatus.REPLIED: 3,
    OpinionStatus.FED_BACK: 4,
    OpinionStatus.CLOSED: 5,
}

# What each status means, said to the resident.
EXPLAIN = {
    OpinionStatus.PENDING: "您的留言已送达家站点，工作人员会尽快受理。",
    OpinionStatus.ACCEPTED: "工作人员已受理您的留言，正在研究交由有关单位办理。",
    OpinionStatus.CLASSIFIED: "工作人员已受理并登记分类，正在研究交由有关单位办理。",
    OpinionStatus.ASSIGNED: "已交有关单位办理，办理期间您可以随时在本页查看进度。",
    OpinionStatus.REPLIED: "承办单位已答复，家站点将把办理结果反馈给您。",
    OpinionStatus.FED_BACK: "办理结果已反馈给您。",
    OpinionStatus.CLOSED: "本条留言已办结，感谢您的参与。",
    OpinionStatus.REJECTED: "经审核，本条留言不予受理。",
    OpinionStatus.GUIDED: (
        "您反映的问题涉及法律程序，已引导您依法通过司法或信访渠道反映，相关部门会以适当方式反馈。"
    ),
    OpinionStatus.CONVERTED: "您反映的问题群众普遍关心，已转为代表建议（议案）提出并交办督办。",
    OpinionStatus.ESCALATED: "已上报上级人大研究处理。",
    OpinionStatus.MERGED: "与其他群众反映的相同问题合并办理。",
}

# How the answer is headed, by where the opinion ended up.
ANSWER_HEADINGS = {
    OpinionStatus.FED_BACK: "办理结果",
    OpinionStatus.GUIDED: "答复意见",
    OpinionStatus.REJECTED: "不予受理的理由",
}

# Actions without a status change that a resident may know happened.
PUBLIC_ACTIONS = {"urge": ("督办", "已督促承办单位加快办理。")}


@dataclass(frozen=True)
class Step:
    label: str
    state: str  # "done", "current" or "todo"


@dataclass(frozen=True)
class Progress:
    """The step indicator: the main path, and a side-path label when the opinion left it."""

    steps: list[Step]
    side: str | None
    explanation: str


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime  # local time
    label: str
    text: str


@dataclass(frozen=True)
class Answer:
    heading: str
    text: str
    at: datetime


def _status(value: str | None) -> OpinionStatus | None:
    try:
        return OpinionStatus(value) if value else None
    except ValueError:
        return None


def opinion_progress(opinion: Opinion) -> Progress:
    """Where the opinion stands on 待受理→已受理→已交办→已答复→已反馈→已办结."""
    status = _status(opinion.status) or OpinionStatus.PENDING
    if status in STEP_OF:
        current = STEP_OF[status]
        side = None
    else:
        # Off the main path: the steps it went through before are done, the side path is current.
        reached = [STEP_OF[s] for s in (_status(e.to_status) for e in opinion.events) if s in STEP_OF]
        current = max(reached, default=0) + 1
        side = status.label
    steps = []
    for index, (_, label) in enumerate(MAIN_STEPS):
        if index < current or (index == current and side is None and status == OpinionStatus.CLOSED):
            state = "done"
        elif index == current and side is None:
            state = "current"
        else:
            state = "todo"
        steps.append(Step(label=label, state=state))
    return Progress(steps=steps, side=side, explanation=EXPLAIN.get(status, ""))


def public_timeline(opinion: Opinion) -> list[TimelineEntry]:
    """The events a resident may see, oldest first, in plain words; nothing about who or why."""
    entries = []
    for event in opinion.events:
        at = to_local(event.at)
        if event.action == "submit":
            entries.append(TimelineEntry(at, "提交留言", f"通过{opinion.channel_label}提交，等待受理。"))
            continue
        status = _status(event.to_status)
        if status is not None and event.to_status != event.from_status:
            entries.append(TimelineEntry(at, status.label, EXPLAIN.get(status, "")))
        elif event.action in PUBLIC_ACTIONS:
            label, text = PUBLIC_ACTIONS[event.action]
            entries.append(TimelineEntry(at, label, text))
    return entries


def public_answer(opinion: Opinion) -> Answer | None:
    """The answer written for the resident (the feedback, the guidance, or why it was refused), if any.

    It lives on the opinion (``answer_text``, written by the closed loop); event notes are
    internal and never shown. Before the closed loop exists there is no answer to show.
    """
    text = (getattr(opinion, "answer_text", None) or "").strip()
    if not text:
        return None
    status = _status(opinion.status)
    heading = ANSWER_HEADINGS.get(status, "办理结果") if status else "办理结果"
    moment = getattr(opinion, "fed_back_at", None) or opinion.updated_at or opinion.created_at
    return Answer(heading=heading, text=text, at=to_local(moment))


def category_label(category: str | None) -> str:
    """The category as residents read it: a code staff chose on 分类 by its name, a resident's pick as is."""
    if not category:
        return "未分类"
    name = db.session.scalar(select(Category.name).where(Category.code == category))
    return name or category


def group_tracking_no(number: str) -> str:
    """ABCD-EFGH-JKMN: easier to read aloud and copy by hand (dashes are ignored on the way in)."""
    return "-".join(number[i : i + 4] for i in range(0, len(number), 4))
