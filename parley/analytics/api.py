"""The analytics API: metrics, breakdowns, flow, failure points, agents, economics, A/B, drill-down,
CSV exports, PDF report jobs (rendered by a worker), alert rules and history, notifications, QA scores
and CSAT surveys.

Every endpoint reads pre-computed facts and roll-ups (no model inference inside a request) and
accepts the same filters: ``start, end, channel, channel_type, assistant, team, agent, intent,
topic, language, source, business_hours``. Analysts and above may read.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from parley.accounts.roles import ANALYSTS, SUPERVISORS
from parley.analytics import actions, agents, economics, reports
from parley.analytics.exports import EXPORT_TABLES, export_csv
from parley.analytics.facts import load_turns
from parley.analytics.flow import customer_state
from parley.analytics.metrics import cube, support
from parley.analytics.metrics.query import filtered_facts
from parley.analytics.models import (
    AlertEvent,
    AlertRule,
    ConversationFact,
    CsatSurvey,
    Notification,
    QAScore,
    ReportJob,
    ReportStatus,
)
from parley.analytics.serializers import (
    PASSTHROUGH_PARAMS,
    ABQuerySerializer,
    AlertEventSerializer,
    AlertRuleSerializer,
    AnalyticsFilterSerializer,
    BreakdownQuerySerializer,
    ConversationFactSerializer,
    CsatSurveySerializer,
    DrilldownQuerySerializer,
    ExportQuerySerializer,
    NotificationSerializer,
    QAOverrideSerializer,
    QAScoreSerializer,
    ReportJobSerializer,
    TimeseriesQuerySerializer,
)
from parley.conversations.models import Conversation
from parley.core.api import TenantScopedMixin, auth_context
from parley.core.errors import DomainError, ErrorCode
from parley.core.pagination import DefaultPagination


def _query(request: Request, serializer_class: type[serializers.Serializer[Any]]) -> Any:
    data = {k: v for k, v in request.query_params.items() if k not in PASSTHROUGH_PARAMS}
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer


class AnalyticsView(APIView):
    """Base: analysts, supervisors, admins and owners read; scoped to the caller's tenant."""

    read_roles = ANALYSTS
    write_roles = ANALYSTS

    @property
    def tenant(self) -> Any:
        return auth_context(self.request).tenant


OBJECT_200 = {200: OpenApiTypes.OBJECT}


class SummaryView(AnalyticsView):
    @extend_schema(
        parameters=[AnalyticsFilterSerializer],
        responses=OBJECT_200,
        summary="Support metrics",
        description="Conversations, unique customers, first response / reply / handle / resolution / queue times "
        "(average and median), resolution, AI resolution, deflection, handover, reopen and durable resolution rates, "
        "CSAT, QA, sentiment change and failure rate; `business_hours=true` counts durations in business hours.",
    )
    def get(self, request: Request) -> Response:
        query = _query(request, AnalyticsFilterSerializer)
        flt = query.to_filter()
        return Response(support.summary_for(self.tenant, flt))


class BreakdownView(AnalyticsView):
    @extend_schema(parameters=[BreakdownQuerySerializer], responses=OBJECT_200, summary="Support metrics per dimension")
    def get(self, request: Request) -> Response:
        query = _query(request, BreakdownQuerySerializer)
        flt = query.to_filter()
        rows = support.breakdown_for(self.tenant, flt, query.validated_data["by"])
        return Response({"by": query.validated_data["by"], "rows": rows})


class TimeseriesView(AnalyticsView):
    @extend_schema(parameters=[TimeseriesQuerySerializer], responses=OBJECT_200, summary="Daily metrics from the roll-up table")
    def get(self, request: Request) -> Response:
        query = _query(request, TimeseriesQuerySerializer)
        data = query.validated_data
        return Response(
            {"points": support.timeseries(self.tenant, query.to_filter(), dimension=data["dimension"], key=data["key"])}
        )


