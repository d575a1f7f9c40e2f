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
