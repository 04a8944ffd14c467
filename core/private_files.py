"""Files that hold personal data are readable by the desk's user only.

The spool (e-mail addresses), the enquiry log's journal and the SQLite
database are created 0600 in folders created 0700, whatever the umask of
whoever started the process (the launcher also sets ``umask 077``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any, Optional

_FLAGS = {
    "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
    "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
    "a+": os.O_RDWR | os.O_CREAT | os.O_APPEND,
}


def private_dir(directory: Path) -> Path:
    """``directory`` (a folder of the desk's own) created if needed, and made 0700."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if directory.stat().st_mode & 0o077:
        os.chmod(directory, 0o700)
    return directory


def open_private(path: Path, mode: str = "a", encoding: Optional[str] = "utf-8") -> IO[Any]:
    """``open(path, mode)``; a file it creates is readable by this user only (0600)."""
    fd = os.open(path, _FLAGS[mode], 0o600)
    return os.fdopen(fd, mode, encoding=encoding) if encoding else os.fdopen(fd, mode + "b")


def create_private_file(path: Path) -> None:
    """Creates ``path`` empty with mode 0600 if it does not exist (SQLite then keeps that mode,
    and gives it to its -wal and -shm files)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
