"""Cache keys: parameters bound to the signature, typed, canonical, and checked early."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nolead
from nolead import Task, TaskParameterError, run_parallel, run_task, uses


class _Counter:
    """Counts task executions per value (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[Any] = []

    def hit(self, value: Any) -> None:
        with self.lock:
            self.calls.append(value)

    @property
    def count(self) -> int:
        return len(self.calls)


def test_default_and_explicit_default_share_a_key() -> None:
    """``run_task(t)`` and ``run_task(t, x=<default>)`` run the task once."""
    counter = _Counter()

    @Task(name="pm_defaults")
    def task(x: int = 5, y: str = "s") -> tuple[int, str]:
        counter.hit((x, y))
        return (x, y)

    assert run_task(task) == (5, "s")
    assert run_task(task, x=5) == (5, "s")
    assert run_task(task, y="s") == (5, "s")
    assert run_task(task, x=5, y="s") == (5, "s")
    assert run_task("pm_defaults", y="s", x=5) == (5, "s")
    assert counter.count == 1
    assert run_task(task, x=6) == (6, "s")
    assert counter.count == 2


def test_uses_and_run_task_share_the_default_key() -> None:
    """``uses(t)`` in a task and ``run_task(t, x=<default>)`` share the cached result."""
    counter = _Counter()

    @Task(name="pm_shared_up")
    def up(x: int = 2) -> int:
        counter.hit(x)
        return x * 3

    @Task(name="pm_shared_down")
    def down() -> int:
        return uses(up) + uses(up, x=2)

    assert run_task(up, x=2) == 6
    assert run_task(down) == 12
    assert counter.count == 1


def test_values_of_different_types_are_different_keys() -> None:
    """``1``, ``"1"``, ``1.0`` and ``True`` are four keys, each running the task once."""
    counter = _Counter()

    @Task(name="pm_types")
    def task(x: Any = None) -> str:
        counter.hit(x)
        return type(x).__name__

    assert run_task(task, x=1) == "int"
    assert run_task(task, x="1") == "str"
    assert run_task(task, x=1.0) == "float"
    assert run_task(task, x=True) == "bool"
    assert counter.count == 4
    for value in (1, "1", 1.0, True):
        run_task(task, x=value)
    assert counter.count == 4
    assert [type(v) for v in counter.calls] == [int, str, float, bool]


def test_nested_values_of_different_types_are_different_keys() -> None:
    """Types are kept inside containers too: ``[1]`` and ``[True]`` differ."""
    counter = _Counter()

    @Task(name="pm_nested_types")
    def task(x: Any) -> Any:
        counter.hit(x)
        return x

    values: list[Any] = [[1], [True], [1.0], ["1"], {"k": 1}, {"k": True}, {1: "v"}, {"1": "v"}]
    for value in values:
        assert run_task(task, x=value) == value
    assert counter.count == len(values)


def test_dicts_in_a_different_order_share_a_key() -> None:
    """Dicts with the same items in another insertion order are the same key."""
    counter = _Counter()

    @Task(name="pm_dict_order")
    def task(options: dict[str, Any]) -> int:
        counter.hit(options)
        return len(options)

    assert run_task(task, options={"a": 1, "b": 2, "c": [1, 2]}) == 3
    assert run_task(task, options={"c": [1, 2], "b": 2, "a": 1}) == 3
    assert counter.count == 1
    assert run_task(task, options={"a": 1, "b": 2, "c": [2, 1]}) == 3
    assert counter.count == 2  # lists keep their order


def test_containers_work_as_parameters() -> None:
    """Lists, tuples, sets, frozensets and nested containers are usable and cached."""
    counter = _Counter()

    @Task(name="pm_containers")
    def task(value: Any) -> Any:
        counter.hit(value)
        return value

    values: list[Any] = [
        [1, 2, 3],
        (1, 2, 3),
        {1, 2, 3},
        frozenset({"a", "b"}),
        {"outer": {"inner": [1, {2, 3}], "t": (None, 1.5)}},
        [[], {}, set(), ()],
        {3: "x", "3": "y", None: 0},
    ]
    for value in values:
        assert run_task(task, value=value) == value
    first = counter.count
    assert first == len(values)
    for value in values:
        assert run_task(task, value=value) == value
    assert counter.count == first
    # equal sets built in another order are the same key
    assert run_task(task, value={3, 2, 1}) == {1, 2, 3}
    assert counter.count == first


class _SameRepr:
    """A hashable value whose ``repr`` does not tell instances apart."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SameRepr) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return "_SameRepr(...)"


def test_equal_dicts_and_sets_of_custom_hashables_share_a_key() -> None:
    """Equal dicts (and sets) are one key even when their members' reprs coincide."""
    counter = _Counter()

    @Task(name="pm_same_repr")
    def task(value: Any) -> int:
        counter.hit(value)
        return len(value)

    one, nine = _SameRepr(1), _SameRepr(9)  # hashes 1 and 9 collide in a small table
    run_task(task, value={one: "a", nine: "b"})
    run_task(task, value={nine: "b", one: "a"})
    assert counter.count == 1
    run_task(task, value={one, nine})
    run_task(task, value={nine, one})
    assert counter.count == 2


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.text(max_size=3),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=3), inner, max_size=4),
        st.frozensets(st.integers(-5, 5) | st.text(max_size=2), max_size=4),
    ),
    max_leaves=12,
)


