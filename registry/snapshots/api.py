"""GET /api/v1/snapshot: download a snapshot of the registry for offline filtering (.tar.gz).

Without ``since`` the answer is the full snapshot at the current version, served from the cache
(`services.snapshot_cached_full`). With ``since=V`` it is a delta from version V, built for this
request and deleted once sent. Either way the caller's own works are left out. The archive holds
one directory, ``snapshot/``; the version is also in the ``X-Snapshot-Version`` header.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from registry.api.base import ApiView
from registry.apikeys.permissions import HasScope
from registry.snapshots import selectors, services
from registry.snapshots.streaming import tar_gz_stream


class SnapshotApi(ApiView):
    """The works that restrict some purpose, their preferences and fingerprints; never a text."""

    permission_classes = [HasScope("filter")]

    class Input(serializers.Serializer):
        since = serializers.IntegerField(
            required=False, min_value=0, help_text="A version you hold: answer with a delta from it."
        )

    @extend_schema(
        operation_id="snapshot",
        summary="Download a snapshot for offline filtering",
        parameters=[
            OpenApiParameter(
                "since", int, description="A version you already hold; the answer is a delta from it."
            )
        ],
        responses={
            (200, "application/gzip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="A .tar.gz with one directory, snapshot/ (manifest.json, works.jsonl, "
                "docs.jsonl, and matcher/ or, for a delta, removed.jsonl and fingerprints.bin).",
            )
        },
        tags=["filter"],
    )
    def get(self, request: Request):
        params = self.Input(data=request.query_params)
        params.is_valid(raise_exception=True)
        since = params.validated_data.get("since")
        exclude = selectors.caller_owner_ids(request.auth)
        if since is None:
            root = services.snapshot_cached_full(exclude_owner_ids=exclude)
            temporary = False
        else:
            root = Path(tempfile.mkdtemp(prefix="snapshot-delta-", dir=services.cache_root()))
            temporary = True
            try:
                services.snapshot_build(out=root, since=since, exclude_owner_ids=exclude)
            except DjangoValidationError as exc:
                services.discard(root)
                raise ValidationError({"since": exc.messages}) from None
            except BaseException:
                services.discard(root)
                raise
        manifest = services.read_manifest(root)
        kind = manifest["kind"]
        name = f"registry-snapshot-v{manifest['version']}" + (f"-since-{since}" if since is not None else "")
        response = StreamingHttpResponse(
            tar_gz_stream(root, arcname="snapshot", remove_after=temporary), content_type="application/gzip"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.tar.gz"'
        response["X-Snapshot-Version"] = str(manifest["version"])
        response["X-Snapshot-Kind"] = kind
        return response
