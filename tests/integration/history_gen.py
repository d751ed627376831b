#!/usr/bin/python3
"""history_gen: writes days of cAdvisor-shaped series as OpenMetrics text, for
`promtool tsdb create-blocks-from openmetrics`, so that a real Prometheus
holds a stack's history (tests/integration/history.sh, bench/history.sh).

    history_gen.py OUT --end EPOCH [--days 4] [--scrape 60] [--services N]
                       [--project hist] [--faults]

Every service S is one container (name "<project>-S-1", compose labels)
with the series the sources read: CPU usage and CFS counters, CPU quota and
period, working set, memory limit, OOM events and start time. Deterministic
(a seeded generator). The default is the fault set below; --services N
writes N steady services instead (hsvc000...), for the benchmark.

Faults (--faults, the default without --services):
  hweb       diurnal CPU 0.1-0.5 core of 1, memory 300-340 MiB of 1 GiB
  hpartial   as hweb, present only in the last 40 % of the range
  hgap       as hweb, with 6 hours missing in the middle
  hreset     restarted every day: counters reset, start time moves
  hnocpu     memory series only
  hnan       memory gauge NaN at times
  hthrottle  CPU capped at its 0.5-core limit, throttled 30 % of periods
"""
import argparse
import math
import random
import sys

MIB = 1 << 20


def diurnal(t):
    h = (t % 86400) / 3600.0
    return 0.5 - 0.5 * math.cos((h - 3) / 24 * 2 * math.pi)


class Service:
    def __init__(self, name, project, begin, rnd, cpu=None, limit=1.0, mem=300, mem_limit=1024):
        self.name, self.project, self.rnd = name, project, rnd
        self.cpu = cpu or (lambda t: 0.1 + 0.4 * diurnal(t))
        self.limit, self.mem, self.mem_limit = limit, mem, mem_limit
        self.cpu_s = 0.0      # counters
        self.periods = 0.0
        self.throttled = 0.0
        self.start = begin - 7 * 86400
        self.throttle_share = 0.0
        self.present = lambda t: True
        self.reset_every = 0
        self.nocpu = False
        self.nan_every = 0

    def labels(self):
        return ('{container_label_com_docker_compose_service="%s",'
                'container_label_com_docker_compose_project="%s",name="%s-%s-1",'
                'id="/docker/%s"}' % (self.name, self.project, self.project, self.name,
                                      self.name))

    def lines(self, t, dt):
        if not self.present(t):
            return []
        if self.reset_every and t - self.start >= self.reset_every:
            self.start, self.cpu_s, self.periods, self.throttled = t, 0.0, 0.0, 0.0
        use = min(self.cpu(t) * (0.95 + 0.1 * self.rnd.random()), self.limit)
        self.cpu_s += use * dt
        self.periods += 10 * dt
        self.throttled += 10 * dt * self.throttle_share
        mem = (self.mem + 40 * diurnal(t)) * MIB * (0.99 + 0.02 * self.rnd.random())
        lab, ts, out = self.labels(), "%d" % t, []
        if not self.nocpu:
            out += ["container_cpu_usage_seconds_total%s %.6f %s" % (lab, self.cpu_s, ts),
                    "container_cpu_cfs_periods_total%s %.1f %s" % (lab, self.periods, ts),
                    "container_cpu_cfs_throttled_periods_total%s %.1f %s" % (lab, self.throttled, ts),
                    "container_spec_cpu_quota%s %d %s" % (lab, self.limit * 100000, ts),
                    "container_spec_cpu_period%s 100000 %s" % (lab, ts)]
        nan = self.nan_every and int(t / 60) % self.nan_every == 0
        out += ["container_memory_working_set_bytes%s %s %s" % (lab, "NaN" if nan else "%d" % mem, ts),
                "container_spec_memory_limit_bytes%s %d %s" % (lab, self.mem_limit * MIB, ts),
                "container_oom_events_total%s 0 %s" % (lab, ts),
                "container_start_time_seconds%s %d %s" % (lab, self.start, ts)]
        return out


def fault_set(project, begin, end, rnd):
    span = end - begin
    s = {n: Service(n, project, begin, rnd) for n in
         ("hweb", "hpartial", "hgap", "hreset", "hnocpu", "hnan", "hthrottle")}
    s["hpartial"].present = lambda t: t >= begin + 0.6 * span
    mid = begin + span / 2
    s["hgap"].present = lambda t: not (mid <= t < mid + 6 * 3600)
    s["hreset"].reset_every = 86400
    s["hreset"].start = begin
    s["hnocpu"].nocpu = True
    s["hnan"].nan_every = 7
    th = s["hthrottle"]
    th.limit, th.cpu, th.throttle_share = 0.5, (lambda t: 0.8), 0.3
    return list(s.values())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--end", type=int, required=True)
    ap.add_argument("--days", type=float, default=4)
    ap.add_argument("--scrape", type=int, default=60)
    ap.add_argument("--services", type=int, default=0)
    ap.add_argument("--project", default="hist")
    a = ap.parse_args()
    rnd = random.Random(42)
    end = a.end - a.end % a.scrape
    begin = end - int(a.days * 86400)
    if a.services:
        svcs = [Service("hsvc%03d" % i, a.project, begin, rnd, mem=100 + i) for i in range(a.services)]
    else:
        svcs = fault_set(a.project, begin, end, rnd)
    with open(a.out, "w") as f:
        for t in range(begin, end + 1, a.scrape):
            for s in svcs:
                ls = s.lines(t, a.scrape)
                if ls:
                    f.write("\n".join(ls))
                    f.write("\n")
        f.write("# EOF\n")
    print("%d services, %s to %s, every %d s" % (len(svcs), begin, end, a.scrape), file=sys.stderr)


if __name__ == "__main__":
    main()
