//! Property tests: random sequences of connects, disconnects, commands and
//! ticks by two facilitators and five participants, with time moving on by
//! random steps; the invariants of the talking stick are checked after every
//! step. `PROPTEST_CASES` overrides the case counts.

use super::*;
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

fn person() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => (0..IDS.len()).prop_map(|i| IDS[i].to_string()),
        1 => Just("ghost".to_string()),
    ]
}

fn msg() -> impl Strategy<Value = String> {
    (1u32..10).prop_map(|n| format!("m{n}"))
}

fn room() -> impl Strategy<Value = String> {
    prop_oneof![6 => Just("main".to_string()), 2 => Just("r1".to_string()), 1 => Just("r7".to_string())]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => Just("hello".to_string()),
        1 => Just("   ".to_string()),
        1 => Just("x".repeat(2001)),
    ]
}

fn note() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("tea".to_string())),
        Just(Some("y".repeat(501)))
    ]
}

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
            .prop_map(|(room, text, cw)| Command::Say { room, text, cw }),
        3 => (msg(), emoji()).prop_map(|(msg, emoji)| Command::React { msg, emoji }),
        12 => prop_oneof![3 => Just(true), 1 => Just(false)].prop_map(|up| Command::Hand { up }),
        6 => Just(Command::Pass),
        4 => (any::<bool>(), note()).prop_map(|(on, note)| Command::Break { on, note }),
        1 => (msg(), text()).prop_map(|(msg, reason)| Command::Report { msg, reason }),
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
        1 => Just(Command::RoomOpen { name: "Side".to_string() }),
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
    Config {
        turn_seconds: setup.turn_seconds,
        room_history: 4,
        say_rate_count: 4,
        ..Config::default()
    }
}

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
fn run(s: &mut SessionState, now: Millis, op: &Op) -> Result<Vec<Event>, Refusal> {
    match op {
        Op::Connect(i) => s.connect(now, IDS[*i], IDS[*i], role(*i)),
        Op::Disconnect(i) => Ok(s.disconnect(now, IDS[*i])),
        Op::Tick => Ok(s.tick(now)),
        Op::Cmd(i, cmd) => s.apply(now, IDS[*i], cmd.clone()),
    }
}

/// The invariants of the state itself.
fn check_state(s: &SessionState) -> Result<(), TestCaseError> {
    let member = |id: &str| s.index.get(id).map(|&i| &s.members[i]);
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
    let snap = s.snapshot("f1");
    let listed = snap["participants"].as_array().unwrap().len();
    prop_assert_eq!(listed, s.members.iter().filter(|m| !m.removed).count());
    Ok(())
}

/// The audience and shape of each event.
fn check_events(events: &[Event]) -> Result<(), TestCaseError> {
    for e in events {
        for key in ENVELOPE_KEYS {
            prop_assert!(!e.data.contains_key(key), "{} carries {key}", e.kind);
        }
        match e.kind {
            "dm" => {
                let from = e.data["from"].as_str().unwrap().to_string();
                let to = e.data["to"].as_str().unwrap().to_string();
                prop_assert_eq!(&e.audience, &Audience::FacilitatorsAnd(vec![from, to]));
            }
            "reported" | "help_requested" => prop_assert_eq!(&e.audience, &Audience::Facilitators),
            _ => prop_assert_eq!(&e.audience, &Audience::All, "{}", e.kind),
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
    outcome: &Result<Vec<Event>, Refusal>,
) -> Result<(), TestCaseError> {
    let id = IDS[who];
    if before.phase == Phase::Ended {
        prop_assert_eq!(
            outcome.as_ref().err().map(|r| r.code),
            Some(ErrorCode::SessionEnded)
        );
    }
    let events = match outcome {
        Ok(events) => events,
        Err(refusal) => {
            prop_assert!(!refusal.message.is_empty());
            // a refused command changes nothing anyone can see
            prop_assert_eq!(before.snapshot("f1"), after.snapshot("f1"));
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
    let said = events.iter().any(|e| e.kind == "said");
    if said {
        let Command::Say { room, .. } = cmd else {
            return Err(TestCaseError::fail("said without say"));
        };
        let m = &before.members[before.index[id]];
        prop_assert!(!m.muted, "muted {id} said something");
        if m.is_participant() {
            prop_assert_eq!(before.phase, Phase::Live);
            if room == MAIN_ROOM && before.mode != Mode::Open {
                prop_assert_eq!(before.holder(), Some(id), "{} spoke out of turn", id);
            }
        }
    }
    // fair order: a raised hand lands after everyone with as many turns or
    // fewer and before the first with more
    if let (Command::Hand { up: true }, true) = (cmd, events.iter().any(|e| e.kind == "queue")) {
        if let Some(pos) = after.queue.iter().position(|q| q == id) {
            let turns = |q: &String| after.members[after.index[q]].turns;
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
        if let Ok(events) = &outcome {
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
