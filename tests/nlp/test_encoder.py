"""The encoder: shape, normalisation, cache, meaning, and one load per process."""

from __future__ import annotations

import numpy as np
import pytest

from deskmate.config import Settings
from deskmate.errors import InvalidInput
from deskmate.nlp import encoder as enc


@pytest.fixture(scope="module")
def models_settings(tmp_path_factory):
    return Settings(data_dir=tmp_path_factory.mktemp("enc-data"))


@pytest.fixture(scope="module", params=["minilm-onnx", "minilm"])
def encoder(request, models_settings):
    return enc.get_encoder(models_settings, backend=request.param)


def test_shape_dtype_and_unit_norm(encoder):
    vectors = encoder.encode(["Where is my refund?", "I was charged twice for one order", ""])
    assert vectors.shape == (3, encoder.dim) == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_similar_requests_are_closer_than_unrelated_ones(encoder):
    a, b, c = encoder.encode([
        "My card has not arrived yet",
        "I'm still waiting for my new card to be delivered",
        "How do I change the PIN of my account?",
    ])
    assert a @ b > a @ c + 0.1
    assert a @ b > b @ c + 0.1


def test_cache_returns_the_same_vector_without_recomputing(encoder):
    text = f"cache probe for {encoder.name}: where is my parcel?"
    first = encoder.encode([text])
    hits, misses = encoder.cache_hits, encoder.cache_misses
    again = encoder.encode([text, text])
    assert encoder.cache_hits == hits + 2 and encoder.cache_misses == misses
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(again[0], again[1])


def test_cache_is_bounded():
    small = enc.Encoder(dim=2, cache_size=3)
    small._embed = lambda texts: np.array([[len(t), 1.0] for t in texts], dtype=np.float32)
    small.encode(["a", "bb", "ccc", "dddd", "a"])
    assert len(small._cache) == 3
    assert small.cache_misses == 5  # "a" repeated within one call is computed once but counted per row
    np.testing.assert_allclose(np.linalg.norm(small.encode(["bb"]), axis=1), 1.0)


def test_batched_encoding_matches_one_by_one(encoder):
    texts = [f"question {i}: can I top up by bank transfer {'please ' * (i % 5)}?" for i in range(70)]
    batched = encoder.encode(texts)
    single = np.vstack([encoder._embed([t]) for t in texts[:5]])
    single /= np.linalg.norm(single, axis=1, keepdims=True)
    assert ((batched[:5] * single).sum(axis=1) > 0.99999).all()


def test_onnx_backend_agrees_with_the_fp32_reference(models_settings):
    texts = ["I lost my card yesterday", "Why was I charged a fee for this transfer?", "thanks, that helped!",
             "My top-up is still pending after two days", "Can I get a virtual card for online shopping?"]
    fp32 = enc.get_encoder(models_settings, backend="minilm").encode(texts)
    int8 = enc.get_encoder(models_settings, backend="minilm-onnx").encode(texts)
    cosine = (fp32 * int8).sum(axis=1)
    assert cosine.mean() > 0.98 and cosine.min() > 0.95


def test_loaded_once_per_process(models_settings):
    first = enc.get_encoder(models_settings, backend="minilm-onnx")
    assert enc.get_encoder(models_settings, backend="minilm-onnx") is first
    assert first.onnx_path.exists() and first.onnx_path.parent.name == "encoders"
    mtime = first.onnx_path.stat().st_mtime_ns
    again = enc.load_encoder("minilm-onnx", onnx_path=first.onnx_path)  # a second process reuses the export
    assert again.onnx_path.stat().st_mtime_ns == mtime


def test_unknown_backend_is_a_clear_error(models_settings):
    with pytest.raises(InvalidInput, match="minilm-onnx"):
        enc.get_encoder(models_settings, backend="word2vec")


def test_a_single_string_is_refused(encoder):
    with pytest.raises(TypeError):
        encoder.encode("not a list")


def test_encoder_threads_follow_the_setting(models_settings):
    one = enc.load_encoder("minilm-onnx", models_dir=models_settings.models_dir, threads=1)
    assert one.session.get_session_options().intra_op_num_threads == 1
    every = enc.load_encoder("minilm-onnx", models_dir=models_settings.models_dir)
    assert every.session.get_session_options().intra_op_num_threads == enc._cores()
    np.testing.assert_allclose(one.encode(["where is my parcel"]), every.encode(["where is my parcel"]), atol=1e-5)
