"""REST API of the knowledge base: sources, documents (upload, status, re-index), search, coverage, settings."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.accounts.roles import ALL_ROLES, ANALYSTS, MANAGERS, SUPERVISORS, SUPPORT
from parley.core.api import TenantScopedMixin, auth_context
from parley.core.errors import DomainError, ErrorCode
from parley.core.uploads import check_upload_clean
from parley.knowledge import actions
from parley.knowledge.conf import knowledge_setting
from parley.knowledge.coverage import CLUSTER_SIMILARITY, coverage_csv, coverage_report
from parley.knowledge.models import KnowledgeChunk, KnowledgeDocument, KnowledgeSettings, KnowledgeSource, SourceKind
from parley.knowledge.retrieval import WEAK_SCORE, search
from parley.knowledge.serializers import (
    CoverageQuerySerializer,
    DocumentUpdateSerializer,
    KnowledgeDocumentSerializer,
    KnowledgeSettingsSerializer,
    KnowledgeSourceSerializer,
    SearchQuerySerializer,
    SearchResponseSerializer,
    TextDocumentSerializer,
    UploadSerializer,
)


class KnowledgeSourceViewSet(TenantScopedMixin, viewsets.ModelViewSet):  # type: ignore[type-arg]
    """Sources of documents; creating a url/sitemap source starts a crawl in the background."""

    queryset = KnowledgeSource.objects.all()
    serializer_class = KnowledgeSourceSerializer
    read_roles = ALL_ROLES
    write_roles = SUPERVISORS
    filterset_fields = ["kind", "enabled"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().annotate(document_count=Count("documents")).order_by("name", "id")

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = actions.create_source(tenant=self.tenant, data=dict(serializer.validated_data))

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = actions.update_source(source=serializer.instance, changes=dict(serializer.validated_data))

    def perform_destroy(self, instance: KnowledgeSource) -> None:
        actions.delete_source(source=instance)

    @extend_schema(request=None, responses={202: KnowledgeSourceSerializer})
    @action(detail=True, methods=["post"])
    def sync(self, request: Request, pk: str | None = None) -> Response:
        """Fetch a url or sitemap source again (in the background); unchanged pages are skipped."""
        source = self.get_object()
        if source.kind not in (SourceKind.URL, SourceKind.SITEMAP):
            raise DomainError("only url and sitemap sources can be synced")
        actions.request_sync(source=source)
        return Response(self.get_serializer(source).data, status=status.HTTP_202_ACCEPTED)


class KnowledgeDocumentViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Documents with their indexing status and progress; upload files, add text, re-index, delete."""

    queryset = KnowledgeDocument.objects.select_related("source")
    serializer_class = KnowledgeDocumentSerializer
    read_roles = ALL_ROLES
    write_roles = SUPERVISORS
    filterset_fields = ["source", "status", "language"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @extend_schema(request=TextDocumentSerializer, responses={201: KnowledgeDocumentSerializer, 200: KnowledgeDocumentSerializer})
    def create(self, request: Request) -> Response:
        """Add (or replace) a text/Markdown document typed in the dashboard."""
        data = TextDocumentSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = actions.add_text_document(
            source=values["source"], title=values["title"], text=values["text"], tags=values.get("tags")
        )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(self.get_serializer(result.document).data, status=code)

    @extend_schema(request=DocumentUpdateSerializer, responses={200: KnowledgeDocumentSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        document = self.get_object()
        data = DocumentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = actions.update_document(document=document, changes=dict(data.validated_data))
        return Response(self.get_serializer(document).data)

    def perform_destroy(self, instance: KnowledgeDocument) -> None:
        actions.delete_document(document=instance)

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        responses={201: KnowledgeDocumentSerializer, 200: KnowledgeDocumentSerializer},
    )
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser])
    def upload(self, request: Request) -> Response:
        """Upload a file (Markdown, HTML, PDF, text, DOCX, CSV/XLSX Q&A). Same bytes again: 200, nothing re-indexed."""
        limit = int(knowledge_setting("MAX_UPLOAD_BYTES"))
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > limit + 64 * 1024:  # refuse before reading the body
            raise DomainError(f"the upload is {declared} bytes; the limit is {limit} bytes", ErrorCode.PAYLOAD_TOO_LARGE, 413)
        data = UploadSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        upload = values["file"]
        actions.check_upload_size(upload.size or 0)
        check_upload_clean(upload)  # 422 when clamd finds malware, 503 when it cannot scan (PARLEY_CLAMD_ADDRESS)
        result = actions.add_document(
            source=values["source"],
            data=upload.read(),
            filename=upload.name or "upload",
            content_type=upload.content_type or "",
            title=values["title"],
            tags=values["tags"] or None,
            language=values["language"],
        )
        code = status.HTTP_201_CREATED if result.created or result.changed else status.HTTP_200_OK
        return Response(self.get_serializer(result.document).data, status=code)

    @extend_schema(request=None, responses={202: KnowledgeDocumentSerializer})
    @action(detail=True, methods=["post"])
    def reindex(self, request: Request, pk: str | None = None) -> Response:
        """Parse, chunk and embed the stored file again."""
        document = actions.reindex_document(document=self.get_object())
        return Response(self.get_serializer(document).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def chunks(self, request: Request, pk: str | None = None) -> Response:
        """The document's chunks in order (text, heading path, token count)."""
        document = self.get_object()
        rows = KnowledgeChunk.objects.filter(tenant=self.tenant, document=document).order_by("position")
        return Response(
            [
                {
                    "id": str(c.id),
                    "position": c.position,
                    "heading_path": c.heading_path,
                    "text": c.text,
                    "token_count": c.token_count,
                }
                for c in rows.only("id", "position", "heading_path", "text", "token_count")
            ]
        )


class KnowledgeSearchView(APIView):
    """``GET /api/v1/knowledge/search?q=`` — hybrid search for people (not recorded for coverage)."""

    read_roles = ALL_ROLES

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True),
            OpenApiParameter("k", int),
            OpenApiParameter("source", str, many=True),
            OpenApiParameter("tag", str, many=True),
            OpenApiParameter("language", str),
        ],
        responses={200: SearchResponseSerializer},
    )
    def get(self, request: Request) -> Response:
        params = {
            "q": request.query_params.get("q", ""),
            "k": request.query_params.get("k", 5),
            **({"source": request.query_params.getlist("source")} if "source" in request.query_params else {}),
            **({"tag": request.query_params.getlist("tag")} if "tag" in request.query_params else {}),
            **({"language": request.query_params["language"]} if "language" in request.query_params else {}),
        }
        data = SearchQuerySerializer(data=params)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        results = search(
            tenant=auth_context(request).tenant,
            query=values["q"],
            k=values["k"],
            source_ids=values.get("source"),
            tags=values.get("tag"),
            language=values.get("language"),
        )
        return Response({"query": values["q"], "results": [r.model_dump() for r in results]})


