#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz corpora (fuzz/corpus/<target>/seed-*).

The binary targets (http, schedule, state) read their input with
fuzz/src/bytes.rs; the encoders below write bytes in the order the decoders
read them, so a seed is a readable program. The protocol seeds are the
golden fixtures of tests/fixtures/protocol plus a few malformed frames.
Run it from anywhere: python3 fuzz/seeds.py (it only adds or rewrites seed-*
files; what libFuzzer added stays).
"""

import json
import pathlib
import struct

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "corpus"


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / f"seed-{name}").write_bytes(data)


def string(text, limit):
    """bytes.rs `string(max)`: a length byte (read modulo max+1), then the bytes."""
    raw = text.encode() if isinstance(text, str) else text
    assert len(raw) <= min(limit, 255), (text, limit)
    return bytes([len(raw)]) + raw


# ---------------------------------------------------------------- protocol
def protocol():
    fixtures = ROOT / "tests/fixtures/protocol"
    for path in sorted(fixtures.glob("*/*.json")):
        write("protocol", f"{path.parent.name}-{path.stem}", path.read_bytes().strip())
    hand = {
        "not-json": "not json",
        "array": "[1,2]",
        "unknown-type": '{"type":"no_such","ref":"a1"}',
        "no-type": '{"ref":"a2"}',
        "long-ref": '{"type":"start","ref":"%s"}' % ("x" * 65),
        "missing-field": '{"type":"say","ref":"a3","room":"main"}',
        "hello-again": '{"type":"hello","token":"t"}',
        "hello-number-token": '{"type":"hello","token":5}',
        "hello-epoch-only": '{"type":"hello","token":"t","epoch":"e_1"}',
        "move-big": '{"type":"move","participant":"p_1","to":18446744073709551615}',
        "move-float": '{"type":"move","participant":"p_1","to":1.0}',
        "mode-null": '{"type":"mode","mode":"round","turn_seconds":null}',
        "give-null": '{"type":"give","participant":null,"ref":null}',
        "history-limit": '{"type":"history","room":"main","before":"m3","limit":4294967295}',
        "say-escapes": '{"type":"say","room":"main","text":"a\\u0000b\\ud83d\\ude00","cw":""}',
        "say-bad-surrogate": '{"type":"say","room":"main","text":"\\ud800"}',
        "react-unknown-emoji": '{"type":"react","msg":"m1","emoji":"my secret words"}',
        "duplicate-keys": '{"type":"hand","up":true,"up":false,"type":"hand"}',
        "deep": "[" * 200 + "]" * 200,
        "id-64": '{"type":"lower","participant":"%s"}' % ("é" * 64),
        "id-65": '{"type":"lower","participant":"%s"}' % ("é" * 65),
    }
    for name, text in hand.items():
        write("protocol", name, text)


# ---------------------------------------------------------------- http
ENDPOINTS = {"login": 0, "create": 1, "update": 2, "schedule": 3, "join": 4}
# flags: 1 no JSON content type, 2 not signed in, 4 device cookie, 8 access code
def http():
    group = {
        "name": "Evening circle",
        "description": "Bring tea; be kind.",
        "agreement": "1. Be kind.\n2. What is said here stays here.",
        "timezone": "America/New_York",
        "capacity": 8,
        "access_code": "tea-time",
        "support_resources": [{"label": "Samaritans", "url": "https://www.samaritans.org"}],
        "facilitators": ["co@example.org"],
        "keep_transcript": True,
    }
    seeds = {
        "login-ok": ("login", 0, {"email": "fuzz@example.org", "password": "password-123"}),
        "login-wrong": ("login", 0, {"email": "fuzz@example.org", "password": "nope"}),
        "login-missing": ("login", 0, {"email": "fuzz@example.org"}),
        "login-not-json": ("login", 1, "email=a&password=b"),
        "create-full": ("create", 0, group),
        "create-minimal": ("create", 0, {"name": "A", "agreement": "B"}),
        "create-signed-out": ("create", 2, {"name": "A", "agreement": "B"}),
        "create-bad-zone": ("create", 0, {"name": "A", "agreement": "B", "timezone": "Mars/Olympus", "capacity": -1}),
        "create-unknown-co": ("create", 0, {"name": "A", "agreement": "B", "facilitators": ["nobody@example.org", "not an address"]}),
        "update-code-off": ("update", 8, {"name": "Renamed", "agreement": "B", "access_code": "", "facilitators": []}),
        "update-full": ("update", 0, group),
        "schedule-weekly": ("schedule", 0, {"starts_at": "2026-10-15T19:00:00+01:00", "duration_minutes": 90, "repeat": {"weekly": 3}}),
        "schedule-local": ("schedule", 0, {"starts_at": "2027-03-28T01:30", "duration_minutes": 60}),
        "schedule-bad": ("schedule", 0, {"starts_at": "tomorrow at seven", "duration_minutes": 4, "repeat": {"weekly": 105}}),
        "schedule-far": ("schedule", 0, {"starts_at": "2199-12-31T23:59:59Z", "duration_minutes": 720, "repeat": {"weekly": 104}}),
        "join-ok": ("join", 0, {"name": "Sam", "agree": True}),
        "join-code": ("join", 8 | 4, {"name": "Sam", "agree": True, "access_code": "open-sesame"}),
        "join-wrong-code": ("join", 8, {"name": "Sam", "agree": True, "access_code": "nope"}),
        "join-no-agree": ("join", 0, {"name": "Sam"}),
        "join-contact": ("join", 0, {"name": "sam@example.com 07700 900123", "agree": True}),
        "join-not-json": ("join", 1, "{"),
    }
    for name, (endpoint, flags, body) in seeds.items():
        if not isinstance(body, str):
            body = json.dumps(body)
        write("http", name, bytes([ENDPOINTS[endpoint], flags]) + body.encode())


# ---------------------------------------------------------------- schedule
ZONES = ["Europe/London", "America/New_York", "UTC", "Australia/Lord_Howe",
         "Pacific/Chatham", "Asia/Kathmandu", "Pacific/Apia", "Africa/Casablanca",
         "Europe/Dublin", "America/Santiago", "Antarctica/Troll", "Asia/Tehran",
         "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/St_Johns", "Australia/Adelaide"]
BASES = ["http://127.0.0.1:8080", "https://circle.example.org", "https://example.org/peer/",
         "http://localhost", ""]


def schedule_seed(zone, start, minutes, count, now_ms, base, name, description):
    out = bytearray()
    if zone in ZONES:
        out += bytes([0, ZONES.index(zone)])
    else:
        out += bytes([255]) + string(zone, 40)
    out += bytes([1]) + string(start, 70)
    out += bytes([1]) + struct.pack("<H", minutes)
    out += bytes([1, count])
    out += struct.pack("<Q", now_ms - 946_684_800_000)
    if base in BASES:
        out += bytes([0, BASES.index(base)])
    else:
        out += bytes([255]) + string(base, 60)
    out += string(name, 120) + string(description, 255)
    return bytes(out)


def schedule():
    now = 1_792_000_000_000
    seeds = {
        "london-autumn": ("Europe/London", "2026-10-15T19:00:00+01:00", 90, 3, "https://circle.example.org",
                          "Evening circle, Tuesdays", "Bring tea; be kind.\r\nSecond line\\"),
        "london-gap": ("Europe/London", "2027-03-21T01:30", 60, 3, "http://127.0.0.1:8080", "Night owls", ""),
        "lord-howe": ("Australia/Lord_Howe", "2026-09-27T02:15", 30, 4, "http://localhost", "Half-hour DST", "é" * 80),
        "apia-skip": ("Pacific/Apia", "2011-12-22T10:00", 45, 2, "https://example.org/peer/", "Skipped day", "tab\there"),
        "kathmandu": ("Asia/Kathmandu", "2030-01-01T00:00:00+05:45", 720, 104, "", "A year of Mondays", "," * 100),
        "offset-z": ("UTC", "2200-01-01T00:00:00Z", 5, 1, "http://[::1]:8080", "Edge", ";"),
        "fraction": ("America/New_York", "2026-11-01T01:30:00.123-04:00", 61, 2, "http://h:1/", "Fold", "\x07bell"),
        "unknown-zone": ("Mars/Olympus", "2026-10-15T19:00", 60, 1, "", "x", "y"),
        "bad-start": ("Europe/Dublin", "1999-12-31T23:59:59Z", 60, 1, "", "x", "y"),
    }
    for name, (zone, start, minutes, count, base, title, description) in seeds.items():
        write("schedule", name, schedule_seed(zone, start, minutes, count, now, base, title, description))


# ---------------------------------------------------------------- state
# Command bytes of state.rs `command()`.
def cmd_start():
    return bytes([12])


def cmd_mode(mode, seconds_choice=2):
    modes = {"open": 0, "stick": 1, "round": 3}
    return bytes([19, modes[mode], seconds_choice])


def cmd_hand(up=True):
    return bytes([4, 1 if up else 0])


def cmd_say(room_main=True, text="hello", cw=False):
    return bytes([0, 0 if room_main else 2, 3]) + string(text, 40) + bytes([0 if cw else 1])


def cmd_pass():
    return bytes([6])


def cmd_break(on, note=None):
    out = bytes([7, 1 if on else 0])
    out += bytes([1, 2]) + string(note, 60) if note is not None else bytes([0])
    return out


def cmd_mute(person, on):
    return bytes([14, person, 1 if on else 0])


def cmd_remove(person):
    return bytes([20, person, 1])


def cmd_help(note):
    return bytes([11, 1, 2]) + string(note, 60)


def cmd_give(person):
    return bytes([16, 1, person])


def cmd_pause(on):
    return bytes([13, 1 if on else 0, 0])


def cmd_dm(person, text):
    return bytes([24, person, 3]) + string(text, 40)


def cmd_end():
    return bytes([25, 0])


# person bytes: index into f1 f2 p1 p2 p3 p4 p5
F1, F2, P1, P2, P3, P4, P5 = range(7)


def step(dt_kind, who, op, extra=b""):
    """dt_kind: 0 none, 4 (<3 s), 10 (u16 ms), 13 (minutes), 15 (up to a day)."""
    out = bytearray([dt_kind])
    if dt_kind in (4, 10):
        out += struct.pack("<H", 1500)
    elif dt_kind in (13, 15):
        out += struct.pack("<I", 120_000)
    out += bytes([who, op]) + extra
    return bytes(out)


def cmd(who, command, dt=4):
    return step(dt, who, 14, command)


def state_seed(steps, turn=6, started=0, connected=0x7F):
    config = bytes([turn, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    head = bytes([started]) + struct.pack("<H", 130) + bytes([connected, 0])
    return config + head + b"".join(steps)


def state():
    tick = lambda dt=13: step(dt, 0, 6)
    restore = step(0, 0, 11)
    seeds = {
        "stick-round": [cmd(F1, cmd_start()), cmd(F1, cmd_mode("stick")), cmd(P1, cmd_hand()),
                        cmd(P2, cmd_hand()), cmd(P1, cmd_say()), cmd(P1, cmd_pass()), tick(),
                        cmd(F1, cmd_mode("round")), restore, tick(), cmd(P2, cmd_say()), tick()],
        "breaks-and-mutes": [cmd(F1, cmd_start()), cmd(F1, cmd_mode("stick")), cmd(P3, cmd_hand()),
                             cmd(P3, cmd_break(True, "tea")), cmd(F1, cmd_mute(P4, True)),
                             cmd(P4, cmd_hand()), cmd(P3, cmd_break(False)), restore,
                             cmd(F1, cmd_remove(P3)), cmd(P3, cmd_say()), tick()],
        "pause-and-away": [cmd(F1, cmd_start()), cmd(F1, cmd_mode("stick")), cmd(P1, cmd_hand()),
                           cmd(F1, cmd_pause(True)), step(4, P1, 3), tick(), restore,
                           cmd(F1, cmd_pause(False)), step(0, P1, 0), tick(), step(4, F1, 3),
                           step(4, F2, 3), tick(13), tick(13)],
        "help-and-dm": [cmd(P2, cmd_help("I'm struggling")), cmd(P2, cmd_help("I'm struggling")),
                        cmd(F1, cmd_dm(P2, "are you ok?")), cmd(P2, cmd_dm(F1, "thanks")), restore,
                        cmd(F1, bytes([10, 0])), cmd(F1, cmd_end()), cmd(P2, cmd_say())],
        "give-and-time": [cmd(F1, cmd_start()), cmd(F1, cmd_mode("stick", 1) + struct.pack("<I", 30)),
                          cmd(F1, cmd_give(P5)), tick(13), tick(13), step(15, 0, 6),
                          cmd(P5, cmd_say())],
    }
    for name, steps in seeds.items():
        write("state", name, state_seed(steps))


if __name__ == "__main__":
    protocol()
    http()
    schedule()
    state()
