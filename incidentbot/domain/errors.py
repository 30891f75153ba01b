"""Domain errors: each carries a message fit to show the person who caused it."""


class IncidentError(Exception):
    """A request the domain refuses; ``str(error)`` is the human explanation."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotInIncidentChannel(IncidentError):
    """A command that acts on an incident was typed outside any incident's channel."""


class IncidentNotFound(IncidentError):
    """No incident has the number someone asked for."""
