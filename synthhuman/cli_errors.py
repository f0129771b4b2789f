"""How the command line reports errors: one line on stderr naming the flag, key or file and what was
expected, no traceback unless ``--debug``; exit code 2 for a bad flag or config value
(:class:`~synthhuman.config.ConfigError`, flags that do not parse), 1 for a run that failed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from typer.core import TyperGroup

try:  # typer vendors click (0.2x): its exceptions are its own
    from typer._click.exceptions import ClickException, UsageError
except ImportError:  # typer on click itself
    from click import ClickException, UsageError

from synthhuman.config import ConfigError

state = {"debug": False}
"""``--debug``: let errors through with their traceback."""


def one_line(exc: BaseException) -> str:
    """``exc`` as one line: the project's messages as they are, anything else with its type."""
    text = " ".join(str(exc).split())
    if isinstance(exc, (ValueError, OSError)):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text} (an unexpected error; --debug shows where)"


class ErrorLines(TyperGroup):
    """The app's group: every command's errors as one line (module docstring)."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except UsageError as exc:  # a sub-command's flags that do not parse: one line too
            if state["debug"] or type(exc).__name__ == "NoArgsIsHelpError":
                raise
            typer.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
            raise typer.Exit(2) from None
        except ClickException:
            raise
        except Exception as exc:
            if state["debug"]:
                raise
            typer.echo(f"error: {one_line(exc)}", err=True)
            raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from None


@contextmanager
def usage(flags: tuple[str, ...] = ()) -> Iterator[None]:
    """Errors inside are usage errors (exit code 2); a message that starts with one of ``flags`` (a field
    name) names its flag instead (``batch:`` -> ``--batch:``)."""
    try:
        yield
    except ConfigError:
        raise
    except (ValueError, OSError) as exc:
        message = str(exc)
        head = re.match(r"([a-z_]+): ", message)
        if head and head.group(1) in flags:
            message = f"--{head.group(1).replace('_', '-')}: {message[head.end() :]}"
        raise ConfigError(message) from exc


def device_flag(device: str) -> object:
    """The torch device of ``--device`` (a usage error naming the flag when this machine lacks it)."""
    from synthhuman.config import check_device_available

    return check_device_available(device, "--device")
