"""Canonical parameter keys: bind keyword arguments to a task's signature.

A task's result is cached per (task, canonical parameters).  Binding applies the
function's defaults, so ``run_task(t)`` and ``run_task(t, x=<default>)`` share a key,
and the canonical form keeps the type of each value, so ``x=1``, ``x=1.0``, ``x=True``
and ``x="1"`` are four different keys.  Lists, dicts and sets get a stable, hashable
form; any other unhashable value is refused with a clear error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from nolead.errors import TaskParameterError

__all__ = ["Binder", "canonical"]

Key = tuple[tuple[str, Any], ...]

# Types whose values are their own canonical form once tagged with the type.
_ATOMIC: frozenset[type] = frozenset({int, bool, float, complex, bytes, type(None)})


def canonical(value: Any) -> Any:
    """Return a hashable form of ``value``, equal only for equal values of the same type.

    Args:
        value: A parameter value.

    Returns:
        A hashable object: the string itself for ``str``, otherwise a tuple tagged with the
        value's type (containers converted element by element, unordered ones sorted).

    Raises:
        TypeError: When ``value`` (or something inside it) is unhashable and is not a list,
            tuple, dict, set or frozenset.
    """
    kind = type(value)
    if kind is str:
        return value
    if kind in _ATOMIC:
        if kind is float and math.isnan(value):
            return (float, "nan")
        return (kind, value)
    if kind is tuple or kind is list:
        return (kind, tuple(canonical(item) for item in value))
    if kind is dict:
        items = [(canonical(k), canonical(v)) for k, v in value.items()]
        items.sort(key=_sort_key)
        return (dict, tuple(items))
    if kind is set or kind is frozenset:
        members = [canonical(item) for item in value]
        members.sort(key=_member_key)
        return (kind, tuple(members))
    hash(value)  # raises TypeError for unhashable objects
    return (kind, value)


def _sort_key(item: tuple[Any, Any]) -> tuple[str, int]:
    return _member_key(item[0])


def _member_key(member: Any) -> tuple[str, int]:
    # repr orders readable values; the hash separates members whose reprs coincide.
    return repr(member), hash(member)


class Binder:
    """Binds keyword arguments to one function's signature and builds cache keys.

    Args:
        task: The task's name, used in error messages.
        func: The task's function.
    """

    __slots__ = (
        "accepted",
        "default_error",
        "default_key",
        "defaults",
        "names",
        "required",
        "task",
        "var_keyword",
    )

    def __init__(self, task: str, func: Callable[..., Any]) -> None:
        self.task = task
        names, defaults, required, var_keyword = _describe(func)
        self.names: tuple[str, ...] = names
        self.accepted = frozenset(names)
        self.defaults: dict[str, Any] = defaults
        self.required = frozenset(required)
        self.var_keyword = var_keyword
        self.default_key: Key | None = None
        # Raised when the defaults are used but one cannot be part of a key.
        self.default_error: TaskParameterError | None = None
        if not self.required:
            try:
                self.default_key = self._key(defaults, {})
            except TaskParameterError as exc:
                self.default_error = exc

    def bind(self, kwargs: Mapping[str, Any]) -> Key:
        """Check ``kwargs`` against the signature and return the canonical key.

        Args:
            kwargs: The keyword arguments the task will be called with.

        Returns:
            A tuple of ``(name, canonical value)`` pairs: every named parameter in signature
            order (defaults applied), then any extra ``**kwargs`` names in sorted order.

        Raises:
            TaskParameterError: For an unknown or missing parameter, or an unhashable value.
        """
        if not kwargs:
            if self.default_key is None:
                if self.default_error is not None:
                    raise self.default_error
                self._missing(kwargs)
            return self.default_key  # type: ignore[return-value]
        if not self.var_keyword:
            unknown = kwargs.keys() - self.accepted
            if unknown:
                name = sorted(unknown)[0]
                raise TaskParameterError(
                    self.task,
                    f"unexpected parameter {name!r}; it accepts "
                    + (", ".join(repr(n) for n in self.names) or "no parameters"),
                    parameter=name,
                )
        if self.required and not self.required <= kwargs.keys():
            self._missing(kwargs)
        return self._key(self.defaults, kwargs)

    def _key(self, defaults: Mapping[str, Any], kwargs: Mapping[str, Any]) -> Key:
        pairs: list[tuple[str, Any]] = []
        for name in self.names:
            if name in kwargs:
                value = kwargs[name]
            elif name in defaults:
                value = defaults[name]
            else:
                continue
            pairs.append((name, self._canonical(name, value)))
        if self.var_keyword:
            for name in sorted(kwargs.keys() - self.accepted):
                pairs.append((name, self._canonical(name, kwargs[name])))
        return tuple(pairs)

    def _canonical(self, name: str, value: Any) -> Any:
        try:
            return canonical(value)
        except TypeError:
            raise TaskParameterError(
                self.task,
                f"parameter {name!r} has the unhashable type {type(value).__name__!r}, so it "
                "cannot be part of the result cache key; pass a hashable value instead (a "
                "tuple, frozenset, frozen dataclass, or an identifier such as a file path)",
                parameter=name,
            ) from None

    def _missing(self, kwargs: Mapping[str, Any]) -> None:
        missing = sorted(self.required - kwargs.keys())
        name = missing[0]
        raise TaskParameterError(
            self.task,
            f"missing required parameter {name!r}; pass it as {name}=... to run_task(), "
            "uses() or run_parallel()",
            parameter=name,
        )


def _describe(func: Callable[..., Any]) -> tuple[tuple[str, ...], dict[str, Any], list[str], bool]:
    """Read a function's keyword-passable parameters, their defaults and which are required."""
    code = getattr(func, "__code__", None)
    if code is not None and not hasattr(func, "__wrapped__") and hasattr(func, "__defaults__"):
        return _describe_code(func, code)
    return _describe_signature(func)


