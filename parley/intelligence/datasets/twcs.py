"""Customer Support on Twitter (TWCS): tweets rebuilt into threads from ``in_response_to_tweet_id``.

Columns: ``tweet_id, author_id, inbound, created_at, text, response_tweet_id, in_response_to_tweet_id``.
A thread starts at a tweet that answers nothing (or answers a tweet outside the file) and follows
replies in time order; ``inbound=True`` tweets are the customer's, the others the company's.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from parley.intelligence.datasets._csv import read_rows
from parley.intelligence.datasets.base import DatasetError, Dialogue, LoadResult, SchemaIssue, Turn, clean_text, register

COLUMNS = ["tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id", "in_response_to_tweet_id"]
_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"


def _tweet_id(value: str) -> str:
    value = clean_text(value)
    if not value:
        return ""
    return str(int(float(value)))  # the Kaggle file writes parents as floats ("3.0")


@register("twcs", "Customer Support on Twitter (CSV of tweets, threaded by in_response_to_tweet_id)")
def load(path: Path) -> LoadResult:
    if path.is_dir():
        files = sorted(path.glob("*.csv"))
        if not files:
            raise DatasetError(f"no .csv file in {path}")
        path = max(files, key=lambda file: file.stat().st_size)
    result = LoadResult(format="twcs", path=str(path))
    tweets: dict[str, tuple[Turn, str]] = {}
    children: dict[str, list[str]] = {}
    order: list[str] = []
    for number, row in read_rows(path, COLUMNS):
        result.rows_read += 1
        try:
            tweet_id = _tweet_id(row["tweet_id"])
            parent = _tweet_id(row["in_response_to_tweet_id"])
            inbound = clean_text(row["inbound"]).lower()
            if inbound not in ("true", "false"):
                raise ValueError(f"inbound must be True or False, got {row['inbound']!r}")
            created = datetime.strptime(clean_text(row["created_at"]), _TIME_FORMAT)
        except (ValueError, TypeError) as exc:
            result.issues.append(SchemaIssue(number, str(exc)))
            continue
        text = clean_text(row["text"])
        if not tweet_id or not text:
            result.issues.append(SchemaIssue(number, "missing tweet_id or text"))
            continue
        if tweet_id in tweets:
            result.issues.append(SchemaIssue(number, f"duplicate tweet_id {tweet_id}"))
            continue
        author = clean_text(row["author_id"])
        tweets[tweet_id] = (Turn("customer" if inbound == "true" else "agent", text, author=author, timestamp=created), parent)
        order.append(tweet_id)
        if parent:
            children.setdefault(parent, []).append(tweet_id)
    roots = [tweet_id for tweet_id in order if not tweets[tweet_id][1] or tweets[tweet_id][1] not in tweets]
    for root in roots:
        thread: list[Turn] = []
        stack = [root]
        seen: set[str] = set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            thread.append(tweets[current][0])
            stack.extend(children.get(current, []))
        thread.sort(key=lambda turn: turn.timestamp or datetime.min)
        customer = next((turn.author for turn in thread if turn.speaker == "customer"), "")
        companies = sorted({turn.author for turn in thread if turn.speaker == "agent"})
        result.dialogues.append(Dialogue(id=root, turns=thread, customer_id=customer, meta={"companies": companies}))
    return result
