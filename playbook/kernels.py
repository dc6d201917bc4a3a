"""Warm kernels: each worker starts one Jupyter kernel and runs several notebooks in it.

Starting a kernel and importing what the notebooks use (``playbook.session`` pulls in
pandas, matplotlib, seaborn and scipy: about 2 s of CPU) used to be paid once per notebook.
A :class:`WarmKernel` is started once, imports those modules while the render step is
still loading the data, and runs notebook after notebook with papermill. With two kernels
or more, the imports are done once, by a zygote that forks each kernel
(:mod:`playbook.kernel_zygote`). Between two
notebooks the kernel is put back into the state it had right after those imports
(namespace, settings, environment, working folder, memory: :mod:`playbook.kernel_state`,
which runs inside the kernel).

Imported modules stay imported: that is the point. A notebook that changes a module's
state (rather than its own variables) would leak into the next one; the report's
notebooks only call functions.

:class:`KernelWorkers` runs calls that need a kernel on up to ``jobs`` warm kernels at
once, each in its own worker process (papermill changes the working folder of the process
it runs in), or in this process when ``jobs`` is 1 (Dask workers may not start processes).
Calls are handed out in the order given, to whichever worker is free.
"""

from __future__ import annotations

import contextlib
import glob
import multiprocessing
import os
import queue
import re
import signal
import socket
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from multiprocessing.connection import wait
from pathlib import Path
from types import ModuleType
from typing import Any

from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from jupyter_core.utils import run_sync
from traitlets import CaselessStrEnum, default

from playbook import paths
from playbook.errors import KernelError
from playbook.forked import can_fork_safely
from playbook.kernel_zygote import Zygote, ZygoteProvisioner

#: Seconds to wait for a kernel to answer (start-up with the warm-up imports, a reset).
KERNEL_TIMEOUT = 180.0
#: Seconds a worker gets to shut its kernel down before it is terminated.
STOP_TIMEOUT = 15.0
#: Modules every warm kernel imports before its state is recorded: the reset restores
#: their settings, so they must be imported before the first notebook.
BASE_IMPORTS = ("matplotlib.pyplot", "pandas")
#: What the kernels' zygote imports besides: the kernel itself (ipykernel, IPython, zmq).
ZYGOTE_IMPORTS = ("ipykernel.kernelapp",)
#: Environment variables a kernel starts with unless they are set already. The first two
#: lower its peak resident memory, not its speed. Measured on notebook 03 at 100,000 accounts
#: (bench/results.md): 1.85 GB with Arrow's default allocator (mimalloc, which keeps freed
#: memory for reuse), 1.65 GB with the system one, 1.59 GB with glibc's arenas capped at
#: 2 (one per thread by default), in the same time. OpenBLAS gets one thread: two kernels
#: run at once on the bench's two cores, and with a thread per core each kernel's idle BLAS
#: threads spun waiting for work, about 9 CPU s of a 100,000-account run (``perf record``,
#: bench/results.md) for less than 1 s of matrix products. glibc serves every allocation
#: from its heap (``MALLOC_MMAP_MAX_=0``: by default a block over its threshold, 128 KB
#: rising to 32 MB as such blocks are freed, is a mapping of its own, given back when freed
#: and faulted in again, zeroed, for the next one), so that a large client's cell reuses
#: the memory it freed (:func:`playbook.kernel_state.hand_back_memory`); the heap is
#: still handed back between notebooks.
KERNEL_ENV_DEFAULTS = {"ARROW_DEFAULT_MEMORY_POOL": "system", "MALLOC_ARENA_MAX": "2",
                       "MALLOC_MMAP_MAX_": "0", "OPENBLAS_NUM_THREADS": "1"}
#: The module a kernel imports to record and reset its state (light: no papermill, no
#: jupyter_client).
STATE_MODULE = "playbook.kernel_state"