class CsatView(AnalyticsView):
    @extend_schema(parameters=[AnalyticsFilterSerializer], responses=OBJECT_200, summary="CSAT distribution (1-5)")
    def get(self, request: Request) -> Response:
        flt = _query(request, AnalyticsFilterSerializer).to_filter()
        return Response(support.csat_for(self.tenant, flt))


class FlowView(AnalyticsView):
    @extend_schema(
        parameters=[AnalyticsFilterSerializer, OpenApiParameter("max_steps", int, description="Sankey depth (2-12)")],
        responses=OBJECT_200,
        summary="Conversation flow",
        description="State transition graph (intents, handover, outcomes) with counts, Sankey nodes/links, typical "
        "paths per outcome, and the dialogue-act graph of imported SGD dialogues.",
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("max_steps", "6")
        if not raw.isdigit() or not 2 <= int(raw) <= 12:
            raise serializers.ValidationError({"max_steps": ["an integer between 2 and 12"]})
        data = {k: v for k, v in request.query_params.items() if k not in PASSTHROUGH_PARAMS | {"max_steps"}}
        query = AnalyticsFilterSerializer(data=data)
        query.is_valid(raise_exception=True)
        return Response(reports.flow_report_for(self.tenant, query.to_filter(), max_steps=int(raw)))


class FailuresView(AnalyticsView):
    @extend_schema(
        parameters=[AnalyticsFilterSerializer], responses=OBJECT_200, summary="Failure points, aggregated with examples"
    )
    def get(self, request: Request) -> Response:
        flt = _query(request, AnalyticsFilterSerializer).to_filter()
        return Response(reports.failure_report_for(self.tenant, flt))


class AgentsView(AnalyticsView):
    @extend_schema(parameters=[AnalyticsFilterSerializer], responses=OBJECT_200, summary="Agents and assistants side by side")
    def get(self, request: Request) -> Response:
        flt = _query(request, AnalyticsFilterSerializer).to_filter()
        return Response({"rows": agents.agent_performance_for(self.tenant, flt)})


class EconomicsView(AnalyticsView):
    @extend_schema(
        parameters=[AnalyticsFilterSerializer], responses=OBJECT_200, summary="Tokens, cost, tool usage, payment conversion"
    )
    def get(self, request: Request) -> Response:
        flt = _query(request, AnalyticsFilterSerializer).to_filter()
        return Response(economics.economics_for(self.tenant, flt))


class ABTestView(AnalyticsView):
    @extend_schema(parameters=[ABQuerySerializer], responses=OBJECT_200, summary="Compare two assistant prompt versions")
    def get(self, request: Request) -> Response:
        query = _query(request, ABQuerySerializer)
        data = query.validated_data
        flt = AnalyticsFilterSerializer(
            data={k: v for k, v in request.query_params.items() if k not in PASSTHROUGH_PARAMS | {"a", "b"}}
        )
        flt.is_valid(raise_exception=True)
        return Response(economics.ab_comparison_for(self.tenant, flt.to_filter(), data["a"], data["b"]))


class DrilldownView(AnalyticsView):
    @extend_schema(
        parameters=[DrilldownQuerySerializer],
        responses={200: ConversationFactSerializer(many=True)},
        summary="The conversations behind a number",
        description="Same filters as the metrics plus the condition of the number (outcome, flags, failure_kind, csat, ...).",
    )
    def get(self, request: Request) -> Response:
        query = _query(request, DrilldownQuerySerializer)
        flt = query.to_filter()
        queryset = support.drilldown_filter(filtered_facts(self.tenant, flt), query.drill()).order_by("-started_at")
        count = cube.drilldown_count(self.tenant, flt, query.drill())
        paginator = DefaultPagination()
        rows: Any = queryset if count is None else _Counted(queryset, count)
        page: Any = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(ConversationFactSerializer(page, many=True).data)


class _Counted:
    """A queryset to paginate whose total is already known (from the roll-ups), so it is not counted again."""

    def __init__(self, queryset: Any, total: int) -> None:
        self.queryset = queryset
        self.total = total
        self.ordered = True

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index: Any) -> Any:
        return self.queryset[index]


