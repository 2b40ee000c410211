"""Domain exceptions, mapped to user-facing text in one place (the handlers' error layer)."""


class DomainError(Exception):
    """Base class: a request that is refused for a reason the user may be told."""


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to this user)."""


class NotAllowed(DomainError):
    """The user may not do this."""


class StaleAction(DomainError):
    """A button or reference that no longer applies (already answered, expired)."""
