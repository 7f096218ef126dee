"""The HTTP app: a JSON API under ``/api`` and web pages on the same resources."""
