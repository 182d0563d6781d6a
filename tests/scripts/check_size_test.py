#!/usr/bin/env python3
"""Tests scripts/check-size on the fixtures beside this file: it must find
exactly the one long file and the one long function there, and see every
function of tricky.cpp (and nothing else) despite its traps.

Usage: check_size_test.py PATH_TO_CHECK_SIZE
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "check_size_fixtures")


def run(checker, *args):
    result = subprocess.run([sys.executable, checker, *args], capture_output=True, text=True)
    lines = [line.replace(FIXTURES + os.sep, "") for line in result.stdout.splitlines()]
    return result.returncode, lines


def expect(what, got, wanted):
    if got != wanted:
        print(f"FAIL: {what}\n  got:    {got}\n  wanted: {wanted}")
        return False
    return True


def main():
    checker = sys.argv[1]
    ok = True
    limits = ["--max-function-lines", "10", "--max-file-lines", "64"]
    offenders = [
        "long_file.hpp:1: file has 70 lines (max 64)",
        "tricky.cpp:48: function long_function has 12 lines (max 10)",
    ]
    code, lines = run(checker, "--report", *limits, FIXTURES)
    ok &= expect("--report lists exactly the long file and the long function", lines, offenders)
    ok &= expect("--report exits 0", code, 0)
    code, lines = run(checker, *limits, FIXTURES)
    ok &= expect("without --report it exits 1", code, 1)
    code, lines = run(checker, "--max-function-lines", "20", "--max-file-lines", "70", FIXTURES)
    ok &= expect("within the limits it says nothing", lines, [])
    ok &= expect("within the limits it exits 0", code, 0)

    code, lines = run(checker, "--report", "--max-function-lines", "0", os.path.join(FIXTURES, "tricky.cpp"))
    every_function = [
        "tricky.cpp:10: function brace_in_string has 1 lines (max 0)",
        "tricky.cpp:12: function brace_in_char has 1 lines (max 0)",
        "tricky.cpp:14: function digit_separators has 1 lines (max 0)",
        "tricky.cpp:16: function brace_in_raw_string has 3 lines (max 0)",
        "tricky.cpp:20: function brace_in_comments has 5 lines (max 0)",
        "tricky.cpp:31: function Widget has 1 lines (max 0)",
        "tricky.cpp:32: function operator= has 4 lines (max 0)",
        "tricky.cpp:36: function sum has 1 lines (max 0)",
        "tricky.cpp:37: function operator bool has 1 lines (max 0)",
        "tricky.cpp:48: function long_function has 12 lines (max 0)",
    ]
    ok &= expect("every function of tricky.cpp, and only those", lines, every_function)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
