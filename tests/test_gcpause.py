"""The garbage-collector pause used while graphs are built and drawn."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from nolead import Task, build_graph, gcpause, uses
from nolead import graph as graph_module
from nolead.graphmodel import PipelineGraph
from nolead.plugins import renderer_info


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    """Each test starts with the collector running and leaves it that way."""
    was = gc.isenabled()
    gc.enable()
    yield
    assert gc.isenabled()
    if not was:
        gc.disable()


def test_paused_turns_the_collector_off_and_back_on() -> None:
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():  # nested: still off after the inner block
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_paused_leaves_a_collector_the_program_turned_off_off() -> None:
    gc.disable()
    with gcpause.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    gc.enable()


def test_paused_resumes_after_an_exception() -> None:
    with pytest.raises(ValueError), gcpause.paused():
        raise ValueError("boom")
    assert gc.isenabled()


def overlap_once() -> list[bool]:
    """Two threads pause at once; the first resumes first.  Return what the second saw."""
    inside = threading.Barrier(2)
    first_done = threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with gcpause.paused():
            inside.wait()
        first_done.set()

    def second() -> None:
        with gcpause.paused():
            inside.wait()
            first_done.wait(10)
            seen.append(gc.isenabled())  # the first has ended; this one has not

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return seen


def test_overlapping_pauses_in_threads_resume_when_the_last_ends() -> None:
    for _ in range(50):
        assert overlap_once() == [False]
        assert gc.isenabled()


def test_pausing_keeps_the_function_and_its_result() -> None:
    @gcpause.pausing
    def collector_state(value: int) -> tuple[int, bool]:
        """Doc."""
        return value, gc.isenabled()

    assert collector_state(3) == (3, False)
    assert collector_state.__name__ == "collector_state"
    assert collector_state.__doc__ == "Doc."
    assert gc.isenabled()


def test_snapshot_and_renderers_run_paused_and_resume(
    nolead_pipeline: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    @Task()
    def source() -> int:
        return 1

    @Task()
    def sink() -> int:
        return uses(source) + 1

    sink()
    states: list[tuple[str, bool]] = []
    signature = graph_module._signature
    node_ids = PipelineGraph.node_ids

    def watched_signature(spec: object) -> str:
        states.append(("snapshot", gc.isenabled()))
        return signature(spec)

    def watched_node_ids(self: PipelineGraph, prefix: str) -> dict[str, str]:
        states.append((prefix, gc.isenabled()))
        return node_ids(self, prefix)

    monkeypatch.setattr(graph_module, "_signature", watched_signature)
    monkeypatch.setattr(PipelineGraph, "node_ids", watched_node_ids)
    graph = build_graph()
    assert gc.isenabled()
    for name in ("text", "dot", "mermaid"):
        assert "sink" in renderer_info(name).renderer(graph)
        assert gc.isenabled()
    assert set(states) == {("snapshot", False), ("task", False), ("t", False)}