def _reordered(value: Any) -> Any:
    """Return an equal copy with every dict and set built in reverse order."""
    if isinstance(value, dict):
        return {k: _reordered(v) for k, v in reversed(list(value.items()))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_reordered(v) for v in value)
    if isinstance(value, frozenset):
        return frozenset(reversed(list(value)))
    return value


_PROPERTY_RUNS: list[Any] = []


@Task(name="pm_property")
def _property_task(value: Any = None) -> Any:
    _PROPERTY_RUNS.append(value)
    return value


@settings(max_examples=150, deadline=None)
@given(value=_values)
def test_equal_values_share_one_key(value: Any) -> None:
    """Any value and a reordered equal copy of it run the task exactly once."""
    nolead.reset_pipeline()
    _PROPERTY_RUNS.clear()
    assert run_task(_property_task, value=value) == value
    assert run_task(_property_task, value=_reordered(value)) == value
    assert len(_PROPERTY_RUNS) == 1


class _Unhashable:
    """An object that explicitly refuses hashing."""

    __hash__ = None  # type: ignore[assignment]


@pytest.mark.parametrize(
    "value",
    [bytearray(b"abc"), _Unhashable(), [1, bytearray()], {"k": _Unhashable()}],
    ids=["bytearray", "hash-none", "in-list", "in-dict"],
)
def test_unhashable_parameter_is_a_clear_error(value: Any) -> None:
    """An unhashable value raises ``TaskParameterError`` naming task and parameter."""
    counter = _Counter()

    @Task(name="pm_unhashable")
    def task(payload: Any = None) -> None:
        counter.hit(payload)

    with pytest.raises(TaskParameterError) as info:
        run_task(task, payload=value)
    error = info.value
    assert isinstance(error, TypeError)
    assert error.task == "pm_unhashable"
    assert error.parameter == "payload"
    assert "pm_unhashable" in str(error)
    assert "payload" in str(error)
    assert counter.count == 0


def test_unhashable_default_does_not_break_the_task() -> None:
    """A task with an unhashable default can be defined; callers may pass a value."""

    @Task(name="pm_unhashable_default")
    def task(buffer: Any = bytearray(b"x")) -> int:  # noqa: B008
        return len(buffer)

    assert run_task(task, buffer=b"abc") == 3
    with pytest.raises(TaskParameterError) as info:
        run_task(task)
    assert info.value.parameter == "buffer"


def test_unknown_parameter_is_refused_before_the_body_runs() -> None:
    """An unexpected keyword raises ``TaskParameterError`` naming task and parameter."""
    counter = _Counter()

    @Task(name="pm_unknown_param")
    def task(x: int = 1) -> int:
        counter.hit(x)
        return x

    with pytest.raises(TaskParameterError) as info:
        run_task(task, y=2)
    assert isinstance(info.value, TypeError)
    assert info.value.task == "pm_unknown_param"
    assert info.value.parameter == "y"
    assert "'y'" in str(info.value)
    assert "pm_unknown_param" in str(info.value)
    assert counter.count == 0


