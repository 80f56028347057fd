"""The model registry over HTTP (analysts read, admins promote) and an on-demand analysis endpoint."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.accounts.roles import ALL_ROLES, ANALYSTS, MANAGERS
from parley.core.api import StrictSerializer, TenantScopedMixin, auth_context
from parley.core.errors import DomainError, ErrorCode
from parley.core.pagination import DefaultPagination
from parley.intelligence import actions
from parley.intelligence.models import DatasetImport, ModelKind, ModelPromotion, ModelVersion, TrainingJob
from parley.intelligence.serializers import (
    CompareQuerySerializer,
    DatasetImportCreateSerializer,
    DatasetImportSerializer,
    ModelVersionSerializer,
    TrainingJobCreateSerializer,
    TrainingJobSerializer,
    compare_versions,
)


class ModelVersionViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Trained model versions visible to the tenant (its own and the shared ones); compare and promote."""

    queryset = ModelVersion.objects.all()
    serializer_class = ModelVersionSerializer
    pagination_class = DefaultPagination
    read_roles = ANALYSTS
    write_roles = MANAGERS

    def get_queryset(self) -> QuerySet[Any]:
        queryset = ModelVersion.objects.filter(Q(tenant=self.tenant) | Q(tenant__isnull=True))
        kind = self.request.query_params.get("kind")
        if kind:
            if kind not in ModelKind.values:
                raise DomainError(f"kind must be one of {', '.join(ModelKind.values)}", code=ErrorCode.INVALID, status_code=400)
            queryset = queryset.filter(kind=kind)
        return queryset

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["promoted_ids"] = set(
            ModelPromotion.objects.filter(tenant=self.tenant).values_list("model_version_id", flat=True)
        )
        return context

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, description="intent, sentiment or topics")],
        responses={200: ModelVersionSerializer(many=True)},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[CompareQuerySerializer], responses={200: dict})
    @action(detail=True, methods=["get"])
    def compare(self, request: Request, pk: str | None = None) -> Response:
        """This version against ``?other=<id>``: metrics with differences, changed parameters, same data or not."""
        query = CompareQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        other = self.get_queryset().filter(pk=query.validated_data["other"]).first()
        if other is None:
            raise DomainError("no such model version", code=ErrorCode.NOT_FOUND, status_code=404)
        return Response(compare_versions(self.get_object(), other))

    @extend_schema(request=None, responses={200: ModelVersionSerializer})
    @action(detail=True, methods=["post"])
    def promote(self, request: Request, pk: str | None = None) -> Response:
        """Make this version the tenant's live model of its kind."""
        version = self.get_object()
        actions.promote_model_version(version=version, tenant=self.tenant, actor=auth_context(request).actor_label)
        context = self.get_serializer_context()
        context["promoted_ids"] = {version.pk}
        return Response(ModelVersionSerializer(version, context=context).data)


class AnalyseSerializer(StrictSerializer):
    texts = serializers.ListField(
        child=serializers.CharField(allow_blank=True, max_length=5000, trim_whitespace=False), min_length=1, max_length=100
    )


class AnalyseView(APIView):
    """Run the live analysis (intent, out of scope, sentiment, language) on up to 100 texts."""

    read_roles = ALL_ROLES
    write_roles = ALL_ROLES

    @extend_schema(request=AnalyseSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        from parley.intelligence.pipeline import analyse_batch

        data = AnalyseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = analyse_batch(list(data.validated_data["texts"]), tenant_id=str(auth_context(request).tenant.id))
        return Response({"results": [result.model_dump() for result in results]})


class DatasetFormatSerializer(StrictSerializer):
    name = serializers.CharField(help_text="The value to send as an import's ``format``.")
    description = serializers.CharField(help_text="What files the loader reads.")


class DatasetFormatListSerializer(StrictSerializer):
    formats = DatasetFormatSerializer(many=True)


class DatasetFormatsView(APIView):
    """The dataset formats an upload can name (the registered loaders), for the dashboard's import form."""

    read_roles = ANALYSTS
    write_roles = ANALYSTS

    @extend_schema(responses={200: DatasetFormatListSerializer})
    def get(self, request: Request) -> Response:
        from parley.intelligence.datasets import formats

        return Response({"formats": [{"name": name, "description": text} for name, text in sorted(formats().items())]})


class DatasetImportViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Dataset imports: upload a file to import it as conversations (a worker runs it; poll for progress)."""

    queryset = DatasetImport.objects.all()
    serializer_class = DatasetImportSerializer
    pagination_class = DefaultPagination
    read_roles = ANALYSTS
    write_roles = ANALYSTS
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": DatasetImportCreateSerializer}, responses={202: DatasetImportSerializer})
    def create(self, request: Request) -> Response:
        """Upload ``file`` with its ``format`` (optional ``limit``, ``mask_pii``); answers 202 with the queued import."""
        data = DatasetImportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        record = actions.queue_dataset_import(
            tenant=self.tenant,
            format=values["format"],
            upload=values["file"],
            actor=auth_context(request).actor_label,
            limit=values.get("limit"),
            mask_pii=values.get("mask_pii", False),
        )
        return Response(DatasetImportSerializer(record).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: DatasetImportSerializer, 409: dict})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a queued or running import (409 once finished). The worker stops at its next chunk and removes
        what it had imported; ``finished_at`` is set once that is done."""
        record = actions.cancel_dataset_import(record=self.get_object(), actor=auth_context(request).actor_label)
        return Response(DatasetImportSerializer(record).data)


class TrainingJobViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Train a model on an uploaded dataset (a worker runs it; the result is registered, not promoted)."""

    queryset = TrainingJob.objects.all()
    serializer_class = TrainingJobSerializer
    pagination_class = DefaultPagination
    read_roles = ANALYSTS
    write_roles = ANALYSTS

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        wanted = self.request.query_params.get("dataset_import") if self.action == "list" else None
        if wanted:
            try:
                queryset = queryset.filter(dataset_import_id=uuid.UUID(wanted))
            except ValueError:
                raise DomainError("dataset_import must be a dataset import id", code=ErrorCode.INVALID, status_code=400) from None
        return queryset

    @extend_schema(
        parameters=[OpenApiParameter("dataset_import", OpenApiTypes.UUID, description="Only the jobs trained on this import")],
        responses={200: TrainingJobSerializer(many=True)},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Newest first, paged (``?page=``, ``?page_size=``); ``?dataset_import=<id>``: the jobs of one import."""
        return super().list(request, *args, **kwargs)

    @extend_schema(request=TrainingJobCreateSerializer, responses={202: TrainingJobSerializer})
    def create(self, request: Request) -> Response:
        """Queue training; answers 202 with the job. Poll it; when ``done``, ``model_version`` is set."""
        data = TrainingJobCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        source = DatasetImport.objects.filter(tenant=self.tenant, pk=values["dataset_import"]).first()
        if source is None:
            raise DomainError("no such dataset import", code=ErrorCode.NOT_FOUND, status_code=404)
        job = actions.queue_training(
            tenant=self.tenant,
            kind=values["kind"],
            dataset_import=source,
            actor=auth_context(request).actor_label,
            limit=values.get("limit"),
        )
        return Response(TrainingJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: TrainingJobSerializer, 409: dict})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a queued or running training job (409 once finished); the worker stops at its next step and
        registers no model version."""
        job = actions.cancel_training_job(job=self.get_object(), actor=auth_context(request).actor_label)
        return Response(TrainingJobSerializer(job).data)
