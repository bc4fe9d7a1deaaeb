#!/usr/bin/env python3
"""Itemize a dhat heap profile of peercircle-heap by part of a socket.

    benches/heap/itemize.py dhat-heap.json --sockets 1200 [--baseline base.json] [--top 25]

Takes the bytes still live when the profile was written (dhat's "t-end",
i.e. at SIGUSR1 while the sockets were held), classifies every allocation
site by its call stack (first matching rule below, in order), and prints
bytes and blocks per socket for each part. With --baseline (a profile of the
same server with no sockets), the baseline's bytes per part are subtracted
first. malloc's own overhead per block (8 to 16 bytes with glibc) is not in
these figures; RSS per socket (W4) is therefore somewhat higher.
"""
import argparse
import json
import re
from collections import defaultdict

# (part, pattern over one frame). Each allocation site is put in the part
# of its innermost frame that matches a pattern (the allocator's and the
# collections' own frames match none), trying the patterns in this order.
def ours(path):
    """A frame in peercircle's own source (not a dependency's file of the
    same name: those paths start with `crate-1.2.3/`)."""
    return r"\((?![\w.-]+-\d+\.\d+\.\d+[\w.-]*/)[^()]*" + path


# Parts that are not per socket (fixed buffers whose size depends on what
# else ran, e.g. the login's password hashing): shown, left out of the total.
FIXED = {"not per socket: password hashing (argon2)"}

RULES = [
    ("not per socket: password hashing (argon2)", r"argon2"),
    ("queue: socket's outbound (tokio mpsc)", r"mpsc.*Outbound|Outbound.*mpsc"),
    ("queue: socket's outbound (own queue)", ours(r"src/session/outq\.rs")),
    ("queue: actor inbox / store writer (tokio mpsc)", r"sync/mpsc/|tokio::sync::mpsc"),
    ("tungstenite: waker proxies", r"tungstenite.*compat\.rs|WakerProxy"),
    ("tungstenite: write buffer (largest frame sent)", r"tungstenite.*(buffer_frame|write_frame|frame/mod\.rs)"),
    ("tungstenite: read buffer (made with the socket)", r"from_raw_socket<|tungstenite.*(ReadBuffer|FrameCodec|in_buffer)"),
    ("tungstenite: other", r"tungstenite"),
    ("task: one spawned future + header", r"task::core::Cell|runtime/task/core\.rs|runtime/task/mod\.rs|new_task|task/raw\.rs"),
    ("axum ws (split halves)", r"axum::extract::ws|extract/ws\.rs|BiLock|bilock"),
    ("cancellation token", r"cancellation_token|CancellationToken"),
    ("timers (Interval)", r"time/interval\.rs|Interval"),
    ("tcp registration (tokio io driver)", r"runtime/io/|scheduled_io|ScheduledIo|registration"),
    ("hyper (connection, upgrade)", r"hyper-\d|hyper::|hyper_util"),
    ("actor: per-member state (SessionState)", ours(r"src/session/state/")),
    ("actor: sockets, refs, replay", ours(r"src/session/(actor|replay|handle)\.rs")),
    ("registry (sessions, connections)", ours(r"src/session/") + r"|dashmap"),
    ("store, cache, sqlx", ours(r"src/store/") + r"|sqlx|sqlite"),
    ("connection task code (ws)", ours(r"src/(ws|serve)")),
    # (not src/protocol/mod.rs: tungstenite has a file of that name)
    ("protocol (events serialized)", ours(r"src/protocol/(?!mod\.rs)")),
]
COMPILED = [(name, re.compile(pat)) for name, pat in RULES]


def load(path):
    with open(path) as f:
        d = json.load(f)
    ftbl = d["ftbl"]
    sites = []
    for pp in d["pps"]:
        frames = [ftbl[i] for i in pp["fs"]]
        sites.append((pp.get("eb", 0), pp.get("ebk", 0), frames))
    return sites


def part_of(frames):
    for frame in frames:
        for name, pat in COMPILED:
            if pat.search(frame):
                return name
    return "other"


