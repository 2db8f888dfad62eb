"""The reassignment benchmark behind ``manage.py bench_reassign`` (see ``run``)."""

from .run import run

__all__ = ["run"]
