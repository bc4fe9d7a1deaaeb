//! The `state` target: the session state machine
//! (`peercircle::session::state::SessionState`) driven by a sequence of
//! connects, disconnects, ticks, commands (built from the input, or decoded
//! from raw frames with the real decoder) and save/restore, with time
//! moving on (and now and then backwards) by input-chosen steps, under an
//! input-chosen configuration.
//!
//! After every step it checks what `props.rs` checks, through the public
//! API only (the view, and the saved snapshot read as JSON): one holder at
//! most, who is a listed, unmuted participant, not on a break, not offline,
//! not in the queue, only while live or paused and not in open mode, with a
//! running clock while live and a stopped one while paused; no duplicates
//! in the queue and nobody muted, removed or a facilitator in it; the stick
//! handed on whenever someone online waits; a finished round falls back;
//! spoken time never exceeds live time; the view lists everyone present and
//! their hands. For commands: a refused one changes nothing the acting
//! member or a facilitator sees; only facilitators run facilitator
//! commands; a `said` comes from someone who may speak; a raised hand lands
//! in fair order; an ended session refuses everything. Every event has its
//! golden fixture and the audience its variant says. `tick` leaves no
//! deadline at or before now. A saved state holds no message text, and the
//! state restored from it views the same as the original (minus texts) and
//! answers every following step exactly as the original does.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use peercircle::protocol::views::Snapshot;
use peercircle::protocol::{parse_command, Command, ItemId, MemberId, MsgId, RoomId, UserText};
use peercircle::session::state::{
    Audience, Config, Emoji, ErrorCode, Event, HistoryPage, Millis, Mode, Rate, Rates, Refusal,
    Role, SessionSnapshot, SessionState,
};
use serde_json::Value;

use super::bytes::Bytes;

const T0: Millis = 1_766_000_000_000;
const IDS: [&str; 7] = ["f1", "f2", "p1", "p2", "p3", "p4", "p5"];
const GHOST: &str = "ghost";
/// Starts every message, dm and announcement text: a saved state must
/// never contain it.
const MARK: &str = "SAID~";
/// Most steps of one input.
const MAX_STEPS: usize = 256;

fn role(i: usize) -> Role {
    if i < 2 {
        Role::Facilitator
    } else {
        Role::Participant
    }
}

#[derive(Clone, Debug)]
enum Op {
    Connect(usize),
    Disconnect(usize),
    Tick,
    Cmd(usize, Command),
    /// Save, read back through JSON, restore, and from then on run the
    /// restored copy beside the original.
    Restore,
}

type Outcome = Result<(Vec<Event>, Option<HistoryPage>), Refusal>;

pub fn run(data: &[u8]) {
    let mut b = Bytes::new(data);
    let config = config(&mut b);
    let started = b.bool();
    let ends_at = T0 + (i64::from(b.u16() % 800) - 10) * 60_000;
    let connected = b.byte();
    let mut s = SessionState::new(config.clone(), started, b.bool(), ends_at, T0);
    for (i, id) in IDS.iter().enumerate() {
        if connected & (1 << i) != 0 {
            s.connect(T0, id, id, role(i)).expect("a fresh connect");
        }
    }
    let mut current = check_state(&s);
    let mut now = T0;
    // The restored copy and the last message number it was saved with.
    let mut restored: Option<(SessionState, u64)> = None;
    for _ in 0..MAX_STEPS {
        if b.is_empty() {
            break;
        }
        now += step(&mut b);
        let Some(op) = op(&mut b) else {
            continue;
        };
        if let Op::Restore = op {
            restored = Some(save_and_restore(&s, &config));
            continue;
        }
        let before = match &op {
            Op::Cmd(who, _) | Op::Connect(who) => Some(Before::of(&s, &current, IDS[*who])),
            _ => None,
        };
        let outcome = apply(&mut s, now, &op);
        if let Some(before) = &before {
            check_outcome(before, &s, &op, &outcome);
        }
        if let Ok((events, _)) = &outcome {
            check_events(events);
        }
        if matches!(op, Op::Tick) {
            let next = s.next_deadline();
            assert!(
                next.is_none_or(|d| d > now),
                "deadline {next:?} not after {now}"
            );
        }
        current = check_state(&s);
        if let Some((r, last_msg)) = &mut restored {
            let again = apply(r, now, &op);
            match (&outcome, &again) {
                (Ok((ea, pa)), Ok((eb, pb))) => {
                    assert_eq!(ea, eb, "a restored state answered {op:?} differently");
                    assert_eq!(page_after(pa, *last_msg), page_after(pb, *last_msg));
                }
                (Err(x), Err(y)) => assert_eq!(x, y, "a restored state refused {op:?} differently"),
                _ => panic!(
                    "{op:?}: the original and the restored state disagree: {:?} vs {:?}",
                    outcome.as_ref().err(),
                    again.as_ref().err()
                ),
            }
            for viewer in ["f1", "p1"] {
                assert_eq!(
                    without_texts(view(r, viewer)),
                    without_texts(view(&s, viewer))
                );
            }
        }
    }
}

