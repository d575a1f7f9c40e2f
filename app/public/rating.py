"""The resident rates the answer on ``/t/<no>``: 满意 / 基本满意 / 不满意, through pipeline.rate.

Only the resident who left the opinion (the same cookie or WeChat identity) may rate it;
anyone else is told it was not found, as pipeline.rate decides.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from app.errors import DomainError, NotFound
from app.extensions import db, limiter
from app.opinions.models import SATISFACTION_LABELS
from app.opinions.pipeline import rate
from app.opinions.service import get_by_tracking_no, normalise_tracking_no
from app.public.limits import configured
from app.public.progress import group_tracking_no
from app.public.views import bp
from app.wechat.oauth import current_resident, with_resident


@bp.context_processor
def _satisfaction_choices() -> dict:
    return {"satisfaction_choices": SATISFACTION_LABELS}


@bp.post("/t/<tracking_no>/rating")
@limiter.limit(configured("PUBLIC_LIMIT_PER_ADDRESS"))
@with_resident
def rate_answer(tracking_no: str):
    number = normalise_tracking_no(tracking_no[:64])
    form = {key: request.form.get(key, "") for key in ("satisfaction", "comment")}
    try:
        opinion = get_by_tracking_no(number) if number else None
        if opinion is None:
            raise NotFound("未找到该留言，请核对查询编号。")
        rate(opinion, current_resident().id, form["satisfaction"], form["comment"])
    except NotFound as exc:
        db.session.rollback()
        return render_template("public/not_found.html", message=exc.message), 404
    except DomainError as exc:
        db.session.rollback()
        return (
            render_template(
                "public/rate.html",
                opinion=opinion,
                number=group_tracking_no(opinion.tracking_no),
                form=form,
                error=exc.message,
            ),
            exc.status,
        )
    db.session.commit()
    return redirect(url_for("public.track", tracking_no=opinion.tracking_no, rated=1), code=303)
