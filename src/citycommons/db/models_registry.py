"""Imports every domain's models so that ``Base.metadata`` knows all tables (Alembic, tests)."""

from citycommons.accounts import models as accounts_models  # noqa: F401
from citycommons.catalog import models as catalog_models  # noqa: F401
from citycommons.db.base import Base
from citycommons.initiatives import models as initiatives_models  # noqa: F401
from citycommons.jobs import models as jobs_models  # noqa: F401
from citycommons.ledger import models as ledger_models  # noqa: F401
from citycommons.registers import models as registers_models  # noqa: F401

metadata = Base.metadata
