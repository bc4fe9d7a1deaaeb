//! Secrets: argon2id password hashes, random 256-bit tokens stored only as
//! SHA-256 hashes, and the hash used for access codes and device/address
//! keys of bans. Nothing here touches the network or the database.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Hashes a password (or access code) with argon2id and a random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// Checks a password against a stored argon2 hash; a malformed hash is "no".
///
/// The argon2 working memory (~19 MiB) is one buffer per thread, reused:
/// letting argon2 allocate it afresh each time grew the server by 19 MiB per
/// wrong login under glibc (measured: 12 sequential logins, +19 MiB each),
/// which a burst of wrong logins turns into hundreds of megabytes.
pub fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    verify_reusing_memory(password.as_bytes(), &parsed).unwrap_or(false)
}

thread_local! {
    /// This thread's argon2 working memory, kept between hashes.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What `PasswordVerifier::verify_password` does, with the thread's buffer.
fn verify_reusing_memory(password: &[u8], hash: &PasswordHash<'_>) -> Option<bool> {
    let algorithm = argon2::Algorithm::try_from(hash.algorithm).ok()?;
    let version = match hash.version {
        Some(v) => argon2::Version::try_from(v).ok()?,
        None => argon2::Version::default(),
    };
    let params = argon2::Params::try_from(hash).ok()?;
    let expected = hash.hash?;
    let mut salt = [0u8; 64];
    let salt = hash.salt?.decode_b64(&mut salt).ok()?;
    let count = params.block_count();
    // Hashes are ours (argon2 defaults); refuse absurd memory from a bad row.
    if count > 1 << 20 {
        return None;
    }
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < count {
            blocks.resize(count, argon2::Block::default());
        }
        argon2
            .hash_password_into_with_memory(password, salt, &mut out, &mut blocks[..count])
            .ok()
    })?;
    let computed = argon2::password_hash::Output::new(&out).ok()?;
    // `Output`'s equality is constant-time.
    Some(computed == expected)
}

/// A new random 256-bit token, URL-safe base64 (43 characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token (tokens are never stored as such).
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest)
}

/// A new random id with a readable prefix, e.g. `s_3kq…` (96 bits).
pub fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip_and_wrong_password() {
        let h = hash_password("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
        // The same answers as argon2's own verifier, for hashes of other parameters too.
        use argon2::password_hash::PasswordVerifier;
        let small = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(1024, 1, 1, None).expect("params"),
        );
        let salt = SaltString::generate(&mut OsRng);
        let h2 = small
            .hash_password(b"tea and toast", &salt)
            .expect("hash")
            .to_string();
        let parsed = PasswordHash::new(&h2).expect("parse");
        assert!(Argon2::default()
            .verify_password(b"tea and toast", &parsed)
            .is_ok());
        assert!(verify_password("tea and toast", &h2));
        assert!(!verify_password("tea and toast!", &h2));
        assert!(
            verify_password("correct horse", &h),
            "after a smaller hash on this thread"
        );
    }

    #[test]
    fn tokens_are_256_bits_unique_and_hashed_stably() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).expect("b64").len(), 32);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), a);
        assert!(new_id("s").starts_with("s_"));
    }
}
