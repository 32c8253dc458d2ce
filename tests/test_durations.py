import math

import pytest

from workout_audio.durations import format_clock, parse_duration_ms


@pytest.mark.parametrize(
    ("text", "expected_ms"),
    [
        ("30s", 30_000),
        ("1m30s", 90_000),
        ("90", 90_000),
        (90, 90_000),
        (2.5, 2_500),
        ("1:30", 90_000),
        ("1h", 3_600_000),
        ("45:00", 2_700_000),
        ("1500s", 1_500_000),
        ("2.5s", 2_500),
        ("1500ms", 1_500),
        ("1:00:00", 3_600_000),
        ("0s", 0),
        (" 1M 30S ", 90_000),
    ],
)
def test_parses_durations_as_users_write_them(text, expected_ms):
    assert parse_duration_ms(text) == expected_ms


@pytest.mark.parametrize(
    "value",
    [-5, "-5", "abc", "", "NaN", math.nan, math.inf, "1:75", True, None, [1], "1m30"],
)
def test_rejects_what_is_not_a_duration(value):
    with pytest.raises(ValueError, match=r"duration|negative|clock"):
        parse_duration_ms(value)


def test_rejection_names_the_bad_value():
    with pytest.raises(ValueError, match="'abc'"):
        parse_duration_ms("abc")


@pytest.mark.parametrize(
    ("duration_ms", "clock"),
    [
        (0, "0:00"),
        (2_500, "0:02.5"),
        (90_000, "1:30"),
        (1_800_000, "30:00"),
        (3_600_000, "1:00:00"),
        (3_723_400, "1:02:03.4"),
    ],
)
def test_format_clock(duration_ms, clock):
    assert format_clock(duration_ms) == clock


@pytest.mark.parametrize(
    ("duration_ms", "clock"),
    [(600, "0:00.6"), (60_000, "1:00.0"), (119_960, "2:00.0"), (3_599_960, "1:00:00.0")],
)
def test_format_clock_with_tenths_always_shows_them_and_carries(duration_ms, clock):
    assert format_clock(duration_ms, tenths=True) == clock
