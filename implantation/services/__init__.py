"""Database operations; each takes a Session and leaves commit or rollback to the caller."""
