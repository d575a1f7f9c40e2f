import pytest

from tests.rating.year import build_year


@pytest.fixture
def year(make_region, make_station, make_deputy):
    return build_year(make_region, make_station, make_deputy)
