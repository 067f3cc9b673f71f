"""/api/v1/scans: create a batch scan, watch it, cancel it, page through and download its results.

Keys with the `filter` scope (dataset builders). A personal key acts for its owner, who sees
their own jobs and their organisations'; an organisation's key creates and sees the
organisation's jobs. Someone else's job is a 404, never a 403.

    POST /api/v1/scans                       multipart `file` (.jsonl, .zip, .tar.gz), or {"samples": [...]}
    GET  /api/v1/scans                       the jobs the key may see, newest first
    GET  /api/v1/scans/<id>                  progress (and the summary once finished)
    POST /api/v1/scans/<id>/cancel
    GET  /api/v1/scans/<id>/results?matched=true&failed=true&cursor=<n>&limit=<n>
    GET  /api/v1/scans/<id>/report.jsonl | report.csv | report.html   (streamed downloads)
    GET  /api/v1/scans/webhook-secret        the secret that signs this account's webhooks
    POST /api/v1/scans/webhook-secret/rotate
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from registry.api.base import ApiView
from registry.api.errors import ErrorCode, error_response
from registry.apikeys.permissions import HasScope
from registry.scans import intake, reports, selectors, services, webhook_targets, webhooks
from registry.scans.models import ScanJob
from registry.works.archives import format_size

TAGS = ["scans"]


def _owner_and_organisation(request: Request):
    """(owner, organisation) of a new job: a personal key's owner, or an organisation key's organisation."""
    key = request.auth
    if key.organisation_id:
        return None, key.organisation
    return request.user, None


def _account(request: Request):
    """The account whose webhook secret signs this key's jobs (a person or an organisation)."""
    owner, organisation = _owner_and_organisation(request)
    return organisation or owner


def _links(request: Request, job: ScanJob) -> dict:
    def url(name: str, **kw) -> str:
        return request.build_absolute_uri(reverse(f"api:{name}", kwargs={"public_id": job.public_id, **kw}))

    return {
        "self": url("scan"),
        "cancel": url("scan-cancel"),
        "results": url("scan-results"),
        "report_jsonl": url("scan-report", fmt="jsonl"),
        "report_csv": url("scan-report", fmt="csv"),
        "report_html": url("scan-report", fmt="html"),
    }


@extend_schema_serializer(component_name="ScanJob")
class JobOutput(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    name = serializers.CharField()
    # A plain string (not an enum) so the schema's enum names do not collide with Work.source.
    source = serializers.CharField(help_text="jsonl, archive or samples.")
    status = serializers.ChoiceField(choices=ScanJob.Status.choices)
    # The organisation's slug; a plain CharField so the schema knows its type.
    organisation = serializers.CharField(
        source="organisation.slug", read_only=True, allow_null=True, default=None
    )
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    matched = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="Archive files that were not samples (binary, empty...).")
    samples_per_second = serializers.FloatField(allow_null=True)
    eta_seconds = serializers.FloatField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    webhook_url = serializers.CharField()
    webhook_status = serializers.CharField()
    error = serializers.CharField()
    links = serializers.DictField(child=serializers.CharField())


@extend_schema_serializer(component_name="ScanJobList")
class JobListOutput(serializers.Serializer):
    results = JobOutput(many=True)


def job_data(request: Request, job: ScanJob) -> dict:
    progress = selectors.scan_progress(job=job)
    data = JobOutput(
        {
            "public_id": job.public_id,
            "name": job.name,
            "source": job.source,
            "status": job.status,
            "organisation": job.organisation,
            "total": job.total,
            "done": job.done,
            "failed": job.failed,
            "matched": job.matched,
            "skipped": job.skipped,
            "samples_per_second": progress.samples_per_second,
            "eta_seconds": progress.eta_seconds,
            "created_at": job.created_at,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
            "webhook_url": job.webhook_url,
            "webhook_status": job.webhook_status,
            "error": job.error,
            "links": _links(request, job),
        }
    ).data
    return data


class _ScanApi(ApiView):
    permission_classes = [HasScope("filter")]

    def job(self, request: Request, public_id: str) -> ScanJob:
        return selectors.scan_get(principal=request.user, public_id=public_id)


