//! Unicode hygiene for names people see: NFKC normalisation, format and
//! bidi control characters, invisible-only strings, the "compact" form used
//! to spot e-mail addresses and phone numbers however they are dressed up,
//! and a confusable skeleton (UTS #39) to spot look-alikes.
//!
//! Pure functions: no I/O, no clock, no logging (the input is a display name).

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{
    GeneralCategory, GeneralCategoryGroup, UnicodeEmoji, UnicodeGeneralCategory,
};

const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';
const VS16: char = '\u{FE0F}';

/// NFKC: full-width letters and digits, ligatures, `＠` and the like become
/// their plain forms, so one name has one spelling.
pub fn nfkc(raw: &str) -> String {
    raw.nfkc().collect()
}

/// Blank-looking characters that are letters or symbols by category, so
/// that a "name" of them alone shows nothing (Hangul fillers, the blank
/// Braille pattern).
fn is_blank_lookalike(c: char) -> bool {
    matches!(
        c,
        '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}' | '\u{180E}'
    )
}

/// Does `c` draw anything on its own?
pub fn is_visible(c: char) -> bool {
    if c.is_whitespace() || c.is_control() || is_blank_lookalike(c) {
        return false;
    }
    !matches!(
        c.general_category(),
        GeneralCategory::Format
            | GeneralCategory::NonspacingMark
            | GeneralCategory::EnclosingMark
            | GeneralCategory::Unassigned
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
    )
}

/// Scripts that write ZWNJ between letters as a matter of spelling
/// (Arabic, Persian, Syriac, Thaana, N'Ko, the Indic scripts).
fn zwnj_script(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{0DFF}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
        && c.general_category_group() == GeneralCategoryGroup::Letter
}

fn emoji_like(c: char) -> bool {
    c.is_emoji_char() && !c.is_ascii()
}

/// The first format character (Unicode category Cf: zero-width spaces, the
/// BOM, bidi overrides and isolates, tag characters…) that is not part of
/// ordinary spelling. Two joiners are spelling and stay allowed: ZWJ inside
/// an emoji sequence (👩‍💻) and ZWNJ between letters of the scripts that
/// need it (Persian, the Indic scripts).
pub fn first_forbidden_format(s: &str) -> Option<char> {
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.general_category() != GeneralCategory::Format {
            continue;
        }
        // Neighbours, looking past emoji presentation selectors.
        let before = chars[..i].iter().rev().copied().find(|&p| p != VS16);
        let after = chars.get(i + 1).copied();
        let allowed = match c {
            ZWJ => before.is_some_and(emoji_like) && after.is_some_and(emoji_like),
            ZWNJ => before.is_some_and(zwnj_script) && after.is_some_and(zwnj_script),
            _ => false,
        };
        if !allowed {
            return Some(c);
        }
    }
    None
}

/// The name with every space, invisible character and format character
/// taken out: `sam @ example.com`, `0 7 7 0 0…` and zero-width-split digits
/// all read as what they are.
pub fn compact(s: &str) -> String {
    s.chars().filter(|&c| is_visible(c)).collect()
}

/// The longest run of decimal digits in any script (ASCII, Arabic-Indic,
/// Devanagari…), ignoring the separators people put inside phone numbers.
pub fn longest_digit_run(s: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.chars() {
        if c.general_category() == GeneralCategory::DecimalNumber {
            run += 1;
            best = best.max(run);
        } else if !(c.is_whitespace()
            || matches!(
                c,
                '-' | '.' | '(' | ')' | '+' | '/' | '_' | '\u{2010}'..='\u{2015}'
            ))
        {
            run = 0;
        }
    }
    best
}

/// Does `s` (in compact form) contain something shaped like an e-mail address?
pub fn contains_email(s: &str) -> bool {
    // Every `@` is a candidate: `Sam sam@x.org` compacts to `Samsam@x.org`.
    s.match_indices('@').any(|(at, _)| {
        let local = &s[..at];
        let domain = s[at + 1..].split('@').next().unwrap_or("");
        let dot = domain.find('.');
        !local.is_empty()
            && dot.is_some_and(|d| d > 0 && d + 1 < domain.len())
            && !domain.ends_with('.')
    })
}

