import pytest

from tests import factories


@pytest.fixture
def make_user(db):
    return factories.make_user


@pytest.fixture
def admin_user(db):  # noqa: F811 - replaces pytest-django's superuser fixture with a SalesOS admin
    return factories.make_user("admin", username="opsadmin")
