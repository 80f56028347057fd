"""Twitter US Airline Sentiment (``Tweets.csv``): customer-service tweets labelled negative/neutral/positive."""

from __future__ import annotations

from pathlib import Path

from parley.intelligence.datasets._csv import read_rows
from parley.intelligence.datasets.base import LabelledText, LoadResult, SchemaIssue, clean_text, register

LABELS = {"negative", "neutral", "positive"}


@register("airline", "Twitter US Airline Sentiment (Tweets.csv: text, airline_sentiment)")
def load(path: Path) -> LoadResult:
    if path.is_dir():
        path = path / "Tweets.csv"
    result = LoadResult(format="airline", path=str(path))
    seen: set[str] = set()
    for number, row in read_rows(path, ["tweet_id", "airline_sentiment", "text"]):
        result.rows_read += 1
        text, label = clean_text(row.get("text")), clean_text(row.get("airline_sentiment"))
        if not text or label not in LABELS:
            result.issues.append(SchemaIssue(number, f"empty text or label {label!r} not in {sorted(LABELS)}"))
            continue
        tweet_id = clean_text(row.get("tweet_id"))
        if tweet_id in seen:
            result.issues.append(SchemaIssue(number, f"duplicate tweet_id {tweet_id}"))
            continue
        seen.add(tweet_id)
        result.texts.append(LabelledText(text, label, meta={"airline": clean_text(row.get("airline")), "tweet_id": tweet_id}))
    return result
