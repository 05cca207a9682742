"""The {FIELD} substitution formatter: format names, recognise them, extract fields."""
from __future__ import annotations

import datetime

import pytest

from dbprocessing.errors import FormatError
from dbprocessing.mission.substitution import (
    FIELD_REGEX,
    date_from_fields,
    fields_of,
    format_name,
    name_regex,
    parse_name,
    version_from_fields,
)
from dbprocessing.Version import Version

STAMP = datetime.datetime(2013, 2, 3, 4, 5, 6, 789012)

# field, value given, expected text
CASES = [
    ("Y", {"datetime": STAMP}, "2013"),
    ("m", {"datetime": STAMP}, "02"),
    ("d", {"datetime": STAMP}, "03"),
    ("b", {"datetime": STAMP}, "Feb"),
    ("y", {"datetime": STAMP}, "13"),
    ("j", {"datetime": STAMP}, "034"),
    ("H", {"datetime": STAMP}, "04"),
    ("M", {"datetime": STAMP}, "05"),
    ("S", {"datetime": STAMP}, "06"),
    ("MILLI", {"datetime": STAMP}, "789"),
    ("MICRO", {"datetime": STAMP}, "012"),
    ("DATE", {"datetime": STAMP}, "20130203"),
    ("datetime", {"datetime": STAMP.date()}, "2013-02-03"),
    ("VERSION", {"VERSION": Version(1, 10, 2)}, "1.10.2"),
    ("QACODE", {"QACODE": "ok"}, "ok"),
    ("mday", {"mday": -12}, "-12"),
    ("APID", {"APID": "3fA"}, "3fA"),
    ("??", {"??": "ab"}, "ab"),
    ("???", {"???": "abc"}, "abc"),
    ("????", {"????": "ab-d"}, "ab-d"),
    ("nn", {"nn": "07"}, "07"),
    ("nnn", {"nnn": "001"}, "001"),
    ("nnnn", {"nnnn": "1234"}, "1234"),
    ("MISSION", {"MISSION": "rbsp"}, "rbsp"),
    ("SPACECRAFT", {"SPACECRAFT": "rbspa"}, "rbspa"),
    ("SATELLITE", {"SATELLITE": "rbspa"}, "rbspa"),
    ("INSTRUMENT", {"INSTRUMENT": "hope"}, "hope"),
    ("PRODUCT", {"PRODUCT": "L1"}, "L1"),
]


@pytest.mark.parametrize("field, values, text", CASES, ids=[c[0] for c in CASES])
def test_each_field_formats_and_parses_back(field, values, text):
    pattern = f"pre_{{{field}}}_post.cdf"
    name = format_name(pattern, values)
    assert name == f"pre_{text}_post.cdf"
    assert parse_name(pattern, name)[field] == text


@pytest.mark.parametrize("field, bad", [
    ("Y", "1812"), ("m", "13"), ("d", "41"), ("b", "Foo"), ("j", "412"), ("DATE", "20131301"),
    ("VERSION", "1.2"), ("QACODE", "bad"), ("APID", "xyz"), ("nnn", "01a"), ("??", "abc"),
])
def test_each_field_rejects_what_it_cannot_be(field, bad):
    assert parse_name(f"x_{{{field}}}.dat", f"x_{bad}.dat") is None


def test_every_field_in_the_table_is_tested():
    assert {c[0] for c in CASES} == set(FIELD_REGEX)


def test_date_and_version_from_a_real_name():
    pattern = "rbsp-{SPACECRAFT}_hope_L1_{Y}{m}{d}_v{VERSION}.cdf"
    fields = parse_name(pattern, "rbsp-a_hope_L1_20130203_v1.2.3.cdf", {"SPACECRAFT": "a"})
    assert date_from_fields(fields) == datetime.date(2013, 2, 3)
    assert version_from_fields(fields) == Version(1, 2, 3)
    assert parse_name(pattern, "rbsp-b_hope_L1_20130203_v1.2.3.cdf", {"SPACECRAFT": "a"}) is None


@pytest.mark.parametrize("fields, expected", [
    ({"DATE": "20130203"}, datetime.date(2013, 2, 3)),
    ({"datetime": "2013-02-03"}, datetime.date(2013, 2, 3)),
    ({"datetime": "20130203"}, datetime.date(2013, 2, 3)),
    ({"Y": "2013", "j": "034"}, datetime.date(2013, 2, 3)),
    ({"y": "13", "b": "Feb", "d": "03"}, datetime.date(2013, 2, 3)),
    ({"Y": "2013"}, None),
    ({"Y": "2013", "m": "02", "d": "31"}, None),
])
def test_date_from_fields(fields, expected):
    assert date_from_fields(fields) == expected


def test_repeated_field_must_match_itself():
    pattern = "{Y}/x_{Y}{m}{d}.dat"
    assert parse_name(pattern, "2013/x_20130203.dat") == {"Y": "2013", "m": "02", "d": "03"}
    assert parse_name(pattern, "2012/x_20130203.dat") is None


def test_literal_braces():
    assert format_name("a{{b}}_{Y}", {"Y": 2013}) == "a{b}_2013"
    assert parse_name("a{{b}}_{Y}", "a{b}_2013") == {"Y": "2013"}
    assert name_regex("x.{nn}").match("x.12") and not name_regex("x.{nn}").match("xa12")


def test_partial_leaves_unknown_fields():
    assert format_name("{MISSION}_{Y}_{{x}}", {"MISSION": "m"}, partial=True) == "m_{Y}_{{x}}"


def test_fields_of():
    assert fields_of("{Y}{m}{d}_{Y}_v{VERSION}") == ["Y", "m", "d", "VERSION"]


@pytest.mark.parametrize("pattern", ["x_{Y", "x_Y}", "{nosuch}"])
def test_bad_patterns(pattern):
    with pytest.raises(FormatError):
        name_regex(pattern)


def test_missing_value_is_an_error():
    with pytest.raises(FormatError, match=r"\{VERSION\}"):
        format_name("x_{VERSION}", {})
