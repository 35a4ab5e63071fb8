"""Alembic migrations of the People store (shipped inside the package)."""
