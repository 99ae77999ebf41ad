//! Staff passwords: argon2id (the crate's default parameters, RFC 9106's second
//! recommendation), stored as PHC strings that carry their own salt and parameters.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// The shortest password an account may have.
pub const MIN_LENGTH: usize = 12;
/// The longest: hashing is deliberately slow, and must not be made slower by a megabyte.
pub const MAX_LENGTH: usize = 200;

/// The PHC string of `password` with a fresh random salt.
///
/// # Panics
/// When the operating system has no randomness to give, which leaves nothing safe to do.
pub fn hash(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random numbers");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2id accepts any password within MAX_LENGTH")
        .to_string()
}

/// Whether `password` is the one `phc` was made from.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Spends the time a verification takes, for a sign-in whose email has no account (or no
/// password yet): the answer's timing must not tell whether the account exists.
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("not anyone's password"));
    let _ = verify(password, dummy);
}

/// Why a new password is refused, in words for the form.
pub fn check_new(password: &str, again: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err("The password must be at least 12 characters long.");
    }
    if length > MAX_LENGTH {
        return Err("The password must be at most 200 characters long.");
    }
    if password != again {
        return Err("The two passwords are not the same.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse battery");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse battery!", &phc));
        assert!(!verify("anything", "not a phc string"));
        assert_ne!(
            phc,
            hash("correct horse battery"),
            "each hash has its own salt"
        );
    }

    #[test]
    fn new_passwords_are_long_enough_and_typed_twice() {
        assert!(check_new("short", "short").is_err());
        assert!(check_new("long enough password", "long enough passw0rd").is_err());
        assert!(check_new("long enough password", "long enough password").is_ok());
    }
}
