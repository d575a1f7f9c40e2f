"""Matrix rows for 导出 (app/exports), added to tests/console/matrix.py's ROWS and SETUP.

Everybody may start an opinions export of their own scope. A job belongs to the one user who
started it: each side's job is its station staff member's, so every actor of the matrix
(another account) is refused its page, progress and file, own branch or not.
"""

from __future__ import annotations

from app.auth.models import Role
from app.exports.models import ExportJob
from app.extensions import db
from tests.auth.world import Side
from tests.console.matrix import Row

EVERYONE = frozenset(Role)
NOBODY: frozenset[Role] = frozenset()


def job_of(s: Side) -> ExportJob:
    job_id = f"matrixjob{s.key}".ljust(32, "0")
    found = db.session.get(ExportJob, job_id)
    if found is not None:
        return found
    job = ExportJob(id=job_id, owner_id=s.staff.id, kind="opinions", params={}, state="done", total=0)
    db.session.add(job)
    db.session.flush()
    return job


SETUP = [job_of]

ROWS = [
    Row("console_exports.index", "GET", lambda s: "/console/exports/", EVERYONE, scoped=False),
    Row(
        "console_exports.start",
        "POST",
        lambda s: "/console/exports/start/opinions",
        EVERYONE,
        data=lambda s: {"status": "open"},
        scoped=False,
    ),
    Row("console_exports.job", "GET", lambda s: f"/console/exports/{job_of(s).id}", NOBODY),
    Row("console_exports.progress", "GET", lambda s: f"/console/exports/{job_of(s).id}/progress", NOBODY),
    Row("console_exports.download", "GET", lambda s: f"/console/exports/{job_of(s).id}/download", NOBODY),
]
