"""The ``world`` fixture of the routing page tests (``tests/routing/pages.py``)."""

import pytest

from tests.routing.pages import World, build_world


@pytest.fixture
def world() -> World:
    return build_world()
