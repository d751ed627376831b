#!/usr/bin/env python3
"""prom_shapes.py: Prometheus' own CPU for candidate query shapes of one check
(issue 18), against a Prometheus scraping bench_exporter (project "bench").

  bench/prom_shapes.py PORT PROMETHEUS_PID N REPS [SHAPE...]

Each shape is the list of queries one check would send for N services
(prefix bNNNNN, windows of bench_check: analysis 10 s, trend 60 s at 1 s).
Per shape: REPS rounds of its queries one after another; Prometheus' CPU is
utime + stime of /proc/PID/stat before and after a round, less its idle rate
(scrapes) measured over 3 s first. Prints medians (and min-max) per round.
Only loopback is used. Clock ticks are 10 ms: use REPS >= 5."""
import os, statistics, sys, time, urllib.parse, urllib.request

port, pid, n, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
chosen = sys.argv[5:]
HZ = os.sysconf("SC_CLK_TCK")
S = "container_label_com_docker_compose_service"
P = "container_label_com_docker_compose_project"
svcs = ["b%05d-%05d" % (n, i) for i in range(n)]
alt = "^(?:" + "|".join(svcs) + ")$"  # no metacharacters in these names
aw, tw, st, mem = "10s", "1m", "1s", "container_memory_usage_bytes"


def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / HZ


def shape(sel, by, trend):
    """The ten quantities over selectors sel (joined with `or`)."""
    def g(agg, pre, m, post):
        return f"{agg} by ({by}) (" + " or ".join(f"{pre}{m}{{{s}}}{post}" for s in sel) + ")"
    r = f"[{aw}])"
    trends = {
        "subquery": "avg_over_time((" + g("sum", "rate(", "container_cpu_usage_seconds_total", r) + f")[{tw}:{st}])",
        "rate": g("sum", "rate(", "container_cpu_usage_seconds_total", f"[{tw}])"),
    }
    return [g("sum", "rate(", "container_cpu_usage_seconds_total", r), trends[trend],
            g("max", "", "container_spec_cpu_quota", "") + " / " + g("max", "", "container_spec_cpu_period", ""),
            g("sum", "rate(", "container_cpu_cfs_throttled_periods_total", r),
            g("sum", "rate(", "container_cpu_cfs_periods_total", r),
            g("max", "", mem, ""), g("max", "max_over_time(", mem, r),
            g("max", "", "container_spec_memory_limit_bytes", ""),
            g("sum", "increase(", "container_oom_events_total", "[5m])"),
            "time() - " + g("max", "", "container_start_time_seconds", "")]


G3 = f"{S}, {P}, name"
DISC = ('group by (name) ({__name__=~"^(?:' + mem + '|container_cpu_usage_seconds_total|'
        'container_cpu_cfs_throttled_periods_total|container_cpu_cfs_periods_total|'
        'container_spec_cpu_quota|container_spec_cpu_period|container_spec_memory_limit_bytes|'
        'container_oom_events_total|container_start_time_seconds)$",' + f'{P}="",name=~"{alt}"' + '})')
SHAPES = {
    # main before issue 18: alternations of the names, `or` by name, subquery trend
    "old_noproject": shape([f'{S}=~"{alt}"', f'name=~"{alt}"'], G3, "subquery"),
    "old_project": shape([f'{S}=~"{alt}",{P}="bench"', f'name=~"{alt}",{P}=~"^(?:|bench)$"'], G3, "subquery"),
    # the old selectors, the trend as a rate
    "alt_rate": shape([f'{S}=~"{alt}"', f'name=~"{alt}"'], G3, "rate"),
    # project selector, the no-project clause with every name (as history sends it)
    "project_or_names": shape([f'{P}="bench"', f'{P}="",name=~"{alt}"'], G3, "rate"),
    # project selector with the subquery kept
    "project_subquery": shape([f'{P}="bench"'], G3, "subquery"),
    # what collect sends now with a project: the discovery, then no name clause
    "project_discovery": [DISC] + shape([f'{P}="bench"'], G3, "rate"),
    # the floor: selecting the N series of one metric, ten times (one sample back)
    "floor_count": [f'count({mem}{{{P}="bench"}})'] * 10,
}


def post(q):
    body = urllib.parse.urlencode({"query": q}).encode()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query", body) as r:
        return len(r.read())


c0 = cpu(); time.sleep(3); idle = (cpu() - c0) / 3
print(f"# Prometheus idle (scrapes): {idle * 100:.1f} % of a core; load {os.getloadavg()[0]:.1f}")
for name in chosen or SHAPES:
    qs = SHAPES[name]
    post(qs[0])
    walls, cpus, nb = [], [], 0
    for _ in range(reps):
        c0, t0, nb = cpu(), time.time(), 0
        for q in qs:
            nb += post(q)
        w = time.time() - t0
        walls.append(w); cpus.append(cpu() - c0 - idle * w)
    print(f"shape={name} n={n} requests={len(qs)} bytes={nb} wall_ms_med={statistics.median(walls) * 1000:.1f} "
          f"prom_cpu_ms_med={statistics.median(cpus) * 1000:.1f} prom_cpu_ms_min={min(cpus) * 1000:.1f} "
          f"prom_cpu_ms_max={max(cpus) * 1000:.1f}", flush=True)
