"""Errors the API's routes raise and its handlers turn into answers."""


class Unavailable(Exception):
    """The warehouse cannot be read now (not loaded yet, or busy): 503 with Retry-After."""