/// A configuration the settings could give.
fn config(b: &mut Bytes) -> Config {
    let defaults = Config::default();
    let rate = |count: u32, window_ms: Millis| Rate { count, window_ms };
    Config {
        turn_seconds: match b.byte() % 8 {
            0 => 1,
            1 => 45,
            2 => 900,
            3 => 0,
            4 => u32::from(b.u16()),
            5 => 120,
            _ => 30,
        },
        grace_ms: b.pick(&[30_000, 0, 1_000, 5_000]),
        turn_warning_ms: b.pick(&[30_000, 0, 10_000, 200_000]),
        end_warning_ms: b.pick(&[300_000, 0, 60_000]),
        rates: Rates {
            say: rate(b.pick(&[4, 0, 1, 10]), b.pick(&[10_000, 1_000])),
            commands: rate(b.pick(&[20, 1, 5]), b.pick(&[10_000, 1_000])),
            signals: rate(b.pick(&[3, 1, 6]), b.pick(&[60_000, 5_000])),
        },
        room_history: b.pick(&[4, 1, 2, 8, 200]),
        max_message_chars: b.pick(&[2000, 10, 200]),
        welcome_text_bytes: b.pick(&[defaults.welcome_text_bytes, 0, 4096, 8192]),
        ..defaults
    }
}

/// How far the clock moves before the next step (sometimes backwards: the
/// state must take that as no time).
fn step(b: &mut Bytes) -> Millis {
    match b.byte() % 16 {
        0..=3 => 0,
        4..=9 => i64::from(b.u16() % 3_000),
        10..=12 => i64::from(b.u16()),
        13 => 60_000 + i64::from(b.u32() % 340_000),
        14 => -i64::from(b.u16() % 10_000),
        _ => i64::from(b.u32() % 86_400_000),
    }
}

fn op(b: &mut Bytes) -> Option<Op> {
    let who = b.below(IDS.len());
    Some(match b.byte() % 32 {
        0..=2 => Op::Connect(who),
        3..=5 => Op::Disconnect(who),
        6..=10 => Op::Tick,
        11 => Op::Restore,
        12..=13 => {
            // A raw frame through the real decoder; texts never carry the mark.
            let raw = b.string(200).replace(MARK, "");
            let (_, cmd) = parse_command(&raw).ok()?;
            Op::Cmd(who, cmd)
        }
        _ => Op::Cmd(who, command(b)),
    })
}

fn person(b: &mut Bytes) -> MemberId {
    let n = b.byte();
    if n < 230 {
        MemberId::from(IDS[usize::from(n) % IDS.len()])
    } else if n < 250 {
        MemberId::from(GHOST)
    } else {
        let id = b.string(8);
        MemberId::from(if id.is_empty() { GHOST } else { id.as_str() })
    }
}

fn msg(b: &mut Bytes) -> MsgId {
    MsgId::new(format!("m{}", 1 + b.below(12)))
}

fn room(b: &mut Bytes) -> RoomId {
    RoomId::from(b.pick(&["main", "main", "r1", "r2", "r7"]))
}

/// What people write: marked, so a saved state can be searched for it.
fn said(b: &mut Bytes) -> UserText {
    match b.byte() % 8 {
        0 => UserText::from("   "),
        1 => UserText::new("x".repeat(2001)),
        2 => UserText::new(format!("{MARK}\u{7}")),
        _ => UserText::new(format!("{MARK}{}", b.string(40))),
    }
}

/// Notes, reasons and names (kept in a saved state): never marked.
fn note_text(b: &mut Bytes) -> UserText {
    match b.byte() % 6 {
        0 => UserText::from(" "),
        1 => UserText::new("y".repeat(501)),
        _ => UserText::new(b.string(60).replace(MARK, "")),
    }
}

fn note(b: &mut Bytes) -> Option<UserText> {
    b.bool().then(|| note_text(b))
}

