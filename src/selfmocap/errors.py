"""The error type of the whole package: a problem with the user's input.

Library code raises :class:`UserError`; the ``selfmocap`` command prints its message as one line
and exits with code 2, no traceback. It lives here, below every stage, so that no library module
imports the command-line layer.
"""


class UserError(Exception):
    """A problem with the user's input: printed as one line, exit code 2, no traceback."""
