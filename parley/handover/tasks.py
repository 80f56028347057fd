"""Beat task: close finished hand-overs and assign waiting ones when agents have room."""

from __future__ import annotations

from parley.config.celery import ParleyTask, app


@app.task(bind=True, base=ParleyTask, name="parley.handover.assign_waiting", queue="default")
def assign_waiting_task(self: ParleyTask) -> int:
    """For every tenant with a queue: release finished hand-overs, then assign the oldest waiting ones."""
    from parley.handover.actions import assign_waiting, release_finished
    from parley.handover.models import Handover, HandoverState

    tenants = set(
        Handover.objects.filter(state__in=(HandoverState.QUEUED, HandoverState.ASSIGNED)).values_list("tenant_id", flat=True)
    )
    assigned = 0
    for tenant_id in tenants:
        release_finished(tenant_id=tenant_id)
        assigned += assign_waiting(tenant_id=tenant_id)
    return assigned


app.conf.beat_schedule.update(
    {"handover-assign-waiting": {"task": "parley.handover.assign_waiting", "schedule": 30.0, "options": {"queue": "default"}}}
)
