"""Column types: a StrEnum's stable *value* as plain VARCHAR, and exact decimals as NUMERIC.

SQLAlchemy's Enum stores member names and creates native PostgreSQL types; both would make
renaming a Python member a schema migration and diverge between SQLite and PostgreSQL.
"""

from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Numeric, String
from sqlalchemy.types import TypeDecorator


class StrEnumType(TypeDecorator[StrEnum]):
    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[StrEnum], length: int = 30) -> None:
        super().__init__(length)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return self.enum_cls(value).value

    def process_result_value(self, value: Any, dialect: Any) -> StrEnum | None:
        return None if value is None else self.enum_cls(value)


class DecimalType(TypeDecorator[Decimal]):
    """Exact decimal (money, ETP, hours) as NUMERIC(precision, scale) on both backends, ``Decimal`` in Python.

    SQLAlchemy's own Numeric warns on SQLite, which stores NUMERIC as a binary float: values are read back
    through their shortest text form, exact for the few significant digits these columns hold.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=False)

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        exact = Decimal(str(value))
        return str(exact) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(str(value))
