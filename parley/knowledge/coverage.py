"""Coverage: which customer questions the knowledge base answers weakly or not at all.

Every ``search(record=True)`` (the assistant's retrievals) stores the question, its embedding and the
best calibrated score. The report keeps the questions under the threshold and groups them by
meaning (greedy centroid clustering on their embeddings), biggest groups first, so a content writer
sees "27 people asked about gift cards and we have nothing".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from pydantic import BaseModel

from parley.knowledge.models import KnowledgeQuery
from parley.knowledge.retrieval import WEAK_SCORE

#: Best scores under this count as "not answered at all" (the rest under WEAK_SCORE as "weakly answered").
UNANSWERED_SCORE = 0.25
#: Two questions whose embeddings are at least this similar (cosine) to a cluster's centre join it.
CLUSTER_SIMILARITY = 0.55
_MAX_QUERIES = 5000


class CoverageCluster(BaseModel):
    """A group of similar weakly answered questions."""

    label: str
    count: int
    unanswered: int
    weakly_answered: int
    average_best_score: float
    examples: list[str]
    conversation_ids: list[str]
    last_asked_at: datetime


class CoverageReport(BaseModel):
    """Totals over the period and the clusters of weak questions, biggest first."""

    since: datetime | None
    threshold: float
    total_queries: int
    answered: int
    weakly_answered: int
    unanswered: int
    clusters: list[CoverageCluster]


@dataclass
class _Group:
    centre: np.ndarray
    members: list[Any] = field(default_factory=list)


def _cluster(rows: list[Any], similarity: float) -> list[_Group]:
    groups: list[_Group] = []
    for row in rows:
        vector = np.asarray(row.embedding, dtype=np.float32) if row.embedding is not None else None
        if vector is None or not vector.size:
            groups.append(_Group(centre=np.zeros(1, dtype=np.float32), members=[row]))
            continue
        vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        best, best_sim = None, similarity
        for group in groups:
            if group.centre.shape != vector.shape:
                continue
            sim = float(group.centre @ vector)
            if sim >= best_sim:
                best, best_sim = group, sim
        if best is None:
            groups.append(_Group(centre=vector, members=[row]))
            continue
        best.members.append(row)
        total = best.centre * (len(best.members) - 1) + vector
        best.centre = total / max(float(np.linalg.norm(total)), 1e-12)
    return groups


def _label(group: _Group) -> str:
    """The member closest to the centre (its most typical question)."""
    if group.centre.size <= 1:
        return str(group.members[0].query)
    scored = [
        (float(np.asarray(m.embedding, dtype=np.float32) @ group.centre), m.query)
        for m in group.members
        if m.embedding is not None
    ]
    return max(scored)[1] if scored else str(group.members[0].query)


def coverage_report(
    *,
    tenant: Any,
    since: datetime | None = None,
    threshold: float = WEAK_SCORE,
    similarity: float = CLUSTER_SIMILARITY,
    limit: int = 100,
) -> CoverageReport:
    """Build the coverage report of ``tenant``.

    Args:
        tenant: the Tenant (or its id).
        since: only questions asked at or after this time.
        threshold: best scores under it are weak answers.
        similarity: cosine similarity needed to join a cluster.
        limit: the most clusters returned.
    """
    queries = KnowledgeQuery.objects.filter(tenant_id=getattr(tenant, "pk", tenant))
    if since is not None:
        queries = queries.filter(created_at__gte=since)
    total = queries.count()
    weak_qs = queries.filter(best_score__lt=threshold)
    weak_total = weak_qs.count()
    unanswered_total = weak_qs.filter(best_score__lt=min(UNANSWERED_SCORE, threshold)).count()
    rows = list(
        weak_qs.order_by("created_at").only("query", "best_score", "conversation_id", "created_at", "embedding")[:_MAX_QUERIES]
    )
    clusters = []
    for group in _cluster(rows, similarity):
        members = group.members
        distinct_examples: list[str] = []
        for member in sorted(members, key=lambda m: m.created_at, reverse=True):
            if member.query not in distinct_examples:
                distinct_examples.append(member.query)
        conversations = []
        for member in members:
            if member.conversation_id and str(member.conversation_id) not in conversations:
                conversations.append(str(member.conversation_id))
        unanswered = sum(1 for m in members if m.best_score < min(UNANSWERED_SCORE, threshold))
        clusters.append(
            CoverageCluster(
                label=_label(group),
                count=len(members),
                unanswered=unanswered,
                weakly_answered=len(members) - unanswered,
                average_best_score=round(sum(m.best_score for m in members) / len(members), 4),
                examples=distinct_examples[:5],
                conversation_ids=conversations[:5],
                last_asked_at=max(m.created_at for m in members),
            )
        )
    clusters.sort(key=lambda c: (-c.count, c.average_best_score))
    return CoverageReport(
        since=since,
        threshold=threshold,
        total_queries=total,
        answered=total - weak_total,
        weakly_answered=weak_total - unanswered_total,
        unanswered=unanswered_total,
        clusters=clusters[:limit],
    )


def coverage_csv(report: CoverageReport) -> str:
    """The report's clusters as CSV (one row per cluster), for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "question",
            "count",
            "unanswered",
            "weakly_answered",
            "average_best_score",
            "examples",
            "conversation_ids",
            "last_asked_at",
        ]
    )
    for cluster in report.clusters:
        writer.writerow(
            [
                cluster.label,
                cluster.count,
                cluster.unanswered,
                cluster.weakly_answered,
                f"{cluster.average_best_score:.4f}",
                " | ".join(cluster.examples),
                " ".join(cluster.conversation_ids),
                cluster.last_asked_at.isoformat(),
            ]
        )
    return buffer.getvalue()
