"""Errors the domain raises; the app and the runner turn them into statuses and messages."""


class DomainError(Exception):
    """Base class: the message is meant for the person who sees it."""


class InputError(DomainError):
    """The input (a file, a feed, a request) is not what it must be."""


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class Forbidden(DomainError):
    pass


class UnprocessableInput(InputError):
    """A well-formed request whose content cannot be used (a ride file that is not one)."""


class PayloadTooLarge(InputError):
    pass
