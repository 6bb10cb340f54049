"""The bounds that keep a hostile file from hanging the machine, in one place.

Every one is far above what a real model needs and far below what would cost minutes or
gigabytes. Each is checked before the work it bounds is done, from what the file actually holds
(never from a shape the file merely declares), and crossing one is a one-line error naming the
model and the bound.
"""

from __future__ import annotations

import os

from .shapes import ModelError

NODE_LIMIT = 1_000_000  # nodes once every function call, in every body, is inlined
MAX_DEPTH = 16  # bodies nested in bodies
VALUE_LIMIT = 1 << 16  # elements of one integer tensor read or computed (shape arithmetic)
SMALL_FLOAT = 64  # elements of a float tensor computed (a scale in size arithmetic)
DATA_BUDGET = 32 << 20  # bytes of integer data read or computed for one model, in all
DIGITS = 80  # decimal digits of a tensor's element count, and of a declared number


class Budget:
    """The bytes of integer data (shapes, axes, indices) one model may read from its external
    data file, take from its inline tensors, and compute by folding, together: a few tens of
    MiB, where a real model uses kilobytes."""

    __slots__ = ("path", "used", "limit")

    def __init__(self, path: str | os.PathLike[str], limit: int = DATA_BUDGET) -> None:
        self.path = path
        self.used = 0
        self.limit = limit

    def charge(self, nbytes: int) -> None:
        """Count ``nbytes`` more, before they are read or computed."""
        self.used += nbytes
        if self.used > self.limit:
            raise ModelError(self.path, f"its integer data (shapes, axes, indices, read or "
                                        f"computed) takes more than {self.limit >> 20} MiB, "
                                        "the limit for one model")


def too_many_digits(n: int) -> bool:
    """Whether ``n`` has more than :data:`DIGITS` decimal digits (told without printing it:
    Python refuses to print an int of more than 4,300 digits)."""
    return n.bit_length() > 3 * DIGITS and abs(n) >= 10 ** DIGITS