fn command(b: &mut Bytes) -> Command {
    match b.byte() % 26 {
        0..=2 => Command::Say {
            room: room(b),
            text: said(b),
            cw: b.byte().is_multiple_of(4).then(|| said(b)),
        },
        3 => Command::React {
            msg: msg(b),
            emoji: b.pick(&[
                Emoji::Heart,
                Emoji::Clap,
                Emoji::Hug,
                Emoji::Thanks,
                Emoji::MeToo,
            ]),
        },
        4..=5 => Command::Hand {
            up: !b.byte().is_multiple_of(4),
        },
        6 => Command::Pass,
        7 => Command::Break {
            on: b.bool(),
            note: note(b),
        },
        8 => Command::Report {
            msg: msg(b),
            reason: note_text(b),
        },
        9 => Command::History {
            room: room(b),
            before: b.bool().then(|| msg(b)),
            limit: b.bool().then(|| b.u32() % 8),
        },
        10 => Command::MarkSeen {
            item: ItemId::new(format!("i{}", 1 + b.below(8))),
        },
        11 => Command::NeedHelp { note: note(b) },
        12 => Command::Start,
        13 => Command::Pause {
            on: b.bool(),
            note: note(b),
        },
        14 => Command::Mute {
            participant: person(b),
            on: b.bool(),
        },
        15 => Command::MuteAll { on: b.bool() },
        16 => Command::Give {
            participant: (!b.byte().is_multiple_of(4)).then(|| person(b)),
        },
        17 => Command::Lower {
            participant: person(b),
        },
        18 => Command::Move {
            participant: person(b),
            to: if b.bool() {
                b.below(8)
            } else {
                b.u64() as usize
            },
        },
        19 => Command::Mode {
            mode: b.pick(&[
                Mode::Open,
                Mode::Stick,
                Mode::Stick,
                Mode::Round,
                Mode::Round,
            ]),
            turn_seconds: match b.byte() % 6 {
                0 => None,
                1 => Some(b.u32()),
                n => Some([30, 60, 10, 1000][usize::from(n - 2)]),
            },
        },
        20 => Command::Remove {
            participant: person(b),
            ban: b.bool(),
        },
        21 => Command::Lock { on: b.bool() },
        22 => Command::Redact { msg: msg(b) },
        23 => Command::Announce { text: said(b) },
        24 => Command::Dm {
            participant: person(b),
            text: said(b),
        },
        _ => match b.byte() % 3 {
            0 => Command::End,
            1 => Command::RoomOpen { name: note_text(b) },
            _ => Command::RoomClose { room: room(b) },
        },
    }
}

fn apply(s: &mut SessionState, now: Millis, op: &Op) -> Outcome {
    match op {
        Op::Connect(i) => s
            .connect(now, IDS[*i], IDS[*i], role(*i))
            .map(|e| (e, None)),
        Op::Disconnect(i) => Ok((s.disconnect(now, IDS[*i]), None)),
        Op::Tick => Ok((s.tick(now), None)),
        Op::Cmd(i, cmd) => s
            .apply(now, IDS[*i], cmd.clone())
            .map(|a| (a.events, a.page)),
        Op::Restore => Ok((Vec::new(), None)),
    }
}

fn view(s: &SessionState, viewer: &str) -> Snapshot {
    s.view(viewer)
}

/// The saved form as JSON: what the rules keep, readable from outside.
fn saved(s: &SessionState) -> Value {
    serde_json::to_value(s.save()).expect("snapshots serialize")
}

fn save_and_restore(s: &SessionState, config: &Config) -> (SessionState, u64) {
    let text = serde_json::to_string(&s.save()).expect("snapshots serialize");
    assert!(!text.contains(MARK), "a saved state holds message text");
    let snapshot: SessionSnapshot = serde_json::from_str(&text).expect("snapshots read back");
    let r = SessionState::restore(config.clone(), snapshot).expect("a saved state restores");
    for viewer in ["f1", "f2", "p1", "p2"] {
        assert_eq!(
            without_texts(view(&r, viewer)),
            without_texts(view(s, viewer)),
            "a restored state views differently"
        );
    }
    let last_msg = saved(s)["last_msg"].as_u64().expect("last_msg");
    (r, last_msg)
}

/// A view without what a restore cannot bring back (message texts, dms,
/// announcements).
fn without_texts(mut v: Snapshot) -> Snapshot {
    for room in &mut v.rooms {
        room.messages.clear();
        room.more = false;
    }
    v.dms.clear();
    v.announcements.clear();
    v
}

