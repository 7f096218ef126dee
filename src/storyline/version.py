"""The version of storyline."""

__version__ = "0.1.0"
