"""Additive measures of conversation facts, stored per day and dimension value in ``DailyRollup``.

A :class:`Measures` is everything the dashboards show over a set of conversations, in a form that
adds up: sums and counts, log-bucket histograms of the durations (for medians and p90s), the CSAT
score counts, failure kinds, intent and dialogue-act paths, and the customers' 64-bit keys (for an
exact-up-to-hash-collisions unique count). Roll-ups are rebuilt from the facts (never incremented),
and :func:`load_cube` reads them for a date range, recomputing from the facts any day whose facts
changed after its roll-up was written, so answers are as fresh as the facts.

Percentiles come from histograms with 10%-wide (relative) buckets that keep each bucket's count,
min and max: a median or p90 is exact where the buckets around it hold one or two distinct values,
and otherwise within the bucket's width of the exact value (see :func:`hist_percentile`).
"""

from __future__ import annotations

import contextlib
import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Max, Min, Q
from django.utils import timezone

from parley.analytics.failures import FAILURE_KINDS
from parley.analytics.interface import AnalyticsFilter
from parley.analytics.metrics.query import DIMENSIONS as BREAKDOWN_DIMENSIONS
from parley.analytics.metrics.query import date_bounds, filtered_facts
from parley.analytics.models import ConversationFact, DailyRollup, Outcome

# Dimension name (as the API spells it) → fact column. ``all`` is the total; ``ai_handled`` groups the
# conversations an assistant handled without a human by assistant (key "" when none is named).
DIMENSIONS: dict[str, str | None] = {"all": None, **BREAKDOWN_DIMENSIONS, "ai_handled": None}
# AnalyticsFilter attribute → dimension.
FILTER_DIMENSIONS = ("channel", "channel_type", "assistant", "team", "agent", "intent", "topic", "language", "source")
UUID_DIMENSIONS = {"channel", "assistant", "agent"}

HISTOGRAMS = ("first_response", "first_response_bh", "resolution", "resolution_bh", "queue_wait", "reply")
GROWTH = 1.1
BUCKETS = 200  # 1.1**198 s ≈ 5 years: everything above lands in the last bucket
MEASURES_VERSION = 3  # bump when Measures gains a measure: older roll-ups then count as missing and are rebuilt
MAX_DIRTY_FACTS = 2_000  # above this many changed facts, aggregating the facts in SQL is faster
FACT_COLUMNS = (
    "started_at",
    "customer_id",
    "channel_id",
    "channel_type",
    "assistant_id",
    "team",
    "agent_id",
    "intent",
    "topic",
    "language",
    "source",
    "prompt_version",
    "handover_reason",
    "outcome",
    "resolved",
    "ai_resolved",
    "handed_over",
    "reopened",
    "abandoned",
    "durable",
    "first_response_s",
    "first_response_bh_s",
    "reply_times",
    "reply_total_s",
    "reply_total_bh_s",
    "reply_count",
    "handle_s",
    "resolution_s",
    "resolution_bh_s",
    "queue_wait_s",
    "csat_score",
    "qa_score",
    "sentiment_first",
    "sentiment_last",
    "negative_messages",
    "analysed_messages",
    "assistant_messages",
    "failure_count",
    "failure_kinds",
    "intent_path",
    "act_path",
    "prompt_tokens",
    "completion_tokens",
    "llm_cost",
    "tool_calls",
    "tool_errors",
    "payment_intent",
    "payment_converted",
)


