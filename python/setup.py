"""Installable package: `python3 -m pip install --no-build-isolation ./python` (after
`make build`), offline, with Debian's setuptools. The extension is compiled against
include/rhei.h; librhei and DuckDB are copied next to it and found by rpath $ORIGIN, so the
installed package does not depend on the source tree. RHEI_BUILD_DIR / DUCKDB_ROOT override
where they are taken from."""
import glob
import os
import shutil

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.environ.get("RHEI_BUILD_DIR", os.path.join(ROOT, "build"))
DUCKDB_LIB = os.path.join(os.environ.get("DUCKDB_ROOT", os.path.join(ROOT, "third_party",
                                                                     "duckdb")), "lib")


def version():
    with open(os.path.join(ROOT, "include", "rhei.h")) as f:
        for line in f:
            if line.startswith("#define RHEI_VERSION "):
                return line.split('"')[1]
    return "0.0.0"


class BuildWithLibs(build_ext):
    """Builds the extension, then puts librhei.so.0 and libduckdb.so beside it."""

    def run(self):
        if not glob.glob(os.path.join(BUILD, "librhei.so*")):
            raise SystemExit(f"librhei not found in {BUILD}: run `make build` first "
                             "(or set RHEI_BUILD_DIR)")
        super().run()
        dest = os.path.join(self.build_lib, "rhei")
        for src in (os.path.join(BUILD, "librhei.so.0"), os.path.join(DUCKDB_LIB, "libduckdb.so")):
            shutil.copy2(os.path.realpath(src), os.path.join(dest, os.path.basename(src)))


ext = Extension(
    "rhei._rhei",
    sources=sorted(glob.glob(os.path.join("src", "*.c"))),
    include_dirs=[os.path.join(ROOT, "include")],
    library_dirs=[BUILD],
    libraries=["rhei"],
    runtime_library_dirs=["$ORIGIN"],
    extra_compile_args=["-std=gnu11", "-Wno-missing-field-initializers"],
    # DuckDB is loaded from $ORIGIN too: librhei's own RUNPATH points at the source tree.
    extra_link_args=["-Wl,--no-as-needed", "-L" + DUCKDB_LIB, "-lduckdb"],
)

setup(
    name="rhei",
    version=version(),
    description="Rhei: embeddable HTAP engine (SQLite + DuckDB) for Python",
    packages=["rhei"],
    package_data={"rhei": ["*.pyi", "py.typed"]},
    ext_modules=[ext],
    cmdclass={"build_ext": BuildWithLibs},
    python_requires=">=3.9",
)
