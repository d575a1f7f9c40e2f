"""WeChat official-account message and event handlers, one small module each.

Importing this package registers them all; ``route`` finds the one a push needs and
``dispatch`` runs it.
"""

from handlers import (  # noqa: F401 - imported to register their handlers
    binding,
    click,
    location,
    media,
    preferences,
    scan,
    subscribe,
    template_job,
    text,
    unsubscribe,
    view,
)
from handlers.registry import dispatch, key_of, registered, route

__all__ = ["dispatch", "key_of", "registered", "route"]
