"""The argument types' messages: what was expected, with the bound that was crossed."""

import argparse

import pytest

from cnnlab.cli import args as A


def _message(kind, text):
    with pytest.raises(argparse.ArgumentTypeError) as info:
        kind(text)
    return str(info.value)


def test_open_ended_integer_names_its_upper_bound_when_exceeded():
    assert _message(A.positive_int, "0") == "expected an integer >= 1, got '0'"
    assert _message(A.positive_int, str(2**40)) == f"expected an integer from 1 to {A.HUGE}, got '{2**40}'"
    assert A.positive_int(str(A.HUGE)) == A.HUGE


def test_bounded_integer_names_both_bounds():
    kind = A.int_range(0, 9)
    assert _message(kind, "10") == "expected an integer from 0 to 9, got '10'"
    assert _message(kind, "-1") == "expected an integer from 0 to 9, got '-1'"


def test_os_errors_name_the_file_without_errno_prefix(tmp_path):
    from cnnlab.cli.errors import report

    out = str(tmp_path / "no" / "x.png")
    code, message = report(FileNotFoundError(2, "No such file or directory", out), argparse.Namespace(out=out))
    assert (code, message) == (1, f"cannot write {out!r}: no such file or directory")
    missing = str(tmp_path / "input.png")
    code, message = report(FileNotFoundError(2, "No such file or directory", missing), argparse.Namespace(out=out))
    assert (code, message) == (2, f"no such file or directory: {missing!r}")
