"""Business hours per tenant, and durations counted only inside them.

``Tenant.settings["business_hours"]`` looks like::

    {"timezone": "Europe/Berlin",
     "hours": {"mon": ["09:00", "17:00"], "tue": [["08:00", "12:00"], ["13:00", "17:00"]], ...},
     "holidays": ["2026-12-25"]}

A day that is missing from ``hours`` is closed. No ``business_hours`` at all means "always open",
so the business-hours variant equals the plain one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class InvalidBusinessHours(ValueError):
    """The tenant's ``business_hours`` setting cannot be understood; the message says why."""


def _parse_time(value: Any) -> time:
    try:
        hours, minutes = str(value).split(":")
        if str(value) == "24:00":
            return time.max
        return time(int(hours), int(minutes))
    except (ValueError, TypeError) as exc:
        raise InvalidBusinessHours(f"bad time {value!r}: use HH:MM") from exc


@dataclass(frozen=True)
class BusinessHours:
    """Opening intervals per weekday (0 = Monday) in a time zone."""

    tz: ZoneInfo
    intervals: dict[int, list[tuple[time, time]]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> BusinessHours | None:
        """Parse ``Tenant.settings``; None when the tenant has no business hours configured.

        Raises:
            InvalidBusinessHours: when the configuration is malformed.
        """
        config = (settings or {}).get("business_hours")
        if not config:
            return None
        if not isinstance(config, dict):
            raise InvalidBusinessHours("business_hours must be an object")
        try:
            tz = ZoneInfo(str(config.get("timezone", "UTC")))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidBusinessHours(f"unknown time zone {config.get('timezone')!r}") from exc
        intervals: dict[int, list[tuple[time, time]]] = {}
        hours = config.get("hours", {})
        if not isinstance(hours, dict):
            raise InvalidBusinessHours("business_hours.hours must map mon..sun to [start, end]")
        for name, value in hours.items():
            if name not in DAY_NAMES:
                raise InvalidBusinessHours(f"unknown day {name!r}: use {', '.join(DAY_NAMES)}")
            pairs = value if value and isinstance(value[0], list | tuple) else [value]
            parsed = []
            for pair in pairs:
                if not isinstance(pair, list | tuple) or len(pair) != 2:
                    raise InvalidBusinessHours(f"{name}: each interval is [start, end]")
                start, end = _parse_time(pair[0]), _parse_time(pair[1])
                if end <= start:
                    raise InvalidBusinessHours(f"{name}: {pair[0]}–{pair[1]} ends before it starts")
                parsed.append((start, end))
            intervals[DAY_NAMES.index(name)] = sorted(parsed)
        holidays = set()
        for value in config.get("holidays", []) or []:
            try:
                holidays.add(date.fromisoformat(str(value)))
            except ValueError as exc:
                raise InvalidBusinessHours(f"bad holiday {value!r}: use YYYY-MM-DD") from exc
        return cls(tz=tz, intervals=intervals, holidays=frozenset(holidays))

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Seconds of opening time between two aware datetimes (0 when ``end <= start``)."""
        if end <= start:
            return 0.0
        local_start, local_end = start.astimezone(self.tz), end.astimezone(self.tz)
        total = 0.0
        day = local_start.date()
        last_day = local_end.date()
        while day <= last_day:
            if day not in self.holidays:
                for open_at, close_at in self.intervals.get(day.weekday(), []):
                    window_start = datetime.combine(day, open_at, self.tz)
                    window_end = (
                        datetime.combine(day + timedelta(days=1), time.min, self.tz)
                        if close_at == time.max
                        else datetime.combine(day, close_at, self.tz)
                    )
                    overlap_start = max(window_start, local_start)
                    overlap_end = min(window_end, local_end)
                    if overlap_end > overlap_start:
                        total += (overlap_end - overlap_start).total_seconds()
            day += timedelta(days=1)
        return total


def business_seconds(hours: BusinessHours | None, start: datetime | None, end: datetime | None) -> float | None:
    """Business-hours duration, or the plain duration when no business hours are configured."""
    if start is None or end is None:
        return None
    if hours is None:
        return max(0.0, (end - start).total_seconds())
    return hours.seconds_between(start, end)
