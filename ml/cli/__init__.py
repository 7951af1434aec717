"""Command-line entry points: ``python -m ml <command>``."""
