//! Property tests: random sequences of connects, disconnects, commands and
//! ticks by two facilitators and five participants, with time moving on by
//! random steps; the invariants of the talking stick are checked after every
//! step, a session replays deterministically, and a state restored from its
//! snapshot at any step answers everything that follows exactly as the
//! original does. `PROPTEST_CASES` overrides the case counts.

use super::*;
use crate::protocol::{ItemId, UserText};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

const T0: Millis = 1_766_000_000_000;
const IDS: [&str; 7] = ["f1", "f2", "p1", "p2", "p3", "p4", "p5"];
const ENVELOPE_KEYS: [&str; 4] = ["type", "seq", "at", "kind"];

/// `PROPTEST_CASES` if set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

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
}

#[derive(Clone, Debug)]
struct Setup {
    started: bool,
    turn_seconds: u32,
    session_minutes: i64,
    connected: Vec<bool>,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        any::<bool>(),
        prop_oneof![Just(30u32), Just(45), Just(120)],
        10i64..90,
        proptest::collection::vec(prop_oneof![4 => Just(true), 1 => Just(false)], 7),
    )
        .prop_map(
            |(started, turn_seconds, session_minutes, connected)| Setup {
                started,
                turn_seconds,
                session_minutes,
                connected,
            },
        )
}

fn person() -> impl Strategy<Value = MemberId> {
    prop_oneof![
        10 => (0..IDS.len()).prop_map(|i| MemberId::from(IDS[i])),
        1 => Just(MemberId::from("ghost")),
    ]
}

fn msg() -> impl Strategy<Value = MsgId> {
    (1u32..10).prop_map(|n| MsgId::new(format!("m{n}")))
}

fn room() -> impl Strategy<Value = RoomId> {
    prop_oneof![6 => Just(RoomId::main()), 2 => Just(RoomId::from("r1")), 1 => Just(RoomId::from("r7"))]
}

/// What people write (never to be found in a snapshot).
fn text() -> impl Strategy<Value = UserText> {
    prop_oneof![
        8 => Just(UserText::from(SAID)),
        1 => Just(UserText::from("   ")),
        1 => Just(UserText::new("x".repeat(2001))),
    ]
}

fn reason() -> impl Strategy<Value = UserText> {
    prop_oneof![4 => Just(UserText::from("unkind")), 1 => Just(UserText::from(" "))]
}

fn note() -> impl Strategy<Value = Option<UserText>> {
    prop_oneof![
        Just(None),
        Just(Some(UserText::from("tea"))),
        Just(Some(UserText::new("y".repeat(501))))
    ]
}

/// The words of every message, dm and announcement in these tests.
const SAID: &str = "hello there";

fn emoji() -> impl Strategy<Value = Emoji> {
    prop_oneof![
        Just(Emoji::Heart),
        Just(Emoji::Clap),
        Just(Emoji::Hug),
        Just(Emoji::Thanks),
        Just(Emoji::MeToo)
    ]
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![1 => Just(Mode::Open), 2 => Just(Mode::Stick), 2 => Just(Mode::Round)]
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        12 => (room(), text(), prop_oneof![4 => Just(None), 1 => Just(Some("cw".to_string()))])
            .prop_map(|(room, text, cw)| Command::Say { room, text, cw: cw.map(UserText::new) }),
        3 => (msg(), emoji()).prop_map(|(msg, emoji)| Command::React { msg, emoji }),
        12 => prop_oneof![3 => Just(true), 1 => Just(false)].prop_map(|up| Command::Hand { up }),
        6 => Just(Command::Pass),
        4 => (any::<bool>(), note()).prop_map(|(on, note)| Command::Break { on, note }),
        1 => (msg(), reason()).prop_map(|(msg, reason)| Command::Report { msg, reason }),
        1 => (room(), proptest::option::of(msg()), proptest::option::of(0u32..6))
            .prop_map(|(room, before, limit)| Command::History { room, before, limit }),
        2 => (1u32..6).prop_map(|n| Command::MarkSeen { item: ItemId::new(format!("i{n}")) }),
        1 => (proptest::option::of(person()), proptest::option::of(0u32..4))
            .prop_map(|(after, limit)| Command::People { after, limit }),
        1 => note().prop_map(|note| Command::NeedHelp { note }),
        3 => Just(Command::Start),
        3 => (any::<bool>(), note()).prop_map(|(on, note)| Command::Pause { on, note }),
        3 => (person(), any::<bool>()).prop_map(|(participant, on)| Command::Mute { participant, on }),
        1 => any::<bool>().prop_map(|on| Command::MuteAll { on }),
        3 => proptest::option::of(person()).prop_map(|participant| Command::Give { participant }),
        1 => person().prop_map(|participant| Command::Lower { participant }),
        2 => (person(), 0usize..6).prop_map(|(participant, to)| Command::Move { participant, to }),
        3 => (mode(), proptest::option::of(prop_oneof![Just(30u32), Just(60), Just(10), Just(1000)]))
            .prop_map(|(mode, turn_seconds)| Command::Mode { mode, turn_seconds }),
        1 => (person(), any::<bool>()).prop_map(|(participant, ban)| Command::Remove { participant, ban }),
        1 => any::<bool>().prop_map(|on| Command::Lock { on }),
        1 => msg().prop_map(|msg| Command::Redact { msg }),
        1 => text().prop_map(|text| Command::Announce { text }),
        3 => (person(), text()).prop_map(|(participant, text)| Command::Dm { participant, text }),
        1 => Just(Command::End),
        1 => Just(Command::RoomOpen { name: UserText::from("Side") }),
        1 => room().prop_map(|room| Command::RoomClose { room }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..IDS.len()).prop_map(Op::Connect),
        3 => (0..IDS.len()).prop_map(Op::Disconnect),
        6 => Just(Op::Tick),
        20 => (0..IDS.len(), command()).prop_map(|(who, cmd)| Op::Cmd(who, cmd)),
    ]
}