class ScanListApi(_ScanApi):
    parser_classes = [JSONParser, MultiPartParser]

    class SampleInput(serializers.Serializer):
        id = serializers.CharField(required=False, allow_blank=True, max_length=500)
        text = serializers.CharField(allow_blank=True, trim_whitespace=False)
        language = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=64)

    @extend_schema_serializer(component_name="ScanCreate")
    class Input(serializers.Serializer):
        name = serializers.CharField(required=False, allow_blank=True, max_length=200)
        webhook_url = serializers.URLField(
            required=False,
            allow_blank=True,
            max_length=2000,
            help_text="POSTed a signed summary when the job ends.",
        )
        file = serializers.FileField(
            required=False,
            allow_empty_file=True,  # intake says "the file is empty" in its own words
            help_text="A .jsonl file (one {id, text, language} per line), or a .zip / .tar.gz.",
        )
        samples = serializers.ListField(child=serializers.DictField(), required=False)

        def validate_webhook_url(self, value: str) -> str:
            try:
                webhook_targets.check_url(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from exc
            return value

        def validate(self, attrs):
            if bool(attrs.get("file")) == bool(attrs.get("samples") is not None):
                raise serializers.ValidationError(
                    'Send either a file (multipart field "file") or a JSON list "samples", not both.'
                )
            if attrs.get("samples") is not None:
                items = ScanListApi.SampleInput(data=attrs["samples"], many=True)
                if not items.is_valid():
                    errors = items.errors
                    # DRF gives a list with {} for valid items, or (newer) a dict by index.
                    pairs = errors.items() if isinstance(errors, dict) else enumerate(errors)
                    problems = {f"samples[{i}]": e for i, e in pairs if e}
                    # The first few are enough to fix the client.
                    raise serializers.ValidationError(dict(list(problems.items())[:20]))
                attrs["samples"] = items.validated_data
            return attrs

    @extend_schema(operation_id="scans_list", summary="List scans", responses={200: JobListOutput}, tags=TAGS)
    def get(self, request: Request) -> Response:
        jobs = selectors.scan_list(principal=request.user)[:100]
        return Response({"results": [job_data(request, job) for job in jobs]})

    @extend_schema(
        operation_id="scans_create",
        summary="Create a scan",
        request={"multipart/form-data": Input, "application/json": Input},
        responses={202: JobOutput},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        limit = intake.max_scan_bytes()
        if length > limit:
            # Checked before the body is read: a too-large JSON body is never parsed.
            message = (
                f"The request is {format_size(length)}; the limit is {format_size(limit)}. "
                "Split it into several scans."
            )
            return error_response(ErrorCode.INVALID, message, errors={"file": [message]})
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        owner, organisation = _owner_and_organisation(request)
        field = "file" if values.get("file") else "samples"
        try:
            if field == "file":
                source = intake.read_upload(values["file"])
            else:
                source = intake.read_samples(values["samples"])
            job = services.scan_create(
                intake=source,
                owner=owner,
                organisation=organisation,
                name=values.get("name", ""),
                webhook_url=values.get("webhook_url", ""),
            )
        except intake.IntakeError as exc:
            return error_response(ErrorCode.INVALID, str(exc), errors={field: [str(exc)]})
        job.refresh_from_db()
        return Response(job_data(request, job), status=status.HTTP_202_ACCEPTED)


class ScanDetailApi(_ScanApi):
    @extend_schema(
        operation_id="scans_get",
        summary="A scan's progress",
        responses={200: JobOutput},
        tags=TAGS,
        description="Progress (done / total, samples per second, seconds left), the first failed "
        "samples, and once finished the summary by licence and by work.",
    )
    def get(self, request: Request, public_id: str) -> Response:
        job = self.job(request, public_id)
        data = job_data(request, job)
        data["failed_samples"] = [
            {"sample_index": r.sample_index, "id": r.sample_id, "error": r.error}
            for r in selectors.scan_failed_samples(job=job, limit=20)
        ]
        if job.status == ScanJob.Status.FINISHED:
            data["summary"] = selectors.scan_summary(job=job)
        if job.skipped:
            data["skipped_files"] = job.intake_report.get("skipped", [])[:100]
        return Response(data)


class ScanCancelApi(_ScanApi):
    @extend_schema(
        operation_id="scans_cancel",
        summary="Cancel a scan",
        request=None,
        responses={200: JobOutput},
        tags=TAGS,
    )
    def post(self, request: Request, public_id: str) -> Response:
        job = self.job(request, public_id)
        services.scan_cancel(job=job)
        return Response(job_data(request, job))


def _bool(value: str | None, name: str) -> bool | None:
    if value is None or value == "":
        return None
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise serializers.ValidationError({name: [f"Use true or false, not {value!r}."]})


class ScanResultsApi(_ScanApi):
    @extend_schema(
        operation_id="scans_results",
        summary="A page of a scan's results",
        parameters=[
            OpenApiParameter(
                "matched", OpenApiTypes.BOOL, description="Only matched (true) or unmatched (false)."
            ),
            OpenApiParameter(
                "failed", OpenApiTypes.BOOL, description="Only failed (true) or scanned (false)."
            ),
            OpenApiParameter("cursor", OpenApiTypes.STR, description="`next_cursor` of the previous page."),
            OpenApiParameter("limit", OpenApiTypes.INT, description="1 to 1000, default 100."),
        ],
        responses={200: OpenApiTypes.OBJECT},
        tags=TAGS,
    )
    def get(self, request: Request, public_id: str) -> Response:
        job = self.job(request, public_id)
        params = request.query_params
        matched = _bool(params.get("matched"), "matched")
        failed = _bool(params.get("failed"), "failed")
        try:
            after = int(params.get("cursor") or -1)
            limit = int(params.get("limit") or selectors.RESULTS_PAGE)
        except ValueError:
            raise serializers.ValidationError(
                {"cursor": ["cursor and limit must be whole numbers; use next_cursor as given."]}
            ) from None
        rows, cursor = selectors.scan_results(
            job=job, matched=matched, failed=failed, after=after, limit=limit
        )
        next_url = None
        if cursor is not None:
            query = params.copy()
            query["cursor"] = str(cursor)
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(
            {
                "results": [reports.result_dict(r) for r in rows],
                "next_cursor": str(cursor) if cursor is not None else None,
                "next": next_url,
            }
        )


class _AnyFormat(BaseContentNegotiation):
    """Downloads ignore Accept (a browser or curl asks for text/csv or */*); errors stay JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ScanReportApi(_ScanApi):
    content_negotiation_class = _AnyFormat

    @extend_schema(
        operation_id="scans_report",
        summary="Download a scan's results (JSON Lines, CSV or HTML)",
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR},
        tags=TAGS,
    )
    def get(self, request: Request, public_id: str, fmt: str):
        job = self.job(request, public_id)
        if fmt not in reports.FORMATS:
            raise NotFound(f"There is no report.{fmt}; use report.jsonl, report.csv or report.html.")
        return reports.streaming_report(job, fmt)


@extend_schema_serializer(component_name="WebhookSecret")
class WebhookSecretOutput(serializers.Serializer):
    secret = serializers.CharField()
    header = serializers.CharField()
    algorithm = serializers.CharField()


def _secret_data(secret: str) -> dict:
    return WebhookSecretOutput(
        {
            "secret": secret,
            "header": webhooks.HEADER,
            "algorithm": "sha256=<hex HMAC-SHA256 of the raw request body, keyed with the secret>",
        }
    ).data


class WebhookSecretApi(ApiView):
    permission_classes = [HasScope("filter")]

    @extend_schema(
        operation_id="scans_webhook_secret",
        summary="The webhook signing secret",
        responses={200: WebhookSecretOutput},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return Response(_secret_data(webhooks.webhook_secret(account=_account(request))))


class WebhookSecretRotateApi(ApiView):
    permission_classes = [HasScope("filter")]

    @extend_schema(
        operation_id="scans_webhook_secret_rotate",
        summary="Replace the webhook signing secret",
        request=None,
        responses={200: WebhookSecretOutput},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        return Response(_secret_data(webhooks.webhook_secret_rotate(account=_account(request))))
