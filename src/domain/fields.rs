//! The fields of a group and a facilitator account.

use serde::{Deserialize, Serialize};

use super::{checked_text, ValidationError};

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident, $what:literal, $min:expr, $max:expr, $multiline:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub const MIN_CHARS: usize = $min;
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, ValidationError> {
                checked_text(raw, $what, $min, $max, $multiline).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

text_newtype!(
    /// A group's name: 1–100 characters on one line.
    GroupName, "group name", 1, 100, false
);
text_newtype!(
    /// A group's description: up to 2,000 characters, may be empty.
    Description, "description", 0, 2_000, true
);
text_newtype!(
    /// The group agreement everyone accepts before joining: 1–10,000 characters.
    Agreement, "group agreement", 1, 10_000, true
);

/// A group's access code: 4–64 characters, compared exactly (only trimmed).
#[derive(Clone, PartialEq, Eq)]
pub struct AccessCode(String);

impl AccessCode {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let code = raw.trim();
        let n = code.chars().count();
        if !(4..=64).contains(&n) {
            return Err(ValidationError::new(
                "The access code needs between 4 and 64 characters.",
            ));
        }
        if code.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "The access code contains characters that can't be typed.",
            ));
        }
        Ok(Self(code.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AccessCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessCode(…)")
    }
}

