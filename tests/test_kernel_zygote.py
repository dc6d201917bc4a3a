"""The kernels' zygote: one process imports, each kernel is a fork of it.

Real processes throughout: a zygote is started, kernels are asked of it through
:class:`playbook.kernels.WarmKernel`, and what each kernel is (whose child, what it has
imported, its environment and folder) is read from the kernel itself and from ``/proc``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from playbook.kernel_zygote import (
    KERNEL_PROCESS_NAME,
    ForkedKernel,
    Zygote,
    process_start,
    request_kernel,
)
from playbook.kernels import WarmKernel, kernel_environment

#: Imported by the zygote only: a kernel that has it without importing it is a fork.
MARKER = "xml.dom.minidom"


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    folder = tmp_path / "rt"
    folder.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(folder))
    return folder


def _env(**extra):
    return {**kernel_environment(), **extra}


def _wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen = process_start(pid)
        if seen is None:
            return True
        time.sleep(0.05)
    return False


def _name_once_set(process: psutil.Process, seconds: float = 10) -> str:
    """The process's name once the forked child has renamed itself (its first step after
    the fork; the zygote answers with the pid before it, so on a busy machine the name can
    still be the zygote's when first looked at), or its name after ``seconds``."""
    deadline = time.monotonic() + seconds
    while process.name() != KERNEL_PROCESS_NAME and time.monotonic() < deadline:
        time.sleep(0.05)
    return process.name()


def _kernel_says(kernel: WarmKernel, expression: str) -> str:
    """The value of ``expression`` in the kernel, through a file (the calls are silent)."""
    out = f"/tmp/zygote-test-{os.getpid()}-{time.monotonic_ns()}"
    try:
        kernel.execute_code(f"open({out!r}, 'w').write(str({expression}))")
        with open(out) as f:
            return f.read()
    finally:
        if os.path.exists(out):
            os.remove(out)


def test_a_kernel_is_a_fork_of_the_zygote_with_its_imports_environment_and_folder(
        runtime, tmp_path):
    env = _env(ZYGOTE_TEST="same")
    zygote = Zygote(env, ("ipykernel.kernelapp", MARKER), str(runtime))
    kernel = WarmKernel(env=env, zygote=zygote.address)
    try:
        kernel.start()
        pid = kernel.km.provisioner.pid
        process = psutil.Process(pid)
        assert process.ppid() == zygote.pid                  # forked, not launched
        assert _name_once_set(process) == KERNEL_PROCESS_NAME
        assert os.getpgid(pid) == pid                         # its own process group
        assert _kernel_says(kernel, f"{MARKER!r} in __import__('sys').modules") == "True"
        assert _kernel_says(kernel, "__import__('os').environ['ZYGOTE_TEST']") == "same"
        assert _kernel_says(kernel, "__import__('os').getppid()") == str(zygote.pid)
        # as a launched kernel: no working folder on its import path, inline figures
        assert _kernel_says(kernel, "__import__('sys').path[0]") != os.getcwd()
        assert _kernel_says(kernel, "__import__('matplotlib').get_backend()") == (
            "module://matplotlib_inline.backend_inline")
    finally:
        kernel.shutdown()
        zygote.close()
    assert _wait_gone(pid)                                    # killed and reaped
    assert zygote.process.returncode == 0 and not os.path.exists(zygote.address)


def test_another_environment_or_no_zygote_launches_the_kernel_as_usual(runtime):
    zygote = Zygote(_env(ZYGOTE_TEST="zygote's"), ("ipykernel.kernelapp", MARKER),
                    str(runtime))
    other = WarmKernel(env=_env(ZYGOTE_TEST="the kernel's"), zygote=zygote.address)
    try:
        other.start()
        assert psutil.Process(other.km.provisioner.pid).ppid() == os.getpid()
        assert _kernel_says(other, f"{MARKER!r} in __import__('sys').modules") == "False"
        assert _kernel_says(other, "__import__('os').environ['ZYGOTE_TEST']") == "the kernel's"
    finally:
        other.shutdown()
        zygote.close()
    orphan = WarmKernel(env=_env(), zygote=zygote.address)   # the zygote has ended
    try:
        orphan.start()
        assert psutil.Process(orphan.km.provisioner.pid).ppid() == os.getpid()
        assert _kernel_says(orphan, "1 + 1") == "2"
    finally:
        orphan.shutdown()


