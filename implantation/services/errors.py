class DomainError(ValueError):
    """A refusal a user can read: French message, nothing written."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