fn step() -> impl Strategy<Value = (Millis, Op)> {
    let dt = prop_oneof![
        3 => Just(0i64),
        6 => 0i64..3_000,
        4 => 0i64..45_000,
        1 => 60_000i64..400_000,
    ];
    (dt, op())
}

fn config(setup: &Setup) -> Config {
    let defaults = Config::default();
    Config {
        turn_seconds: setup.turn_seconds,
        room_history: 4,
        rates: Rates {
            say: Rate {
                count: 4,
                ..defaults.rates.say
            },
            signals: Rate {
                count: 3,
                ..defaults.rates.signals
            },
            ..defaults.rates
        },
        ..defaults
    }
}

/// What a step produced: its events and, for `history`, the page (for
/// `people`, the ids on the page and whether more follow).
type Outcome = Result<
    (
        Vec<Event>,
        Option<HistoryPage>,
        Option<(Vec<MemberId>, bool)>,
    ),
    Refusal,
>;

/// Builds the session of a case with everyone in `setup.connected` connected.
fn build(setup: &Setup) -> SessionState {
    let mut s = SessionState::new(
        config(setup),
        setup.started,
        false,
        T0 + setup.session_minutes * 60_000,
        T0,
    );
    for (i, id) in IDS.iter().enumerate() {
        if setup.connected[i] {
            s.connect(T0, id, id, role(i)).expect("fresh connect");
        }
    }
    s
}

/// Runs one step, returning its outcome.
fn run(s: &mut SessionState, now: Millis, op: &Op) -> Outcome {
    match op {
        Op::Connect(i) => s
            .connect(now, IDS[*i], IDS[*i], role(*i))
            .map(|e| (e, None, None)),
        Op::Disconnect(i) => Ok((s.disconnect(now, IDS[*i]), None, None)),
        Op::Tick => Ok((s.tick(now), None, None)),
        Op::Cmd(i, cmd) => s.apply(now, IDS[*i], cmd.clone()).map(|a| {
            let people = a.people.map(|p| {
                (
                    p.participants.iter().map(|x| x.id.clone()).collect(),
                    p.more,
                )
            });
            (a.events, a.page, people)
        }),
    }
}

/// The view as JSON.
fn view(s: &SessionState, viewer: &str) -> serde_json::Value {
    serde_json::to_value(s.view(viewer)).expect("views serialize")
}