class CSVRenderer(BaseRenderer):
    """Lets ``?format=csv`` through DRF's content negotiation; the view builds the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data if isinstance(data, bytes) else str(data).encode()


class KnowledgeCoverageView(APIView):
    """``GET /api/v1/knowledge/coverage`` — weakly answered questions clustered; ``?format=csv`` exports."""

    read_roles = SUPPORT | ANALYSTS
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str),
            OpenApiParameter("threshold", float),
            OpenApiParameter("similarity", float),
            OpenApiParameter("limit", int),
            OpenApiParameter("format", str, enum=["json", "csv"]),
        ],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response | HttpResponse:
        data = CoverageQuerySerializer(data=request.query_params.dict())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        report = coverage_report(
            tenant=auth_context(request).tenant,
            since=values.get("since"),
            threshold=values.get("threshold", WEAK_SCORE),
            similarity=values.get("similarity", CLUSTER_SIMILARITY),
            limit=values["limit"],
        )
        if values["format"] == "csv":
            response = HttpResponse(coverage_csv(report), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="knowledge-coverage.csv"'
            return response
        return Response(report.model_dump(mode="json"))


class KnowledgeSettingsView(APIView):
    """``GET/PUT /api/v1/knowledge/settings`` — the tenant's embedder (changing it re-indexes everything)."""

    read_roles = MANAGERS
    write_roles = MANAGERS
    parser_classes = [JSONParser]

    @extend_schema(responses={200: KnowledgeSettingsSerializer})
    def get(self, request: Request) -> Response:
        tenant = auth_context(request).tenant
        current = KnowledgeSettings.objects.filter(tenant=tenant).first() or KnowledgeSettings(tenant=tenant)
        return Response(KnowledgeSettingsSerializer(current).data)

    @extend_schema(request=KnowledgeSettingsSerializer, responses={200: KnowledgeSettingsSerializer})
    def put(self, request: Request) -> Response:
        data = KnowledgeSettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        current = actions.configure_embedder(tenant=auth_context(request).tenant, data=dict(data.validated_data))
        return Response(KnowledgeSettingsSerializer(current).data)