def test_missing_parameter_is_refused_before_the_body_runs() -> None:
    """A missing required parameter is reported by name before the task starts."""
    counter = _Counter()

    @Task(name="pm_missing_param")
    def task(needed: int, optional: int = 0) -> int:
        counter.hit(needed)
        return needed + optional

    with pytest.raises(TaskParameterError) as info:
        run_task(task)
    assert info.value.task == "pm_missing_param"
    assert info.value.parameter == "needed"
    with pytest.raises(TaskParameterError) as info:
        run_task(task, optional=1)
    assert info.value.parameter == "needed"
    assert "needed" in str(info.value)
    assert counter.count == 0
    assert run_task(task, needed=1) == 1


def test_bad_parameters_through_uses_fail_before_the_upstream_runs() -> None:
    """``uses()`` with a bad keyword fails in the caller; the upstream body never runs."""
    counter = _Counter()

    @Task(name="pm_bad_uses_up")
    def up(x: int = 0) -> int:
        counter.hit(x)
        return x

    @Task(name="pm_bad_uses_down")
    def down() -> int:
        return uses(up, z=1)

    with pytest.raises(TaskParameterError) as info:
        run_task(down)
    assert info.value.task == "pm_bad_uses_up"
    assert info.value.parameter == "z"
    assert counter.count == 0


def test_bad_shared_parameter_of_run_parallel_names_the_task() -> None:
    """``run_parallel`` refuses a keyword one task cannot take, naming that task."""
    counter = _Counter()

    @Task(name="pm_rp_takes")
    def takes(x: int) -> int:
        counter.hit(x)
        return x

    @Task(name="pm_rp_refuses")
    def refuses() -> int:
        counter.hit(None)
        return 0

    with pytest.raises(TaskParameterError) as info:
        run_parallel([takes, refuses], x=1)
    assert info.value.task == "pm_rp_refuses"
    assert info.value.parameter == "x"
    assert counter.count == 0


def test_var_keyword_task_accepts_extras() -> None:
    """A ``**kwargs`` task takes extra keywords; each distinct set is its own key."""
    counter = _Counter()

    @Task(name="pm_kwargs")
    def task(base: int = 0, **extra: Any) -> dict[str, Any]:
        counter.hit(extra)
        return {"base": base, **extra}

    assert run_task(task, colour="red") == {"base": 0, "colour": "red"}
    assert run_task(task, colour="red", base=0) == {"base": 0, "colour": "red"}
    assert counter.count == 1
    assert run_task(task, colour="blue") == {"base": 0, "colour": "blue"}
    assert run_task(task, colour="red", size=2) == {"base": 0, "colour": "red", "size": 2}
    assert run_task(task, size=2, colour="red") == {"base": 0, "colour": "red", "size": 2}
    assert counter.count == 3
    assert run_task(task) == {"base": 0}
    assert counter.count == 4


def test_var_keyword_extras_must_be_hashable() -> None:
    """An unhashable extra keyword is reported by its name."""

    @Task(name="pm_kwargs_unhashable")
    def task(**extra: Any) -> int:
        return len(extra)

    with pytest.raises(TaskParameterError) as info:
        run_task(task, blob=bytearray())
    assert info.value.parameter == "blob"


def test_keyword_only_parameters() -> None:
    """Keyword-only parameters bind like the others (defaults applied, required checked)."""
    counter = _Counter()

    @Task(name="pm_kwonly")
    def task(*, key: str, size: int = 2) -> str:
        counter.hit((key, size))
        return key * size

    assert run_task(task, key="ab") == "abab"
    assert run_task(task, key="ab", size=2) == "abab"
    assert counter.count == 1
    assert run_task(task, size=3, key="ab") == "ababab"
    assert counter.count == 2
    with pytest.raises(TaskParameterError) as info:
        run_task(task, size=1)
    assert info.value.parameter == "key"
    assert counter.count == 2


def test_parameters_named_like_the_api_arguments() -> None:
    """Parameters called ``task``, ``tasks`` or ``name`` pass through every entry point."""

    @Task(name="pm_api_names")
    def task(task: int = 0, tasks: int = 0, name: int = 0) -> tuple[int, int, int]:
        return (task, tasks, name)

    @Task(name="pm_api_names_user")
    def user() -> tuple[int, int, int]:
        return uses(task, task=7)

    assert run_task(task, task=1, tasks=2, name=3) == (1, 2, 3)
    assert run_parallel([task], task=4, tasks=5, name=6) == {"pm_api_names": (4, 5, 6)}
    assert run_task(user) == (7, 0, 0)