def _describe_code(func: Any, code: Any) -> tuple[tuple[str, ...], dict[str, Any], list[str], bool]:
    posonly = code.co_posonlyargcount
    positional = code.co_argcount
    kwonly = code.co_kwonlyargcount
    varnames = code.co_varnames
    pos_names = varnames[:positional]
    kw_names = varnames[positional : positional + kwonly]
    defaults: dict[str, Any] = {}
    positional_defaults = func.__defaults__ or ()
    first_default = positional - len(positional_defaults)
    for index, value in enumerate(positional_defaults):
        defaults[pos_names[first_default + index]] = value
    defaults.update(func.__kwdefaults__ or {})
    names = tuple(pos_names[posonly:]) + tuple(kw_names)
    required = [name for name in names if name not in defaults]
    # A positional-only parameter cannot be passed by keyword: usable only with a default.
    required += [name for name in pos_names[:posonly] if name not in defaults]
    var_keyword = bool(code.co_flags & 0x08)
    return names, {k: v for k, v in defaults.items() if k in names}, required, var_keyword


def _describe_signature(
    func: Callable[..., Any],
) -> tuple[tuple[str, ...], dict[str, Any], list[str], bool]:
    import inspect

    names: list[str] = []
    defaults: dict[str, Any] = {}
    required: list[str] = []
    var_keyword = False
    for param in inspect.signature(func).parameters.values():
        if param.kind is param.VAR_KEYWORD:
            var_keyword = True
            continue
        if param.kind is param.VAR_POSITIONAL:
            continue
        if param.kind is param.POSITIONAL_ONLY:
            if param.default is param.empty:
                required.append(param.name)
            continue
        names.append(param.name)
        if param.default is param.empty:
            required.append(param.name)
        else:
            defaults[param.name] = param.default
    return tuple(names), defaults, required, var_keyword
