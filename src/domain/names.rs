//! Pseudonyms and e-mail addresses.

use std::fmt;

use super::{checked_text, ValidationError};

/// A participant's pseudonym: 1–40 characters after trimming, no control
/// characters, and nothing that identifies or reaches a person (an e-mail
/// address or a phone number): the group is anonymous by design.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 40;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = checked_text(raw, "name", 1, Self::MAX_CHARS, false)?;
        if name.split_whitespace().any(looks_like_email) {
            return Err(ValidationError::new(
                "Please choose a name that isn't an e-mail address: the group is anonymous.",
            ));
        }
        if longest_digit_run(&name) >= 7 {
            return Err(ValidationError::new(
                "Please choose a name that isn't a phone number: the group is anonymous.",
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl AsRef<str> for DisplayName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest run of digits, ignoring the separators people put inside
/// phone numbers (spaces, dashes, dots, parentheses, `+`, `/`).
fn longest_digit_run(s: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.chars() {
        if c.is_ascii_digit() {
            run += 1;
            best = best.max(run);
        } else if !matches!(c, ' ' | '-' | '.' | '(' | ')' | '+' | '/' | '\u{a0}') {
            run = 0;
        }
    }
    best
}

fn looks_like_email(word: &str) -> bool {
    match word.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

/// A facilitator's e-mail address, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let email = raw.trim().to_lowercase();
        let invalid = || ValidationError::new("Please enter a valid e-mail address.");
        if email.is_empty() || email.chars().count() > 254 {
            return Err(invalid());
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(invalid());
        };
        if local.is_empty() || local.contains('@') || local.chars().count() > 64 {
            return Err(invalid());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
        {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ordinary_names_are_kept_trimmed() {
        assert_eq!(DisplayName::parse("  Sam ").expect("valid").as_str(), "Sam");
        assert!(DisplayName::parse("Jo-Ann O'Neil").is_ok());
        assert!(DisplayName::parse("R2D2").is_ok());
        assert!(DisplayName::parse("Zoë 🌱").is_ok());
        assert!(DisplayName::parse("小明").is_ok());
        assert!(DisplayName::parse("Born in 1984").is_ok());
    }

    #[test]
    fn empty_or_blank_names_are_refused() {
        assert!(DisplayName::parse("").is_err());
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("\t\n").is_err());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(
            DisplayName::parse(&"é".repeat(40)).is_ok(),
            "80 bytes, 40 chars"
        );
        assert!(DisplayName::parse(&"é".repeat(41)).is_err());
        assert!(DisplayName::parse(&"a".repeat(40)).is_ok());
        assert!(DisplayName::parse(&"a".repeat(41)).is_err());
    }

    #[test]
    fn control_characters_are_refused() {
        assert!(DisplayName::parse("Sam\u{0}").is_err());
        assert!(DisplayName::parse("Sa\nm").is_err());
        assert!(DisplayName::parse("Sam\u{1b}[31m").is_err());
    }

    #[test]
    fn email_addresses_are_refused() {
        assert!(DisplayName::parse("sam@example.com").is_err());
        assert!(DisplayName::parse("Sam sam.x@mail.co.uk").is_err());
        assert!(
            DisplayName::parse("@sam").is_ok(),
            "a handle is not an address"
        );
        assert!(DisplayName::parse("sam@home").is_ok());
    }

    #[test]
    fn phone_numbers_are_refused() {
        for n in [
            "07700 900123",
            "+44 7700 900123",
            "(020) 7946-0018",
            "555.123.4567",
            "Sam 07700900123",
            "1234567",
        ] {
            assert!(DisplayName::parse(n).is_err(), "{n:?} should be refused");
        }
        assert!(DisplayName::parse("123456").is_ok(), "six digits are fine");
        assert!(DisplayName::parse("Room 12, seat 34567").is_ok());
    }

    #[test]
    fn messages_never_repeat_the_input() {
        let e = DisplayName::parse("sam@example.com").expect_err("refused");
        assert!(!e.0.contains("sam@example.com"));
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse(" Alex@Example.ORG ").expect("valid").as_str(),
            "alex@example.org"
        );
        assert!(Email::parse("demo@peercircle.local").is_ok());
        for bad in [
            "",
            "alex",
            "alex@",
            "@example.org",
            "alex@example",
            "a b@example.org",
            "alex@.org",
            "alex@example..org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    proptest! {
        #[test]
        fn parsed_names_respect_every_rule(raw in "\\PC{0,60}") {
            if let Ok(name) = DisplayName::parse(&raw) {
                let n = name.as_str().chars().count();
                prop_assert!((1..=40).contains(&n));
                prop_assert_eq!(name.as_str(), name.as_str().trim());
                prop_assert!(!name.as_str().chars().any(char::is_control));
                prop_assert!(longest_digit_run(name.as_str()) < 7);
            }
        }
    }
}