def _warm_up_code(preload: Sequence[str]) -> str:
    """Code a new kernel runs before its first notebook: imports, then the snapshot
    (:mod:`playbook.kernel_state`).

    A preload module that fails to import is skipped: the notebook that imports it then
    fails in its own cell, with its own message.
    """
    lines = ["import importlib as _i"]
    for module in (*BASE_IMPORTS, *preload):
        lines += ["try:", f"    _i.import_module({module!r})", "except Exception:", "    pass"]
    lines += [f"_i.import_module({STATE_MODULE!r}).kernel_snapshot()",
              f"_i.import_module({STATE_MODULE!r}).kernel_reset()"]
    return "\n".join(lines)


def _reset_code(cwd: str | None, full: bool = True) -> str:
    """Code that runs :func:`playbook.kernel_state.kernel_reset` without leaving a name
    behind."""
    return f"__import__({STATE_MODULE!r}, fromlist=['_']).kernel_reset({cwd!r}, {full!r})"


# --------------------------------------------------------------------------- sockets


def new_socket_prefix() -> str:
    """A private path prefix for one kernel's Unix-domain sockets (``<prefix>-1`` ... ``-5``)
    in the user's Jupyter runtime folder."""
    folder = jupyter_runtime_dir()
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f"kernel-{uuid.uuid4().hex[:16]}-ipc")


def remove_sockets(prefix: str) -> None:
    """Remove socket files left under ``prefix`` (a kernel whose worker was killed cannot
    remove its own)."""
    for path in glob.glob(glob.escape(prefix) + "-*"):
        with contextlib.suppress(OSError):
            os.remove(path)


#: Socket files of our kernels: ``kernel-<16 hex digits>-ipc-<channel>``.
_SOCKET_NAME = re.compile(r"kernel-[0-9a-f]{16}-ipc-\d+")


def remove_stale_sockets(min_age: float = 60.0) -> list[str]:
    """Remove our kernels' socket files that no kernel listens on any more; return them.

    A run killed outright (SIGKILL, out of memory) cannot remove its kernels' sockets; the
    next run does. A file counts as stale when it is older than ``min_age`` seconds (a
    kernel of a run starting at the same moment may not listen yet) and a connection to it
    is refused. Files of live kernels and any other file are left alone.
    """
    folder = jupyter_runtime_dir()
    removed: list[str] = []
    try:
        names = os.listdir(folder)
    except OSError:  # no runtime folder yet: nothing to tidy
        return removed
    for name in names:
        path = os.path.join(folder, name)
        if not _SOCKET_NAME.fullmatch(name):
            continue
        try:
            if time.time() - os.lstat(path).st_mtime < min_age:
                continue
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.connect(path)
            continue  # a kernel listens: live
        except ConnectionRefusedError:
            pass
        except OSError:
            continue
        with contextlib.suppress(OSError):
            os.remove(path)
            removed.append(path)
    return removed


# --------------------------------------------------------------------------- one kernel


class IPCKernelManager(AsyncKernelManager):
    """An asynchronous kernel manager that talks to the kernel over local sockets, not TCP,
    and keeps the clients it hands out so that they can be closed.

    ipykernel warns on every start that TCP traffic is unencrypted; Unix-domain sockets in
    the user's runtime folder are private to the user and silence that warning.
    Asynchronous as nbclient's default: with a blocking client nbclient waits for output
    without a timeout and never notices that the kernel died. Given a kernel manager,
    nbclient neither starts nor stops the kernel, but it also leaves the client it opened
    on it connected (its sockets): :meth:`close_clients` closes them after each notebook.
    """

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _private_socket_prefix(self) -> str:
        # jupyter_client's default prefix is "kernel-ipc" in the working folder, shared
        # by every run at once: kernels of two runs then pick the same socket files
        # and talk to each other ("Invalid Signature"). One private prefix per kernel.
        return new_socket_prefix()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.handed_out: list[Any] = []

    def client(self, **kwargs: Any) -> Any:
        """A new client on the kernel (as the base class), remembered for closing."""
        kc = super().client(**kwargs)
        self.handed_out.append(kc)
        return kc

    def close_clients(self) -> None:
        """Close the channels of every client :meth:`client` handed out."""
        while self.handed_out:
            with contextlib.suppress(Exception):
                self.handed_out.pop().stop_channels()


