"""Celery tasks and beat entries of analytics: facts, roll-ups, QA, CSAT, alerts, PDF reports.

Every task takes ids (or nothing), is idempotent and runs on the ``analytics`` queue.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from celery import shared_task
from django.db.models import Max, Min
from django.utils import timezone

from parley.analytics import actions
from parley.analytics.alerts.deliver import post_webhook
from parley.analytics.facts import stale_conversation_ids
from parley.analytics.metrics.cube import local_day, rolled_up_days
from parley.analytics.models import AlertEvent, AlertRule, ConversationFact, CsatStatus, CsatSurvey, Outcome, QAScore
from parley.analytics.rollups import rebuild_rollups
from parley.config.celery import ParleyTask, app
from parley.conversations.models import Conversation, ConversationStatus

log = structlog.get_logger(__name__)
BATCH = 200


@shared_task(base=ParleyTask, name="parley.analytics.refresh_facts")
def refresh_facts(conversation_ids: list[str]) -> int:
    """Recompute the facts of the given conversations."""
    return actions.refresh_facts(conversation_ids)


@shared_task(base=ParleyTask, name="parley.analytics.refresh_stale_facts", ignore_result=False)
def refresh_stale_facts(limit: int = 2000) -> int:
    """Recompute facts of conversations that changed since their fact was computed."""
    ids = stale_conversation_ids(limit=limit)
    for i in range(0, len(ids), BATCH):
        actions.refresh_facts(ids[i : i + BATCH])
    return len(ids)


@shared_task(base=ParleyTask, name="parley.analytics.rebuild_recent_rollups")
def rebuild_recent_rollups(minutes: int = 20) -> int:
    """Rebuild the daily roll-ups of every day whose facts changed in the last ``minutes``."""
    since = timezone.now() - timedelta(minutes=minutes)
    written = 0
    changed = (
        ConversationFact.objects.filter(computed_at__gte=since)
        .values("tenant_id")
        .annotate(lo=Min("started_at"), hi=Max("started_at"))
    )
    for row in changed:
        written += rebuild_rollups(row["tenant_id"], local_day(row["lo"]), local_day(row["hi"]))
    return written + backfill_rollups()


def backfill_rollups(max_days: int = 62) -> int:
    """Roll up days that have facts but no roll-up yet (e.g. after an upgrade), ``max_days`` per run."""
    from parley.accounts.models import Tenant

    written = 0
    budget = max_days
    for tenant_id in Tenant.objects.values_list("id", flat=True):
        span = ConversationFact.objects.filter(tenant_id=tenant_id).aggregate(lo=Min("started_at"), hi=Max("started_at"))
        if span["lo"] is None:
            continue
        first, last = local_day(span["lo"]), local_day(span["hi"])
        have = rolled_up_days(tenant_id, first, last)
        missing = [d for d in (first + timedelta(days=i) for i in range((last - first).days + 1)) if d not in have][:budget]
        if missing:
            written += rebuild_rollups(tenant_id, missing[0], missing[-1])
            budget -= (missing[-1] - missing[0]).days + 1
        if budget <= 0:
            break
    return written


@shared_task(base=ParleyTask, name="parley.analytics.score_quality")
def score_quality(conversation_id: str) -> float:
    """Compute the automatic QA score of one conversation."""
    return actions.score_conversation_quality(conversation_id).score


@shared_task(base=ParleyTask, name="parley.analytics.score_pending_quality")
def score_pending_quality(limit: int = 200) -> int:
    """Queue QA scoring for finished conversations that have no score yet."""
    ids = list(
        ConversationFact.objects.exclude(outcome=Outcome.OPEN)
        .exclude(conversation_id__in=QAScore.objects.values("conversation_id"))
        .filter(source="live")
        .values_list("conversation_id", flat=True)[:limit]
    )
    for conversation_id in ids:
        score_quality.apply_async(args=[str(conversation_id)], queue="analytics")
    return len(ids)


@shared_task(base=ParleyTask, name="parley.analytics.send_csat_survey")
def send_csat_survey(conversation_id: str) -> bool:
    """Send the CSAT survey of one resolved conversation (no-op if not eligible or already sent)."""
    conversation = Conversation.objects.select_related("tenant").get(pk=conversation_id)
    return actions.send_csat_survey(conversation) is not None


@shared_task(base=ParleyTask, name="parley.analytics.send_due_csat_surveys")
def send_due_csat_surveys(hours: int = 24) -> int:
    """Queue surveys for live conversations resolved in the last ``hours`` that have none yet."""
    now = timezone.now()
    ids = list(
        Conversation.objects.filter(
            status=ConversationStatus.RESOLVED, source="live", resolved_at__gte=now - timedelta(hours=hours), resolved_at__lte=now
        )
        .exclude(id__in=CsatSurvey.objects.values("conversation_id"))
        .select_related("tenant")
        .values_list("id", "resolved_at", "tenant__settings")[:500]
    )
    queued = 0
    for conversation_id, resolved_at, settings in ids:
        delay = int(((settings or {}).get("csat") or {}).get("delay_minutes", 0)) if isinstance(settings, dict) else 0
        if resolved_at is not None and now - resolved_at >= timedelta(minutes=delay):
            send_csat_survey.apply_async(args=[str(conversation_id)], queue="analytics")
            queued += 1
    return queued


@shared_task(base=ParleyTask, name="parley.analytics.csat_reminders")
def csat_reminders() -> int:
    """Remind customers of unanswered surveys, and expire old ones."""
    sent = 0
    for survey in CsatSurvey.objects.filter(status=CsatStatus.PENDING).select_related("conversation__tenant")[:500]:
        sent += int(actions.send_csat_reminder(survey))
    return sent


@shared_task(base=ParleyTask, name="parley.analytics.evaluate_alerts")
def evaluate_alerts() -> int:
    """Evaluate every enabled alert rule; returns how many fired."""
    fired = 0
    for rule_id in AlertRule.objects.filter(enabled=True).values_list("id", flat=True):
        try:
            fired += int(actions.evaluate_and_fire(str(rule_id)) is not None)
        except Exception:
            log.exception("alert_rule_failed", rule=str(rule_id))
    return fired


@shared_task(base=ParleyTask, name="parley.analytics.deliver_alert_webhook")
def deliver_alert_webhook(event_id: str) -> str:
    """POST a fired alert to its rule's webhook (retried with backoff; the outcome is kept on the alert)."""
    event = AlertEvent.objects.select_related("rule").get(pk=event_id)
    if event.deliveries.get("webhook") == "ok":
        return "ok"
    try:
        result = post_webhook(event)
    except Exception as exc:
        actions.record_webhook_result(event_id, f"error: {type(exc).__name__}: {exc}")
        raise
    actions.record_webhook_result(event_id, result)
    return result