/// A key that two names share when they look alike: the UTS #39 skeleton,
/// case-folded, without spaces, punctuation, symbols or combining marks.
/// `Alex`, `ALEX`, `A1ex`, `Аlex` (Cyrillic А) and `A l e x!` share one.
/// The skeleton maps a capital `I` to `l`, so after case-folding `i` is
/// folded to `l` too: `ROBIN`, `Robin` and `Rob1n` share one key.
pub fn lookalike_key(s: &str) -> String {
    let first: String = unicode_security::skeleton(&nfkc(s)).collect();
    let folded = first.to_lowercase();
    unicode_security::skeleton(&folded)
        .filter(|&c| {
            is_visible(c)
                && !matches!(
                    c.general_category_group(),
                    GeneralCategoryGroup::Punctuation | GeneralCategoryGroup::Symbol
                )
                && c.general_category() != GeneralCategory::SpacingMark
        })
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'i' { 'l' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfkc_flattens_compatibility_forms() {
        assert_eq!(nfkc("ｓａｍ＠ｅｘａｍｐｌｅ．ｃｏｍ"), "sam@example.com");
        assert_eq!(nfkc("ﬁsh"), "fish");
        assert_eq!(nfkc("０７７００"), "07700");
    }

    #[test]
    fn format_characters_are_found_but_emoji_joiners_are_spelling() {
        assert_eq!(first_forbidden_format("Sam"), None);
        assert_eq!(first_forbidden_format("Sa\u{200B}m"), Some('\u{200B}'));
        assert_eq!(first_forbidden_format("\u{FEFF}Sam"), Some('\u{FEFF}'));
        assert_eq!(first_forbidden_format("\u{202E}maS"), Some('\u{202E}'));
        assert_eq!(first_forbidden_format("Sam\u{2066}x"), Some('\u{2066}'));
        assert_eq!(first_forbidden_format("Sam\u{E0041}"), Some('\u{E0041}'));
        // 👩‍💻 and ❤️‍🔥 are one emoji each.
        assert_eq!(first_forbidden_format("Jo 👩\u{200D}💻"), None);
        assert_eq!(first_forbidden_format("❤\u{FE0F}\u{200D}🔥"), None);
        assert_eq!(first_forbidden_format("A\u{200D}lex"), Some('\u{200D}'));
        // Persian spelling with ZWNJ; not between Latin letters.
        assert_eq!(first_forbidden_format("می\u{200C}خواهم"), None);
        assert_eq!(first_forbidden_format("Al\u{200C}ex"), Some('\u{200C}'));
    }

    #[test]
    fn invisible_characters_are_not_visible() {
        for c in [
            '\u{200B}', '\u{FEFF}', '\u{3164}', '\u{2800}', '\u{0301}', ' ', '\u{3000}',
        ] {
            assert!(!is_visible(c), "{:04X}", c as u32);
        }
        for c in ['a', '小', '🌱', '٣', '-'] {
            assert!(is_visible(c), "{c}");
        }
    }

    #[test]
    fn digit_runs_count_every_script_and_ignore_separators() {
        assert_eq!(longest_digit_run("07700 900123"), 11);
        assert_eq!(longest_digit_run("٠٧٧٠٠٩٠٠١٢٣"), 11);
        assert_eq!(longest_digit_run("Room 12, seat 34567"), 5);
        assert_eq!(longest_digit_run("+44 (0)20 7946-0018"), 13);
    }

    #[test]
    fn email_shapes_are_found() {
        assert!(contains_email("sam@example.com"));
        assert!(contains_email("Samsam.x@mail.co.uk"));
        assert!(!contains_email("@sam"));
        assert!(!contains_email("sam@home"));
        assert!(!contains_email("sam@.com"));
        assert!(!contains_email("sam@example."));
    }

    #[test]
    fn lookalikes_share_a_key() {
        let alex = lookalike_key("Alex (demo facilitator)");
        for other in [
            "alex (demo facilitator)",
            "A1ex (demo facilitator)",
            "AIex (Demo Facilitator)",
            "\u{0410}lex (demo facilitator)",
            "Alex demo facilitator",
            "Alex - demo - facilitator!",
            "Alëx (demo facilitator)",
        ] {
            assert_eq!(lookalike_key(other), alex, "{other}");
        }
        assert_ne!(lookalike_key("Alex"), alex);
        assert_ne!(lookalike_key("Alexa (demo facilitator)"), alex);
        assert_ne!(lookalike_key("Sam"), lookalike_key("Pam"));
    }
}