/// The ids of a history page's messages written after message `last`.
fn page_after(page: &Option<HistoryPage>, last: u64) -> Option<Vec<MsgId>> {
    page.as_ref().map(|p| {
        p.messages
            .iter()
            .filter(|m| m.id[1..].parse::<u64>().is_ok_and(|n| n > last))
            .map(|m| m.id.clone())
            .collect()
    })
}

/// What a step's checks need from the state before it.
struct Before {
    saved: Value,
    facilitator_view: Snapshot,
    own_view: Snapshot,
    role: Option<Role>,
}

impl Before {
    fn of(s: &SessionState, saved: &Value, who: &str) -> Before {
        Before {
            saved: saved.clone(),
            facilitator_view: view(s, "f1"),
            own_view: view(s, who),
            role: s.role_of(who),
        }
    }

    fn member(&self, id: &str) -> &Value {
        member(&self.saved, id).unwrap_or(&Value::Null)
    }
}

fn member<'a>(saved: &'a Value, id: &str) -> Option<&'a Value> {
    saved["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["id"] == id)
}

fn flag(m: &Value, key: &str) -> bool {
    m[key]
        .as_bool()
        .unwrap_or_else(|| panic!("member field {key}"))
}

/// Online: connected and not on a break.
fn online(m: &Value) -> bool {
    flag(m, "connected") && !flag(m, "on_break")
}

fn offline(m: &Value) -> bool {
    !flag(m, "connected") && flag(m, "offline")
}

/// Checks the state's invariants; returns its saved form as JSON.
fn check_state(s: &SessionState) -> Value {
    let snap = saved(s);
    let phase = snap["phase"].as_str().expect("phase");
    let mode = snap["mode"].as_str().expect("mode");
    let queue: Vec<&str> = snap["queue"]
        .as_array()
        .expect("queue")
        .iter()
        .map(|q| q.as_str().expect("queued id"))
        .collect();
    assert_eq!(
        s.queue().iter().map(|q| q.as_str()).collect::<Vec<_>>(),
        queue,
        "queue() is not the saved queue"
    );
    let holder = snap["stick"]["holder"].as_str();
    assert_eq!(
        s.holder().map(|h| h.as_str()),
        holder,
        "holder() is not the saved holder"
    );
    if let Some(holder) = holder {
        let turn = &snap["stick"];
        let m = member(&snap, holder).expect("the holder is a member");
        assert!(!flag(m, "removed"), "a removed member holds the stick");
        assert!(!flag(m, "muted"), "a muted member holds the stick");
        assert!(!flag(m, "on_break"), "a member on a break holds the stick");
        assert_eq!(m["role"], "participant", "a facilitator holds the stick");
        assert!(!offline(m), "an offline member holds the stick");
        assert!(!queue.contains(&holder), "the holder is in the queue");
        assert!(matches!(phase, "live" | "paused"), "a holder while {phase}");
        assert_ne!(mode, "open", "a holder in open mode");
        if phase == "live" {
            assert!(!turn["ends_at"].is_null() && !turn["running_since"].is_null());
        } else {
            assert!(turn["ends_at"].is_null() && turn["running_since"].is_null());
            assert!(turn["remaining_ms"].as_i64().expect("remaining") >= 0);
        }
    }
    let mut seen = HashSet::new();
    for id in &queue {
        assert!(seen.insert(*id), "{id} twice in the queue");
        let m = member(&snap, id).expect("a queued member exists");
        assert!(
            !flag(m, "removed") && !flag(m, "muted") && m["role"] == "participant",
            "{id} should not be queued"
        );
    }
    if phase == "live" && mode != "open" && holder.is_none() {
        for id in &queue {
            let m = member(&snap, id).expect("queued");
            assert!(!online(m), "{id} waits online while nobody holds the stick");
        }
    }
    if mode == "round" && holder.is_none() {
        assert!(!queue.is_empty(), "a finished round did not fall back");
    }
    let members = snap["members"].as_array().expect("members");
    let mut spoken = 0;
    for m in members {
        let ms = m["spoken_ms"].as_i64().expect("spoken_ms");
        assert!(ms >= 0, "negative spoken time");
        spoken += ms;
    }
    let live = s.live_ms();
    assert!(spoken <= live, "spoken {spoken} > live {live}");
    let v = view(s, "f1");
    let present = members.iter().filter(|m| !flag(m, "removed")).count();
    assert_eq!(
        v.participants.len(),
        present,
        "the view does not list everyone present"
    );
    for p in &v.participants {
        assert_eq!(p.hand, queue.contains(&p.id.as_str()), "{}'s hand", p.id);
    }
    assert_eq!(v.stick.holder.as_ref().map(|h| h.as_str()), holder);
    assert!(v.queue.iter().map(|q| q.as_str()).eq(queue.iter().copied()));
    snap
}

