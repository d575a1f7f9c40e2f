"""A messages-per-second limit shared by every sender worker (Redis), or per process without it."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


class Throttle:
    """Let at most ``rate`` sends start per second; ``wait()`` blocks until one may start.

    With Redis every worker on every host counts in the same one-second window (INCR on a
    key per second); without it, or while Redis is unreachable, each process keeps its own
    token bucket, which is all the embedded (one process) mode needs.
    """

    def __init__(self, rate: float, redis=None, key: str = "outbox:rate") -> None:
        self.rate = float(rate)
        self.redis = redis
        self.key = key
        self._lock = threading.Lock()
        self._tokens = max(1.0, self.rate)
        self._stamp = time.monotonic()

    def wait(self) -> None:
        """Block until the next send may start."""
        if self.rate <= 0:
            return
        if self.redis is not None:
            try:
                self._wait_shared()
                return
            except Exception as exc:  # Redis down: never stop sending for it, count locally
                log.warning("outbox throttle: Redis unavailable (%s), limiting per process", exc)
        self._wait_local()

    def _wait_shared(self) -> None:
        limit = max(1, int(self.rate))
        while True:
            now = time.time()
            second = int(now)
            key = f"{self.key}:{second}"
            pipe = self.redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, 2)
            count = pipe.execute()[0]
            if count <= limit:
                return
            time.sleep(max(0.001, second + 1 - now))

    def _wait_local(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(max(1.0, self.rate), self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                pause = (1 - self._tokens) / self.rate
            time.sleep(pause)
