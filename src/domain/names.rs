//! Pseudonyms and e-mail addresses.
//!
//! A pseudonym is what the group sees of a person, so it must be honest:
//! one spelling (NFKC), nothing hidden (no format or bidi control
//! characters, not only invisible characters), nothing that reaches the
//! person (no e-mail address or phone number, however it is spaced or
//! written), and not a look-alike of a facilitator ([`impersonates`]).
//! Messages never repeat the name.

use std::fmt;

use super::unicode;
use super::{checked_text, ValidationError};

/// A participant's pseudonym: 1–40 characters after NFKC and trimming, no
/// control or format characters, at least one visible character, and
/// nothing that identifies or reaches a person (an e-mail address or a
/// phone number): the group is anonymous by design.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 40;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let normalised = unicode::nfkc(raw);
        if unicode::first_forbidden_format(&normalised).is_some() {
            return Err(ValidationError::new(
                "The name contains hidden characters (such as zero-width spaces or text-direction \
                 marks). Please type it again without them.",
            ));
        }
        let name = checked_text(&normalised, "name", 1, Self::MAX_CHARS, false)?;
        let compact = unicode::compact(&name);
        if compact.is_empty() {
            return Err(ValidationError::new(
                "Please choose a name with at least one visible letter, number or emoji.",
            ));
        }
        if unicode::contains_email(&compact) {
            return Err(ValidationError::new(
                "Please choose a name that isn't an e-mail address: the group is anonymous.",
            ));
        }
        if unicode::longest_digit_run(&compact) >= 7 {
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

/// Does `name` look like one of `facilitators` (the names of the group's
/// facilitators)? Compared by a confusable skeleton (UTS #39), case-folded,
/// without spaces, punctuation, symbols or accents: `A1ex (Demo
/// Facilitator)` looks like `Alex (demo facilitator)`.
pub fn impersonates<S: AsRef<str>>(name: &DisplayName, facilitators: &[S]) -> bool {
    let key = unicode::lookalike_key(name.as_str());
    !key.is_empty()
        && facilitators
            .iter()
            .any(|f| unicode::lookalike_key(f.as_ref()) == key)
}

/// The refusal for a name that [`impersonates`] a facilitator.
pub fn impersonation_error() -> ValidationError {
    ValidationError::new(
        "That name is very close to a facilitator's name. Please choose another, so everyone \
         knows who is who.",
    )
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

    /// The names issue 10 found accepted, each refused now.
    #[test]
    fn the_hiding_names_of_issue_10_are_refused() {
        for name in [
            "\u{200B}\u{200B}\u{200B}",        // only zero-width spaces
            "\u{FEFF}",                        // only a BOM
            "\u{200B}\u{FEFF}\u{2060}",        // zero-width mix
            "\u{3164}\u{3164}",                // Hangul fillers: letters that show nothing
            "\u{202E}xelA",                    // right-to-left override
            "Sam\u{2067}",                     // a dangling bidi isolate
            "Alex (demo facilitator)\u{200B}", // the demo facilitator plus a ZWSP
        ] {
            assert!(
                DisplayName::parse(name).is_err(),
                "{:?} should be refused",
                name
            );
        }
    }

    #[test]
    fn the_disguised_contacts_of_issue_10_are_refused() {
        for name in [
            "\u{FF10}\u{FF17}\u{FF17}\u{FF10}\u{FF10} \u{FF19}\u{FF10}\u{FF10}\u{FF11}\u{FF12}\u{FF13}", // full-width digits
            "\u{0660}\u{0667}\u{0667}\u{0660}\u{0660}\u{0669}\u{0660}\u{0660}\u{0661}\u{0662}\u{0663}", // Arabic-Indic digits
            "\u{06F0}\u{06F7}\u{06F7}\u{06F0}\u{06F0}\u{06F9}\u{06F0}\u{06F0}", // Persian digits
            "0\u{200B}7\u{200B}7\u{200B}0\u{200B}0\u{200B}9\u{200B}0\u{200B}0", // zero-width-split digits
            "0 7 7 0 0 9 0 0 1 2 3",
            "sam\u{FF20}example.com", // full-width at sign
            "sam @ example.com",
            "sam @ example . com",
            "Sam sam\u{FE6B}mail.co.uk", // small commercial at
        ] {
            assert!(DisplayName::parse(name).is_err(), "{:?} should be refused", name);
        }
    }

    #[test]
    fn names_are_stored_in_one_spelling() {
        assert_eq!(
            DisplayName::parse("\u{FF33}\u{FF41}\u{FF4D}")
                .expect("valid")
                .as_str(),
            "Sam"
        );
        assert_eq!(
            DisplayName::parse("Zoe\u{0308}").expect("valid").as_str(),
            "Zoë"
        );
        assert!(
            DisplayName::parse("Jo 👩\u{200D}💻").is_ok(),
            "emoji sequences stay"
        );
        assert!(
            DisplayName::parse("می\u{200C}خواهم").is_ok(),
            "Persian ZWNJ stays"
        );
    }

    #[test]
    fn lookalikes_of_a_facilitator_are_impersonation() {
        let facilitators = ["Alex (demo facilitator)", "Robin"];
        let check = |n: &str| impersonates(&DisplayName::parse(n).expect("valid"), &facilitators);
        for n in [
            "Alex (demo facilitator)",
            "alex (Demo Facilitator)",
            "A1ex (demo facilitator)",
            "\u{0410}lex (demo facilitator)", // Cyrillic capital A
            "Alex  demo facilitator",
            "R0bin",
            "ROBIN",
            "Rob\u{0456}n", // Cyrillic i
        ] {
            assert!(check(n), "{n:?} looks like a facilitator");
        }
        for n in ["Alex", "Robina", "Sam", "Alex (participant)"] {
            assert!(!check(n), "{n:?} is its own name");
        }
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
                prop_assert!(unicode::longest_digit_run(name.as_str()) < 7);
                prop_assert!(unicode::first_forbidden_format(name.as_str()).is_none());
                prop_assert!(name.as_str().chars().any(unicode::is_visible));
            }
        }
    }
}
