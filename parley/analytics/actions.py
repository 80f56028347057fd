"""Every state change of the analytics app: facts, QA scores and overrides, alerts, notifications,
PDF report jobs.

CSAT survey changes live in :mod:`parley.analytics.csat` (re-exported here).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

import structlog
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from parley.accounts.models import User
from parley.analytics import facts
from parley.analytics.alerts.deliver import notify_in_app, send_email
from parley.analytics.alerts.evaluate import Evaluation, evaluate_rule
from parley.analytics.csat import capture_csat_answer, send_csat_reminder, send_csat_survey
from parley.analytics.facts import AnalyticsSettings, load_turns
from parley.analytics.interface import AnalyticsFilter
from parley.analytics.models import AlertEvent, AlertRule, ConversationFact, Notification, QAScore, ReportJob, ReportStatus
from parley.analytics.qa import llm_score, overall, rules_score
from parley.audit.actions import record_audit_event
from parley.conversations.models import Conversation
from parley.core.errors import DomainError
from parley.realtime.events import Event, inbox_group, send_event_on_commit

log = structlog.get_logger(__name__)

__all__ = [
    "capture_csat_answer",
    "create_alert_rule",
    "evaluate_and_fire",
    "expire_report_jobs",
    "fail_report_job",
    "mark_notification_read",
    "note_report_progress",
    "note_report_retry",
    "override_qa_score",
    "refresh_facts",
    "request_report",
    "run_report_job",
    "save_message_analyses",
    "score_conversation_quality",
    "send_csat_reminder",
    "send_csat_survey",
    "update_alert_rule",
]


def refresh_facts(conversation_ids: list[str], *, now: datetime | None = None) -> int:
    """Recompute the facts of these conversations (idempotent); returns rows written."""
    return facts.refresh_conversation_facts(conversation_ids, now=now)


def save_message_analyses(*, tenant: Any, analyses: dict[Any, dict[str, Any]]) -> int:
    """Store the intelligence pipeline's analysis (``MessageAnalysis.model_dump()``) of the tenant's
    customer messages, in one statement; returns how many messages were written.

    ``updated_at`` moves too, so facts derived from the old analysis count as stale.
    """
    if not analyses:
        return 0
    import json

    from django.db import connection

    payload = json.dumps([{"id": str(message_id), "analysis": analysis} for message_id, analysis in analyses.items()])
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE conversations_message m SET analysis = d.analysis, updated_at = now()
            FROM jsonb_to_recordset(%s::jsonb) AS d(id uuid, analysis jsonb)
            WHERE m.id = d.id AND m.tenant_id = %s AND m.sender_type = 'customer'
            """,
            [payload, str(tenant.id)],
        )
        return int(cursor.rowcount)


def _grounding(tenant: Any, texts: list[str]) -> list[float] | None:
    """Best knowledge-base score of each reply, when the knowledge app is installed."""
    try:
        from parley.knowledge.models import KnowledgeChunk
        from parley.knowledge.retrieval import search
    except ImportError:
        return None
    if not KnowledgeChunk.objects.filter(tenant=tenant).exists():
        return None  # no knowledge base: "correct information" cannot be checked
    scores = []
    for text in texts[:5]:
        try:
            hits = search(tenant=tenant, query=text, k=1)
        except Exception:  # noqa: BLE001 - an unavailable index means "not evaluated", not a failed QA run
            return None
        scores.append(float(hits[0].score) if hits else 0.0)
    return scores or None


def score_conversation_quality(conversation_id: str, *, use_llm: bool = True) -> QAScore:
    """Compute (or recompute) the automatic QA score; a supervisor's override is kept."""
    conversation = Conversation.objects.select_related("tenant").get(pk=conversation_id)
    turns = load_turns([conversation.id]).get(str(conversation.id), [])
    fact = ConversationFact.objects.filter(conversation=conversation).first()
    outcome = fact.outcome if fact else "open"
    criteria = llm_score(turns, tenant_id=str(conversation.tenant_id), conversation_id=str(conversation.id)) if use_llm else None
    method = "llm"
    if criteria is None:
        method = "rules"
        raw = (conversation.tenant.settings or {}).get("analytics", {}) if isinstance(conversation.tenant.settings, dict) else {}
        replies = [t.text for t in turns if t.is_reply and t.sender_type == "assistant"]
        criteria = rules_score(
            turns,
            outcome=outcome,
            forbidden=[str(p) for p in raw.get("qa_forbidden_patterns", [])],
            grounding=_grounding(conversation.tenant, replies) if replies else None,
        )
    score = overall(criteria)
    with transaction.atomic():
        qa, _created = QAScore.objects.update_or_create(
            conversation=conversation,
            defaults={"tenant_id": conversation.tenant_id, "method": method, "criteria": criteria, "score": score},
        )
        ConversationFact.objects.filter(conversation=conversation).update(qa_score=qa.effective_score)
    return qa


