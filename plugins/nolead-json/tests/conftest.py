"""Each test starts with an empty result cache (nolead.testing's fixture)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clean(nolead_pipeline: None) -> None:
    """Use nolead's own clean-pipeline fixture for every test."""
