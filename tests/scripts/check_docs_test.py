#!/usr/bin/env python3
"""Tests scripts/check-docs on the fixtures beside this file: it must report
exactly the undocumented public declarations of tricky.hpp (each named
missing_* or Missing*) despite its traps, and nothing in documented.hpp.

Usage: check_docs_test.py PATH_TO_CHECK_DOCS
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "check_docs_fixtures")


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
    missing = [
        "tricky.hpp:23: no /// comment: int missing_after_blank();",
        "tricky.hpp:26: no /// comment: int missing_after_plain_comment();",
        "tricky.hpp:33: no /// comment: bool missing_after_trailing_group();",
        "tricky.hpp:40: no /// comment: template <typename T>",
        "tricky.hpp:49: no /// comment: enum class MissingEnum { a, b };",
        "tricky.hpp:53: no /// comment: int missing_member = 0;",
        "tricky.hpp:64: no /// comment: int missing_after_lambda = 0;",
        "tricky.hpp:68: no /// comment: int missing_nested_member;",
        'tricky.hpp:71: no /// comment: const char* missing_with_braces_in_a_string = "}{";',
        "tricky.hpp:87: no /// comment: int missing_method() const;",
        "tricky.hpp:108: no /// comment: /* a block comment with a { brace */ int missing_after_block_comment;",
        "tricky.hpp:114: no /// comment: T missing_value;",
        "tricky.hpp:118: no /// comment: class MissingDefinedClass {",
        "tricky.hpp:123: no /// comment: using MissingAlias = int;",
        "tricky.hpp:124: no /// comment: inline constexpr int kMissingConstant = 1;",
        "tricky.hpp:129: no /// comment: int missing_after_two_line_head;",
    ]
    code, lines = run(checker, FIXTURES)
    ok &= expect("exactly the undocumented declarations of tricky.hpp", lines, missing)
    ok &= expect("with any, it exits 1", code, 1)
    code, lines = run(checker, os.path.join(FIXTURES, "documented.hpp"))
    ok &= expect("a fully documented header gives nothing", lines, [])
    ok &= expect("a fully documented header exits 0", code, 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