class ReportTask(ParleyTask):
    """Rendering a report someone waits for: few, quick retries; the final failure ends the job ``failed``."""

    max_retries = 2
    retry_backoff = 1
    retry_backoff_max = 10

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        job_id = (list(args or []) or [kwargs.get("job_id")])[0]
        if job_id:
            attempts = int(getattr(self.request, "retries", 0)) + 1
            actions.fail_report_job(
                str(job_id), f"rendering failed after {attempts} attempt{'s' if attempts > 1 else ''}: {_reason(exc)}"
            )
        super().on_failure(exc, task_id, args, kwargs, einfo)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@shared_task(base=ReportTask, bind=True, name="parley.analytics.render_report")
def render_report(self: ReportTask, job_id: str) -> str:
    """Render a queued PDF report job and store its file (a job already done is not rendered again)."""
    try:
        return actions.run_report_job(job_id)
    except Exception as exc:
        if self.request.retries < self.max_retries:
            actions.note_report_retry(job_id, _reason(exc))
        raise


@shared_task(base=ParleyTask, name="parley.analytics.expire_report_jobs")
def expire_report_jobs() -> dict[str, int]:
    """Fail stalled or unclaimed report jobs; delete reports past their retention."""
    return actions.expire_report_jobs()


def _schedule() -> dict[str, Any]:
    def entry(task: str, seconds: float) -> dict[str, Any]:
        return {"task": task, "schedule": seconds, "options": {"queue": "analytics"}}

    return {
        "analytics-refresh-stale-facts": entry("parley.analytics.refresh_stale_facts", 60.0),
        "analytics-rebuild-recent-rollups": entry("parley.analytics.rebuild_recent_rollups", 300.0),
        "analytics-score-pending-quality": entry("parley.analytics.score_pending_quality", 300.0),
        "analytics-send-due-csat-surveys": entry("parley.analytics.send_due_csat_surveys", 60.0),
        "analytics-csat-reminders": entry("parley.analytics.csat_reminders", 900.0),
        "analytics-evaluate-alerts": entry("parley.analytics.evaluate_alerts", 60.0),
        "analytics-expire-report-jobs": entry("parley.analytics.expire_report_jobs", 600.0),
    }


app.conf.beat_schedule.update(_schedule())