_TIMED = (
    "first_response",
    "first_response_bh",
    "handle",
    "resolution",
    "resolution_bh",
    "queue_wait",
    "csat",
    "qa",
    "sentiment_change",
)
# The additive sums, in their stored order (``DailyRollup.sums``: little-endian float64, one per name).
SUM_NAMES: tuple[str, ...] = (
    "conversations",
    "resolved",
    "ai_resolved",
    "handed_over",
    "reopened",
    "abandoned",
    "payment_intent",
    "payment_converted",
    "deflected",
    "finished",
    "durable_known",
    "durable",
    *(f"outcome_{outcome}" for outcome in Outcome.values),
    *(f"{name}_{part}" for name in _TIMED for part in ("sum", "n")),
    *(f"csat_{score}" for score in range(1, 6)),
    "reply_total_s",
    "reply_total_bh_s",
    "reply_count",
    "negative_messages",
    "analysed_messages",
    "prompt_tokens",
    "completion_tokens",
    "tool_calls",
    "tool_errors",
    "llm_cost",
    "with_tools",
    "with_failure",
    "failure_count",
)
_SUM_INDEX = {name: i for i, name in enumerate(SUM_NAMES)}
_KIND_INDEX = {kind: i for i, kind in enumerate(FAILURE_KINDS)}
_HIST_INDEX = {name: i for i, name in enumerate(HISTOGRAMS)}
# One stored histogram cell (``DailyRollup.hists``): histogram, bucket, count, min, max.
HIST_CELL = np.dtype([("h", "u1"), ("b", "u1"), ("c", "<u4"), ("lo", "<f8"), ("hi", "<f8")])


def bucket_of(seconds: float) -> int:
    """The histogram bucket of a duration: 0 holds [0, 1) s, bucket i ≥ 1 holds [1.1^(i-1), 1.1^i)."""
    if seconds < 1.0:
        return 0
    return min(BUCKETS - 1, 1 + int(math.log(seconds) / math.log(GROWTH)))


def _add_value(histogram: dict[int, list[float]], value: float) -> None:
    """Count ``value`` in its bucket, which keeps ``[count, min, max]``."""
    cell = histogram.get(index := bucket_of(value))
    if cell is None:
        histogram[index] = [1, value, value]
    else:
        cell[0] += 1
        cell[1] = min(cell[1], value)
        cell[2] = max(cell[2], value)


def hist_percentile(hist: dict[int, list[float]], p: float) -> float | None:
    """``percentile_cont(p)`` estimated from a histogram.

    Inside a bucket the values are taken as evenly spread between the bucket's min and max, so the
    estimate is exact when the ranks around ``p`` fall in buckets holding one or two values (or equal
    values), and otherwise within the bucket's 10% width.
    """
    cells = sorted(hist.items())
    n = int(sum(cell[0] for _i, cell in cells))
    if not n:
        return None

    def value_at(rank: int) -> float:
        seen = 0
        for _index, (count, low, high) in cells:
            count = int(count)
            if rank < seen + count:
                return float(low) if count == 1 else float(low) + (float(high) - float(low)) * (rank - seen) / (count - 1)
            seen += count
        return float(cells[-1][1][2])

    rank = p * (n - 1)
    below = math.floor(rank)
    value = value_at(below)
    if rank > below:
        value += (value_at(below + 1) - value) * (rank - below)
    return value


def customer_key(customer_id: Any) -> int:
    """A customer's 64-bit key (the first 8 bytes of its UUID, signed, as PostgreSQL bigint)."""
    raw = customer_id.bytes if isinstance(customer_id, uuid.UUID) else uuid.UUID(str(customer_id)).bytes
    return int.from_bytes(raw[:8], "big", signed=True)


def _dimension_key(value: Any) -> str:
    return "" if value is None else str(value)[:200]


