"""What a benchmark reads about its server processes from ``/proc``: their memory (RSS,
PSS, USS), their descendants, the TCP sockets they hold on a port.  Linux only, like the
machines the benchmarks run on."""

from __future__ import annotations

import os
from pathlib import Path


def memory(pid: int) -> dict:
    """RSS, PSS and USS (private clean + dirty) of one process, in MB."""
    vals: dict[str, int] = {}
    for row in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        k, v = row.split(":", 1)
        vals[k] = int(v.split()[0])
    return {"rss": vals["Rss"] / 1024, "pss": vals["Pss"] / 1024,
            "uss": (vals["Private_Clean"] + vals["Private_Dirty"]) / 1024}


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from ``/proc``), multiprocessing's resource tracker aside."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return [c for c in out if b"resource_tracker" not in _cmdline(c)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def sockets(pid: int, port: int) -> dict[str, int]:
    """LISTEN and ESTABLISHED TCP sockets on local ``port`` held by ``pid`` (``/proc``)."""
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return {"LISTEN": 0, "ESTABLISHED": 0}
    out = {"LISTEN": 0, "ESTABLISHED": 0}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            cols = row.split()
            if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[9] in inodes:
                state = {"0A": "LISTEN", "01": "ESTABLISHED"}.get(cols[3])
                if state:
                    out[state] += 1
    return out


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()
