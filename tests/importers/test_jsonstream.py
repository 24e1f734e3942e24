"""The streaming JSON reader: elements across chunk boundaries, nested layouts, and where a file breaks."""

from __future__ import annotations

import io
import json

import pytest

from deskmate.importers import jsonstream
from deskmate.importers.jsonstream import MalformedJson, iter_json_items


@pytest.fixture
def tiny_chunks(monkeypatch):
    """Chunks of 7 characters, so every element and number straddles a boundary."""
    monkeypatch.setattr(jsonstream, "CHUNK", 7)


def items(text: str) -> list:
    return list(iter_json_items(io.StringIO(text)))


def test_array_elements_across_chunks(tiny_chunks):
    data = [{"id": i, "text": "x" * (i * 5), "n": 12345678901234 + i, "nested": [1, [2, {"a": None}]]} for i in range(30)]
    assert [value for _, _, value in items(json.dumps(data))] == data
    assert [value for _, _, value in items(json.dumps(data, indent=2))] == data


def test_top_level_object_of_arrays(tiny_chunks):
    text = json.dumps({"train": [1, 2.5, 30], "meta": {"v": 1}, "dev": [], "test": ["a"]})
    assert items(text) == [("train", 0, 1), ("train", 1, 2.5), ("train", 2, 30), ("meta", None, {"v": 1}), ("test", 0, "a")]
    assert items("{}") == [] and items("  [ ]  ") == []


def test_malformed_json_names_the_line(tiny_chunks):
    good = '[\n{"id": 1},\n{"id": 2},\n'
    stream = iter_json_items(io.StringIO(good + '{"id": 3,, "x": 1}\n]'))
    assert next(stream)[2] == {"id": 1} and next(stream)[2] == {"id": 2}
    with pytest.raises(MalformedJson, match="line 4"):
        next(stream)
    with pytest.raises(MalformedJson, match="array or object"):
        items("42")
    with pytest.raises(MalformedJson, match="extra data"):
        items("[1] [2]")
    with pytest.raises(MalformedJson):
        items('[{"id": 1}')