/// A facilitator's password: 8–1,024 characters (the upper bound keeps
/// argon2 from being fed megabytes).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let n = raw.chars().count();
        if n < 8 {
            return Err(ValidationError::new(
                "The password needs at least 8 characters.",
            ));
        }
        if n > 1024 {
            return Err(ValidationError::new(
                "The password can be at most 1,024 characters long.",
            ));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

/// An IANA time zone name that jiff knows, e.g. `Europe/London`.
#[derive(Debug, Clone)]
pub struct TimeZoneName {
    name: String,
    zone: jiff::tz::TimeZone,
}

impl TimeZoneName {
    pub const DEFAULT: &'static str = "Europe/London";

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim();
        let unknown = || {
            ValidationError::new(
                "Please choose a time zone by its name, for example Europe/London.",
            )
        };
        if name.is_empty() || name.len() > 64 {
            return Err(unknown());
        }
        let zone = jiff::tz::TimeZone::get(name).map_err(|_| unknown())?;
        Ok(Self {
            name: name.to_string(),
            zone,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    pub fn zone(&self) -> &jiff::tz::TimeZone {
        &self.zone
    }
}

impl PartialEq for TimeZoneName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// How many participants a session of the group takes: 1 up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity(u32);

impl Capacity {
    pub fn parse(raw: i64, max: u32) -> Result<Self, ValidationError> {
        if raw < 1 || raw > i64::from(max) {
            return Err(ValidationError::new(format!(
                "The capacity must be between 1 and {max} participants."
            )));
        }
        // In range 1..=max (a u32), so the conversion cannot fail.
        Ok(Self(u32::try_from(raw).unwrap_or(max)))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// A support resource shown on every screen ("Need help now?"): a label
/// and a link (`https:`, `tel:` or `sms:`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct SupportResource {
    #[schema(min_length = 1, max_length = 100)]
    pub label: String,
    /// `https:`, `http:`, `tel:`, `sms:` or `mailto:`.
    #[schema(min_length = 1, max_length = 500, example = "tel:116123")]
    pub url: String,
}

/// Where to find help now, shown on every screen: 1–20 resources, each a
/// label (1–100 characters) and a link (`https:`, `http:`, `tel:`, `sms:`,
/// `mailto:`; up to 500 characters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportResources(Vec<SupportResource>);

impl SupportResources {
    pub fn parse(raw: &[SupportResource]) -> Result<Self, ValidationError> {
        if raw.is_empty() {
            return Err(ValidationError::new(
                "Please list at least one place to find help, or leave the list out for the default one.",
            ));
        }
        if raw.len() > 20 {
            return Err(ValidationError::new(
                "Please list at most 20 places to find help.",
            ));
        }
        let mut out = Vec::with_capacity(raw.len());
        for r in raw {
            let label = checked_text(&r.label, "support resource's label", 1, 100, false)?;
            let url = r.url.trim();
            let lower = url.to_ascii_lowercase();
            let scheme_ok = ["https://", "http://", "tel:", "sms:", "mailto:"]
                .iter()
                .any(|s| lower.starts_with(s) && lower.len() > s.len());
            if !scheme_ok
                || url.chars().count() > 500
                || url.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err(ValidationError::new(
                    "Each support resource needs a link starting with https://, http://, tel:, sms: or mailto:.",
                ));
            }
            out.push(SupportResource {
                label,
                url: url.to_string(),
            });
        }
        Ok(Self(out))
    }

    /// The UK default set: Samaritans, Shout, NHS 111 and 999.
    pub fn uk_default() -> Self {
        let r = |label: &str, url: &str| SupportResource {
            label: label.to_string(),
            url: url.to_string(),
        };
        Self(vec![
            r(
                "Samaritans — call 116 123, free, day or night",
                "tel:116123",
            ),
            r("Shout — text SHOUT to 85258", "sms:85258?body=SHOUT"),
            r("NHS 111 — urgent help, call 111", "tel:111"),
            r("NHS 111 online", "https://111.nhs.uk"),
            r("Emergency — call 999", "tel:999"),
        ])
    }

    pub fn into_inner(self) -> Vec<SupportResource> {
        self.0
    }

    pub fn as_slice(&self) -> &[SupportResource] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_name_is_trimmed_and_bounded() {
        assert_eq!(
            GroupName::parse("  Evening circle ").expect("ok").as_str(),
            "Evening circle"
        );
        assert!(GroupName::parse("").is_err());
        assert!(GroupName::parse(" ").is_err());
        assert!(GroupName::parse(&"g".repeat(100)).is_ok());
        assert!(GroupName::parse(&"g".repeat(101)).is_err());
        assert!(GroupName::parse("two\nlines").is_err());
    }

    #[test]
    fn description_may_be_empty_but_not_too_long() {
        assert!(Description::parse("").is_ok());
        assert!(Description::parse("Line one\nline two").is_ok());
        assert!(Description::parse(&"d".repeat(2000)).is_ok());
        assert!(Description::parse(&"d".repeat(2001)).is_err());
    }

    #[test]
    fn agreement_is_required_and_bounded() {
        assert!(Agreement::parse("").is_err());
        assert!(Agreement::parse("1. Be kind.\n2. What is said here stays here.").is_ok());
        assert!(Agreement::parse(&"a".repeat(10_000)).is_ok());
        assert!(Agreement::parse(&"a".repeat(10_001)).is_err());
        assert!(Agreement::parse("bell\u{7}").is_err());
    }

    #[test]
    fn access_code_bounds() {
        assert!(AccessCode::parse("abc").is_err());
        assert_eq!(AccessCode::parse(" abcd ").expect("ok").as_str(), "abcd");
        assert!(AccessCode::parse(&"x".repeat(64)).is_ok());
        assert!(AccessCode::parse(&"x".repeat(65)).is_err());
        assert_eq!(
            format!("{:?}", AccessCode::parse("secret").expect("ok")),
            "AccessCode(…)"
        );
    }

    #[test]
    fn password_bounds() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("long enough").is_ok());
        assert!(Password::parse(&"p".repeat(1025)).is_err());
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            TimeZoneName::parse("Europe/London").expect("ok").as_str(),
            "Europe/London"
        );
        assert!(TimeZoneName::parse("America/New_York").is_ok());
        assert!(TimeZoneName::parse("UTC").is_ok());
        assert!(TimeZoneName::parse("Mars/Olympus_Mons").is_err());
        assert!(TimeZoneName::parse("").is_err());
        assert!(TimeZoneName::parse("../../etc/passwd").is_err());
    }

    #[test]
    fn capacity_bounds() {
        assert!(Capacity::parse(0, 1000).is_err());
        assert!(Capacity::parse(-3, 1000).is_err());
        assert_eq!(Capacity::parse(1000, 1000).expect("ok").get(), 1000);
        assert!(Capacity::parse(1001, 1000).is_err());
    }

    #[test]
    fn support_resources_need_a_label_and_a_safe_link() {
        let r = |l: &str, u: &str| SupportResource {
            label: l.into(),
            url: u.into(),
        };
        assert!(SupportResources::parse(&[r("Samaritans", "tel:116123")]).is_ok());
        assert!(SupportResources::parse(&[r("Site", "https://example.org/help")]).is_ok());
        assert!(SupportResources::parse(&[]).is_err());
        assert!(SupportResources::parse(&[r("", "tel:1")]).is_err());
        assert!(SupportResources::parse(&[r("x", "javascript:alert(1)")]).is_err());
        assert!(SupportResources::parse(&[r("x", "https://")]).is_err());
        assert!(SupportResources::parse(&vec![r("x", "tel:1"); 21]).is_err());
    }

    #[test]
    fn the_uk_default_set_has_the_crisis_lines() {
        let d = SupportResources::uk_default();
        let urls: Vec<&str> = d.as_slice().iter().map(|r| r.url.as_str()).collect();
        for u in [
            "tel:116123",
            "sms:85258?body=SHOUT",
            "tel:111",
            "https://111.nhs.uk",
            "tel:999",
        ] {
            assert!(urls.contains(&u), "{u} missing");
        }
        assert!(
            SupportResources::parse(d.as_slice()).is_ok(),
            "the default passes its own rules"
        );
    }
}