class ConversationDetailView(AnalyticsView):
    @extend_schema(responses=OBJECT_200, summary="One conversation: turns with states, failure points and facts")
    def get(self, request: Request, conversation_id: str) -> Response:
        conversation = get_object_or_404(Conversation, pk=conversation_id, tenant=self.tenant)
        fact = ConversationFact.objects.filter(conversation=conversation).first()
        if fact is None or fact.computed_at < conversation.updated_at:
            actions.refresh_facts([str(conversation.id)])
            fact = ConversationFact.objects.get(conversation=conversation)
        turns = load_turns([conversation.id]).get(str(conversation.id), [])
        failures_by_turn: dict[Any, list[dict[str, Any]]] = {}
        for point in fact.failure_points:
            failures_by_turn.setdefault(point.get("turn_index"), []).append(point)
        return Response(
            {
                "conversation_id": str(conversation.id),
                "fact": ConversationFactSerializer(fact).data,
                "act_path": fact.act_path,
                "turns": [
                    {
                        "index": t.index,
                        "message_id": t.message_id,
                        "created_at": t.created_at,
                        "sender_type": t.sender_type,
                        "text": t.text,
                        "state": customer_state(t) if t.from_customer and t.analysed else t.sender_type,
                        "intent": t.intent,
                        "sentiment": t.sentiment,
                        "sentiment_score": t.sentiment_score,
                        "acts": t.acts,
                        "service": t.service,
                        "failures": failures_by_turn.get(t.index, []),
                    }
                    for t in turns
                ],
            }
        )


class ExportView(AnalyticsView):
    @extend_schema(
        parameters=[ExportQuerySerializer],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV with a header row")},
        summary="CSV export of an analytics table",
        description=f"Tables: {', '.join(EXPORT_TABLES)}. `conversations` has one row per conversation.",
    )
    def get(self, request: Request, table: str) -> StreamingHttpResponse | Response:
        if table not in EXPORT_TABLES:
            return Response(
                {"detail": f"unknown table {table!r}; one of: {', '.join(EXPORT_TABLES)}", "code": "not_found"},
                status=status.HTTP_404_NOT_FOUND,
            )
        query = _query(request, ExportQuerySerializer)
        extra = {**query.drill(), "by": query.validated_data.get("by")}
        flt = query.to_filter()
        response = StreamingHttpResponse(export_csv(self.tenant, table, flt, extra), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d")
        response["Content-Disposition"] = f'attachment; filename="parley-{table}-{stamp}.csv"'
        return response


class ReportJobViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """PDF reports with charts: ask for one (a worker renders it), follow it, download it when done."""

    queryset = ReportJob.objects.order_by("-created_at")
    serializer_class = ReportJobSerializer
    pagination_class = DefaultPagination
    read_roles = ANALYSTS
    write_roles = ANALYSTS
    filterset_fields = ["status", "requested_by"]

    @extend_schema(
        request=AnalyticsFilterSerializer,
        responses={
            202: ReportJobSerializer,
            400: OpenApiResponse(description="Invalid filters, with the reason per field"),
        },
        summary="Ask for a PDF report",
        description="The filters of every analytics endpoint, as a JSON body (all optional). Answers 202 with the "
        "queued job; a worker renders it. Poll `GET …/reports/<id>/` (or wait for the `analytics.report.finished` "
        "event on the inbox socket), then download `…/reports/<id>/file/`.",
    )
    def create(self, request: Request) -> Response:
        query = AnalyticsFilterSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        context = auth_context(request)
        job = actions.request_report(tenant=self.tenant, flt=query.to_filter(), user=context.user, actor=context.actor_label)
        return Response(ReportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF report"),
            409: OpenApiResponse(description="The report is not rendered (yet): queued, rendering or failed, with why"),
        },
        summary="Download a rendered PDF report",
    )
    @action(detail=True, methods=["get"])
    def file(self, request: Request, pk: str | None = None) -> FileResponse:
        """The PDF (409 with the reason while the job is queued, rendering or failed)."""
        job = self.get_object()
        if job.status == ReportStatus.FAILED:
            raise DomainError(f"the report failed: {job.error}", code=ErrorCode.CONFLICT, status_code=409)
        if job.status != ReportStatus.DONE or not job.file:
            if job.status == ReportStatus.RUNNING:
                where = f"rendering, {job.progress}%"
            else:
                where = f"queued; {job.error}" if job.error else "queued"
            raise DomainError(
                f"the report is not ready yet ({where}); download it when its status is done",
                code=ErrorCode.CONFLICT,
                status_code=409,
            )
        response = FileResponse(job.file.open("rb"), content_type="application/pdf", as_attachment=True, filename=job.filename)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=3600"
        return response


