"""``/api/v1/opinions``: a resident leaves an opinion (with photos) and follows their own.

The body is JSON, or ``multipart/form-data`` with the same fields plus up to three files
named ``photos`` (``wx.uploadFile``). Either way it goes through ``submit_opinion``, the one
path every channel takes, with WeChat's content check on the resident's openid.
"""

from __future__ import annotations

import re

from flask import current_app, request
from flask.views import MethodView

from app.api.base import api_blueprint, local_moment, stored_moment
from app.api.errors import ErrorSchema
from app.api.residents import rate_limited, resident_required
from app.api.schemas import OpinionArgs, OpinionDetailSchema, OpinionListSchema, RatingArgs
from app.deputies.models import Deputy
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.opinions.models import SATISFACTION_LABELS, Channel, Opinion, OpinionStatus
from app.opinions.pipeline import rate
from app.opinions.service import get_by_tracking_no, normalise_tracking_no, opinions_of, submit_opinion
from app.public.progress import opinion_progress, public_answer, public_timeline
from app.public.queries import get_public_station, public_deputies, public_reception
from app.receptions.models import Reception
from app.stations.models import Station
from app.template_helpers import media_url

blp = api_blueprint("api_opinions", __name__, "opinions", "意见建议：留言、我的留言、办理进度")

MINE_LIMIT = 50
TRACKING_NO_RE = re.compile(r"^[0-9A-Z]{1,32}$")
# The request body, documented for both content types (flask-smorest documents only one).
OPINION_BODY = {
    "required": True,
    "description": "JSON；或 multipart/form-data（同样的字段，另加最多 3 个名为 photos 的图片文件）",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/OpinionCreate"}},
        "multipart/form-data": {"schema": {"$ref": "#/components/schemas/OpinionUpload"}},
    },
}


def _absolute(path: str) -> str:
    # The mini-program cannot resolve a path against our host.
    return current_app.config["PUBLIC_BASE_URL"] + media_url(path)


def opinion_item(opinion: Opinion) -> dict:
    """An opinion as its owner lists it."""
    deputy = opinion.deputy
    return {
        "tracking_no": opinion.tracking_no,
        "status": opinion.status,
        "status_label": opinion.status_label,
        "station": {"code": opinion.station.code, "name": opinion.station.name},
        "category": opinion.category,
        "content": opinion.content,
        "channel": opinion.channel,
        "channel_label": opinion.channel_label,
        "reception_id": opinion.reception_id,
        "deputy": {"id": deputy.id, "name": deputy.name} if deputy is not None else None,
        "photo_urls": [_absolute(photo.path) for photo in opinion.photos],
        "tracking_url": f"{current_app.config['PUBLIC_BASE_URL']}/t/{opinion.tracking_no}",
        "created_at": stored_moment(opinion.created_at),
    }


def opinion_detail(opinion: Opinion) -> dict:
    """Its owner's full view: own contact, progress, the resident-facing timeline and the answer."""
    progress = opinion_progress(opinion)
    answer = public_answer(opinion)
    return {
        **opinion_item(opinion),
        "contact_name": opinion.contact_name,
        "contact_mobile": opinion.contact_mobile,
        # pipeline.rate's precondition: the answer has been fed back, no supervisor decision pending.
        "rateable": opinion.status == OpinionStatus.FED_BACK and not opinion.needs_decision,
        "satisfaction": opinion.satisfaction,
        "satisfaction_label": SATISFACTION_LABELS.get(opinion.satisfaction or ""),
        "satisfaction_comment": opinion.satisfaction_comment,
        "progress": {
            "steps": [{"label": step.label, "state": step.state} for step in progress.steps],
            "side": progress.side,
            "explanation": progress.explanation,
        },
        "timeline": [
            {"at": local_moment(entry.at), "label": entry.label, "text": entry.text}
            for entry in public_timeline(opinion)
        ],
        "answer": (
            {"heading": answer.heading, "text": answer.text, "at": local_moment(answer.at)}
            if answer
            else None
        ),
    }


