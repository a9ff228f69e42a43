"""listdock: a self-hosted data access hub."""

__version__ = "0.1.0"
