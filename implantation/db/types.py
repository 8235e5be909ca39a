"""Column type storing a StrEnum's stable *value* as plain VARCHAR.

SQLAlchemy's Enum stores member names and creates native PostgreSQL types; both would make
renaming a Python member a schema migration and diverge between SQLite and PostgreSQL.
"""

from enum import StrEnum
from typing import Any

from sqlalchemy import String
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
