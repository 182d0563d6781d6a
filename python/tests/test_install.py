"""pip builds and installs the package from the source tree with the in-tree
backend, as a user would, into a fresh venv; it then imports from anywhere."""

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.install


def _build_dir(tmp_path):
    # Under CTest: a build directory beside the test's own, kept between runs,
    # so the next install is incremental; at the same depth, so ccache's
    # relative paths match and the first one reuses the objects the test's
    # own build compiled. Otherwise a temporary one.
    binary_dir = os.environ.get("TEND_BINARY_DIR")
    return Path(binary_dir + "-wheel") if binary_dir else tmp_path / "build"


def _clean_env(**extra):
    # Not the staged package CTest puts on PYTHONPATH: the installed one.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra)
    return env


def _pip_install(python, build_dir, *extra):
    subprocess.run([str(python), "-m", "pip", "install", "--no-build-isolation", "--no-index", "--quiet",
                    "--config-settings", f"build-dir={build_dir}", *extra, str(PYTHON_DIR)],
                   env=_clean_env(), check=True)


def _import_elsewhere(python, cwd, env=None):
    done = subprocess.run([str(python), "-c", "import tend; print(tend.__version__, tend.__file__)"],
                          cwd=cwd, env=env or _clean_env(), check=True, capture_output=True, text=True)
    return done.stdout.split()


def test_pip_installs_into_a_venv_and_it_imports_from_any_directory(tmp_path):
    try:
        venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    except Exception as error:  # no ensurepip: Debian's python3-venv is missing
        pytest.skip(f"cannot make a venv with pip ({error}); scripts/install-deps installs python3-venv")
    python = tmp_path / "venv" / "bin" / "python"
    _pip_install(python, _build_dir(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    version, location = _import_elsewhere(python, elsewhere)
    assert version.count(".") == 2
    assert location.startswith(str(tmp_path / "venv"))
    # The seed's first pattern, from the installed package.
    subprocess.run([str(python), "-c",
                    "import asyncio, tend\n"
                    "async def main():\n"
                    "    async with tend.Supervisor() as sup:\n"
                    "        assert (await sup.run(['true']).wait(timeout=30)).ok\n"
                    "asyncio.run(main())\n"], cwd=elsewhere, env=_clean_env(), check=True)


def test_pip_of_the_python3_on_path_installs_it_too(tmp_path):
    path_python = shutil.which("python3")
    if path_python is None or subprocess.run([path_python, "-m", "pip", "--version"],
                                             capture_output=True).returncode != 0:
        pytest.skip("no python3 with pip on PATH")
    target = tmp_path / "target"
    _pip_install(path_python, _build_dir(tmp_path), "--target", str(target))
    version, location = _import_elsewhere(path_python, tmp_path, _clean_env(PYTHONPATH=str(target)))
    assert location.startswith(str(target))
