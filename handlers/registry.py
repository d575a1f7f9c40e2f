"""The registry of official-account handlers, keyed by message type or event.

Each handler module registers one small function with ``@on("text")`` or
``@on_event("subscribe")``; ``dispatch`` finds it for an inbound push. A type nobody
handles is answered with WeChat's ``success`` (no reply), as WeChat asks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.wechat.protocol import Inbound
from app.wechat.service import Outcome

Handler = Callable[[Inbound], Outcome]

_handlers: dict[str, Handler] = {}
# Routes found before the type's handler: a QR scene prefix (subscribe/SCAN), a text
# keyword, a menu key. They let a new feature add a handler module without editing the
# type's own handler.
_scenes: dict[str, Handler] = {}
_keywords: dict[str, Handler] = {}
_menu_keys: dict[str, Handler] = {}
# Text messages starting with one of these words (``留言 …``), tried after the exact keywords.
_prefixes: dict[str, Handler] = {}
# Handlers a repeated delivery may run again harmlessly (see ``repeatable``).
_repeatable: set[Handler] = set()


def _register(key: str) -> Callable[[Handler], Handler]:
    def decorator(fn: Handler) -> Handler:
        if key in _handlers:
            raise RuntimeError(f"two handlers for {key}: {_handlers[key].__module__} and {fn.__module__}")
        _handlers[key] = fn
        return fn

    return decorator


def on(msg_type: str) -> Callable[[Handler], Handler]:
    """Register the handler of a message type (``text``, ``location``, ``image``…)."""
    return _register(msg_type.lower())


def on_event(event: str) -> Callable[[Handler], Handler]:
    """Register the handler of an event, as wechatpy names it (``subscribe_scan`` for qrscene)."""
    return _register(f"event:{event.lower()}")


def _register_in(table: dict[str, Handler], keys: tuple[str, ...]) -> Callable[[Handler], Handler]:
    def decorator(fn: Handler) -> Handler:
        for key in keys:
            if key in table:
                raise RuntimeError(f"two handlers for {key}: {table[key].__module__} and {fn.__module__}")
            table[key] = fn
        return fn

    return decorator


def on_scene(prefix: str) -> Callable[[Handler], Handler]:
    """Register the handler of QR scenes starting with ``prefix`` (on subscribe and SCAN events)."""
    return _register_in(_scenes, (prefix,))


def on_keyword(*words: str) -> Callable[[Handler], Handler]:
    """Register the handler of text messages that are exactly one of ``words`` (spaces trimmed)."""
    return _register_in(_keywords, words)


def on_menu_key(*keys: str) -> Callable[[Handler], Handler]:
    """Register the handler of menu CLICK events with one of these keys."""
    return _register_in(_menu_keys, keys)


def on_text_prefix(*words: str) -> Callable[[Handler], Handler]:
    """Register the handler of text messages that start with one of ``words`` (``留言 …``)."""
    return _register_in(_prefixes, words)


def repeatable(fn: Handler) -> Handler:
    """Mark a handler that only reads: a repeated delivery may run it again without harm.

    The endpoint then runs it outside a transaction of its own: each statement commits by
    itself, which saves the BEGIN and COMMIT round trips of 值班, 进度, help, the menu and
    locations. The push is still logged once under its dedup key, and a repeat answered as
    the first was. A handler that writes anything must not be marked, not even an upsert: a
    SCAN re-subscribes a follower, and WeChat's retry of a scan arriving after the follower
    unsubscribed must be rolled back as a repeat, not committed before it is recognised.
    """
    _repeatable.add(fn)
    return fn


def _route(inbound: Inbound) -> Handler | None:
    message = inbound.message
    if message.type == "text":
        text = (getattr(message, "content", "") or "").strip()
        found = _keywords.get(text)
        if found is None:
            found = next((fn for word, fn in _prefixes.items() if text.startswith(word)), None)
        return found
    if message.type != "event":
        return None
    if message.event in ("subscribe_scan", "scan"):
        scene = str(getattr(message, "scene_id", "") or "")
        for prefix, handler in _scenes.items():
            if scene.startswith(prefix):
                return handler
    if message.event == "click":
        return _menu_keys.get(getattr(message, "key", "") or "")
    return None


def key_of(inbound: Inbound) -> str:
    message = inbound.message
    if message.type == "event":
        return f"event:{message.event}"
    return message.type


def handler_for(inbound: Inbound) -> Handler | None:
    return _route(inbound) or _handlers.get(key_of(inbound))


@dataclass(frozen=True)
class Route:
    """The handler found for one push (looked up once), ready to run."""

    handler: Handler | None
    key: str

    @property
    def repeatable(self) -> bool:
        """Whether the handler is ``repeatable`` (a push nobody handles changes nothing)."""
        return self.handler is None or self.handler in _repeatable

    def __call__(self, inbound: Inbound) -> Outcome:
        if self.handler is None:
            return Outcome(reply=None, action="ignored", ref=self.key)
        return self.handler(inbound)


def route(inbound: Inbound) -> Route:
    """The handler for this push; unknown types get one that answers nothing."""
    return Route(handler_for(inbound), key_of(inbound))


def registered() -> list[str]:
    """The keys with a handler, for tests and the console."""
    return sorted(_handlers)


def dispatch(inbound: Inbound) -> Outcome:
    """Run the handler for this push; unknown types get no reply."""
    return route(inbound)(inbound)
