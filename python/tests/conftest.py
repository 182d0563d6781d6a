"""The tests import the built package: CTest puts <build>/python on PYTHONPATH
(the staged package), or install it with pip first."""

import pytest

try:
    import tend  # noqa: F401
except ImportError as error:  # pragma: no cover - a setup problem, said plainly
    raise pytest.UsageError(
        f"cannot import tend ({error}): build it (scripts/build) and put <build>/python on PYTHONPATH, "
        "or pip install --no-build-isolation ./python") from error