@dataclass
class Measures:
    """Additive measures over a set of conversation facts."""

    n: dict[str, float] = field(default_factory=dict)
    hist: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    paths: dict[str, int] = field(default_factory=dict)
    acts: dict[str, int] = field(default_factory=dict)
    customers: set[int] = field(default_factory=set)
    customer_count: int | None = None  # set when the unique count was taken over packed keys

    def unique_customers(self) -> int:
        return self.customer_count if self.customer_count is not None else len(self.customers)

    def packed_customers(self) -> bytes:
        """The customers' keys as sorted little-endian int64 (``DailyRollup.customer_keys``)."""
        return np.array(sorted(self.customers), dtype="<i8").tobytes()

    def _add(self, name: str, value: float) -> None:
        self.n[name] = self.n.get(name, 0) + value

    def _measure(self, name: str, value: float | None, histogram: str | None = None) -> None:
        if value is None:
            return
        self._add(f"{name}_sum", value)
        self._add(f"{name}_n", 1)
        if histogram:
            _add_value(self.hist.setdefault(histogram, {}), value)

    def add_fact(self, fact: dict[str, Any]) -> None:
        """Count one fact (a ``values(*FACT_COLUMNS)`` row)."""
        add = self._add
        add("conversations", 1)
        if fact["customer_id"] is not None:
            self.customers.add(customer_key(fact["customer_id"]))
        for flag in ("resolved", "ai_resolved", "handed_over", "reopened", "abandoned", "payment_intent"):
            if fact[flag]:
                add(flag, 1)
        if fact["payment_intent"] and fact["payment_converted"]:
            add("payment_converted", 1)
        outcome = fact["outcome"]
        add(f"outcome_{outcome}", 1)
        if not fact["handed_over"] and outcome in (Outcome.RESOLVED_BY_AI, Outcome.ABANDONED):
            add("deflected", 1)
        if outcome != Outcome.OPEN:
            add("finished", 1)
        if fact["durable"] is not None:
            add("durable_known", 1)
            if fact["durable"]:
                add("durable", 1)
        self._measure("first_response", fact["first_response_s"], "first_response")
        self._measure("first_response_bh", fact["first_response_bh_s"], "first_response_bh")
        self._measure("handle", fact["handle_s"])
        self._measure("resolution", fact["resolution_s"], "resolution")
        self._measure("resolution_bh", fact["resolution_bh_s"], "resolution_bh")
        self._measure("queue_wait", fact["queue_wait_s"], "queue_wait")
        self._measure("csat", fact["csat_score"])
        if fact["csat_score"] is not None and 1 <= int(fact["csat_score"]) <= 5:
            add(f"csat_{int(fact['csat_score'])}", 1)
        self._measure("qa", fact["qa_score"])
        if fact["sentiment_first"] is not None and fact["sentiment_last"] is not None:
            self._measure("sentiment_change", fact["sentiment_last"] - fact["sentiment_first"])
        add("reply_total_s", fact["reply_total_s"] or 0.0)
        add("reply_total_bh_s", fact["reply_total_bh_s"] or 0.0)
        add("reply_count", fact["reply_count"] or 0)
        if fact["reply_times"]:
            replies = self.hist.setdefault("reply", {})
            for value in fact["reply_times"]:
                _add_value(replies, value)
        for name in ("negative_messages", "analysed_messages", "prompt_tokens", "completion_tokens", "tool_calls", "tool_errors"):
            add(name, fact[name] or 0)
        add("llm_cost", fact["llm_cost"] or 0.0)
        if fact["tool_calls"]:
            add("with_tools", 1)
        if fact["failure_count"]:
            add("with_failure", 1)
            add("failure_count", fact["failure_count"])
        for kind in fact["failure_kinds"] or []:
            if kind in _KIND_INDEX:
                self.kinds[kind] = self.kinds.get(kind, 0) + 1
        path_key = json.dumps([list(fact["intent_path"] or []), outcome], separators=(",", ":"))
        self.paths[path_key] = self.paths.get(path_key, 0) + 1
        if fact["act_path"]:
            act_key = json.dumps(list(fact["act_path"]), separators=(",", ":"))
            self.acts[act_key] = self.acts.get(act_key, 0) + 1

    def merge(self, other: Measures) -> None:
        for name, value in other.n.items():
            self.n[name] = self.n.get(name, 0) + value
        for name, buckets in other.hist.items():
            mine = self.hist.setdefault(name, {})
            for index, (count, low, high) in buckets.items():
                cell = mine.get(index)
                if cell is None:
                    mine[index] = [count, low, high]
                else:
                    mine[index] = [cell[0] + count, min(cell[1], low), max(cell[2], high)]
        for target, source in ((self.kinds, other.kinds), (self.paths, other.paths), (self.acts, other.acts)):
            for key, count in source.items():
                target[key] = target.get(key, 0) + count
        self.customers |= other.customers

    def to_json(self) -> dict[str, Any]:
        """``DailyRollup.measures``: the format version and the path counts (the rest is packed)."""
        return {"v": MEASURES_VERSION, "paths": self.paths, "acts": self.acts}

    def packed_sums(self) -> bytes:
        """``DailyRollup.sums``: the sums in ``SUM_NAMES`` order, then the failure kinds in ``FAILURE_KINDS`` order."""
        values = [float(self.n.get(name, 0)) for name in SUM_NAMES] + [float(self.kinds.get(k, 0)) for k in FAILURE_KINDS]
        return np.array(values, dtype="<f8").tobytes()

    def packed_hists(self) -> bytes:
        """``DailyRollup.hists``: one ``HIST_CELL`` per non-empty histogram bucket."""
        cells = [
            (_HIST_INDEX[name], index, int(cell[0]), float(cell[1]), float(cell[2]))
            for name, buckets in self.hist.items()
            for index, cell in buckets.items()
        ]
        return np.array(cells, dtype=HIST_CELL).tobytes()

    # Readers -------------------------------------------------------------------------------------

    def get(self, name: str) -> float:
        return self.n.get(name, 0)

    def avg(self, name: str) -> float | None:
        count = self.n.get(f"{name}_n", 0)
        return self.n.get(f"{name}_sum", 0.0) / count if count else None

    def percentile(self, histogram: str, p: float) -> float | None:
        return hist_percentile(self.hist.get(histogram, {}), p)

    def grouped_paths(self) -> list[tuple[list[str], str, int]]:
        """``(intent path, outcome, conversations)``, largest first (as the SQL grouping returns them)."""
        rows = []
        for key, count in self.paths.items():
            path, outcome = json.loads(key)
            rows.append((list(path), str(outcome), int(count)))
        return sorted(rows, key=lambda row: -row[2])[:20000]

    def grouped_acts(self) -> list[tuple[list[str], int]]:
        return sorted(((list(json.loads(k)), int(c)) for k, c in self.acts.items()), key=lambda row: -row[1])[:20000]