def _station(code: str) -> Station:
    try:
        return get_public_station(code)
    except NotFound as exc:
        raise ValidationFailed(exc.message, field="station_code") from None


def _reception_at(station: Station, reception_id: int | None) -> Reception | None:
    if reception_id is None:
        return None
    try:
        reception = public_reception(reception_id)
    except NotFound:
        reception = None
    if reception is None or reception.station_id != station.id:
        raise ValidationFailed("该站点没有这场接待活动。", field="reception_id")
    return reception


def _deputy_at(station: Station, deputy_id: int | None) -> Deputy | None:
    if deputy_id is None:
        return None
    deputy = next((d for d in public_deputies(station) if d.id == deputy_id), None)
    if deputy is None:
        raise ValidationFailed("这位代表没有编入该站点。", field="deputy_id")
    return deputy


def _photos() -> list:
    # A form's empty file input arrives as a part without a file name: not a photo.
    return [upload.stream for upload in request.files.getlist("photos") if upload.filename]


def _own_opinion(tracking_no: str, resident: str) -> Opinion:
    number = normalise_tracking_no(tracking_no)
    if not TRACKING_NO_RE.match(number):
        raise NotFound("未找到该留言，请核对查询编号。")
    opinion = get_by_tracking_no(number)
    if opinion.resident_id != resident:
        # Someone else's opinion is not theirs to see: the same answer as a number that does not exist.
        raise NotFound("未找到该留言，请核对查询编号。")
    return opinion


@blp.route("")
class OpinionList(MethodView):
    @resident_required(blp)
    @blp.ARGUMENTS_PARSER.use_args(OpinionArgs(), location="json_or_form")
    @blp.doc(requestBody=OPINION_BODY)
    @blp.response(201, OpinionDetailSchema)
    @blp.alt_response(
        422,
        schema=ErrorSchema,
        description="内容不符合要求（validation_failed），或未通过微信内容安全检测（content_rejected）",
    )
    @blp.alt_response(413, schema=ErrorSchema, description="上传的内容过大")
    @rate_limited(blp, "opinion")
    def post(self, data: dict, resident: str):
        """Leave an opinion at a station; answers with its tracking number."""
        station = _station(data["station_code"])
        category = (data.get("category") or "").strip() or None
        opinion = submit_opinion(
            station=station,
            content=data["content"],
            channel=Channel.MINIAPP,
            resident_id=resident,
            contact_name=data["contact_name"],
            contact_mobile=data["contact_mobile"],
            category=category,
            deputy=_deputy_at(station, data.get("deputy_id")),
            reception=_reception_at(station, data.get("reception_id")),
            photos=_photos(),
        )
        db.session.commit()
        return opinion_detail(opinion)


@blp.route("/mine")
class MyOpinions(MethodView):
    @resident_required(blp)
    @blp.response(200, OpinionListSchema)
    def get(self, resident: str):
        """The resident's own opinions, newest first (the latest 50)."""
        items = [opinion_item(opinion) for opinion in opinions_of(resident, limit=MINE_LIMIT)]
        return {"items": items, "total": len(items)}


@blp.route("/<string:tracking_no>")
class OpinionDetail(MethodView):
    @resident_required(blp)
    @blp.response(200, OpinionDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="没有这条留言，或它不是您的")
    def get(self, tracking_no: str, resident: str):
        """One of the resident's own opinions with its progress; anyone else's is 404."""
        return opinion_detail(_own_opinion(tracking_no, resident))


@blp.route("/<string:tracking_no>/rating")
class OpinionRating(MethodView):
    @resident_required(blp)
    @blp.arguments(RatingArgs)
    @blp.response(200, OpinionDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="没有这条留言，或它不是您的")
    @blp.alt_response(
        409, schema=ErrorSchema, description="还没有反馈办理结果，或已经评价（illegal_transition）"
    )
    def post(self, data: dict, tracking_no: str, resident: str):
        """Rate the answer to one's own opinion: 满意/基本满意 close it, 不满意 has it handled once more."""
        opinion = rate(_own_opinion(tracking_no, resident), resident, data["satisfaction"], data["comment"])
        db.session.commit()
        return opinion_detail(opinion)
