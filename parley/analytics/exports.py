"""CSV exports of every analytics table, and the PDF report (matplotlib charts, pypdf metadata)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from django.db.models import QuerySet

from parley.analytics import agents, economics, reports
from parley.analytics.interface import AnalyticsFilter
from parley.analytics.metrics import support
from parley.analytics.metrics.query import filtered_facts
from parley.analytics.models import AlertEvent, ConversationFact, QAScore

CONVERSATION_COLUMNS = [
    "conversation_id",
    "started_at",
    "channel_type",
    "channel_id",
    "assistant_id",
    "agent_id",
    "team",
    "intent",
    "topic",
    "language",
    "source",
    "status",
    "outcome",
    "first_response_s",
    "first_response_bh_s",
    "reply_count",
    "reply_median_s",
    "handle_s",
    "resolution_s",
    "queue_wait_s",
    "resolved",
    "ai_resolved",
    "handed_over",
    "handover_reason",
    "reopened",
    "durable",
    "abandoned",
    "customer_messages",
    "assistant_messages",
    "agent_messages",
    "sentiment_first",
    "sentiment_last",
    "failure_count",
    "failure_kinds",
    "intent_path",
    "csat_score",
    "qa_score",
    "prompt_tokens",
    "completion_tokens",
    "llm_cost",
    "tool_calls",
    "tool_errors",
    "prompt_version",
]


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return " > ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    if value is None:
        return ""
    return value


def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict) and prefix == "":
            flat.update(_flatten(value, f"{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def csv_lines(rows: Iterable[dict[str, Any]], columns: list[str] | None = None) -> Iterator[str]:
    """CSV text, one line at a time (header first); spreadsheet formula injection is neutralised."""
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    for row in rows:
        flat = _flatten(row)
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=columns or list(flat), extrasaction="ignore")
            writer.writeheader()
        cleaned = {}
        for key, value in flat.items():
            value = _cell(value)
            if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_number(value):
                value = "'" + value
            cleaned[key] = value
        writer.writerow(cleaned)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if writer is None:
        if columns:
            csv.writer(buffer).writerow(columns)
        yield buffer.getvalue()


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def conversation_rows(queryset: QuerySet[ConversationFact]) -> Iterator[dict[str, Any]]:
    """One row per conversation (streamed from the database)."""
    fields = [c for c in CONVERSATION_COLUMNS if c != "conversation_id"] + ["conversation_id"]
    for row in queryset.order_by("started_at").values(*fields).iterator(chunk_size=2000):
        yield {c: row[c] for c in CONVERSATION_COLUMNS}


def failure_point_rows(queryset: QuerySet[ConversationFact]) -> Iterator[dict[str, Any]]:
    """One row per failure point of every conversation."""
    for conversation_id, started_at, intent, points in (
        queryset.filter(failure_count__gt=0)
        .order_by("started_at")
        .values_list("conversation_id", "started_at", "intent", "failure_points")
        .iterator(chunk_size=2000)
    ):
        for point in points or []:
            yield {"conversation_id": conversation_id, "started_at": started_at, "intent": intent, **point}


def _tables() -> dict[str, Callable[[Any, AnalyticsFilter, dict[str, Any]], Iterable[dict[str, Any]]]]:
    def facts(tenant: Any, flt: AnalyticsFilter, extra: dict[str, Any]) -> QuerySet[ConversationFact]:
        return support.drilldown_filter(filtered_facts(tenant, flt), extra)

    def plain(extra: dict[str, Any]) -> bool:
        """No drill-down condition: the roll-ups can answer (see the ``*_for`` readers)."""
        return all(v in (None, "") for k, v in extra.items() if k != "by")

    return {
        "summary": lambda t, f, e: [
            support.summary_for(t, f) if plain(e) else support.summary(facts(t, f, e), business_hours=f.business_hours)
        ],
        "breakdown": lambda t, f, e: (
            support.breakdown_for(t, f, e.get("by") or "channel_type")
            if plain(e)
            else support.breakdown(facts(t, f, e), e.get("by") or "channel_type", business_hours=f.business_hours)
        ),
        "agents": lambda t, f, e: agents.agent_performance_for(t, f) if plain(e) else agents.agent_performance(facts(t, f, e)),
        "conversations": lambda t, f, e: conversation_rows(facts(t, f, e)),
        "failures": lambda t, f, e: [
            {k: v for k, v in kind.items() if k != "examples"} for kind in reports.failure_report(facts(t, f, e))["kinds"]
        ],
        "failure_points": lambda t, f, e: failure_point_rows(facts(t, f, e)),
        "flow": lambda t, f, e: reports.flow_report(facts(t, f, e))["graph"]["edges"],
        "paths": lambda t, f, e: [
            {"outcome": outcome, **path}
            for outcome, paths in reports.flow_report(facts(t, f, e))["typical_paths"].items()
            for path in paths
        ],
        "csat": lambda t, f, e: support.csat_distribution(facts(t, f, e))["distribution"],
        "timeseries": lambda t, f, e: support.timeseries(t, f),
        "economics": lambda t, f, e: [
            {k: v for k, v in economics.economics(facts(t, f, e)).items() if k not in ("tool_usage", "sources")}
        ],
        "tools": lambda t, f, e: economics.tool_usage(facts(t, f, e)),
        "alerts": lambda t, f, e: (
            {
                "id": a.id,
                "rule": a.rule.name,
                "metric": a.metric,
                "value": a.value,
                "baseline": a.baseline,
                "volume": a.volume,
                "message": a.message,
                "deliveries": a.deliveries,
                "created_at": a.created_at,
            }
            for a in AlertEvent.objects.filter(tenant=t).select_related("rule").order_by("-created_at")[:10000]
        ),
        "qa": lambda t, f, e: (
            {
                "conversation_id": q.conversation_id,
                "method": q.method,
                "score": q.score,
                "override_score": q.override_score,
                "effective_score": q.effective_score,
                **{f"{name}": (c or {}).get("score") for name, c in q.criteria.items()},
            }
            for q in QAScore.objects.filter(tenant=t, conversation__in=facts(t, f, e).values("conversation_id"))[:100000]
        ),
    }


EXPORT_TABLES = sorted(_tables())


def export_csv(tenant: Any, table: str, flt: AnalyticsFilter, extra: dict[str, Any]) -> Iterator[str]:
    """Stream ``table`` as CSV lines.

    Raises:
        KeyError: unknown table (the API validates the name first).
    """
    builder = _tables()[table]
    columns = CONVERSATION_COLUMNS if table == "conversations" else None
    return csv_lines(builder(tenant, flt, extra), columns)


ReportProgress = Callable[[int, str], None]


def build_pdf_report(tenant: Any, flt: AnalyticsFilter, on_progress: ReportProgress | None = None) -> bytes:
    """A multi-page PDF for the filter's date range: KPIs, volume and resolution over time, channels,
    CSAT distribution, failure points and typical paths.

    Args:
        tenant: whose conversations.
        flt: the filters (date range and dimensions).
        on_progress: called with (percent 0-100, stage) as the rendering advances (a worker's job
            records it so the dashboard can show it).

    Returns:
        The PDF's bytes.
    """

    def progress(percent: int, stage: str) -> None:
        if on_progress is not None:
            on_progress(percent, stage)

    progress(5, "reading metrics")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages
    from pypdf import PdfReader, PdfWriter

    kpis = support.summary_for(tenant, flt)
    series = support.timeseries(tenant, flt)
    channels = support.breakdown_for(tenant, flt, "channel_type", limit=12)
    csat = support.csat_for(tenant, flt)
    failures = reports.failure_report_for(tenant, flt, examples=1)
    flow = reports.flow_report_for(tenant, flt, top=3)
    period = f"{flt.start or 'beginning'} – {flt.end or date.today()}"
    progress(30, "drawing key figures")
    raw = io.BytesIO()
    with PdfPages(raw) as pdf:
        figure = plt.figure(figsize=(8.27, 11.69))
        figure.text(0.08, 0.95, f"Parley support report — {tenant.name}", fontsize=16, weight="bold")
        figure.text(0.08, 0.925, f"Conversations started {period}", fontsize=10)
        lines = [
            ("Conversations", kpis["conversations"]),
            ("Unique customers", kpis["unique_customers"]),
            ("First response, median (s)", kpis["first_response_median_s"]),
            ("Reply time, average (s)", kpis["reply_time_avg_s"]),
            ("Reply time, median (s)", kpis["reply_time_median_s"]),
            ("Handle time, average (s)", kpis["handle_time_avg_s"]),
            ("Resolution time, median (s)", kpis["resolution_time_median_s"]),
            ("Resolution rate", kpis["resolution_rate"]),
            ("AI resolution rate", kpis["ai_resolution_rate"]),
            ("Deflection rate", kpis["deflection_rate"]),
            ("Handover rate", kpis["handover_rate"]),
            ("Reopen rate", kpis["reopen_rate"]),
            ("Durable resolution rate", kpis["durable_resolution_rate"]),
            ("Queue wait, median (s)", kpis["queue_wait_median_s"]),
            ("CSAT average (1-5)", kpis["csat_avg"]),
            ("CSAT responses", kpis["csat_responses"]),
            ("QA score, average", kpis["qa_score_avg"]),
            ("Conversations with a failure point", kpis["failure_rate"]),
        ]
        for i, (label, value) in enumerate(lines):
            y = 0.88 - i * 0.035
            figure.text(0.1, y, label, fontsize=11)
            figure.text(
                0.65,
                y,
                "–" if value is None else f"{value:.1%}" if "rate" in label.lower() and isinstance(value, float) else str(value),
                fontsize=11,
            )
        pdf.savefig(figure)
        plt.close(figure)
        progress(45, "drawing trends")

        figure, axes = plt.subplots(2, 1, figsize=(8.27, 11.69))
        days = [p["day"] for p in series]
        positions = list(range(len(days)))
        # At most ~12 date labels: drawing a rotated label per day was most of the report's time.
        step = max(1, math.ceil(len(days) / 12))
        axes[0].bar(positions, [p["conversations"] for p in series], color="#4C72B0")
        axes[0].set_title("Conversations per day")
        axes[1].plot(positions, [p["resolution_rate"] or 0 for p in series], label="resolution rate", marker="o")
        axes[1].plot(positions, [p["ai_resolution_rate"] or 0 for p in series], label="AI resolution rate", marker="o")
        axes[1].set_ylim(0, 1)
        axes[1].legend()
        axes[1].set_title("Resolution over time")
        for axis in axes:
            axis.set_xticks(positions[::step], [str(day) for day in days[::step]])
            axis.tick_params(axis="x", labelrotation=60, labelsize=7)
        figure.subplots_adjust(left=0.1, right=0.95, top=0.95, bottom=0.1, hspace=0.35)
        pdf.savefig(figure)
        plt.close(figure)
        progress(65, "drawing channels, CSAT and failure points")

        figure, axes = plt.subplots(3, 1, figsize=(8.27, 11.69))
        axes[0].barh([c["label"] for c in channels], [c["conversations"] for c in channels], color="#55A868")
        axes[0].set_title("Conversations by channel")
        axes[1].bar([str(d["score"]) for d in csat["distribution"]], [d["count"] for d in csat["distribution"]], color="#C44E52")
        axes[1].set_title(f"CSAT distribution ({csat['responses']} answers)")
        kinds = [k for k in failures["kinds"] if k["conversations"]]
        axes[2].barh([k["kind"] for k in kinds], [k["conversations"] for k in kinds], color="#8172B2")
        axes[2].set_title("Failure points (conversations affected)")
        figure.subplots_adjust(left=0.25, right=0.95, top=0.95, bottom=0.06, hspace=0.4)
        pdf.savefig(figure)
        plt.close(figure)
        progress(80, "drawing typical paths")

        figure = plt.figure(figsize=(8.27, 11.69))
        figure.text(0.08, 0.95, "Typical paths", fontsize=14, weight="bold")
        y = 0.91
        for outcome, paths in flow["typical_paths"].items():
            figure.text(0.08, y, outcome, fontsize=11, weight="bold")
            y -= 0.025
            for path in paths:
                text = " > ".join(path["path"][1:-1]) or "(no customer turns)"
                figure.text(0.1, y, f"{path['count']:>6}  {text[:95]}", fontsize=8, family="monospace")
                y -= 0.02
            y -= 0.01
            if y < 0.05:
                break
        pdf.savefig(figure)
        plt.close(figure)
    progress(90, "writing the file")
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(raw.getvalue())))
    writer.add_metadata({"/Title": f"Parley support report {period}", "/Author": "Parley", "/Subject": str(tenant.slug)})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
