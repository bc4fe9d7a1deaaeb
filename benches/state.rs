//! Micro-benchmarks of the hot paths that do not touch the network: the
//! state machine's `apply` for the commands a busy session sends most, and
//! the serialization of an event (done once per event, whatever the room size).
//!
//! Run: `cargo bench --bench state` (figures in BENCHMARKS.md).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use peercircle::protocol::{event_frame, Event};
use peercircle::session::state::{Command, Config, Rate, Rates, Role, SessionState};
use serde_json::json;

const T0: i64 = 1_766_000_000_000;

/// A live session in stick mode with a facilitator and `n` participants,
/// everyone's hand up.
fn session(n: usize) -> SessionState {
    let unlimited = Rate {
        count: u32::MAX,
        window_ms: 1,
    };
    let config = Config {
        rates: Rates {
            say: unlimited,
            commands: unlimited,
            signals: unlimited,
        },
        ..Config::default()
    };
    let mut s = SessionState::new(config, true, false, T0 + 7_200_000, T0);
    s.connect(T0, "f1", "Fran", Role::Facilitator)
        .expect("connect");
    for i in 0..n {
        s.connect(T0, &format!("p{i}"), "Sam", Role::Participant)
            .expect("connect");
    }
    s.apply(T0, "f1", cmd(json!({"type": "mode", "mode": "stick"})))
        .expect("mode");
    for i in 0..n {
        s.apply(
            T0,
            &format!("p{i}"),
            cmd(json!({"type": "hand", "up": true})),
        )
        .expect("hand");
    }
    s
}

fn cmd(v: serde_json::Value) -> Command {
    serde_json::from_value(v).expect("command")
}

fn bench_apply(c: &mut Criterion) {
    let mut g = c.benchmark_group("apply");
    g.bench_function("say by the holder (12 people)", |b| {
        let mut s = session(12);
        let holder = s.holder().expect("a holder").to_string();
        let mut now = T0;
        b.iter(|| {
            now += 1;
            let c = cmd(json!({"type": "say", "room": "main", "text": "I hear you, thank you for sharing that."}));
            black_box(s.apply(now, &holder, c).expect("said"));
        })
    });
    g.bench_function("react (12 people)", |b| {
        let mut s = session(12);
        let holder = s.holder().expect("a holder").to_string();
        let said = s
            .apply(
                T0 + 1,
                &holder,
                cmd(json!({"type": "say", "room": "main", "text": "hello"})),
            )
            .expect("said");
        let Event::Said { msg, .. } = &said.events[0] else {
            panic!("a said event");
        };
        let msg = msg.id.to_string();
        let mut on = false;
        b.iter(|| {
            on = !on;
            let emoji = if on { "heart" } else { "hug" };
            black_box(s.apply(
                T0 + 2,
                "p5",
                cmd(json!({"type": "react", "msg": msg, "emoji": emoji})),
            ))
        })
    });
    g.bench_function("pass and hand on (100 queued)", |b| {
        b.iter_batched(
            || session(100),
            |mut s| {
                let holder = s.holder().expect("a holder").to_string();
                black_box(
                    s.apply(T0 + 1, &holder, cmd(json!({"type": "pass"})))
                        .expect("pass"),
                )
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("hand up into a queue of 100 (fair order)", |b| {
        b.iter_batched(
            || {
                let mut s = session(100);
                s.connect(T0, "late", "Late", Role::Participant)
                    .expect("connect");
                s
            },
            |mut s| black_box(s.apply(T0 + 1, "late", cmd(json!({"type": "hand", "up": true})))),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn bench_serialize(c: &mut Criterion) {
    let mut s = session(12);
    let holder = s.holder().expect("a holder").to_string();
    let events = s
        .apply(T0 + 1, &holder, cmd(json!({"type": "say", "room": "main", "text": "It has been a long week, and I am glad to be here with you all tonight."})))
        .expect("said");
    let said = &events.events[0];
    c.bench_function("serialize a said event", |b| {
        b.iter(|| black_box(event_frame(black_box(42), T0, said)))
    });
    c.bench_function("snapshot for a welcome (12 people)", |b| {
        b.iter(|| black_box(serde_json::to_string(&s.view("p3")).expect("json")))
    });
}

criterion_group!(benches, bench_apply, bench_serialize);
criterion_main!(benches);