def _own_session(session: Any) -> Any:
    """A copy of the kernel manager's session (same key) under another session id.

    A client's shell socket is named after its session id, and ipykernel hands replies
    for a name over to the newest socket that uses it: the client nbclient opens for
    each notebook (with the manager's session) would otherwise take this one's replies.
    """
    own = session.clone()
    own.session = str(uuid.uuid4())
    return own


def kernel_environment() -> dict[str, str]:
    """The environment a kernel starts with: this process's, the memory settings of
    :data:`KERNEL_ENV_DEFAULTS` where unset, and the project's folders as absolute paths
    (:func:`playbook.paths.root_environment`): the kernel runs in the notebooks' folder."""
    return {**KERNEL_ENV_DEFAULTS, **os.environ, **paths.root_environment()}


class WarmKernel:
    """One Jupyter kernel that runs notebooks one after another, reset between them.

    Parameters
    ----------
    kernel_name : str
        Kernel to start (``python3``).
    preload : sequence of str
        Modules the kernel imports before its first notebook (e.g. ``playbook.session``).
    socket_prefix : str, optional
        Path prefix of the kernel's socket files (default: a new private one per start).
    env : mapping, optional
        The kernel's environment (default: :func:`kernel_environment` of this process).
    zygote : str, optional
        Address of a :class:`playbook.kernel_zygote.Zygote` to fork the kernel from (its
        imports then done already); the kernel is launched as usual when it cannot serve.
    """

    def __init__(self, kernel_name: str = "python3", preload: Sequence[str] = (),
                 socket_prefix: str | None = None, env: Mapping[str, str] | None = None,
                 zygote: str | None = None) -> None:
        self.kernel_name = kernel_name
        self.zygote = zygote
        self.preload = tuple(preload)
        self.socket_prefix = socket_prefix  # None: a new private one per kernel start
        self.env = dict(env) if env is not None else None
        self.km: Any = None
        self.kc: Any = None
        self._pending: str | None = None  # msg_id of the warm-up, not yet answered
        self._clean = False  # fully reset, nothing ran since

    def start(self) -> None:
        """Launch the kernel and send it the warm-up imports; does not wait for them."""
        prefix = {"ip": self.socket_prefix} if self.socket_prefix else {}
        self.km = IPCKernelManager(kernel_name=self.kernel_name, **prefix)
        if self.zygote:
            self.km.kernel_id = str(uuid.uuid4())
            self.km.provisioner = ZygoteProvisioner(
                kernel_id=self.km.kernel_id, kernel_spec=self.km.kernel_spec, parent=self.km,
                zygote=self.zygote)
        env = self.env if self.env is not None else kernel_environment()
        run_sync(self.km.start_kernel)(extra_arguments=["--HistoryManager.hist_file=:memory:"],
                                       env=env)
        self.kc = BlockingKernelClient(session=_own_session(self.km.session))
        self.kc.load_connection_info(self.km.get_connection_info())
        self.kc.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
        self._pending = self.kc.execute(_warm_up_code(self.preload), silent=True)
        self._clean = True  # the warm-up ends with a full reset

    def alive(self) -> bool:
        """Whether the kernel process is running."""
        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def execute_notebook(self, source: Path, target: Path, parameters: Mapping[str, Any]
                         ) -> Any:
        """Run one notebook with papermill in this kernel; returns the executed notebook.

        The kernel is reset before (working folder: the notebook's) and after (its memory
        freed). Raises what papermill raises (``PapermillExecutionError`` for a failing
        cell) or :class:`~playbook.errors.KernelError`.
        """
        import papermill  # (0.6 s): a worker imports it while its kernel warms up

        with self._between_resets(str(source.parent)):
            try:
                return papermill.execute_notebook(
                    str(source), str(target), parameters=dict(parameters),
                    kernel_name=self.kernel_name, progress_bar=False, cwd=str(source.parent),
                    km=self.km,
                )
            finally:
                self.km.close_clients()

    def execute_code(self, code: str) -> None:
        """Run ``code`` silently in this kernel, reset before and after like a notebook
        (:meth:`execute_notebook`). Raises :class:`~playbook.errors.KernelError` when it
        fails or the kernel dies."""
        with self._between_resets(None):
            self._call(code)

    @contextlib.contextmanager
    def _between_resets(self, cwd: str | None) -> Iterator[None]:
        """Start the kernel again if it died, reset it (working folder ``cwd``, or left as
        it is), run the block, then reset it again (its memory freed) whatever the block
        did, unless the kernel died meanwhile."""
        if not self.alive():
            self.shutdown()
            self.start()
        self._call(_reset_code(cwd, full=not self._clean))
        self._clean = False
        try:
            yield
        finally:
            if self.alive():
                with contextlib.suppress(KernelError):
                    self._call(_reset_code(None))
                    self._clean = True

    def _call(self, code: str) -> None:
        """Run ``code`` silently (after any pending warm-up); raise KernelError on failure."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._wait(pending, "warm-up")  # a failed import is skipped inside the code
        self._wait(self.kc.execute(code, silent=True), "reset")

    def _wait(self, msg_id: str, what: str) -> None:
        deadline = time.monotonic() + KERNEL_TIMEOUT
        while True:
            try:
                reply = self.kc.get_shell_msg(timeout=1.0)
            except queue.Empty:
                if not self.alive():
                    raise KernelError(f"the kernel died during its {what}") from None
                if time.monotonic() > deadline:
                    raise KernelError(f"the kernel did not finish its {what} in "
                                      f"{KERNEL_TIMEOUT:.0f} s") from None
                continue
            if reply["parent_header"].get("msg_id") != msg_id:
                continue
            content = reply["content"]
            if content.get("status") != "ok":
                raise KernelError(f"the kernel's {what} failed: {content.get('ename')}: "
                                  f"{content.get('evalue')}")
            return

    def shutdown(self) -> None:
        """Stop the kernel (at once: it holds nothing to save) and remove its files."""
        if self.kc is not None:
            with contextlib.suppress(Exception):
                self.kc.stop_channels()
            self.kc = None
        if self.km is not None:
            self.km.close_clients()
            with contextlib.suppress(Exception):
                if self.km.has_kernel:
                    run_sync(self.km.shutdown_kernel)(now=True)
            with contextlib.suppress(Exception):
                run_sync(self.km.cleanup_resources)()
            self.km = None
        self._pending = None
        self._clean = False


# --------------------------------------------------------------------------- workers


#: A call run on a warm kernel: ``function(kernel, *args)``; both must pickle.
Task = tuple[Callable[..., Any], tuple]


def _worker_main(connection: Any, kernel_name: str, preload: tuple[str, ...],
                 socket_prefix: str, env: dict[str, str], zygote: str | None) -> None:
    """A worker process: start a warm kernel (forked by ``zygote`` when given), then run
    tasks until told to stop."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so the kernel is shut down
    kernel = WarmKernel(kernel_name, preload, socket_prefix, env, zygote)
    try:
        kernel.start()
        import_papermill()  # while the kernel warms up, not before

        while True:
            task = connection.recv()
            if task is None:
                break
            function, args = task
            connection.send(function(kernel, *args))
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        kernel.shutdown()


