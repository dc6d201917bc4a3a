"""A kernel zygote: one process imports what every kernel imports, then forks the kernels.

Each warm kernel (:mod:`playbook.kernels`) used to start a Python interpreter and import
ipykernel, pandas, matplotlib and :mod:`playbook.session` by itself: about 4 CPU s and
250 MB per kernel, paid twice on two cores while the data load still runs. A
:class:`Zygote` imports them once; each kernel is then a fork of it (copy-on-write: the
imported modules' pages stay shared until written), started in milliseconds.

The zygote is started by :class:`playbook.kernels.KernelWorkers` (two kernels or more)
with the kernels' environment and listens on a private Unix-domain socket; a worker's
:class:`ZygoteProvisioner` asks it for a kernel, and falls back to jupyter_client's own
launch (a new interpreter) whenever the zygote cannot serve: another interpreter or
kernel command, another environment, the zygote dead or running a second thread.

A forked kernel is the zygote's child, not the worker's: :class:`ForkedKernel` follows it
through ``/proc`` (its start time guards against a reused process ID), and the zygote
reaps it. Once it has forked as many kernels as the run has workers, the zygote replaces
its program by a 9 MB reaper (``exec``: same process ID), so that the imports' pages are
held by the kernels alone. The kernel exits when the zygote does (ipykernel's parent
poller); the zygote exits when the process that started it closes its end of the
lifeline (its stdin) or dies, after its kernels (at most :data:`END_TIMEOUT` seconds).
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from jupyter_client.provisioning import LocalProvisioner
from traitlets import Unicode

#: Environment variables the zygote and a kernel may differ in: set per kernel by
#: jupyter_client or ipykernel after the imports, not read while importing.
PER_KERNEL_ENV = ("JPY_PARENT_PID", "JPY_SESSION_NAME", "MPLBACKEND")
#: What ipykernel sets as matplotlib's backend when none is set (read when matplotlib is
#: imported, so the zygote sets it before its imports).
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: The name a forked kernel's process goes by (``ps -o comm``; at most 15 characters): its
#: command line is the zygote's.
KERNEL_PROCESS_NAME = "playbook-kernel"
#: Seconds the zygote, told to end, waits for its kernels to end.
END_TIMEOUT = 10
#: Seconds a worker waits for the zygote's answer (its imports come first).
SPAWN_TIMEOUT = 180.0


class Zygote:
    """The zygote process: started at once, imports ``modules`` (a module that fails to
    import is skipped), then forks a kernel for each request on :attr:`address`.

    ``env`` is its environment and the only one a kernel it forks may ask for (apart from
    :data:`PER_KERNEL_ENV`). Once it has forked ``kernels`` kernels (0: no limit) it
    gives up its imports' memory (:func:`_become_reaper`) and refuses further requests.
    Close it with :meth:`close` once its kernels are shut down.
    Raises ``OSError`` when its socket cannot be made in ``folder`` (a path too long).
    """

    def __init__(self, env: Mapping[str, str], modules: Sequence[str], folder: str,
                 kernels: int = 0) -> None:
        # short: a Unix socket's path has at most 107 bytes
        self.address = os.path.join(folder, f"zygote-{uuid.uuid4().hex[:12]}")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(self.address)
            os.chmod(self.address, 0o600)
            listener.listen(8)
            self.process = subprocess.Popen(
                [sys.executable, "-m", "playbook.kernel_zygote", str(listener.fileno()),
                 str(kernels), *modules],
                env=dict(env), stdin=subprocess.PIPE, pass_fds=[listener.fileno()],
                start_new_session=True)
        finally:
            listener.close()  # the zygote holds its own copy

    @property
    def pid(self) -> int:
        return self.process.pid

    def release(self) -> None:
        """Tell the zygote to end once its kernels have ended (does not wait)."""
        with contextlib.suppress(OSError):
            self.process.stdin.close()

    def close(self) -> None:
        """End the zygote (:meth:`release`; killed if it has not exited
        :data:`END_TIMEOUT` seconds later) and remove its socket file."""
        self.release()
        try:
            self.process.wait(END_TIMEOUT + 1)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            os.remove(self.address)


# --------------------------------------------------------------------------- the worker's side


def request_kernel(address: str, argv: Sequence[str], env: Mapping[str, str], cwd: str,
                   timeout: float = SPAWN_TIMEOUT) -> tuple[int, int] | None:
    """Ask the zygote at ``address`` to fork a kernel run as ``ipykernel_launcher *argv``
    in ``cwd`` with ``env``; returns its (process ID, start time in clock ticks), or None
    when the zygote cannot serve (the caller then starts the kernel itself)."""
    request = json.dumps({"argv": list(argv), "env": dict(env), "cwd": cwd}).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(address)
            conn.sendall(request + b"\n")
            answer = json.loads(_read_line(conn) or b"{}")
    except (OSError, ValueError):
        return None
    if "pid" not in answer:
        return None
    return int(answer["pid"]), int(answer["start"])


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def process_start(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks) of process ``pid`` from ``/proc``; None
    when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after the command, which may hold spaces
    return fields[0], int(fields[19])


class ForkedKernel:
    """What jupyter_client's local provisioner needs of a ``Popen``, for a kernel the
    zygote forked (not a child of this process: no exit code can be read; an ended
    kernel gives -1)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, start: int) -> None:
        self.pid, self._start = pid, start

    def poll(self) -> int | None:
        """None while the kernel runs; -1 once it ended (or its ID went to another
        process)."""
        seen = process_start(self.pid)
        if seen is None or seen[0] in "ZXx" or seen[1] != self._start:
            return -1
        return None

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0.0)
            time.sleep(0.02)
        return code

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ZygoteProvisioner(LocalProvisioner):  # type: ignore[misc]
    """jupyter_client's local provisioner, its kernel forked by the zygote at
    :attr:`zygote` when it can serve (else launched as usual)."""

    zygote = Unicode("")

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        forked = None
        if self.zygote and cmd[:3] == [sys.executable, "-m", "ipykernel_launcher"]:
            cwd = str(kwargs.get("cwd") or os.getcwd())
            forked = request_kernel(self.zygote, cmd[3:], kwargs.get("env") or os.environ,
                                    cwd)
        if forked is None:
            return await super().launch_kernel(cmd, **kwargs)
        self.process = ForkedKernel(*forked)
        self.pid = self.pgid = forked[0]  # the kernel leads its own process group
        self.cwd = kwargs.get("cwd") or os.getcwd()
        return self.connection_info


