"""Where CPU time and memory go: CPU seconds by role for every process on the machine (read from
/proc), and this process's resident memory, now and at its peak."""

from __future__ import annotations

import os
import resource
from collections.abc import Sequence
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def rss_kb() -> int:
    """This process's resident set now (VmRSS)."""
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0])


def peak_rss_kb() -> int:
    """This process's peak resident set so far (ru_maxrss)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _postgres_role(pid: Path, database: str) -> str:
    """A backend serving another database is someone else's load; the server's own background
    processes (WAL writer, checkpointer, the postmaster) are counted as PostgreSQL's."""
    try:
        title = (pid / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    words = title.split(": ", 2)[-1].split()
    is_backend = len(words) >= 3 and ("(" in words[2] or words[2] == "[local]")
    return "postgres" if not is_backend or words[1] == database else "other"


def cpu_seconds(groups: dict[int, str], database: str, roles: Sequence[str]) -> dict[str, float]:
    """CPU time used so far, by role, keyed in the order of ``roles``: each process group of
    ``groups`` (leader pid: role), "postgres" (backends of ``database`` and the server's
    background processes), "redis", "client" (this process), and "other": everything else on
    the machine (busy time in /proc/stat minus the roles). Exited children (a recycled Celery
    child, a closed PostgreSQL backend) count through their parent's cutime/cstime once reaped."""
    totals = dict.fromkeys(roles, 0.0)
    # user nice system idle iowait irq softirq steal: busy = all but idle and iowait
    cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    busy = (sum(cpu) - cpu[3] - cpu[4]) / CLK_TCK
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        pgrp, ticks = int(fields[2]), sum(int(x) for x in fields[11:15])
        if int(entry.name) == os.getpid():
            role = "client"
        elif pgrp in groups:
            role = groups[pgrp]
        elif comm.startswith("postgres"):
            role = _postgres_role(entry, database)
        elif comm.startswith("redis-server"):
            role = "redis"
        else:
            continue
        totals[role] += ticks / CLK_TCK
    totals["other"] = busy - sum(totals.values())
    return totals


def cpu_share(before: dict[str, float], after: dict[str, float], wall: float) -> dict[str, float]:
    """Cores used by each role over ``wall`` seconds (1.0 = one core busy all the time)."""
    return {role: (after[role] - before[role]) / wall for role in before}