def import_papermill() -> ModuleType:
    """papermill, imported without its optional HDFS handler where pyarrow is not imported
    yet: the handler imports pyarrow, and numpy with it, about 40 MB in a process that
    drives kernels and reads local notebooks only (a worker, the render process while its
    kernels run). The handler is left out as when pyarrow is not installed; pyarrow stays
    importable for anything else."""
    blocked = "pyarrow" not in sys.modules
    if blocked:
        sys.modules["pyarrow"] = None  # type: ignore[assignment] # import raises ImportError
    try:
        import papermill
    finally:
        if blocked:
            del sys.modules["pyarrow"]
    return papermill


def worker_start_method() -> str:
    """How worker processes start: forked from this process while it runs no other thread
    (they then share its imports, jupyter_client and papermill, about 35 MB each, and need
    no resource-tracker process), else spawned (a fork of a threaded process may inherit
    a lock another thread held)."""
    return "fork" if can_fork_safely() else "spawn"


class _Worker:
    """The parent's handle on one worker process."""

    def __init__(self, context: Any, kernel_name: str, preload: tuple[str, ...],
                 env: dict[str, str], zygote: str | None) -> None:
        self.connection, child = context.Pipe()
        self.retired = False  # told to stop by KernelWorkers.limit
        # chosen here, so the parent can remove the sockets of a worker that was killed
        self.socket_prefix = new_socket_prefix()
        self.process = context.Process(
            target=_worker_main,
            args=(child, kernel_name, preload, self.socket_prefix, env, zygote),
            name="playbook-notebook-worker", daemon=False)
        self.process.start()
        child.close()