fn check_outcome(before: &Before, after: &SessionState, op: &Op, outcome: &Outcome) {
    let (who, cmd) = match op {
        Op::Cmd(who, cmd) => (*who, Some(cmd)),
        Op::Connect(who) => (*who, None),
        _ => return,
    };
    let id = IDS[who];
    if before.saved["phase"] == "ended" {
        assert_eq!(
            outcome.as_ref().err().map(|r| r.code),
            Some(ErrorCode::SessionEnded),
            "an ended session took {op:?}"
        );
    }
    let events = match outcome {
        Ok((events, _)) => events,
        Err(refusal) => {
            assert!(!refusal.message.is_empty(), "a refusal without a message");
            assert_eq!(
                before.facilitator_view,
                view(after, "f1"),
                "refused {op:?} changed the view"
            );
            assert_eq!(
                before.own_view,
                view(after, id),
                "refused {op:?} changed {id}'s view"
            );
            return;
        }
    };
    let Some(cmd) = cmd else {
        return;
    };
    if cmd.facilitator_only() {
        assert_eq!(
            before.role,
            Some(Role::Facilitator),
            "{id} ran {}",
            cmd.kind()
        );
    }
    if events.iter().any(|e| e.kind() == "said") {
        let Command::Say { room, .. } = cmd else {
            panic!("said without say");
        };
        let m = before.member(id);
        assert!(!flag(m, "muted"), "muted {id} said something");
        if m["role"] == "participant" {
            assert_eq!(
                before.saved["phase"], "live",
                "a participant spoke outside live"
            );
            if room.is_main() && before.saved["mode"] != "open" {
                assert_eq!(
                    before.saved["stick"]["holder"], id,
                    "{id} spoke out of turn"
                );
            }
        }
    }
    if let (Command::Hand { up: true }, true) = (cmd, events.iter().any(|e| e.kind() == "queue")) {
        let snap = saved(after);
        let queue: Vec<&str> = snap["queue"]
            .as_array()
            .expect("queue")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        if let Some(pos) = queue.iter().position(|q| *q == id) {
            let turns = |q: &str| {
                member(&snap, q)
                    .and_then(|m| m["turns"].as_u64())
                    .unwrap_or(0)
            };
            let mine = turns(id);
            assert!(
                queue[..pos].iter().all(|q| turns(q) <= mine),
                "unfair order"
            );
            if let Some(next) = queue.get(pos + 1) {
                assert!(turns(next) > mine, "unfair order");
            }
        }
    }
}

/// The event kinds that have a golden fixture.
fn fixture_kinds() -> &'static HashSet<String> {
    static KINDS: OnceLock<HashSet<String>> = OnceLock::new();
    KINDS.get_or_init(|| {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = [here.to_path_buf(), here.join("..")]
            .into_iter()
            .map(|d| d.join("tests/fixtures/protocol/events"))
            .find(|d| d.is_dir())
            .expect("the protocol fixtures exist");
        std::fs::read_dir(dir)
            .expect("the fixtures can be listed")
            .filter_map(|e| {
                e.ok()?
                    .path()
                    .file_stem()?
                    .to_str()
                    .map(|s| s.split('.').next().unwrap_or(s).to_string())
            })
            .collect()
    })
}

fn check_events(events: &[Event]) {
    let mut kinds: HashMap<&str, usize> = HashMap::new();
    for e in events {
        *kinds.entry(e.kind()).or_default() += 1;
        let json = serde_json::to_value(e).expect("events serialize");
        assert_eq!(json["kind"].as_str(), Some(e.kind()));
        for key in ["type", "seq", "at"] {
            assert!(json.get(key).is_none(), "{} carries {key}", e.kind());
        }
        assert!(
            fixture_kinds().contains(e.kind()),
            "event `{}` has no golden fixture",
            e.kind()
        );
        let audience = e.audience();
        match e {
            Event::Dm { from, to, .. } => {
                assert_eq!(
                    audience,
                    Audience::FacilitatorsAnd([from.clone(), to.clone()])
                )
            }
            Event::Reported { .. } | Event::HelpRequested { .. } | Event::MarkedSeen { .. } => {
                assert_eq!(audience, Audience::Facilitators, "{}", e.kind())
            }
            _ => assert_eq!(audience, Audience::All, "{}", e.kind()),
        }
    }
}
