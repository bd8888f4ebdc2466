"""Who holds locks on a file: /proc/locks, with OFD holders found through /proc/PID/fdinfo.

The kernel lists every lock in /proc/locks with the holder's pid, but an open file
description (OFD) lock belongs to no process, so recent kernels show its pid as -1 (as
F_OFD_GETLK does).  Each ``/proc/PID/fdinfo/FD`` names the locks of that descriptor's open
file in ``lock:`` lines of the same format; matching them resolves an OFD lock to every
process (and descriptor) that has the file open, as util-linux ``lslocks`` does.
"""

from __future__ import annotations

import os

from ._syscall import FileDescriptorLike, c_range, fileno
from .constants import F_RDLCK, F_UNLCK, F_WRLCK

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more to import than the rest of cfcntl: see _record
    from typing import NamedTuple
else:
    from ._record import NamedTuple

OFFSET_MAX = c_range("long long")[1]
"""The kernel's last lockable byte (its loff_t, a long long): a lock "to EOF" ends here."""

TYPES = {"READ": F_RDLCK, "WRITE": F_WRLCK, "UNLCK": F_UNLCK}
TYPE_NAMES = {value: name for name, value in TYPES.items()}
KINDS = {"OFDLCK": "OFD"}


class Holder(NamedTuple):
    """One lock on a file, and who holds it (or waits for it)."""

    pid: int
    """The holding process; -1 when the kernel does not say and no fdinfo names it."""
    command: str | None
    """The holder's command name (/proc/PID/comm), None when unreadable."""
    kind: str
    """"OFD", "POSIX", "FLOCK" (or "LEASE"...), as /proc/locks classes it."""
    type: int
    """F_RDLCK or F_WRLCK."""
    start: int
    """First byte."""
    length: int
    """Bytes in the range; 0 means to the end of the file, as in :class:`cfcntl.Flock`."""
    fd: int | None
    """The holder's descriptor of the open file, for an OFD lock resolved through fdinfo."""
    waiting: bool
    """True for a process blocked waiting for this lock rather than holding it."""

    @property
    def end(self) -> int:
        """The last byte of the range (OFFSET_MAX for "to the end of the file")."""
        return OFFSET_MAX if self.length == 0 else self.start + self.length - 1


class _Entry(NamedTuple):
    kind: str
    type: int
    pid: int
    where: str
    start: int
    length: int
    waiting: bool


def _parse(line: str) -> _Entry | None:
    """One /proc/locks line (``1: [->] CLASS MODE TYPE PID MAJ:MIN:INO START END``)."""
    words = line.split()
    waiting = len(words) > 1 and words[1] == "->"
    if waiting:
        del words[1]
    if len(words) < 8 or words[3] not in TYPES:
        return None
    start = int(words[6])
    length = 0 if words[7] == "EOF" else int(words[7]) - start + 1
    kind = KINDS.get(words[1], words[1])
    return _Entry(kind, TYPES[words[3]], int(words[4]), words[5], start, length, waiting)


def _where(st: os.stat_result) -> str:
    """The file as /proc/locks names it: major:minor:inode, the device numbers in hex."""
    return f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def command(pid: int) -> str | None:
    """The command name of ``pid`` (/proc/PID/comm, else argv[0]); None when unreadable."""
    comm = _read(f"/proc/{pid}/comm")
    if comm:
        return comm.rstrip("\n")
    cmdline = _read(f"/proc/{pid}/cmdline")
    return os.path.basename(cmdline.split("\0", 1)[0]) if cmdline else None


def _ofd_holders(st: os.stat_result) -> dict[_Entry, list[tuple[int, int | None]]]:
    """Each OFD lock on the file, with the (pid, fd) of every descriptor whose fdinfo names it."""
    found: dict[_Entry, list[tuple[int, int | None]]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{name}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.stat(f"/proc/{name}/fd/{fd}")
            except OSError:
                continue
            if (target.st_dev, target.st_ino) != (st.st_dev, st.st_ino):
                continue
            info = _read(f"/proc/{name}/fdinfo/{fd}") or ""
            for line in info.splitlines():
                entry = _parse(line[5:]) if line.startswith("lock:") else None
                if entry is not None and entry.kind == "OFD":
                    found.setdefault(entry, []).append((int(name), int(fd)))
    return found


def _entries(where: str) -> list[_Entry]:
    """The /proc/locks entries of the file at ``where``, from two reads that agree.

    The kernel hands /proc/locks out a page per read(2) and drops its lock in between,
    so one pass over a long list can show a lock twice, or miss one, while locks come and
    go elsewhere; the listing is read again until two passes agree (at most five).
    """
    previous: list[_Entry] | None = None
    for _ in range(5):
        with open("/proc/locks", encoding="utf-8") as f:
            entries = [e for e in map(_parse, f) if e is not None and e.where == where]
        if entries == previous:
            break
        previous = entries
    return entries


def file_locks(file: str | os.PathLike[str] | FileDescriptorLike) -> list[Holder]:
    """Every lock on ``file`` (a path, an fd or a file object), held or waited for.

    POSIX and flock locks carry their holder's pid from /proc/locks; an OFD lock is
    reported once per process and descriptor whose fdinfo names it, or with pid -1 when
    no readable fdinfo does (another user's process, without privilege).
    """
    st = os.stat(file) if isinstance(file, (str, os.PathLike)) else os.fstat(fileno(file))
    where = _where(st)
    entries = _entries(where)
    ofd = _ofd_holders(st) if any(e.kind == "OFD" and e.pid == -1 for e in entries) else {}
    result: list[Holder] = []
    resolved: set[_Entry] = set()
    for entry in entries:
        owners = ofd.get(entry) if entry.pid == -1 and not entry.waiting else None
        if owners:
            if entry in resolved:  # the same lock, listed twice: its holders are listed once
                continue
            resolved.add(entry)
        for pid, fd in owners or [(entry.pid, None)]:
            result.append(
                Holder(
                    pid,
                    command(pid) if pid > 0 else None,
                    entry.kind,
                    entry.type,
                    entry.start,
                    entry.length,
                    fd,
                    entry.waiting,
                )
            )
    return result


def conflicts(holder: Holder, type: int, start: int, end: int) -> bool:
    """Whether ``holder`` is a held record lock that stops a ``type`` lock on start..end."""
    return (
        holder.kind in ("OFD", "POSIX")
        and not holder.waiting
        and (type == F_WRLCK or holder.type == F_WRLCK)
        and holder.start <= end
        and start <= holder.end
    )


def table(holders: list[Holder]) -> str:
    """``holders`` as an aligned text table, one row per lock and holder."""
    rows = [("PID", "COMMAND", "KIND", "TYPE", "START", "END", "FD", "STATE")]
    for h in holders:
        rows.append(
            (
                str(h.pid),
                h.command or "?",
                h.kind,
                TYPE_NAMES.get(h.type, str(h.type)),
                str(h.start),
                "EOF" if h.length == 0 else str(h.end),
                "-" if h.fd is None else str(h.fd),
                "waiting" if h.waiting else "held",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    numeric = {0, 4, 5, 6}
    return "\n".join(
        "  ".join(
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    )


def as_json(holders: list[Holder]) -> list[dict[str, object]]:
    """``holders`` as JSON-ready dicts: the fields, the type by name, ``end`` None for EOF."""
    return [
        {
            **h._asdict(),
            "type": TYPE_NAMES.get(h.type, str(h.type)),
            "end": None if h.length == 0 else h.end,
        }
        for h in holders
    ]
