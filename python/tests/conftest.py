"""Shared fixtures: every async test runs under asyncio and trio (anyio's pytest plugin);
each test gets its own temporary folder, removed afterwards."""
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

import rhei


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return request.param


@pytest.fixture
def tmpdir_rm():
    d = tempfile.mkdtemp(prefix="rhei-py-")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def db_path(tmpdir_rm):
    return os.path.join(tmpdir_rm, "t.db")


@pytest.fixture
async def engine(db_path):
    e = await rhei.open(oltp_path=db_path)
    try:
        yield e
    finally:
        await e.close()


@pytest.fixture
def busy_cores():
    """Both cores kept busy by spinning processes (processes: threads would hold the GIL)."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
             for _ in range(os.cpu_count() or 2)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()