def override_qa_score(*, qa: QAScore, score: float | None, note: str, user: User | None, actor: str) -> QAScore:
    """A supervisor sets (or clears, with ``score=None``) the score that counts for this conversation."""
    if score is not None and not 0 <= score <= 100:
        raise DomainError("score must be between 0 and 100")
    with transaction.atomic():
        qa = QAScore.objects.select_for_update().get(pk=qa.pk)
        previous = qa.effective_score
        qa.override_score = score
        qa.override_note = note
        qa.overridden_by = user
        qa.overridden_at = timezone.now() if score is not None else None
        qa.save(update_fields=["override_score", "override_note", "overridden_by", "overridden_at", "updated_at"])
        ConversationFact.objects.filter(conversation_id=qa.conversation_id).update(qa_score=qa.effective_score)
        record_audit_event(
            action="qa_score.overridden",
            actor=actor,
            tenant=qa.tenant,
            actor_user=user,
            target=qa,
            data={"conversation_id": str(qa.conversation_id), "from": previous, "to": qa.effective_score, "note": note[:500]},
        )
    return qa


def create_alert_rule(*, tenant: Any, data: dict[str, Any], actor: str) -> AlertRule:
    """Create an alert rule (data validated by the API serializer)."""
    rule = AlertRule.objects.create(tenant=tenant, **data)
    record_audit_event(action="alert_rule.created", actor=actor, tenant=tenant, target=rule, data={"name": rule.name})
    return rule


def update_alert_rule(*, rule: AlertRule, data: dict[str, Any], actor: str) -> AlertRule:
    """Change an alert rule's fields."""
    for key, value in data.items():
        setattr(rule, key, value)
    rule.save()
    record_audit_event(action="alert_rule.updated", actor=actor, tenant=rule.tenant, target=rule, data={"fields": sorted(data)})
    return rule


def delete_alert_rule(*, rule: AlertRule, actor: str) -> None:
    """Remove a rule and its history."""
    record_audit_event(action="alert_rule.deleted", actor=actor, tenant=rule.tenant, target=rule, data={"name": rule.name})
    rule.delete()


def _fire(rule: AlertRule, evaluation: Evaluation) -> AlertEvent:
    value = evaluation.value if evaluation.value is not None else 0.0
    message = f"{rule.get_metric_display()} is {value:.1f} ({evaluation.reason}) over the last {rule.window_minutes} min"
    if rule.filters:
        message += " for " + ", ".join(f"{k}={v}" for k, v in sorted(rule.filters.items()))
    event = AlertEvent.objects.create(
        tenant_id=rule.tenant_id,
        rule=rule,
        metric=rule.metric,
        value=value,
        baseline=evaluation.baseline,
        volume=evaluation.volume,
        window_start=evaluation.window_start,
        window_end=evaluation.window_end,
        message=message,
    )
    deliveries: dict[str, str] = {}
    if rule.deliver_in_app:
        notify_in_app(event)
        deliveries["in_app"] = "ok"
    if rule.email_to:
        deliveries["email"] = send_email(event)
    if rule.webhook_url:
        deliveries["webhook"] = "queued"
        event_id = str(event.id)
        transaction.on_commit(lambda: _enqueue_webhook(event_id))
    event.deliveries = deliveries
    event.save(update_fields=["deliveries", "updated_at"])
    log.info("alert_fired", rule=str(rule.id), metric=rule.metric, value=value)
    return event


def _enqueue_webhook(event_id: str) -> None:
    from parley.analytics.tasks import deliver_alert_webhook

    deliver_alert_webhook.apply_async(args=[event_id], queue="analytics")


