"""Dataset loaders, one module per format, all producing the typed records of :mod:`.base`."""

from parley.intelligence.datasets.base import (
    DatasetError,
    Dialogue,
    LabelledText,
    LoadResult,
    SchemaIssue,
    Turn,
    datasets_dir,
    formats,
    load,
)

__all__ = ["DatasetError", "Dialogue", "LabelledText", "LoadResult", "SchemaIssue", "Turn", "datasets_dir", "formats", "load"]
