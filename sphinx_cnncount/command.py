"""The command line's common parts: the program's name, its parser (no abbreviations, "did you
mean"), the options every command that reads a model shares, the one-line error and the guard
that turns an expected failure into it. ``cli.py`` (summary, diagram) and ``lint/cli.py``
(lint, diff) build on them.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

PROG = "cnncount"


class Parser(argparse.ArgumentParser):
    """argparse's parser with no abbreviated options (``--col`` is not ``--columns``: an
    option added later would change what it means), and a suggestion for a mistyped option or
    subcommand, under the usage of the subcommand it was given to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.option_names: list[str] = []  # every option string, for the suggestions
        self.commands: dict[str, Parser] = {}  # the subcommands' parsers, by name
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def add_argument(self, *names: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*names, **kwargs)
        self.option_names += action.option_strings
        return action

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        ns, extras = self.parse_known_args(args, namespace)
        if extras:
            command = self.commands.get(getattr(ns, "command", None) or "", self)
            command.error(command.unrecognized(extras))
        return ns

    def unrecognized(self, extras: Sequence[str]) -> str:
        """``unrecognized arguments: --colums layer; did you mean --columns?``"""
        hints = [f"did you mean {match}?" for arg in extras if arg.startswith("-")
                 for match in close(arg.partition("=")[0], self.option_names)]
        return f"unrecognized arguments: {' '.join(extras)}" + "".join(f"; {h}" for h in hints)

    def error(self, message: str) -> NoReturn:
        # argparse words a bad choice "invalid choice: 'sumary' (choose from ...)".
        if (m := re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)$", message)):
            choices = re.findall(r"[\w.-]+", m.group(2))
            message += "".join(f"; did you mean {c}?" for c in close(m.group(1), choices))
        super().error(message)


def close(word: str, choices: Sequence[str]) -> list[str]:
    """The one choice ``word`` is most likely a typo of, if any is close (difflib)."""
    return difflib.get_close_matches(word, choices, n=1, cutoff=0.6)


def depth_arg(text: str) -> int:
    """argparse type for --depth (layers.parse_depth; imported here, not at start-up)."""
    from .layers import parse_depth

    try:
        return parse_depth(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_model_options(p: argparse.ArgumentParser, depth_default: int | None = 1,
                      depth_help: str = "1") -> None:
    """The options every command that reads a model shares."""
    p.add_argument("--depth", type=depth_arg, default=depth_default, metavar="N",
                   help=f"module-scope depth that makes a layer (default: {depth_help})")
    p.add_argument("--dim", action="append", default=[], metavar="SYM=N",
                   help="bind a symbolic dim, e.g. --dim batch=1 --dim H=224 (repeatable)")
    p.add_argument("--input-shape", action="append", default=[], metavar="NAME=DIMS",
                   help="give an input its whole shape, e.g. image=1x3x224x224 (repeatable)")
    p.add_argument("--input-value", action="append", default=[], metavar="NAME=V",
                   help="give a small input that is a setting its value, e.g. sr=16000, so "
                        "that a branch on it is decided (repeatable)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def error(message: str) -> int:
    """Print the one-line error and return the usage/input exit code."""
    from .escape import message as line

    print(f"{PROG}: error: {line(message)}", file=sys.stderr)
    return 2


def guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn expected failures into one-line errors (exit 2); ``--debug`` shows the traceback."""

    def run(args: argparse.Namespace) -> int:
        from .declare import DeclarationError
        from .load import ModelError

        try:
            return command(args)
        except (ModelError, DeclarationError, ValueError) as exc:
            if getattr(args, "debug", False):
                traceback.print_exc()
            return error(str(exc))
        except RecursionError:
            return error(f"{getattr(args, 'model', '?')}: the graph is too deeply nested")
        except Exception as exc:  # a bug of ours: still one line, and the way to see more
            if getattr(args, "debug", False):
                raise
            where = getattr(args, "model", None)
            prefix = f"{where}: " if isinstance(where, str) else ""
            return error(f"{prefix}internal error ({type(exc).__name__}: {exc}); "
                         "rerun with --debug and report it")

    return run