def dimension_keys(fact: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (dimension, key) a fact counts in."""
    keys = [("all", "")]
    for dimension, column in DIMENSIONS.items():
        if column is not None:
            keys.append((dimension, _dimension_key(fact[column])))
    if not fact["handed_over"] and (
        fact["assistant_id"] is not None or (fact["agent_id"] is None and (fact["assistant_messages"] or 0) > 0)
    ):
        keys.append(("ai_handled", _dimension_key(fact["assistant_id"])))
    return keys


def rolled_up_days(tenant_id: Any, first: date, last: date) -> set[date]:
    """Days in ``[first, last]`` with a current-version ``all`` roll-up."""
    rows = DailyRollup.objects.filter(tenant_id=tenant_id, dimension="all", key="", day__gte=first, day__lte=last)
    return {day for day, version in rows.values_list("day", "measures__v") if version == MEASURES_VERSION}


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_current_timezone()).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(day, time.min, tz), datetime.combine(day + timedelta(days=1), time.min, tz)


def filter_dimensions(flt: AnalyticsFilter) -> list[tuple[str, str]]:
    """The dimension filters ``flt`` sets, as (dimension, roll-up key)."""
    result = []
    for attribute in FILTER_DIMENSIONS:
        value = getattr(flt, attribute)
        if value in (None, ""):
            continue
        key = str(value)
        if attribute in UUID_DIMENSIONS:
            with contextlib.suppress(ValueError):
                key = str(uuid.UUID(key))
        result.append((attribute, key[:200]))
    return result


def load_cube(tenant: Any, flt: AnalyticsFilter, dimension: str, *, paths: bool = False) -> dict[str, Measures] | None:
    """Measures per key of ``dimension`` over ``flt``'s date range, from the roll-ups.

    ``flt`` may set no dimension filter, or one on ``dimension`` itself (then only that key is read).
    Days whose roll-up is missing or older than one of their facts are aggregated from the facts.
    Returns None when the roll-ups cannot answer (other filters, or too many changed facts): the
    caller then aggregates the facts in SQL.
    """
    filters = filter_dimensions(flt)
    only: str | None = None
    if filters:
        if len(filters) > 1 or filters[0][0] != dimension:
            return None
        only = filters[0][1]
    start, end = date_bounds(flt)
    facts = ConversationFact.objects.filter(tenant=tenant)
    if start is not None:
        facts = facts.filter(started_at__gte=start)
    if end is not None:
        facts = facts.filter(started_at__lt=end)
    span = facts.aggregate(lo=Min("started_at"), hi=Max("started_at"))
    if span["lo"] is None:
        return {}
    first, last = local_day(span["lo"]), local_day(span["hi"])
    written = {
        day: computed_at
        for day, computed_at, version in DailyRollup.objects.filter(
            tenant=tenant, dimension="all", key="", day__gte=first, day__lte=last
        ).values_list("day", "computed_at", "measures__v")
        if version == MEASURES_VERSION
    }
    dirty = {first + timedelta(days=i) for i in range((last - first).days + 1)} - set(written)
    if written:
        oldest = min(written.values())
        recent = list(facts.filter(computed_at__gt=oldest).values_list("started_at", "computed_at")[: MAX_DIRTY_FACTS + 1])
        if len(recent) > MAX_DIRTY_FACTS:
            return None
        for started_at, computed_at in recent:
            day = local_day(started_at)
            if day not in written or computed_at > written[day]:
                dirty.add(day)
    result: dict[str, Measures] = {}
    if len(dirty) > 400:
        return None
    if dirty:
        scope = Q()
        for day in dirty:
            lower, upper = day_bounds(day)
            scope |= Q(started_at__gte=lower, started_at__lt=upper)
        changed = filtered_facts(tenant, flt).filter(scope)
        if changed.count() > MAX_DIRTY_FACTS:
            return None
        for fact in changed.values(*FACT_COLUMNS).iterator(chunk_size=2000):
            for fact_dimension, key in dimension_keys(fact):
                if fact_dimension == dimension and (only is None or key == only):
                    result.setdefault(key, Measures()).add_fact(fact)
    stored = _read_rollups(tenant, dimension, first, last, only=only, skip=sorted(dirty), paths=paths)
    packed = stored.pop("\x00customers")
    for key, measures in stored.items():
        result.setdefault(key, Measures()).merge(measures)
    for key, measures in result.items():
        arrays = [np.frombuffer(chunk, dtype="<i8") for chunk in packed.get(key, [])]
        if measures.customers:
            arrays.append(np.array(sorted(measures.customers), dtype="<i8"))
        measures.customer_count = int(np.unique(np.concatenate(arrays)).size) if arrays else 0
    return result


def _read_rollups(
    tenant: Any, dimension: str, first: date, last: date, *, only: str | None, skip: list[date], paths: bool
) -> dict[str, Any]:
    """The stored measures summed per key (packed sums and histograms merged with numpy); the customers'
    packed keys per key under "\x00customers"."""
    where = "r.tenant_id = %(tenant)s AND r.dimension = %(dimension)s AND r.day >= %(first)s AND r.day <= %(last)s"
    if only is not None:
        where += " AND r.key = %(only)s"
    if skip:
        where += " AND NOT (r.day = ANY(%(skip)s))"
    params: dict[str, Any] = {
        "tenant": str(tenant.id),
        "dimension": dimension,
        "first": first,
        "last": last,
        "only": only,
        "skip": skip,
    }
    sums: dict[str, list[bytes]] = {}
    hists: dict[str, list[bytes]] = {}
    packed: dict[str, list[bytes]] = {}
    result: dict[str, Any] = {}
    with connection.cursor() as cursor:
        # Only constant SQL fragments are joined here; every value is a bound parameter.
        cursor.execute("SELECT r.key, r.sums, r.hists, r.customer_keys FROM analytics_dailyrollup r WHERE " + where, params)  # noqa: S608
        for key, packed_sums, packed_hists, keys in cursor.fetchall():
            if packed_sums:
                sums.setdefault(key, []).append(bytes(packed_sums))
            if packed_hists:
                hists.setdefault(key, []).append(bytes(packed_hists))
            if keys:
                packed.setdefault(key, []).append(bytes(keys))
        if paths:
            cursor.execute(
                "SELECT r.key, 'p', e.k, sum(e.v::int) FROM analytics_dailyrollup r, jsonb_each_text(r.measures->'paths') e(k, v) "  # noqa: S608
                "WHERE " + where + " GROUP BY 1, 3 UNION ALL "
                "SELECT r.key, 'a', e.k, sum(e.v::int) FROM analytics_dailyrollup r, jsonb_each_text(r.measures->'acts') e(k, v) "
                "WHERE " + where + " GROUP BY 1, 3",
                params,
            )
            for key, section, name, count in cursor.fetchall():
                measures = result.setdefault(key, Measures())
                (measures.paths if section == "p" else measures.acts)[name] = int(count)
    width = len(SUM_NAMES)
    for key, chunks in sums.items():
        total = np.frombuffer(b"".join(chunks), dtype="<f8").reshape(len(chunks), -1).sum(axis=0)
        measures = result.setdefault(key, Measures())
        measures.n = {name: float(total[i]) for i, name in enumerate(SUM_NAMES) if total[i]}
        measures.kinds = {kind: int(total[width + i]) for i, kind in enumerate(FAILURE_KINDS) if total[width + i]}
    for key, chunks in hists.items():
        cells = np.frombuffer(b"".join(chunks), dtype=HIST_CELL)
        slot = cells["h"].astype(np.int32) * BUCKETS + cells["b"]
        order = np.argsort(slot, kind="stable")
        cells, slot = cells[order], slot[order]
        starts = np.flatnonzero(np.r_[True, slot[1:] != slot[:-1]])
        counts = np.add.reduceat(cells["c"].astype(np.int64), starts)
        lows = np.minimum.reduceat(cells["lo"], starts)
        highs = np.maximum.reduceat(cells["hi"], starts)
        hist = result.setdefault(key, Measures()).hist
        for j, start in enumerate(starts):
            name = HISTOGRAMS[int(cells["h"][start])]
            hist.setdefault(name, {})[int(cells["b"][start])] = [int(counts[j]), float(lows[j]), float(highs[j])]
    result["\x00customers"] = packed
    return result


def load_single(tenant: Any, flt: AnalyticsFilter, *, paths: bool = False) -> Measures | None:
    """The measures of every conversation ``flt`` selects (None when the roll-ups cannot answer)."""
    filters = filter_dimensions(flt)
    if len(filters) > 1:
        return None
    dimension, key = filters[0] if filters else ("all", "")
    cube = load_cube(tenant, flt, dimension, paths=paths)
    if cube is None:
        return None
    return cube.get(key, Measures(customer_count=0))


FLAGS = ("resolved", "ai_resolved", "handed_over", "reopened", "abandoned")


def drilldown_count(tenant: Any, flt: AnalyticsFilter, drill: dict[str, Any]) -> int | None:
    """How many conversations a drill-down with at most one condition selects, from the roll-ups
    (None when they cannot say: several conditions, or a reason / prompt version condition)."""
    conditions = {k: v for k, v in drill.items() if v not in (None, "")}
    if len(conditions) > 1 or set(conditions) & {"handover_reason", "prompt_version"}:
        return None
    measures = load_single(tenant, flt)
    if measures is None:
        return None
    get = measures.get
    if not conditions:
        return int(get("conversations"))
    name, value = next(iter(conditions.items()))
    if name == "outcome":
        return int(get(f"outcome_{value}"))
    if name in FLAGS:
        return int(get(name) if value else get("conversations") - get(name))
    if name == "durable":
        return int(get("durable") if value else get("durable_known") - get("durable"))
    if name == "failure_kind":
        return int(measures.kinds.get(str(value), 0))
    if name == "csat":
        return int(get(f"csat_{int(value)}"))
    return None