def _lost(worker: _Worker) -> str:
    """Why a worker gave no result (it died: killed, out of memory ...)."""
    worker.process.join(1)
    return f"its worker process ended (exit code {worker.process.exitcode})"


class KernelWorkers:
    """Up to ``jobs`` warm kernels running tasks in parallel; a context manager.

    Kernels start when this is created, or at :meth:`start` (in the background), so their
    start-up and imports overlap whatever the caller does next. Use :meth:`run` for each group of
    tasks, :meth:`stop` once done; leaving the ``with`` block stops and joins everything.

    Parameters
    ----------
    jobs : int
        Kernels (and tasks) at once; 1 runs the kernel from this process, as does a
        daemonic process (e.g. a Dask worker), which may not start processes.
    kernel_name : str
        Kernel to start.
    preload : sequence of str
        Modules each kernel imports while it waits for its first task.

    start : bool
        Start the kernels now (default), or at :meth:`start` (the first :meth:`run` at the
        latest): the render step starts them once the data load is down to one process,
        so that their imports (about 190 MB each) are not held during the load's peak.

    Every kernel starts with this process's :func:`kernel_environment` (read when this is
    created, so that a worker process gets the same). :attr:`at_once` (at most ``jobs``;
    :meth:`limit`) caps the tasks running at once, e.g. when the data turn out too large
    for the memory free to hold ``jobs`` kernels.
    """

    def __init__(self, jobs: int, kernel_name: str = "python3",
                 preload: Sequence[str] = (), *, start: bool = True) -> None:
        self.jobs = 1 if multiprocessing.current_process().daemon else max(1, jobs)
        self.at_once = self.jobs
        self.kernel_name = kernel_name
        self.preload = tuple(preload)
        self._local: WarmKernel | None = None
        self._workers: list[_Worker] = []
        self._zygote: Zygote | None = None
        self._env = kernel_environment()
        self.started = False
        if start:
            self.start()

    def start(self) -> None:
        """Start the kernels (in the background: this does not wait for their imports);
        nothing when they are started already."""
        if self.started:
            return
        self.started = True
        remove_stale_sockets()  # left by a run that was killed
        if self.jobs == 1:
            self._local = WarmKernel(self.kernel_name, self.preload, env=self._env)
            self._local.start()
        else:
            # one process imports what the kernels import, and forks them
            with contextlib.suppress(OSError):  # else each kernel starts as usual
                self._zygote = Zygote(self._env, (*ZYGOTE_IMPORTS, *BASE_IMPORTS,
                                                  *self.preload), jupyter_runtime_dir(),
                                      kernels=self.at_once)
            address = self._zygote.address if self._zygote else None
            context = multiprocessing.get_context(worker_start_method())
            self._workers = [_Worker(context, self.kernel_name, self.preload, self._env,
                                     address) for _ in range(self.at_once)]

    def __enter__(self) -> KernelWorkers:
        return self

    def __exit__(self, kind: type | None, *_: object) -> None:
        self.close(terminate=kind is not None)

    @property
    def in_this_process(self) -> bool:
        """True when the kernel runs from this process (one job, or a daemonic process):
        its client's threads then live here, and this process must not fork meanwhile."""
        return self.jobs == 1

    def limit(self, at_once: int) -> None:
        """Run at most ``at_once`` tasks at once from now on (1 to :attr:`jobs`). The kernels
        beyond it are shut down: one that would only wait held 130-260 MB beside every
        notebook of a 1,000,000-account run, its memory peak (bench/results.md)."""
        self.at_once = max(1, min(self.jobs, at_once))
        for worker in self._workers[self.at_once:]:
            if not worker.retired:
                worker.retired = True
                with contextlib.suppress(OSError, ValueError):
                    worker.connection.send(None)

    def run(self, tasks: Iterable[Task],
            done: Callable[[Task, Any, str | None], bool],
            on_idle: Callable[[], None] | None = None) -> None:
        """Run ``function(kernel, *args)`` for each task, in order, as workers free up
        (at most :attr:`at_once` at a time).

        ``done(task, result, lost)`` is called in this process as each task ends; ``lost``
        says why there is no result (its worker process died), else None. When ``done``
        returns False no further task is started; the running ones finish.
        ``on_idle()`` is called once in this process, the first time a worker is left
        with no task to start while others still run (a core the last tasks leave idle);
        never when the kernel runs in this process.
        """
        self.start()
        todo = deque(tasks)
        if self._local is not None:
            while todo:
                function, args = task = todo.popleft()
                if not done(task, function(self._local, *args), None):
                    return
            return
        idle = [w for w in self._workers if w.process.is_alive() and not w.retired]
        running: dict[Any, tuple[_Worker, Task]] = {}
        stopping = False
        while running or (todo and not stopping):
            idle = [w for w in idle if not w.retired]  # (a limit set meanwhile stops some)
            while idle and todo and not stopping and len(running) < self.at_once:
                worker, task = idle.pop(0), todo.popleft()
                try:
                    worker.connection.send(task)
                except OSError:  # it died while idle
                    if not done(task, None, _lost(worker)):
                        stopping = True
                    continue
                running[worker.connection] = (worker, task)
            if on_idle is not None and running and idle and not todo:
                on_idle()
                on_idle = None
            if not running:
                if todo and not stopping:
                    raise KernelError("No notebook worker process is left: every one "
                                      "ended before the notebooks were run.",
                                      fix="Check the memory free on this machine, then "
                                      "run again.")
                break
            for connection in wait(list(running)):
                worker, task = running.pop(connection)
                try:
                    result, lost = connection.recv(), None
                except (EOFError, OSError):
                    result, lost = None, _lost(worker)
                else:
                    idle.append(worker)
                if not done(task, result, lost):
                    stopping = True

    def stop(self) -> None:
        """Ask every kernel to shut down; does not wait (see :meth:`close`). None starts
        after this."""
        self.started = True
        if self._local is not None:
            self._local.shutdown()
            self._local = None
        for worker in self._workers:
            if not worker.retired:
                with contextlib.suppress(OSError, ValueError):
                    worker.connection.send(None)
        if self._zygote is not None:  # it ends once the kernels have
            self._zygote.release()

    def close(self, terminate: bool = False) -> None:
        """Stop the kernels and wait for the worker processes (terminated when asked)."""
        if terminate:
            for worker in self._workers:
                if worker.process.is_alive():
                    worker.process.terminate()
        self.stop()
        deadline = time.monotonic() + STOP_TIMEOUT
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()
            remove_sockets(worker.socket_prefix)
        self._workers = []
        if self._zygote is not None:  # after its kernels
            self._zygote.close()
            self._zygote = None
