"""`wadows hash-password`: the password_hash value for an [[auth.callers]] entry.

The password is read from the terminal (asked twice) or, when stdin is not a terminal, from its first
line; never from the command line, where other users see it in the process list and shells keep it in
their history.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from .passwords import PBKDF2, SCRYPT, hash_password


def _read_password(stdin=None) -> str | None:
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            print("wadows: the two passwords differ", file=sys.stderr)
            return None
        return first
    return stdin.readline().rstrip("\r\n")


def _hash_password(args: argparse.Namespace) -> int:
    password = _read_password()
    if password is None:
        return 1
    if not password:
        print("wadows: empty password refused", file=sys.stderr)
        return 1
    print(hash_password(password, args.scheme))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hash-password",
                       help="print a password_hash for [[auth.callers]] (password from the terminal or stdin)")
    p.add_argument("--scheme", choices=(SCRYPT, PBKDF2), default=SCRYPT, help=f"hash function (default {SCRYPT})")
    p.set_defaults(func=_hash_password)
