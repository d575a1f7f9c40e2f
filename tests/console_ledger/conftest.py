"""Console tests of 台账 use the matrix world and the console's sign-in fixture."""

from tests.auth.conftest import world  # noqa: F401
from tests.console.conftest import login_as  # noqa: F401
from tests.ledger.conftest import lw  # noqa: F401
