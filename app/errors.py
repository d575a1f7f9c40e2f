"""Domain errors raised by services, turned into a Chinese message and a status at the edge."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the service refused the request; ``message`` is shown to the user."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class NotFound(DomainError):
    status = 404
    code = "not_found"

    def __init__(self, message: str = "未找到该记录。", **kw):
        super().__init__(message, **kw)


class Forbidden(DomainError):
    status = 403
    code = "forbidden"

    def __init__(self, message: str = "您没有权限执行此操作。", **kw):
        super().__init__(message, **kw)


class Conflict(DomainError):
    status = 409
    code = "conflict"