def evaluate_and_fire(rule_id: str, *, now: datetime | None = None) -> AlertEvent | None:
    """Evaluate one rule; fire it (history + deliveries) unless it is in its cool-down."""
    now = now or timezone.now()
    with transaction.atomic():
        rule = AlertRule.objects.select_for_update().select_related("tenant").get(pk=rule_id)
        if not rule.enabled:
            return None
        evaluation = evaluate_rule(rule, now=now)
        rule.last_evaluated_at = now
        fields = ["last_evaluated_at", "updated_at"]
        event = None
        in_cooldown = rule.last_fired_at is not None and (now - rule.last_fired_at).total_seconds() < rule.cooldown_minutes * 60
        if evaluation.fired and not in_cooldown:
            event = _fire(rule, evaluation)
            rule.last_fired_at = now
            fields.append("last_fired_at")
        rule.save(update_fields=fields)
    return event


def record_webhook_result(event_id: str, result: str) -> None:
    """Store the webhook delivery outcome on the alert's history row."""
    with transaction.atomic():
        event = AlertEvent.objects.select_for_update().get(pk=event_id)
        event.deliveries = {**event.deliveries, "webhook": result[:300]}
        event.save(update_fields=["deliveries", "updated_at"])


def mark_notification_read(*, notification: Notification) -> Notification:
    """Mark an in-app notification read (idempotent)."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification


def analytics_settings(tenant: Any) -> AnalyticsSettings:
    """The tenant's analytics settings (reopen window, abandonment timeout, business hours)."""
    return AnalyticsSettings.for_tenant(tenant)


# PDF report jobs -------------------------------------------------------------------------------

# A job that shows no progress for this long lost its worker; one nobody picked up for this long has
# no worker consuming the ``analytics`` queue. Either way it ends ``failed`` instead of waiting forever.
REPORT_STALLED_AFTER = timedelta(minutes=15)
REPORT_UNCLAIMED_AFTER = timedelta(hours=6)
# Rendered reports (files and rows) are kept this many days; settings.ANALYTICS_REPORT_RETENTION_DAYS overrides.
REPORT_RETENTION_DAYS = 30
_ERROR_CHARS = 1000


class ReportJobEvent(Event):
    """A PDF report job finished (``done`` or ``failed``); dashboards stop polling it."""

    type: Literal["analytics.report.finished"]
    report: dict[str, Any]


def _report_finished(job: ReportJob) -> None:
    send_event_on_commit(
        ReportJobEvent(
            type="analytics.report.finished",
            tenant_id=str(job.tenant_id),
            report={
                "id": str(job.id),
                "status": job.status,
                "error": job.error,
                "size_bytes": job.size_bytes,
                "requested_by": str(job.requested_by_id) if job.requested_by_id else None,
            },
        ),
        [inbox_group(job.tenant_id)],
    )


def request_report(*, tenant: Any, flt: AnalyticsFilter, user: User | None, actor: str) -> ReportJob:
    """Queue a PDF report of ``flt`` for a worker to render.

    Args:
        tenant: whose conversations the report covers.
        flt: validated filters (date range, dimensions).
        user: the person who asked (None for an API key).
        actor: who asked, for the record and the audit trail.

    Returns:
        The ``queued`` job; ``parley.analytics.render_report`` renders it after the transaction commits.
    """
    with transaction.atomic():
        job = ReportJob.objects.create(tenant=tenant, filters=flt.to_json(), requested_by=user, requested_by_label=actor[:200])
        record_audit_event(
            action="analytics_report.requested", actor=actor, tenant=tenant, actor_user=user, target=job, data=job.filters
        )
        job_id = str(job.id)
        transaction.on_commit(lambda: _enqueue_report(job_id))
    return job


def _enqueue_report(job_id: str) -> None:
    from parley.analytics.tasks import render_report

    render_report.apply_async(args=[job_id], queue="analytics")


