//! The demo on first start: when the database is empty (and `demo` is on),
//! a facilitator, a group with a real-sounding agreement, a session open
//! now and four weekly sessions after it, so that a newcomer can try
//! everything at once. Created once: a second start creates nothing.
//!
//! The known demo password is used only when the server listens on
//! loopback (nobody else can reach it). On any other address the demo
//! facilitator gets a random password, printed once in the start banner and
//! never stored in clear or logged.

use crate::app_state::AppState;
use crate::domain::schedule;
use crate::domain::SupportResources;
use crate::store::GroupInput;

pub const DEMO_EMAIL: &str = "demo@peercircle.local";
pub const DEMO_PASSWORD: &str = "peercircle-demo";
pub const DEMO_NAME: &str = "Alex (demo facilitator)";

const DESCRIPTION: &str = "A small, friendly evening group for anyone going through a \
hard time. Come as you are: you can talk, or just listen. We meet online every week, \
take turns with the talking stick, and look after each other.";

const AGREEMENT: &str = "1. What is said here stays here. Please don't share anyone's story, \
name or details outside the group.
2. One person speaks at a time. When the talking stick is yours, the group listens; when \
it isn't, raise your hand and wait for your turn.
3. Listen without judging. There is no right or wrong way to feel, and we don't give advice \
unless someone asks for it.
4. Speak from your own experience: say \"I\" rather than \"you\" or \"everyone\".
5. It's OK to take a break, to pass when it's your turn, or to just listen. Your place is kept.
6. Look after yourself. If you need help now, the support links are always one tap away. \
To keep everyone safe, the facilitator may pause the group or remove someone.";

/// What the demo created, for the start-up banner.
#[derive(Debug, Clone)]
pub struct DemoInfo {
    pub email: String,
    pub password: String,
    pub group_id: String,
    /// The session open now.
    pub session_id: String,
}

impl DemoInfo {
    pub fn banner(&self, base: &str) -> String {
        format!(
            "\n  peercircle demo is ready at {base}\n\
             \n  Facilitator dashboard: {base}/facilitate\
             \n    sign in as {} with password {}\
             \n  Join the open session:  {base}/s/{}\
             \n    (open it in another browser or a private window to join as a participant)\n",
            self.email, self.password, self.session_id
        )
    }
}

/// The demo facilitator's password: the known one on loopback, else random.
fn demo_password(listen: std::net::IpAddr) -> String {
    if listen.is_loopback() {
        DEMO_PASSWORD.to_string()
    } else {
        crate::auth::new_token()
    }
}

/// Creates the demo when the store is empty; `None` when it was not.
pub async fn ensure_demo(state: &AppState) -> anyhow::Result<Option<DemoInfo>> {
    if !state.store.is_empty().await? {
        return Ok(None);
    }
    let password = demo_password(state.bound.ip());
    let facilitator = crate::api::facilitators::add_facilitator(
        state.store.as_ref(),
        DEMO_EMAIL,
        DEMO_NAME,
        &password,
    )
    .await?;
    let input = GroupInput {
        name: "Evening circle (demo)".into(),
        description: DESCRIPTION.into(),
        agreement: AGREEMENT.into(),
        timezone: "Europe/London".into(),
        capacity: state
            .settings
            .default_capacity
            .min(state.settings.max_capacity)
            .max(1),
        access_code_hash: Some(None),
        support_resources: SupportResources::uk_default().into_inner(),
        keep_transcript: false,
    };
    let group = state.store.create_group(&facilitator.id, &input).await?;
    let zone = jiff::tz::TimeZone::get(&input.timezone)?;
    // Now, to the minute; this one and the same time for four more weeks.
    let now = jiff::Timestamp::from_second(crate::now_ms().div_euclid(60_000) * 60)?;
    let times = schedule::weekly(now, &zone, 120, 5)?;
    let sessions = state.store.create_sessions(&group.id, &times).await?;
    let first = sessions
        .first()
        .ok_or_else(|| anyhow::anyhow!("the demo session was not created"))?;
    tracing::info!(group = %group.id, session = %first.id, "demo created");
    Ok(Some(DemoInfo {
        email: DEMO_EMAIL.into(),
        password,
        group_id: group.id,
        session_id: first.id.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_known_password_is_for_loopback_only() {
        assert_eq!(
            demo_password("127.0.0.1".parse().expect("ip")),
            DEMO_PASSWORD
        );
        assert_eq!(demo_password("::1".parse().expect("ip")), DEMO_PASSWORD);
        let open = demo_password("0.0.0.0".parse().expect("ip"));
        assert_ne!(open, DEMO_PASSWORD);
        assert!(open.len() >= 40, "a 256-bit random password");
        assert_ne!(open, demo_password("192.168.1.2".parse().expect("ip")));
    }
}
