"""Flag strings and config-file values convert to field types the same way."""

from typing import Literal

import pytest

from seqcore.config.types import ConversionError, convert, describe


@pytest.mark.parametrize(
    "tp, value, expected",
    [
        (int, "42", 42),
        (int, 7, 7),
        (float, "5e-4", 5e-4),
        (float, 3, 3.0),
        (bool, "true", True),
        (bool, "no", False),
        (bool, False, False),
        (str, "abc", "abc"),
        (int | None, "None", None),
        (int | None, "3", 3),
        (tuple[float, float], "(0.9, 0.98)", (0.9, 0.98)),
        (tuple[float, float], [0.9, 0.98], (0.9, 0.98)),
        (tuple[float, ...], "0.1,0.2,0.3", (0.1, 0.2, 0.3)),
        (list[float], "5e-4", [5e-4]),
        (list[float], "[0.25, 0.1]", [0.25, 0.1]),
        (list[float], 0.5, [0.5]),
        (list[int], "1,2", [1, 2]),
        (Literal["relu", "gelu"], "gelu", "gelu"),
    ],
)
def test_convert(tp, value, expected):
    result = convert(tp, value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    "tp, value, message",
    [
        (int, "4.5", "expected an integer"),
        (int, True, "expected an integer"),
        (float, "fast", "expected a number"),
        (bool, "maybe", "expected true or false"),
        (tuple[float, float], "(0.9, 0.98, 0.1)", "expected 2 values"),
        (tuple[float, float], "(0.9,", "cannot parse"),
        (Literal["relu", "gelu"], "tanh", "'tanh' is not one of relu, gelu"),
        (str, 3, "expected a string"),
    ],
)
def test_convert_rejects_values_that_do_not_fit(tp, value, message):
    with pytest.raises(ConversionError, match=message):
        convert(tp, value)


def test_describe_names_types_for_help():
    assert describe(int | None) == "int"
    assert describe(Literal["a", "b"]) == "{a,b}"
    assert describe(tuple[float, float]) == "(float, float)"
    assert describe(list[float]) == "float list"
