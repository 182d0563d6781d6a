"""tend's in-tree PEP 517 build backend: standard library only.

``pip install ./python`` (with or without ``--no-build-isolation``) calls
``build_wheel`` here. It configures the repository's CMake project for the
interpreter running pip (``sys.executable``) with Debian's pybind11, builds
only the Python package (the static library and the extension module), and
packs the staged package into a wheel it writes itself (zipfile, with
dist-info METADATA, WHEEL and RECORD). No package index is needed.

Config settings (``pip install --config-settings KEY=VALUE``):

- ``build-dir``: the CMake build directory to use (and keep); default
  ``<repo>/build-python-<interpreter tag>``: kept, so a second install is
  incremental, and beside ``<repo>/build``, so ccache (its paths relative)
  reuses what scripts/build compiled.
- ``build-type``: CMake's build type (default RelWithDebInfo).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Any, Mapping, Optional

NAME = "tend"
SUMMARY = "Run and look after background tasks from asyncio, on tend's C++ engine"
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # python/
REPO = PACKAGE_DIR.parent


def _version() -> str:
    """The project's version, from its one home: project(... VERSION x) in CMakeLists.txt."""
    text = (REPO / "CMakeLists.txt").read_text()
    found = re.search(r"project\(\s*tend\s+VERSION\s+([0-9.]+)", text)
    if not found:
        raise RuntimeError(f"tend_build: no project(tend VERSION ...) in {REPO / 'CMakeLists.txt'}")
    return found.group(1)


def _tags() -> tuple[str, str, str]:
    """(python, abi, platform) tags of the running interpreter, as in cp311-cp311-linux_x86_64."""
    impl = {"cpython": "cp", "pypy": "pp"}.get(sys.implementation.name, sys.implementation.name)
    python_tag = f"{impl}{sys.version_info.major}{sys.version_info.minor}"
    soabi = sysconfig.get_config_var("SOABI") or ""
    abi_tag = python_tag if soabi.startswith("cpython-") else re.sub(r"[-.]", "_", soabi) or "none"
    platform_tag = re.sub(r"[-.]", "_", sysconfig.get_platform())
    return python_tag, abi_tag, platform_tag


def _check_tree() -> None:
    if not (REPO / "src" / "CMakeLists.txt").is_file():
        raise RuntimeError(
            f"tend_build: {REPO} is not tend's source tree (pip copied python/ elsewhere?); "
            "build from a clone with pip >= 21.3, which builds in place")


def _run(command: list[str]) -> None:
    print("tend_build:", " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, check=True, stdout=sys.stderr)


def _build(settings: Mapping[str, Any]) -> Path:
    """Builds the package; returns the staged package directory."""
    _check_tree()
    if shutil.which("cmake") is None:
        raise RuntimeError("tend_build: cmake is missing (scripts/install-deps installs it)")
    python_tag, abi_tag, _ = _tags()
    build_dir = Path(settings.get("build-dir") or REPO / f"build-python-{python_tag}-{abi_tag}").resolve()
    generator = ["-G", "Ninja"] if shutil.which("ninja") and not (build_dir / "CMakeCache.txt").exists() else []
    _run(["cmake", "-S", str(REPO), "-B", str(build_dir), *generator,
          f"-DCMAKE_BUILD_TYPE={settings.get('build-type', 'RelWithDebInfo')}",
          # A unity build: the library compiles in about half the time.
          "-DTEND_BUILD_PYTHON=ON", "-DCMAKE_UNITY_BUILD=ON", "-DTEND_BUILD_TESTS=OFF", "-DTEND_BUILD_BENCH=OFF",
          "-DTEND_BUILD_EXAMPLES=OFF", f"-DPython_EXECUTABLE={sys.executable}"])
    _run(["cmake", "--build", str(build_dir), "--target", "tend_python", "-j", str(os.cpu_count() or 2)])
    return build_dir / "python" / "tend"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def _metadata(version: str) -> str:
    readme = PACKAGE_DIR / "README.md"
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {NAME}",
        f"Version: {version}",
        f"Summary: {SUMMARY}",
        "Requires-Python: >=3.9",
        "License: see the repository",
    ]
    if readme.is_file():
        lines += ["Description-Content-Type: text/markdown", "", readme.read_text()]
    return "\n".join(lines) + "\n"


def _write_wheel(stage: Path, wheel_directory: str, version: str) -> str:
    python_tag, abi_tag, platform_tag = _tags()
    tag = f"{python_tag}-{abi_tag}-{platform_tag}"
    wheel_name = f"{NAME}-{version}-{tag}.whl"
    dist_info = f"{NAME}-{version}.dist-info"
    ext_suffix = sysconfig.get_config_var("EXT_SUFFIX")
    files: list[tuple[str, bytes]] = []
    for path in sorted(stage.iterdir()):
        keep = path.suffix in (".py", ".pyi") or path.name == "py.typed" or path.name == f"_tend{ext_suffix}"
        if keep and path.is_file():
            files.append((f"{NAME}/{path.name}", path.read_bytes()))
    if not any(name.endswith(f"_tend{ext_suffix}") for name, _ in files):
        raise RuntimeError(f"tend_build: no _tend{ext_suffix} in {stage}: built for another interpreter?")
    files.append((f"{dist_info}/METADATA", _metadata(version).encode()))
    files.append((f"{dist_info}/WHEEL", (
        "Wheel-Version: 1.0\n"
        "Generator: tend_build\n"
        "Root-Is-Purelib: false\n"
        f"Tag: {tag}\n").encode()))
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name, data in files:
        writer.writerow([name, _record_hash(data), len(data)])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    files.append((f"{dist_info}/RECORD", record.getvalue().encode()))

    os.makedirs(wheel_directory, exist_ok=True)
    target = Path(wheel_directory) / wheel_name
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if name.endswith(".so") else 0o644) << 16
            wheel.writestr(info, data)
    return wheel_name


# --- PEP 517 hooks -------------------------------------------------------------

def get_requires_for_build_wheel(config_settings: Optional[Mapping[str, Any]] = None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Mapping[str, Any]] = None) -> list[str]:
    return []


def build_wheel(wheel_directory: str, config_settings: Optional[Mapping[str, Any]] = None,
                metadata_directory: Optional[str] = None) -> str:
    version = _version()
    stage = _build(config_settings or {})
    return _write_wheel(stage, wheel_directory, version)


def build_sdist(sdist_directory: str, config_settings: Optional[Mapping[str, Any]] = None) -> str:
    # The package builds against the whole repository (the C++ library), so
    # its source distribution is the repository itself: say so plainly.
    raise RuntimeError("tend_build: no sdist; build from a clone of the repository (pip install ./python)")