/// The event kinds that have a golden fixture.
fn fixture_kinds() -> &'static HashSet<String> {
    static KINDS: std::sync::OnceLock<HashSet<String>> = std::sync::OnceLock::new();
    KINDS.get_or_init(|| {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/protocol/events");
        std::fs::read_dir(dir)
            .expect("the fixtures exist")
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

/// The invariants of the state itself.
fn check_state(s: &SessionState) -> Result<(), TestCaseError> {
    let member = |id: &MemberId| s.index.get(id).map(|&i| &s.members[i]);
    // the stick
    if let Some(turn) = &s.stick {
        let m = member(&turn.holder).ok_or_else(|| TestCaseError::fail("unknown holder"))?;
        prop_assert!(!m.removed, "removed holder");
        prop_assert!(!m.muted, "muted holder");
        prop_assert!(!m.on_break, "holder on break");
        prop_assert!(m.is_participant(), "facilitator holds the stick");
        prop_assert!(m.presence() != Presence::Offline, "offline holder");
        prop_assert!(!s.queue.contains(&turn.holder), "holder in the queue");
        prop_assert!(
            matches!(s.phase, Phase::Live | Phase::Paused),
            "holder in {:?}",
            s.phase
        );
        prop_assert!(s.mode != Mode::Open, "holder in open mode");
        if s.phase == Phase::Live {
            prop_assert!(turn.ends_at.is_some() && turn.running_since.is_some());
        } else {
            prop_assert!(turn.ends_at.is_none() && turn.running_since.is_none());
            prop_assert!(turn.remaining_ms >= 0);
        }
    }
    // the queue
    let mut seen = HashSet::new();
    for id in &s.queue {
        prop_assert!(seen.insert(id), "duplicate {id} in queue");
        let m = member(id).ok_or_else(|| TestCaseError::fail("unknown member in queue"))?;
        prop_assert!(
            !m.removed && !m.muted && m.is_participant(),
            "{id} should not be queued"
        );
    }
    // handing on happened whenever it could
    if s.phase == Phase::Live && s.mode != Mode::Open && s.stick.is_none() {
        for id in &s.queue {
            let m = member(id).unwrap();
            prop_assert!(
                m.presence() != Presence::Online,
                "{id} could hold the stick"
            );
        }
    }
    if s.mode == Mode::Round && s.stick.is_none() {
        prop_assert!(!s.queue.is_empty(), "finished round did not fall back");
    }
    // spoken time within live time
    let live = s.live_ms();
    let spoken: Millis = s.members.iter().map(|m| m.spoken_ms).sum();
    prop_assert!(spoken <= live, "spoken {spoken} > live {live}");
    prop_assert!(s.members.iter().all(|m| m.spoken_ms >= 0));
    // the snapshot lists the present
    let snap = view(s, "f1");
    let listed = snap["participants"].as_array().unwrap().len();
    prop_assert_eq!(listed, s.members.iter().filter(|m| !m.removed).count());
    Ok(())
}

/// The audience, shape and fixture of each event.
fn check_events(events: &[Event]) -> Result<(), TestCaseError> {
    for e in events {
        let json = serde_json::to_value(e).expect("events serialize");
        prop_assert_eq!(json["kind"].as_str(), Some(e.kind()));
        for key in ENVELOPE_KEYS.iter().filter(|k| **k != "kind") {
            prop_assert!(json.get(key).is_none(), "{} carries {key}", e.kind());
        }
        prop_assert!(
            fixture_kinds().contains(e.kind()),
            "event `{}` has no golden fixture in tests/fixtures/protocol/events",
            e.kind()
        );
        match e {
            Event::Dm { from, to, .. } => {
                prop_assert_eq!(
                    e.audience(),
                    Audience::FacilitatorsAnd([from.clone(), to.clone()])
                )
            }
            Event::Reported { .. } | Event::HelpRequested { .. } | Event::MarkedSeen { .. } => {
                prop_assert_eq!(e.audience(), Audience::Facilitators)
            }
            _ => prop_assert_eq!(e.audience(), Audience::All, "{}", e.kind()),
        }
    }
    Ok(())
}

/// What a command may and may not have produced, judged on the state before it.
fn check_outcome(
    before: &SessionState,
    after: &SessionState,
    who: usize,
    cmd: &Command,
    outcome: &Outcome,
) -> Result<(), TestCaseError> {
    let id = IDS[who];
    if before.phase == Phase::Ended {
        prop_assert_eq!(
            outcome.as_ref().err().map(|r| r.code),
            Some(ErrorCode::SessionEnded)
        );
    }
    let events = match outcome {
        Ok((events, _, _)) => events,
        Err(refusal) => {
            prop_assert!(!refusal.message.is_empty());
            // a refused command changes nothing anyone can see
            prop_assert_eq!(view(before, "f1"), view(after, "f1"));
            return Ok(());
        }
    };
    if cmd.facilitator_only() {
        prop_assert_eq!(
            before.role_of(id),
            Some(Role::Facilitator),
            "{} ran {}",
            id,
            cmd.kind()
        );
    }
    let said = events.iter().any(|e| e.kind() == "said");
    if said {
        let Command::Say { room, .. } = cmd else {
            return Err(TestCaseError::fail("said without say"));
        };
        let m = &before.members[before.index[id]];
        prop_assert!(!m.muted, "muted {id} said something");
        if m.is_participant() {
            prop_assert_eq!(before.phase, Phase::Live);
            if room.is_main() && before.mode != Mode::Open {
                prop_assert_eq!(
                    before.holder().map(|h| h.as_str()),
                    Some(id),
                    "{} spoke out of turn",
                    id
                );
            }
        }
    }
    // fair order: a raised hand lands after everyone with as many turns or
    // fewer and before the first with more
    if let (Command::Hand { up: true }, true) = (cmd, events.iter().any(|e| e.kind() == "queue")) {
        if let Some(pos) = after.queue.iter().position(|q| q == id) {
            let turns = |q: &MemberId| after.members[after.index[q]].turns;
            let mine = after.members[after.index[id]].turns;
            prop_assert!(
                after.queue[..pos].iter().all(|q| turns(q) <= mine),
                "unfair order"
            );
            if let Some(next) = after.queue.get(pos + 1) {
                prop_assert!(turns(next) > mine, "unfair order");
            }
        }
    }
    Ok(())
}

fn run_case(setup: &Setup, steps: &[(Millis, Op)]) -> Result<Vec<Event>, TestCaseError> {
    let mut s = build(setup);
    let mut now = T0;
    let mut all = Vec::new();
    check_state(&s)?;
    for (dt, op) in steps {
        now += dt;
        let before = matches!(op, Op::Cmd(..)).then(|| s.clone());
        let outcome = run(&mut s, now, op);
        if let (Some(before), Op::Cmd(who, cmd)) = (&before, op) {
            check_outcome(before, &s, *who, cmd, &outcome)?;
        }
        if let Ok((events, _, _)) = &outcome {
            check_events(events)?;
            all.extend(events.iter().cloned());
        }
        if matches!(op, Op::Tick) {
            let next = s.next_deadline();
            prop_assert!(
                next.is_none_or(|d| d > now),
                "deadline {next:?} not after {now}"
            );
        }
        check_state(&s)?;
    }
    Ok(all)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(10_000)))]

    /// The main invariant property.
    #[test]
    fn stick_invariants_hold_after_every_step(
        setup in setup(),
        steps in proptest::collection::vec(step(), 1..40),
    ) {
        run_case(&setup, &steps)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(500)))]

    /// The same inputs give the same events: a session can be replayed.
    #[test]
    fn replay_is_deterministic(
        setup in setup(),
        steps in proptest::collection::vec(step(), 1..40),
    ) {
        let a = run_case(&setup, &steps)?;
        let b = run_case(&setup, &steps)?;
        prop_assert_eq!(a, b);
    }
}

