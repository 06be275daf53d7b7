"""Serialisation between this process and worker processes.

Everything is pickled with cloudpickle (protocol 5).  Buffers of 1 MiB or more — NumPy
arrays, ``bytes``, anything exposing the buffer protocol through pickle 5 — are taken
*out of band*: written once to a file in shared memory (``/dev/shm`` where it exists)
that the receiving process maps copy-on-write, instead of being copied through the
executor's pipe.  An upstream result shipped to several workers is serialised once
(:func:`shipped` caches it until :func:`nolead.reset_pipeline`).

The files live in one directory per parent process, removed at exit; a file carrying a
result back from a worker is deleted by the parent as soon as it has mapped it.
"""

from __future__ import annotations

import atexit
import itertools
import mmap
import os
import pickle
import shutil
import tempfile
import threading
from typing import Any

__all__ = ["Shipped", "dumps", "dumps_job", "forget", "loads", "loads_job", "shipped"]

OUT_OF_BAND_MIN = 1 << 20

_lock = threading.Lock()
_cache: dict[Any, Shipped] = {}
_directory: str | None = None
_counter = itertools.count()


def use_spool_directory(path: str) -> None:
    """Write out-of-band buffers into ``path`` (a worker uses its parent's directory)."""
    global _directory
    _directory = path


def spool_directory() -> str:
    """Return this process's shared-memory directory for large buffers, creating it."""
    global _directory
    with _lock:
        if _directory is None or not os.path.isdir(_directory):
            base = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
            _directory = tempfile.mkdtemp(prefix=f"nolead-{os.getpid()}-", dir=base)
            atexit.register(shutil.rmtree, _directory, True)
        return _directory


class Shipped:
    """A value serialised once for sending to workers; unpickles to the value itself.

    Attributes:
        data: The in-band pickle.
        files: ``(path, size)`` of each out-of-band buffer, in order.
    """

    __slots__ = ("data", "files")

    def __init__(self, data: bytes, files: list[tuple[str, int]]) -> None:
        self.data = data
        self.files = files

    def __reduce__(self) -> tuple[Any, ...]:
        return (_materialise, (self.data, self.files, False))


def _encode(value: Any, directory: str | None) -> tuple[bytes, list[tuple[str, int]]]:
    import cloudpickle

    files: list[tuple[str, int]] = []
    target = directory

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        nonlocal target
        view = buffer.raw()
        if view.nbytes < OUT_OF_BAND_MIN:
            return True  # small: keep it in the pickle
        if target is None:
            target = spool_directory()
        path = os.path.join(target, f"b{os.getpid()}-{next(_counter)}")
        with open(path, "wb") as handle:
            handle.write(view)
        files.append((path, view.nbytes))
        return False

    data = cloudpickle.dumps(value, protocol=5, buffer_callback=out_of_band)
    return data, files


def _map(path: str, size: int, unlink: bool) -> memoryview:
    with open(path, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), size, access=mmap.ACCESS_COPY) if size else b""
    if unlink:
        os.unlink(path)
    return memoryview(mapped)


def _materialise(data: bytes, files: list[tuple[str, int]], unlink: bool) -> Any:
    buffers = [_map(path, size, unlink) for path, size in files]
    return pickle.loads(data, buffers=buffers)


def shipped(key: Any) -> Shipped:
    """Return the serialised form of a cached result, serialising it on first use.

    Args:
        key: A result key whose result is cached in this process.

    Raises:
        TaskPicklingError: When the result cannot be pickled.
    """
    found = _cache.get(key)
    if found is not None:
        return found
    from nolead import engine
    from nolead.errors import TaskPicklingError

    value = engine.cached_value(key)
    try:
        data, files = _encode(value, None)
    except Exception as exc:
        raise TaskPicklingError(
            key[0].name,
            f"its result (a {type(value).__name__}) cannot be pickled to send it to a worker "
            f"process: {type(exc).__name__}: {exc}",
        ) from exc
    found = Shipped(data, files)
    with _lock:
        return _cache.setdefault(key, found)


def forget() -> None:
    """Drop every cached serialised result and its files."""
    with _lock:
        old = list(_cache.values())
        _cache.clear()
    for item in old:
        for path, _ in item.files:
            try:
                os.unlink(path)
            except OSError:
                pass


def dumps_job(job: Any) -> bytes:
    """Pickle a job for a worker, naming the task and the culprit when that fails.

    Raises:
        TaskPicklingError: Naming the task and the type of what could not be pickled.
    """
    import cloudpickle

    from nolead.errors import TaskPicklingError

    try:
        data: bytes = cloudpickle.dumps(job, protocol=5)
    except Exception as exc:
        name = job.key[0].name
        culprit = _culprit(job)
        raise TaskPicklingError(
            name,
            f"{culprit} cannot be pickled to send it to a worker process: "
            f"{type(exc).__name__}: {exc}",
        ) from exc
    return data


def _culprit(job: Any) -> str:
    import cloudpickle

    checks: list[tuple[str, Any]] = [(f"its function {job.key[0].qualname}", job.key[0].wrapper)]
    checks += [
        (f"its argument {name!r} (a {type(value).__name__})", value)
        for name, value in (job.kwargs or {}).items()
    ]
    for label, value in checks:
        try:
            cloudpickle.dumps(value, protocol=5)
        except Exception:
            return label
    return "part of the job"


def loads_job(payload: bytes) -> Any:
    """Unpickle a job received from the parent."""
    return pickle.loads(payload)


def dumps(value: Any) -> bytes:
    """Pickle a reply, moving large buffers to shared-memory files."""
    data, files = _encode(value, None)
    return pickle.dumps((data, files), protocol=5)


def loads(reply: bytes) -> Any:
    """Unpickle a reply made by :func:`dumps`, mapping (then deleting) its buffer files."""
    data, files = pickle.loads(reply)
    return _materialise(data, files, True)
