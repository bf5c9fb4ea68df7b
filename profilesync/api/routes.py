"""The API under ``/api/v1/``; its OpenAPI document is ``/api/v1/openapi.json``."""

from __future__ import annotations

from ninja import NinjaAPI

from . import own_profile, people, sync
from .auth import API_AUTH

api = NinjaAPI(
    title="profilesync",
    version="1",
    description="People search, profiles and sync runs. Authenticate with a browser session "
                "or `Authorization: Bearer <token>` (`profilesync account token create`).",
    auth=API_AUTH,
    urls_namespace="api",
    # The interactive page loads its scripts from a CDN, which an intranet may not reach;
    # the document itself is served here and any OpenAPI tool reads it.
    docs_url=None,
)
api.add_router("", own_profile.router)
api.add_router("", people.router)
api.add_router("", sync.router)