# --------------------------------------------------------------------------- the zygote


#: The zygote's environment when it started (its imports may set variables: pyarrow's
#: ``PYARROW_IGNORE_TIMEZONE``; a kernel importing them itself would set them too).
_STARTED_WITH: dict[str, str] = {}


def _differences(env: Mapping[str, str]) -> list[str]:
    keys = (set(env) | set(_STARTED_WITH)) - set(PER_KERNEL_ENV)
    return sorted(k for k in keys if env.get(k) != _STARTED_WITH.get(k))


#: Native threads a fork may leave behind: jemalloc's (pyarrow's allocator) background
#: thread, which jemalloc's own fork handlers stop and restart. The data load forks with
#: it too (:mod:`playbook.forked`).
FORK_SAFE_THREADS = ("jemalloc_bg_thd",)


def _only_thread() -> bool:
    """True when no other thread than this one runs (bar :data:`FORK_SAFE_THREADS`)."""
    try:
        tasks = [t for t in os.listdir("/proc/self/task") if int(t) != threading.get_native_id()]
        names = [_thread_name(t) for t in tasks]
    except OSError:
        return False
    return all(name in FORK_SAFE_THREADS for name in names)


def _thread_name(task: str) -> str:
    with open(f"/proc/self/task/{task}/comm") as f:
        return f.read().strip()