/// A view without what a restore cannot bring back (texts: messages, dms,
/// announcements).
fn without_texts(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(rooms) = v["rooms"].as_array_mut() {
        for room in rooms {
            room["messages"] = serde_json::Value::Null;
            room["more"] = serde_json::Value::Null;
        }
    }
    v["dms"] = serde_json::Value::Null;
    v["announcements"] = serde_json::Value::Null;
    v
}

/// Only the messages written after message number `last` (the ones a
/// restored state still has the text of).
fn page_after(page: &Option<HistoryPage>, last: u64) -> Option<Vec<MsgId>> {
    page.as_ref().map(|p| {
        p.messages
            .iter()
            .filter(|m| m.id[1..].parse::<u64>().is_ok_and(|n| n > last))
            .map(|m| m.id.clone())
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2_000)))]

    /// A state saved at any step and restored (through JSON, as the store
    /// keeps it) answers every following step exactly as the original:
    /// the same events, the same refusals, the same view but for texts. The
    /// saved form never holds what anyone wrote.
    #[test]
    fn a_restored_state_answers_like_the_original(
        setup in setup(),
        before in proptest::collection::vec(step(), 0..30),
        after in proptest::collection::vec(step(), 1..30),
    ) {
        let mut s = build(&setup);
        let mut now = T0;
        for (dt, op) in &before {
            now += dt;
            let _ = run(&mut s, now, op);
        }
        let saved = serde_json::to_string(&s.save()).expect("snapshots serialize");
        prop_assert!(!saved.contains(SAID), "a snapshot holds message text");
        let last_msg = s.last_msg;
        let snapshot: SessionSnapshot = serde_json::from_str(&saved).expect("snapshots read back");
        let mut r = SessionState::restore(config(&setup), snapshot).expect("restores");
        prop_assert_eq!(without_texts(view(&r, "f1")), without_texts(view(&s, "f1")));
        for (dt, op) in &after {
            now += dt;
            let a = run(&mut s, now, op);
            let b = run(&mut r, now, op);
            match (&a, &b) {
                (Ok((ea, pa, qa)), Ok((eb, pb, qb))) => {
                    prop_assert_eq!(ea, eb, "{:?}", op);
                    prop_assert_eq!(page_after(pa, last_msg), page_after(pb, last_msg));
                    prop_assert_eq!(qa, qb, "{:?}", op);
                }
                (Err(x), Err(y)) => prop_assert_eq!(x, y, "{:?}", op),
                _ => prop_assert!(false, "{:?}: {:?} vs {:?}", op, a.as_ref().err(), b.as_ref().err()),
            }
            prop_assert_eq!(without_texts(view(&r, "p1")), without_texts(view(&s, "p1")));
        }
    }
}
