"""Test setup: a clean pipeline per test, and the markers the tests use."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Declare the markers, so the tests also run outside the nolead repository.

    Args:
        config: The pytest configuration.
    """
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    if not config.pluginmanager.hasplugin("timeout"):
        # Without pytest-timeout the mark does nothing; the subprocesses have their own.
        config.addinivalue_line("markers", "timeout(seconds): pytest-timeout's limit")


@pytest.fixture(autouse=True)
def _clean_pipeline(nolead_pipeline: None) -> None:
    """Give every test nolead's empty result cache and default settings."""
