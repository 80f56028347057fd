"""Size of the web-chat widget loader (``widget/dist/widget.js``), for bench/frontend.py.

The loader is what every page of a business's site downloads, so it has a budget: 15 kB gzipped.
``widget_loader_size()`` returns the gzipped size (level 9, what a CDN or nginx ``gzip_comp_level 9``
serves), the raw size and the ratio to the budget. Run alone it prints one JSON line.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parents[1]
WIDGET_DIR = REPO_DIR / "widget"
LOADER = WIDGET_DIR / "dist" / "widget.js"
BUDGET_GZIP_BYTES = 15 * 1024


def build_widget() -> None:
    """Build the widget (``npm ci`` when node_modules is missing, then ``npm run build``)."""
    if not (WIDGET_DIR / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=WIDGET_DIR, check=True)
    subprocess.run(["npm", "run", "build", "--silent"], cwd=WIDGET_DIR, check=True, stdout=subprocess.DEVNULL)


def widget_loader_size(*, build: bool = True) -> dict[str, Any]:
    """Measure the built loader.

    Args:
        build: build the widget first (so the figure matches the sources); False measures what is in dist/.

    Returns:
        ``{"figure": "widget_loader_gzip_bytes", "value": int, "raw_bytes": int, "baseline": budget,
        "baseline_name": "budget_gzip_bytes", "ratio": value / budget, "within_budget": bool}``.
    """
    if build or not LOADER.exists():
        build_widget()
    raw = LOADER.read_bytes()
    gzipped = len(gzip.compress(raw, compresslevel=9, mtime=0))
    return {
        "figure": "widget_loader_gzip_bytes",
        "value": gzipped,
        "raw_bytes": len(raw),
        "baseline": BUDGET_GZIP_BYTES,
        "baseline_name": "budget_gzip_bytes",
        "ratio": round(gzipped / BUDGET_GZIP_BYTES, 3),
        "within_budget": gzipped <= BUDGET_GZIP_BYTES,
    }


if __name__ == "__main__":
    print(json.dumps(widget_loader_size()))
