"""dbprocessing.Version: the frozen plugin API for versions."""
from __future__ import annotations

import pytest

from dbprocessing import Version
from dbprocessing.errors import DBProcessingError


def test_constructor_and_str():
    v = Version.Version(1, 2, 3)
    assert (v.interface, v.quality, v.revision) == (1, 2, 3)
    assert str(v) == "1.2.3"


@pytest.mark.parametrize("text, expected", [
    ("1.2.3", (1, 2, 3)), ("10.0.11", (10, 0, 11)), ("v2.0.0", (2, 0, 0)), (" 1.0.0 ", (1, 0, 0)),
])
def test_from_string(text, expected):
    assert Version.Version.fromString(text).as_tuple() == expected


@pytest.mark.parametrize("text", ["1.2", "1.2.3.4", "a.b.c", "", "0.1.0", "1.-1.0"])
def test_from_string_rejects(text):
    with pytest.raises(Version.VersionError):
        Version.Version.fromString(text)


def test_version_error_is_ours():
    assert issubclass(Version.VersionError, DBProcessingError)


@pytest.mark.parametrize("a, b", [
    ("1.10.0", "1.9.0"), ("2.0.0", "1.99.99"), ("1.0.10", "1.0.9"), ("1.1.0", "1.0.5"),
])
def test_numeric_ordering(a, b):
    va, vb = Version.Version.fromString(a), Version.Version.fromString(b)
    assert va > vb and vb < va and va != vb and va >= vb and vb <= va


def test_equality_and_hash():
    assert Version.Version(1, 0, 0) == Version.Version.fromString("1.0.0")
    assert len({Version.Version(1, 0, 0), Version.Version(1, 0, 0)}) == 1


@pytest.mark.parametrize("method, expected", [
    ("incInterface", "2.0.0"), ("incQuality", "1.3.0"), ("incRevision", "1.2.4"),
])
def test_increment_resets_lower(method, expected):
    v = Version.Version(1, 2, 3)
    getattr(v, method)()
    assert str(v) == expected


def test_bumped_leaves_original():
    v = Version.Version(1, 2, 3)
    assert [str(v.bumped(i)) for i in range(3)] == ["2.0.0", "1.3.0", "1.2.4"]
    assert str(v) == "1.2.3"


def test_subtraction_gives_three_differences():
    assert Version.Version(2, 1, 0) - Version.Version(1, 3, 5) == [1, -2, -5]
