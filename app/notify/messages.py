"""Every text the service pushes through WeChat, and the template fields it fills, in one place.

Template IDs come from configuration (``WECHAT_TEMPLATES``); field values respect WeChat's
type limits (``thing`` ≤ 20 characters, ``phrase`` ≤ 5 …), cut cleanly, never rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

# WeChat subscribe-message value limits by field type.
FIELD_LIMITS = {"thing": 20, "phrase": 5, "name": 10, "character_string": 32, "number": 32}

OPINION_STEP_TEXT = {
    "accepted": "您的留言已受理，我们会尽快交有关单位办理。",
    "rejected": "您的留言未予受理。",
    "assigned": "您的留言已交有关单位办理。",
    "guided": "您反映的问题涉及法律程序，我们已告知依法反映的途径。",
    "converted": "您反映的问题已由代表作为建议提出。",
    "merged": "您反映的问题已与同类留言合并办理。",
    "fed_back": "您的留言已有答复，欢迎评价。",
    "closed": "您的留言已办结，感谢您的参与。",
    "reopened": "您的留言已重新交办。",
}


def cut(value: str, kind: str) -> str:
    """Fit a value to a field type's length, ending with … when cut."""
    limit = FIELD_LIMITS.get(kind, 20)
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def field_type(key: str) -> str:
    """A subscribe-message field's type from its key: ``thing2`` → ``thing``."""
    return key.rstrip("0123456789")


def fit_subscribe_fields(fields: dict) -> dict:
    """Every value cut to its type's limit, so WeChat never refuses a subscribe message for length."""
    fitted = {}
    for key, value in fields.items():
        kind = field_type(key)
        fitted[key] = cut(value, kind) if kind in FIELD_LIMITS else str(value)
    return fitted


def wechat_data(fields: dict) -> dict:
    """``{"thing2": "text"}`` in WeChat's shape ``{"thing2": {"value": "text"}}``."""
    return {key: {"value": str(value)} for key, value in fields.items()}


@dataclass(frozen=True)
class Message:
    kind: str
    template_key: str  # a key of WECHAT_TEMPLATES
    data: dict
    url: str = ""


def opinion_update(opinion, step: str, base_url: str) -> Message:
    """The progress message of one step of an opinion."""
    return Message(
        kind="opinion_update",
        template_key="opinion_update",
        url=f"{base_url}/t/{opinion.tracking_no}",
        data={
            "character_string1": cut(opinion.tracking_no, "character_string"),
            "thing2": cut(opinion.content, "thing"),
            "phrase3": cut(opinion.status_label, "phrase"),
            "thing4": cut(OPINION_STEP_TEXT.get(step, opinion.status_label), "thing"),
        },
    )


def _when(reception) -> str:
    return f"{reception.date:%Y-%m-%d} {reception.start:%H:%M}-{reception.end:%H:%M}"


def reception_announced(reception, base_url: str) -> Message:
    """公告接待时间: a reception at a station the follower follows."""
    names = "、".join(d.name for d in reception.deputies) or "人大代表"
    return Message(
        kind="reception_announced",
        template_key="reception_announced",
        url=f"{base_url}/s/{reception.station.code}",
        data={
            "thing1": cut(reception.station.name, "thing"),
            "time2": _when(reception),
            "thing3": cut(reception.topic or reception.kind_label, "thing"),
            "thing4": cut(f"接待代表：{names}", "thing"),
            "thing5": cut(reception.station.address, "thing"),
        },
    )


REMINDER_LEAD_TEXT = {"3d": "三天后", "eve": "明天", "morning": "今天"}


def deputy_reminder(
    reception, deputy, lead: str, bookings: int, base_url: str, *, on_duty: bool = True
) -> Message:
    """A deputy's reminder of a reception: time, place, bookings so far.

    ``on_duty``: they are on duty there; otherwise it is a 联系服务群众日 at a station they
    are placed at (三(二)2: every deputy is placed and takes part).
    """
    when = REMINDER_LEAD_TEXT.get(lead, "近期")
    what = reception.topic or reception.kind_label
    role = "您值班" if on_duty else "您编入的家站点"
    return Message(
        kind="deputy_reminder",
        template_key="deputy_reminder",
        url=f"{base_url}/s/{reception.station.code}",
        data={
            "name1": cut(deputy.name, "name"),
            "thing2": cut(f"{when}{what}（{role}）", "thing"),
            "time3": _when(reception),
            "thing4": cut(f"{reception.station.name} {reception.station.address}", "thing"),
            "number5": cut(str(bookings), "number"),
        },
    )


def weekly_digest(receptions, first_day, base_url: str) -> Message:
    """To a follower who opted in: the coming week's receptions at the stations they follow."""
    lines = "；".join(f"{r.date:%m-%d} {r.start:%H:%M} {r.station.name}" for r in receptions[:3])
    more = f"等 {len(receptions)} 场" if len(receptions) > 3 else f"共 {len(receptions)} 场"
    return Message(
        kind="weekly_digest",
        template_key="weekly_digest",
        url=f"{base_url}/s/{receptions[0].station.code}",
        data={
            "thing1": cut(f"{first_day:%m月%d日}起一周接待预告", "thing"),
            "thing2": cut(lines, "thing"),
            "thing3": cut(more, "thing"),
            "thing4": cut("回复“退订周报”可停止接收", "thing"),
        },
    )


def staff_digest(user, work: dict[str, int], day, base_url: str) -> Message:
    """To a station's or unit's staff: what waits today (new, to route, overdue)."""
    summary = "，".join(f"{label}{count}条" for label, count in work.items())
    return Message(
        kind="staff_digest",
        template_key="staff_digest",
        url=f"{base_url}/console/opinions/",
        data={
            "thing1": cut(f"{user.scope_label}每日工作提醒", "thing"),
            "time2": f"{day:%Y-%m-%d}",
            "thing3": cut(summary, "thing"),
            "thing4": cut("请登录工作台及时办理", "thing"),
        },
    )


def moved_day_notice(reception) -> Message:
    """To station staff: a generated service day moved off a holiday, to confirm."""
    return Message(
        kind="moved_day",
        template_key="deputy_reminder",
        data={
            "thing1": cut(reception.station.name, "thing"),
            "time2": _when(reception),
            "thing3": cut(reception.schedule_note or "联系服务群众日因节假日顺延，请确认", "thing"),
        },
    )


def overdue_notice(opinion) -> Message:
    """To the unit and supervisors: an opinion passed its deadline (督办)."""
    return Message(
        kind="overdue",
        template_key="overdue",
        data={
            "character_string1": cut(opinion.tracking_no, "character_string"),
            "thing2": cut(opinion.content, "thing"),
            "time3": f"{opinion.deadline:%Y-%m-%d}" if opinion.deadline else "",
            "thing4": cut("已逾期未答复，请尽快办理", "thing"),
        },
    )
