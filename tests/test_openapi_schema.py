"""docs/openapi.json is the contract the dashboard's typed client is generated from: it must match the backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def _current_schema() -> Any:
    """The schema exactly as ``make schema`` (``spectacular --format openapi-json``) writes it."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema, renderer_context={}))


def _diff_summary(committed: Any, current: Any) -> str:
    old_paths, new_paths = set(committed.get("paths", {})), set(current.get("paths", {}))
    old_schemas = set(committed.get("components", {}).get("schemas", {}))
    new_schemas = set(current.get("components", {}).get("schemas", {}))
    changed = sorted(p for p in old_paths & new_paths if committed["paths"][p] != current["paths"][p])
    changed_schemas = sorted(
        s for s in old_schemas & new_schemas if committed["components"]["schemas"][s] != current["components"]["schemas"][s]
    )
    parts = [
        f"new paths: {sorted(new_paths - old_paths)}",
        f"removed paths: {sorted(old_paths - new_paths)}",
        f"changed paths: {changed}",
        f"new/removed/changed schemas: {sorted(new_schemas - old_schemas)} / {sorted(old_schemas - new_schemas)} / {changed_schemas}",
    ]
    return "\n".join(parts)


def test_committed_openapi_schema_matches_the_backend() -> None:
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    current = _current_schema()
    assert committed == current, (
        "docs/openapi.json is out of date: run `make schema` and commit it (the dashboard's client is generated from it).\n"
        + _diff_summary(committed, current)
    )
