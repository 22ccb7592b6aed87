"""What Linux's /proc says about a process and about UDP, for the robustness tools of ``bench/``.

``rss_mb(pid)`` is the resident set size (VmRSS) in MB (10**6 bytes), or None once the process is
gone; ``udp_receive_drops()`` counts the datagrams the kernel dropped because a socket's receive
buffer was full (all sockets of the network namespace, so the figure is an upper bound for ours).
"""

from __future__ import annotations


def rss_mb(pid: int) -> float | None:
    """The resident set size of ``pid`` in MB, from /proc/PID/status; None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except (OSError, ValueError, IndexError):
        return None
    return None


def udp_receive_drops() -> int | None:
    """UDP ``RcvbufErrors`` from /proc/net/snmp (namespace-wide), or None where there is none."""
    try:
        with open("/proc/net/snmp", encoding="ascii") as snmp:
            rows = [line.split() for line in snmp if line.startswith("Udp:")]
        names, values = rows[0], rows[1]
        return int(values[names.index("RcvbufErrors")])
    except (OSError, ValueError, IndexError):
        return None


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``(seconds, MB)`` samples, in MB per minute (0 for fewer than 2)."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    cov = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    return cov / var * 60.0
