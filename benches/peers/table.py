"""Side-by-side tables (medians over repeats) from peercircle-load RESULT lines."""
import json
import statistics
import sys
from collections import defaultdict


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def g(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def fmt(x, nd=1):
    if x is None:
        return "–"
    if isinstance(x, float) and abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{nd}f}" if isinstance(x, float) else str(x)


def main(paths):
    rows = []
    for p in paths:
        with open(p) as f:
            for line in f:
                line = line.strip()
                if line.startswith("RESULT "):
                    line = line[7:]
                if line.startswith("{"):
                    rows.append(json.loads(line))
    bcast = defaultdict(list)
    other = defaultdict(list)
    for r in rows:
        if r.get("workload") in ("w2", "peers"):
            bcast[(r.get("label"), r.get("clients"))].append(r)
        elif r.get("workload") == "w6":
            # W6: the large room; its posting phases compare like W2's.
            bcast[("peercircle W6", r.get("clients"))].append(r)
            other["w6"].append(r)
        else:
            other[r.get("workload")].append(r)
    if bcast:
        ceil = {n: med([g(r, "saturation", "delivered_per_s") for r in rs]) for (l, n), rs in bcast.items() if l == "ceiling"}
        sio = {n: med([g(r, "saturation", "delivered_per_s") for r in rs]) for (l, n), rs in bcast.items() if l == "socketio"}
        print("| server | clients | runs | delivered msgs/s (sat.) | × ceiling | × Socket.IO | p50 / p99 ms at sat. | p50 / p99 ms at 50 % | server CPU % (sat.) | deliveries per server CPU-s | loadgen CPU % | server peak RSS MiB | errors |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        order = ["ceiling", "peercircle", "peercircle W6", "ws", "python", "socketio"]
        for (label, n), rs in sorted(bcast.items(), key=lambda kv: (kv[0][1], order.index(kv[0][0]) if kv[0][0] in order else 99)):
            d = med([g(r, "saturation", "delivered_per_s") for r in rs])
            c = ceil.get(n)
            s = sio.get(n)
            errs = sum(sum((r.get("errors") or {}).values()) for r in rs)
            eff = med([(g(r, "saturation", "delivered_per_s") or 0) / max(g(r, "saturation", "usage", "server_cpu_pct") or 0, 1) * 100 for r in rs])
            print("| {} | {} | {} | {} | {} | {} | {} / {} | {} / {} | {} | {} | {} | {} | {} |".format(
                label, n, len(rs), fmt(d),
                fmt(d / c, 2) if d and c else "–", fmt(d / s, 2) if d and s else "–",
                fmt(med([g(r, "saturation", "latency", "p50_ms") for r in rs]), 2),
                fmt(med([g(r, "saturation", "latency", "p99_ms") for r in rs]), 2),
                fmt(med([g(r, "half_load", "latency", "p50_ms") for r in rs]), 2),
                fmt(med([g(r, "half_load", "latency", "p99_ms") for r in rs]), 2),
                fmt(med([g(r, "saturation", "usage", "server_cpu_pct") for r in rs])),
                fmt(eff),
                fmt(med([g(r, "saturation", "usage", "loadgen_cpu_pct") for r in rs])),
                fmt(med([g(r, "half_load", "usage", "server_peak_rss_mib") for r in rs])),
                errs))
        print()
    if other.get("w6"):
        rs = other["w6"]
        print("| W6 people | runs | all in after the last arrival, s (median; each run) | join failures | join p50 / p99 ms | server CPU-s while joining | server peak RSS MiB (end) |")
        print("|---|---|---|---|---|---|---|")
        print("| {} | {} | {} ({}) | {} | {} / {} | {} | {} |".format(
            rs[0].get("clients"), len(rs),
            fmt(med([r.get("all_in_after_last_arrival_s") for r in rs]), 3),
            ", ".join(fmt(r.get("all_in_after_last_arrival_s"), 3) for r in rs),
            sum(r.get("connect_failed") or 0 for r in rs),
            fmt(med([g(r, "join_time", "p50_ms") for r in rs]), 1),
            fmt(med([g(r, "join_time", "p99_ms") for r in rs]), 1),
            fmt(med([g(r, "joining_usage", "server_cpu_s") for r in rs]), 2),
            fmt(med([g(r, "half_load", "usage", "server_peak_rss_mib") for r in rs]))))
        print()
    for w, rs in sorted(other.items()):
        print(f"### {w} ({len(rs)} runs)")
        for r in rs:
            print(json.dumps(r))
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