def parts(sites):
    by = defaultdict(lambda: [0, 0])
    for eb, ebk, frames in sites:
        if eb:
            p = part_of(frames)
            by[p][0] += eb
            by[p][1] += ebk
    return by


def short(frame):
    # "0x55..: peercircle::ws::conn::run::{{closure}} (src/ws/conn.rs:120:5)" -> name + file:line
    m = re.match(r"(?:0x[0-9a-f]+: )?(.*?)(?: \((.*)\))?$", frame)
    name, loc = (m.group(1), m.group(2)) if m else (frame, None)
    name = re.sub(r"::\{\{closure\}\}", "", name)
    if loc:
        loc = re.sub(r".*/(src/.*)", r"\1", loc)
    return f"{name} ({loc})" if loc else name


BORING = re.compile(r"^(alloc::|core::|std::|<alloc::|<core::|<std::|dhat::|__rust|\[root\]|hashbrown::|<hashbrown|bytes::|<bytes)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--sockets", type=int, required=True)
    ap.add_argument("--baseline")
    ap.add_argument("--top", type=int, default=20)
    a = ap.parse_args()
    sites = load(a.profile)
    by = parts(sites)
    base = parts(load(a.baseline)) if a.baseline else {}
    n = a.sockets
    rows = []
    for p in set(by) | set(base):
        b = by.get(p, [0, 0])[0] - base.get(p, [0, 0])[0]
        k = by.get(p, [0, 0])[1] - base.get(p, [0, 0])[1]
        rows.append((b, k, p))
    rows.sort(reverse=True)
    total = sum(r[0] for r in rows if r[2] not in FIXED)
    print(f"| part | bytes per socket | blocks per socket |")
    print(f"|---|---|---|")
    for b, k, p in rows:
        if abs(b) / n >= 1:
            print(f"| {p} | {b / n:,.0f} | {k / n:.1f} |")
    print(f"| **total live heap per socket** | **{total / n:,.0f}** | {sum(r[1] for r in rows if r[2] not in FIXED) / n:.1f} |")
    print()
    # The tasks, by the future they run: bytes per socket and one task's size.
    tasks = defaultdict(lambda: [0, 0, 0, 0])
    for which, sign in ((sites, 1), (load(a.baseline) if a.baseline else [], -1)):
        for eb, ebk, frames in which:
            for f in frames:
                m = re.search(r"task::core::Cell<(.*)", f)
                if m:
                    name = re.sub(r"tokio_util::task::task_tracker::TrackedFuture<", "", m.group(1))
                    name = re.split(r"::\{(?:async|closure)", name)[0][:70]
                    t = tasks[name]
                    t[0] += sign * eb
                    t[1] += sign * ebk
                    if sign > 0:
                        t[2] += eb
                        t[3] += ebk
                    break
    print("| task (future it runs) | bytes per socket | one task, bytes |")
    print("|---|---|---|")
    for name, (b, k, eb, ebk) in sorted(tasks.items(), key=lambda kv: -kv[1][0]):
        if abs(b) / n >= 1:
            print(f"| `{name}` | {b / n:,.0f} | {eb // max(ebk, 1):,} |")
    print()
    print(f"Top {a.top} allocation sites by live bytes per socket (B minus baseline):")
    base_sites = defaultdict(int)
    if a.baseline:
        for eb, ebk, frames in load(a.baseline):
            base_sites[tuple(frames)] += eb
    diffs = defaultdict(lambda: [0, 0])
    for eb, ebk, frames in sites:
        diffs[tuple(frames)][0] += eb
        diffs[tuple(frames)][1] += ebk
    for k, v in base_sites.items():
        diffs[k][0] -= v
    ranked = sorted(diffs.items(), key=lambda kv: -kv[1][0])[: a.top]
    for frames, (eb, ebk) in ranked:
        print(f"  {eb / n:8,.0f} B  [{part_of(list(frames))}]")
        shown = [short(f) for f in frames if any(p.search(f) for _, p in COMPILED)][:3]
        for f in shown:
            print(f"        {f[:160]}")


if __name__ == "__main__":
    main()
