"""Writing files: every file the tool writes goes through :func:`atomic_write_bytes`."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write_text(
    path: str | Path,
    text: str,
    *,
    mode: int | None = None,
    check: Callable[[Path], None] | None = None,
) -> Path:
    r"""Write ``text`` to ``path`` atomically: a temporary file in the same folder, then a rename.

    A reader sees the old file or the new one, never half of one; a failed write leaves no
    temporary file behind. The folder is created if needed.

    Parameters
    ----------
    path
        The file to write (replaced if it exists).
    text
        The content, written as UTF-8 with ``\n`` line ends.
    mode
        Permission bits for the new file; default those of :func:`tempfile.mkstemp` (0o600).
    check
        Called with the written temporary file (named ``.NAME.XXXX.tmp`` plus ``path``'s
        suffix, so readers that go by suffix read it) before the rename; whatever it raises
        leaves ``path`` as it was.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        The folder cannot be created or the file cannot be written; the caller words it.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> atomic_write_text(folder / "a.txt", "one\\n").read_text()
    'one\\n'
    >>> sorted(p.name for p in folder.iterdir())
    ['a.txt']
    """
    return atomic_write_bytes(path, text.encode("utf-8"), mode=mode, check=check)


def atomic_write_bytes(
    path: str | Path,
    data: bytes,
    *,
    mode: int | None = None,
    check: Callable[[Path], None] | None = None,
) -> Path:
    r"""Write ``data`` to ``path`` atomically, as :func:`atomic_write_text` writes text.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> atomic_write_bytes(folder / "a.bin", b"\x00\x01").read_bytes()
    b'\x00\x01'
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=f".tmp{p.suffix}", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            Path(tmp).chmod(mode)
        if check is not None:
            check(Path(tmp))
        Path(tmp).replace(p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
