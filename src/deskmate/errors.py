"""Domain errors: services raise these; the API maps them to 4xx, the CLI to exit code 2."""


class DeskmateError(Exception):
    """A problem the user can fix, with a message that says how."""


class NotFound(DeskmateError):
    pass


class Conflict(DeskmateError):
    pass


class InvalidInput(DeskmateError):
    pass


class Forbidden(DeskmateError):
    pass
