"""Shared fixtures: every test starts with an empty result cache and default settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import nolead


@pytest.fixture(autouse=True)
def clean_pipeline() -> Iterator[None]:
    """Reset cached results and configuration before and after each test."""
    nolead.reset_pipeline()
    yield
    nolead.reset_pipeline()
    nolead.configure(reset=True)
