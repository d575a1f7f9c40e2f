"""``/api/v1/auth``: the mini-program signs a resident in with the code of ``wx.login``."""

from __future__ import annotations

from flask.views import MethodView

from app.api.base import api_blueprint
from app.api.errors import ErrorSchema
from app.api.residents import issue_token, login_with_code, setting
from app.api.schemas import LoginArgs, TokenSchema

blp = api_blueprint("api_auth", __name__, "auth", "登录：用 wx.login 的 code 换取本站令牌")


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginArgs)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="code 无效或已使用（invalid_code）：重新 wx.login")
    @blp.alt_response(403, schema=ErrorSchema, description="微信判定该账号存在风险（login_blocked）")
    @blp.alt_response(503, schema=ErrorSchema, description="微信登录服务暂时不可用（wechat_unavailable）")
    def post(self, data: dict):
        """Trade a ``wx.login`` code for our bearer token (WeChat's session_key never leaves the server)."""
        openid = login_with_code(data["code"])
        return {
            "token": issue_token(openid),
            "token_type": "Bearer",
            "expires_in": int(setting("API_TOKEN_MAX_AGE")),
        }