def run_report_job(job_id: str) -> str:
    """Render a queued report and store its PDF (the worker's side); a job already ``done`` is left as is.

    Rendering errors propagate, so the task retries; its final failure calls :func:`fail_report_job`.

    Returns:
        ``done``, or ``missing`` when the job no longer exists.
    """
    from parley.analytics.exports import build_pdf_report

    with transaction.atomic():
        job = ReportJob.objects.select_for_update().select_related("tenant").filter(pk=job_id).first()
        if job is None:
            return "missing"
        if job.status == ReportStatus.DONE:
            return str(job.status)
        job.status = ReportStatus.RUNNING
        job.attempts += 1
        job.progress = 0
        job.stage = "starting"
        job.error = ""
        job.started_at = timezone.now()
        job.finished_at = None
        job.save(update_fields=["status", "attempts", "progress", "stage", "error", "started_at", "finished_at", "updated_at"])
    pdf = build_pdf_report(
        job.tenant,
        AnalyticsFilter.from_json(job.filters),
        on_progress=lambda percent, stage: note_report_progress(job_id, percent, stage),
    )
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().get(pk=job_id)
        if job.file:
            job.file.delete(save=False)  # an earlier attempt that stored its file but not its row
        job.file.save("report.pdf", ContentFile(pdf), save=False)
        job.status = ReportStatus.DONE
        job.progress = 100
        job.stage = ""
        job.size_bytes = len(pdf)
        job.finished_at = timezone.now()
        job.save(update_fields=["file", "status", "progress", "stage", "size_bytes", "finished_at", "updated_at"])
        _report_finished(job)
    log.info("analytics_report_rendered", job=job_id, size=len(pdf), attempts=job.attempts)
    return str(job.status)


def note_report_progress(job_id: str, percent: int, stage: str) -> None:
    """Record how far the worker got (one UPDATE; also proves the worker is alive)."""
    ReportJob.objects.filter(pk=job_id, status=ReportStatus.RUNNING).update(
        progress=max(0, min(int(percent), 99)), stage=stage[:60], updated_at=timezone.now()
    )


def note_report_retry(job_id: str, reason: str) -> None:
    """An attempt failed and the task will retry: back to ``queued``, with the attempt's error shown."""
    ReportJob.objects.filter(pk=job_id).exclude(status__in=[ReportStatus.DONE, ReportStatus.FAILED]).update(
        status=ReportStatus.QUEUED,
        stage="retrying",
        error=f"attempt failed, retrying: {reason}"[:_ERROR_CHARS],
        updated_at=timezone.now(),
    )


def fail_report_job(job_id: str, reason: str) -> ReportJob | None:
    """End a job ``failed`` with a readable ``reason`` (the task's final failure, or a stalled job).

    A job that is already ``done`` stays done. Returns the job, or None when it no longer exists.
    """
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status == ReportStatus.DONE:
            return job
        job.status = ReportStatus.FAILED
        job.stage = ""
        job.error = reason[:_ERROR_CHARS]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "stage", "error", "finished_at", "updated_at"])
        _report_finished(job)
    log.warning("analytics_report_failed", job=job_id, reason=reason[:200])
    return job


def expire_report_jobs(*, now: datetime | None = None) -> dict[str, int]:
    """Fail jobs whose worker vanished or that no worker picked up; delete reports past retention.

    Returns:
        ``{"stalled": n, "unclaimed": n, "deleted": n}``.
    """
    now = now or timezone.now()
    stalled = ReportJob.objects.filter(status=ReportStatus.RUNNING, updated_at__lt=now - REPORT_STALLED_AFTER)
    minutes = int(REPORT_STALLED_AFTER.total_seconds() // 60)
    counts = {"stalled": 0, "unclaimed": 0, "deleted": 0}
    for job_id in stalled.values_list("id", flat=True):
        fail_report_job(str(job_id), f"the worker stopped while rendering (no progress for {minutes} minutes)")
        counts["stalled"] += 1
    unclaimed = ReportJob.objects.filter(status=ReportStatus.QUEUED, updated_at__lt=now - REPORT_UNCLAIMED_AFTER)
    hours = int(REPORT_UNCLAIMED_AFTER.total_seconds() // 3600)
    for job_id in unclaimed.values_list("id", flat=True):
        fail_report_job(
            str(job_id), f"no worker picked the report up within {hours} hours (is a worker consuming the analytics queue?)"
        )
        counts["unclaimed"] += 1
    days = int(getattr(settings, "ANALYTICS_REPORT_RETENTION_DAYS", REPORT_RETENTION_DAYS))
    for job in ReportJob.objects.filter(created_at__lt=now - timedelta(days=days)).exclude(status=ReportStatus.RUNNING):
        if job.file:
            job.file.delete(save=False)
        job.delete()
        counts["deleted"] += 1
    return counts
