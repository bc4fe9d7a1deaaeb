//! Table tests: one or more per row of PROTOCOL.md §3 and per rule of §4,
//! split like the rules (one file per topic); this file is the harness.
//! They drive the state through its public entry points with wire JSON and
//! assert what a member would notice: events and snapshot fields.

use super::*;
use serde_json::{json, Value};

mod chat;
mod controls;
mod members;
mod phases;
mod snapshot;
mod stick;
mod view;
mod wire;

pub(super) const T0: Millis = 1_766_000_000_000;
pub(super) const MIN: Millis = 60_000;
pub(super) const HOUR: Millis = 60 * MIN;

/// A session with facilitator `f1` and participants `p1`, `p2`, `p3`
/// connected, in that join order, ending two hours after `T0`.
pub(super) struct H {
    pub(super) s: SessionState,
    pub(super) now: Millis,
}

impl H {
    pub(super) fn with(config: Config) -> H {
        let mut s = SessionState::new(config, false, false, T0 + 2 * HOUR, T0);
        s.connect(T0, "f1", "Fran", Role::Facilitator).unwrap();
        for (id, name) in [("p1", "Sam"), ("p2", "Alex"), ("p3", "Jo")] {
            s.connect(T0, id, name, Role::Participant).unwrap();
        }
        H { s, now: T0 }
    }

    pub(super) fn lobby() -> H {
        H::with(Config::default())
    }

    pub(super) fn live() -> H {
        let mut h = H::lobby();
        h.ok("f1", json!({"type": "start"}));
        h
    }

    /// Live, stick mode, 120 s turns.
    pub(super) fn stick() -> H {
        let mut h = H::live();
        h.ok(
            "f1",
            json!({"type": "mode", "mode": "stick", "turn_seconds": 120}),
        );
        h
    }

    pub(super) fn wait(&mut self, ms: Millis) {
        self.now += ms;
    }

    pub(super) fn run(&mut self, who: &str, cmd: Value) -> Result<Vec<Event>, Refusal> {
        let cmd: Command = serde_json::from_value(cmd).expect("command parses");
        self.s.apply(self.now, who, cmd).map(|a| a.events)
    }

    #[track_caller]
    pub(super) fn ok(&mut self, who: &str, cmd: Value) -> Vec<Event> {
        match self.run(who, cmd.clone()) {
            Ok(events) => events,
            Err(r) => panic!("{who} {cmd} refused: {r}"),
        }
    }

    #[track_caller]
    pub(super) fn err(&mut self, who: &str, cmd: Value) -> ErrorCode {
        match self.run(who, cmd.clone()) {
            Ok(events) => panic!("{who} {cmd} accepted: {events:?}"),
            Err(r) => {
                assert!(!r.message.is_empty());
                r.code
            }
        }
    }

    pub(super) fn tick(&mut self) -> Vec<Event> {
        self.s.tick(self.now)
    }

    pub(super) fn connect(&mut self, id: &str, role: Role) -> Result<Vec<Event>, Refusal> {
        self.s.connect(self.now, id, id, role)
    }

    pub(super) fn disconnect(&mut self, id: &str) -> Vec<Event> {
        self.s.disconnect(self.now, id)
    }

    pub(super) fn snap(&self) -> Value {
        serde_json::to_value(self.s.view("f1")).expect("views serialize")
    }

    pub(super) fn holder(&self) -> Value {
        self.snap()["stick"]["holder"].clone()
    }

    pub(super) fn queue(&self) -> Vec<String> {
        serde_json::from_value(self.snap()["queue"].clone()).unwrap()
    }

    pub(super) fn person(&self, id: &str) -> Value {
        self.snap()["participants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    }

    pub(super) fn phase(&self) -> Value {
        self.snap()["session"]["phase"].clone()
    }

    pub(super) fn hands(&mut self, ids: &[&str]) {
        for id in ids {
            self.ok(id, json!({"type": "hand", "up": true}));
        }
    }
}

pub(super) fn kinds(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(Event::kind).collect()
}

#[track_caller]
pub(super) fn find<'a>(events: &'a [Event], kind: &str) -> &'a Event {
    events
        .iter()
        .find(|e| e.kind() == kind)
        .unwrap_or_else(|| panic!("no {kind} in {:?}", kinds(events)))
}

pub(super) fn has(events: &[Event], kind: &str) -> bool {
    events.iter().any(|e| e.kind() == kind)
}

pub(super) fn d(e: &Event, key: &str) -> Value {
    serde_json::to_value(e).expect("events serialize")[key].clone()
}
