"""The engine of the application serving this request (create_app puts it in app.extensions),
bound to the request's channel (engine/channels.py): `api` with the token the request came with
(web/api.py puts its owner in g.api_user), else `web`. Every event a request records says so."""
from __future__ import annotations

from flask import current_app, g, has_request_context, request

from engine.channels import API, WEB_CHANNEL, Channel

KEY = "reformflow"
API_BLUEPRINT = "api"


def engine():
    shared = current_app.extensions[KEY]
    if not has_request_context():
        return shared
    return shared.via(channel())


def channel() -> Channel:
    """The request's channel: the API's (with its token's id, once the token is known), or the web's."""
    if request.blueprint == API_BLUEPRINT:
        user = g.get("api_user")
        return Channel(API, getattr(user, "token_id", None))
    return WEB_CHANNEL