def test_the_zygote_refuses_another_environment_and_answers_with_a_live_child(runtime):
    env = _env()
    zygote = Zygote(env, ("json",), str(runtime))
    try:
        assert request_kernel(zygote.address, ["-f", "/nonexistent"], {**env, "X": "1"},
                              os.getcwd()) is None
        # an impossible kernel (no connection file) still forks, then ends: the answer
        # is its process, which ForkedKernel sees end and the zygote reaps
        pid, start = request_kernel(zygote.address, ["--version"], env, os.getcwd())
        assert psutil.Process(pid).ppid() == zygote.pid
        assert ForkedKernel(pid, start).wait(timeout=30) == -1
        assert _wait_gone(pid)
    finally:
        zygote.close()


def test_a_forked_kernel_is_followed_by_process_id_and_start_time():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        state, start = process_start(sleeper.pid)
        assert state in "RS"
        assert ForkedKernel(sleeper.pid, start).poll() is None
        assert ForkedKernel(sleeper.pid, start + 1).poll() == -1  # the ID reused: not ours
        ForkedKernel(sleeper.pid, start).terminate()
        sleeper.wait(10)
        assert ForkedKernel(sleeper.pid, start).poll() == -1
        assert process_start(sleeper.pid) is None
    finally:
        sleeper.kill()


def test_kernels_end_with_the_zygote_and_the_zygote_with_its_starter(runtime):
    env = _env()
    zygote = Zygote(env, ("ipykernel.kernelapp",), str(runtime))
    kernel = WarmKernel(env=env, zygote=zygote.address)
    try:
        kernel.start()
        pid = kernel.km.provisioner.pid
        os.kill(zygote.pid, signal.SIGKILL)         # ipykernel's parent poller: 1 s ticks
        assert _wait_gone(pid) or process_start(pid)[0] == "Z"
    finally:
        kernel.shutdown()
        zygote.close()
    started = Zygote(env, ("json",), str(runtime))
    started.release()                               # the lifeline closed, no kernel left
    assert started.process.wait(10) == 0
    started.close()


def test_the_zygote_forks_only_while_it_runs_one_thread():
    code = ("import threading, time\n"
            "from playbook.kernel_zygote import _only_thread\n"
            "alone = _only_thread()\n"
            "threading.Thread(target=time.sleep, args=(2,), daemon=True).start()\n"
            "print(alone, _only_thread())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=_env())
    assert out.stdout.split() == ["True", "False"]


def test_having_forked_its_kernels_the_zygote_gives_up_its_imports(runtime):
    """Asked for one kernel, the zygote then execs a small reaper: same process (the
    kernel's parent unchanged), none of the imports' memory; it refuses further requests,
    reaps the kernel when it ends, and exits when released."""
    env = _env()
    zygote = Zygote(env, ("ipykernel.kernelapp", "pandas", MARKER), str(runtime), kernels=1)
    kernel = WarmKernel(env=env, zygote=zygote.address)
    try:
        kernel.start()
        pid = kernel.km.provisioner.pid
        assert _kernel_says(kernel, f"{MARKER!r} in __import__('sys').modules") == "True"
        reaper = psutil.Process(zygote.pid)
        deadline = time.monotonic() + 10
        while "-S" not in reaper.cmdline() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reaper.cmdline()[1:3] == ["-S", "-c"]
        assert reaper.memory_info().rss < 40 * 2**20      # pandas alone takes more
        assert psutil.Process(pid).ppid() == zygote.pid   # the kernel kept its parent
        assert request_kernel(zygote.address, ["-f", "/nonexistent"], env,
                              os.getcwd(), timeout=5) is None
        assert _kernel_says(kernel, "6 * 7") == "42"
    finally:
        kernel.shutdown()
    assert _wait_gone(pid)                                # reaped, not left a zombie
    zygote.close()
    assert zygote.process.returncode == 0