def _reap(*_: object) -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _name_process(name: str) -> None:
    """Set this process's name as ``ps`` and ``top`` show it (Linux ``prctl``); its
    command line stays the zygote's."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME


def _kernel(request: dict, closing: Sequence[int], parent: int) -> None:
    """In the forked child: become the kernel ``request`` asks for; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        _name_process(KERNEL_PROCESS_NAME)
        for fd in closing:
            with contextlib.suppress(OSError):
                os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        for key in PER_KERNEL_ENV:  # the rest equals the request's (_differences)
            if key in request["env"]:
                os.environ[key] = request["env"][key]
            elif key != "MPLBACKEND":  # which stays as ipykernel would set it
                os.environ.pop(key, None)
        os.chdir(request["cwd"])
        sys.argv = ["ipykernel_launcher", *request["argv"],
                    f"--IPKernelApp.parent_handle={parent}"]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported on stderr, the child must not return
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _serve(conn: socket.socket, inherited: Sequence[int]) -> bool:
    """Answer one request on ``conn``: fork the kernel (``inherited``: the zygote's file
    descriptors it closes), or say why not; True when a kernel was forked."""
    conn.settimeout(10.0)
    try:
        request = json.loads(_read_line(conn))
    except (OSError, ValueError):
        return False
    differs = _differences(request.get("env", {}))
    if differs:
        answer: dict[str, Any] = {"error": f"another environment: {', '.join(differs[:5])}"}
    elif not _only_thread():
        answer = {"error": "the zygote runs a second thread"}
    else:
        pid = os.fork()
        if pid == 0:
            _kernel(request, inherited, os.getppid())
        seen = process_start(pid)
        answer = {"pid": pid, "start": seen[1]} if seen else {"error": "the kernel ended"}
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(answer).encode() + b"\n")
    return "pid" in answer


#: What the zygote becomes once it has forked every kernel asked of it, or when its
#: lifeline closes first (``exec``: same process, so the kernels' parent does not change,
#: but none of the imports' memory, and no 0.6 s interpreter finalisation with pandas and
#: matplotlib loaded): it reaps the kernels that end and, once the lifeline is closed,
#: waits for the others (their workers are stopping them; at most :data:`END_TIMEOUT`
#: seconds, then SIGALRM ends it) and exits.
REAPER_CODE = """\
import os, signal
def reap(*_):
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
signal.signal(signal.SIGCHLD, reap)
reap()
while os.read(0, 4096):
    pass
signal.signal(signal.SIGCHLD, signal.SIG_DFL)
signal.alarm(%d)
try:
    while True:
        os.waitpid(-1, 0)
except ChildProcessError:
    pass
"""


def _become_reaper(listener: socket.socket) -> None:
    """Replace this process's program by :data:`REAPER_CODE` (never returns): the pages
    of the imports are then held by the kernels alone, shared between them while neither
    writes to them, rather than kept here as well as the kernels' copies diverge; at the
    end, the zygote exits through it too."""
    listener.close()  # a later request is refused: that kernel is launched as usual
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-S", "-c", REAPER_CODE % END_TIMEOUT])


def main(argv: Sequence[str]) -> None:
    """The zygote: ``python -m playbook.kernel_zygote <listening socket fd> <kernels>
    <module>...``; ``kernels``: how many it forks before it becomes a reaper (0: no
    limit)."""
    listener = socket.socket(fileno=int(argv[0]))
    kernels, modules = int(argv[1]), argv[2:]
    _STARTED_WITH.update(os.environ)
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # as ipykernel_launcher does: a kernel does not import from here
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)  # as the kernel will have it
    import importlib

    for module in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(module)
    signal.signal(signal.SIGCHLD, _reap)
    watch = selectors.DefaultSelector()
    watch.register(listener, selectors.EVENT_READ)
    watch.register(sys.stdin.fileno(), selectors.EVENT_READ)
    inherited = (listener.fileno(), watch.fileno())  # closed in each kernel
    forked = 0
    while True:
        for key, _ in watch.select():
            if key.fileobj == listener:
                conn, _ = listener.accept()
                with conn:
                    forked += _serve(conn, (*inherited, conn.fileno()))
                if kernels and forked >= kernels:
                    watch.close()
                    _become_reaper(listener)
            elif not os.read(sys.stdin.fileno(), 4096):  # the lifeline closed: the reaper
                watch.close()                              # reads its end again and ends
                _become_reaper(listener)


if __name__ == "__main__":
    main(sys.argv[1:])
