import pytest

from app.errors import ValidationFailed
from app.notify.consents import record_consents, remaining_consents, spend_consent


def test_each_consent_allows_one_send(db_session):
    record_consents("oMini1", ["TPL_PROGRESS", "TPL_BOOKING"])
    record_consents("oMini1", ["TPL_PROGRESS"])
    assert remaining_consents("oMini1", "TPL_PROGRESS") == 2
    assert spend_consent("oMini1", "TPL_PROGRESS", "opinion:1:accepted")
    assert spend_consent("oMini1", "TPL_PROGRESS", "opinion:1:replied")
    assert not spend_consent("oMini1", "TPL_PROGRESS", "opinion:1:closed")  # none left: fall back
    assert remaining_consents("oMini1", "TPL_BOOKING") == 1
    assert remaining_consents("oMini2", "TPL_BOOKING") == 0


@pytest.mark.parametrize("templates", [[], ["a", "b", "c", "d"], ["x" * 65]])
def test_bad_consent_calls(db_session, templates):
    with pytest.raises(ValidationFailed):
        record_consents("oMini1", templates)
