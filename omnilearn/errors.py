"""Errors that mean "the input or the run is wrong", not "the code is wrong".

The ``omnilearn`` command prints their message as one line and exits with code 1, without a
traceback: the message alone says what to fix (it names the file, the epoch, the checkpoint).
"""


class OmniLearnError(Exception):
    """Base of the errors the command line reports as one line."""


class CheckpointError(OmniLearnError, ValueError):
    """A checkpoint cannot be used: a file of it is unreadable (truncated, overwritten) or it does
    not fit the model or the data; the message names the file."""


class ResultsMismatchError(OmniLearnError, ValueError):
    """New results would not be comparable with those already in a results folder (drawn from
    another sample); the message names the folder and what to change."""


class OmniLearnWarning(UserWarning):
    """Something the user should know that does not stop the run (the data lack inputs the model
    was trained with); the command line prints it as one line ``omnilearn <cmd>: warning: …``."""
