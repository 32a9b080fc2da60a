"""What every SQLAlchemy twin in the workbook shares, so that each lesson's file holds
only its lesson: DATABASE_URL read as SQLAlchemy's URL for asyncmy, an error told in one
line with no password in it, and the exit codes (1 for an error, 2 for bad input, 130
for Ctrl-C).

`just python N` and `lesson-6 --python` put this folder on PYTHONPATH. To run a twin by
hand, from the workbook's root:

    PYTHONPATH=shared/python DATABASE_URL=mysql://root@127.0.0.1:3306/sales \\
        python lessons/01-plain-sql/python/plain_sql.py
"""

import os
import re
import sys
from collections.abc import Callable

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

SHAPE = "mysql://user[:password]@host:port/database"


class UsageError(Exception):
    """DATABASE_URL, an argument or the input is missing or unusable: exit code 2."""


def database_url(how_to_run: str) -> URL:
    """DATABASE_URL as SQLAlchemy's URL with the asyncmy driver. `how_to_run` is the
    command the error names when it is not set."""
    raw = os.environ.get("DATABASE_URL", "").strip()
    if not raw:
        raise UsageError(f"DATABASE_URL is not set; run it with `{how_to_run}`")
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise UsageError(f"DATABASE_URL is not a URL like {SHAPE}") from None
    if url.get_backend_name() not in ("mysql", "mariadb") or not url.database:
        raise UsageError(f"DATABASE_URL must look like {SHAPE}")
    # A workbook URL may say ssl-mode=disabled, for sqlx: asyncmy's default anyway.
    if url.query.get("ssl-mode", "").lower() == "disabled":
        url = url.difference_update_query(["ssl-mode"])
    return url.set(drivername="mysql+asyncmy")


def redact(message: str) -> str:
    """`message` without the credentials of any URL in it, nor DATABASE_URL's password."""
    message = re.sub(r"(\w+://[^:/@\s]+):[^@\s]*@", r"\1:***@", message)
    try:
        password = make_url(os.environ.get("DATABASE_URL", "").strip()).password
    except (ArgumentError, ValueError):
        password = None
    if password:
        message = message.replace(str(password), "***")
    return message


def reason(error: BaseException) -> str:
    """An error as one line: for a database error, the driver's own (the server's error
    number and message), without the SQL and its parameters."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        args = error.orig.args
        if len(args) == 2 and isinstance(args[0], int):
            return redact(f"error {args[0]}: {' '.join(str(args[1]).split())}")
        error = error.orig
    return redact(" ".join(str(error).split()) or type(error).__name__)


def main(program: str, run: Callable[[], None], where: Callable[[], str] = str) -> int:
    """Runs `run` and turns how it ended into the exit code, each error one line on
    stderr: `program: message`, after `where()` when it says where the error happened."""
    try:
        run()
        return 0
    except UsageError as error:
        print(f"{program}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # one line, never a traceback
        place = where()
        place = f"{place}: " if place else ""
        print(f"{program}: {place}{reason(error)}", file=sys.stderr)
        return 1
