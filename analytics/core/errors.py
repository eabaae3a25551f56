"""The one error type a user can cause, carrying a sentence a business owner understands."""

from __future__ import annotations


class ScalegateError(Exception):
    """Something the user must fix: bad input, bad arguments, a database in use.

    The message is a plain sentence, shown as-is on the page and on the command line.
    """

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence

    def __str__(self) -> str:
        return self.sentence