class AlertRuleViewSet(TenantScopedMixin, viewsets.ModelViewSet):  # type: ignore[type-arg]
    """Threshold and anomaly rules; supervisors edit, analysts read."""

    queryset = AlertRule.objects.all()
    serializer_class = AlertRuleSerializer
    read_roles = ANALYSTS
    write_roles = SUPERVISORS
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = actions.create_alert_rule(
            tenant=self.tenant, data=dict(serializer.validated_data), actor=auth_context(self.request).actor_label
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = actions.update_alert_rule(
            rule=serializer.instance, data=dict(serializer.validated_data), actor=auth_context(self.request).actor_label
        )

    def perform_destroy(self, instance: AlertRule) -> None:
        actions.delete_alert_rule(rule=instance, actor=auth_context(self.request).actor_label)

    @extend_schema(request=None, responses={200: AlertEventSerializer(many=True)})
    @action(detail=True, methods=["post"])
    def evaluate(self, request: Request, pk: str | None = None) -> Response:
        """Evaluate the rule now (fires it if it matches and is not cooling down)."""
        event = actions.evaluate_and_fire(str(self.get_object().pk))
        return Response(AlertEventSerializer([event] if event else [], many=True).data)


class AlertEventViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Alert history."""

    queryset = AlertEvent.objects.select_related("rule")
    serializer_class = AlertEventSerializer
    read_roles = ANALYSTS
    write_roles = SUPERVISORS
    filterset_fields = ["rule", "metric"]


class NotificationViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """In-app notifications (alerts) for the tenant's supervisors and analysts."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    read_roles = ANALYSTS
    write_roles = ANALYSTS
    filterset_fields = ["kind"]

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        """Mark the notification read."""
        return Response(NotificationSerializer(actions.mark_notification_read(notification=self.get_object())).data)


class QAScoreViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Automatic QA scores; a supervisor may override one."""

    queryset = QAScore.objects.all()
    serializer_class = QAScoreSerializer
    read_roles = ANALYSTS
    write_roles = SUPERVISORS
    filterset_fields = ["conversation", "method"]

    @extend_schema(request=QAOverrideSerializer, responses={200: QAScoreSerializer})
    @action(detail=True, methods=["post"])
    def override(self, request: Request, pk: str | None = None) -> Response:
        """Set the score that counts (0-100), or clear the override with ``null``."""
        qa = self.get_object()
        data = QAOverrideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        context = auth_context(request)
        qa = actions.override_qa_score(
            qa=qa,
            score=data.validated_data["override_score"],
            note=data.validated_data.get("override_note", ""),
            user=context.user,
            actor=context.actor_label,
        )
        return Response(QAScoreSerializer(qa).data)


class CsatSurveyViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Post-conversation surveys and their answers."""

    queryset = CsatSurvey.objects.all()
    serializer_class = CsatSurveySerializer
    read_roles = ANALYSTS
    write_roles = SUPERVISORS
    filterset_fields = ["status", "score", "conversation", "channel"]
