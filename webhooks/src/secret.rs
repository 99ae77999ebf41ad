//! Signing secrets and Standard Webhooks signatures.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "whsec_";
/// Standard Webhooks recommends 24 to 64 bytes; 24 keeps `whsec_` strings short.
const GENERATED_LEN: usize = 24;
/// Below 128 bits a brute-force search of the key stops being absurd.
const MIN_LEN: usize = 16;

/// A per-endpoint signing secret, Standard Webhooks format: `"whsec_"` + base64(raw bytes).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    bytes: Vec<u8>,
}

/// Why a string is not a usable signing secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidSecret {
    #[error("the webhook secret is empty")]
    Empty,
    #[error(
        "the webhook secret is not valid base64 (expected \"whsec_\" followed by standard base64)"
    )]
    NotBase64,
    #[error("the webhook secret is too short: {len} bytes, at least {MIN_LEN} are required")]
    TooShort { len: usize },
}

impl Secret {
    /// A fresh secret of 24 random bytes from the operating system's CSPRNG.
    ///
    /// # Panics
    ///
    /// Only if the operating system cannot provide random bytes at all (`getrandom` failing).
    /// There is no safe fallback for key material, and on the platforms we run on this does
    /// not happen once the kernel's pool is initialised (`getrandom` blocks until then).
    #[must_use]
    pub fn generate() -> Secret {
        let mut bytes = vec![0u8; GENERATED_LEN];
        #[allow(clippy::expect_used)] // see `# Panics`: no secure way to continue without an RNG
        getrandom::fill(&mut bytes).expect("the operating system RNG is unavailable");
        Secret { bytes }
    }

    /// Parses `"whsec_<base64>"`, or the bare base64 part. Surrounding whitespace is ignored.
    ///
    /// # Errors
    ///
    /// [`InvalidSecret`] if the string is empty, is not standard base64 (with padding), or
    /// decodes to fewer than 16 bytes.
    pub fn parse(s: &str) -> Result<Secret, InvalidSecret> {
        let s = s.trim();
        let encoded = s.strip_prefix(PREFIX).unwrap_or(s);
        if encoded.is_empty() {
            return Err(InvalidSecret::Empty);
        }
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| InvalidSecret::NotBase64)?;
        if bytes.len() < MIN_LEN {
            return Err(InvalidSecret::TooShort { len: bytes.len() });
        }
        Ok(Secret { bytes })
    }

    /// The `whsec_...` form, for showing to the endpoint owner (once) and for storage.
    #[must_use]
    pub fn to_whsec(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.bytes))
    }

    /// The secret of one subject (a reservation's callbacks), derived from this one:
    /// HMAC-SHA256(key = this secret, msg = `"maitred-callback." + subject`). Each receiver
    /// gets its own, so one cannot forge deliveries to another; the server keeps only the
    /// master.
    #[must_use]
    pub fn derive(&self, subject: &str) -> Secret {
        #[allow(clippy::expect_used)] // as in `mac`: any key length is accepted
        let mut mac =
            HmacSha256::new_from_slice(&self.bytes).expect("HMAC accepts keys of any length");
        mac.update(b"maitred-callback.");
        mac.update(subject.as_bytes());
        Secret {
            bytes: mac.finalize().into_bytes().to_vec(),
        }
    }

    /// The `webhook-signature` header value:
    /// `"v1,"` + base64(HMAC-SHA256(key = raw bytes, msg = `"{msg_id}.{timestamp}.{body}"`)).
    #[must_use]
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(msg_id, timestamp, body).finalize().into_bytes();
        format!("v1,{}", STANDARD.encode(tag))
    }

    /// HMAC state over the signed content, ready to finalize or verify.
    fn mac(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        // HMAC accepts keys of any length (long ones are hashed first), so this cannot fail.
        #[allow(clippy::expect_used)]
        let mut mac =
            HmacSha256::new_from_slice(&self.bytes).expect("HMAC accepts keys of any length");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl std::fmt::Debug for Secret {
    // Secrets end up in logs through `{:?}` of whatever holds them: never print the bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Checks a `webhook-signature` header against the message, as a receiver would.
///
/// The header may hold several space-separated signatures (`"v1,xxx v1,yyy"`, e.g. during a
/// secret rotation); it is enough that one `v1` signature matches. Comparison is constant-time.
/// Unknown versions and malformed entries are skipped, never an error.
///
/// This does not judge the timestamp's age: receivers should also refuse timestamps too far
/// from their clock (Standard Webhooks suggests 5 minutes) to limit replays.
#[must_use]
pub fn verify(
    secret: &Secret,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    signature_header: &str,
) -> bool {
    let expected = secret.mac(msg_id, timestamp, body);
    signature_header.split_whitespace().any(|entry| {
        let Some(("v1", encoded)) = entry.split_once(',') else {
            return false;
        };
        let Ok(tag) = STANDARD.decode(encoded) else {
            return false;
        };
        // verify_slice consumes the state and compares in constant time.
        expected.clone().verify_slice(&tag).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference vector from the Standard Webhooks specification's test suite.
    const REF_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const REF_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const REF_TS: i64 = 1_614_265_330;
    const REF_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const REF_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn reference_secret() -> Secret {
        Secret::parse(REF_SECRET).unwrap()
    }

    #[test]
    fn sign_matches_reference_vector() {
        assert_eq!(reference_secret().sign(REF_ID, REF_TS, REF_BODY), REF_SIG);
    }

    #[test]
    fn verify_accepts_reference_signature() {
        assert!(verify(
            &reference_secret(),
            REF_ID,
            REF_TS,
            REF_BODY,
            REF_SIG
        ));
    }

    #[test]
    fn verify_rejects_tampered_message() {
        let secret = reference_secret();
        assert!(!verify(
            &secret,
            REF_ID,
            REF_TS,
            br#"{"test": 2432232315}"#,
            REF_SIG
        ));
        assert!(!verify(&secret, "msg_other", REF_TS, REF_BODY, REF_SIG));
        assert!(!verify(&secret, REF_ID, REF_TS + 1, REF_BODY, REF_SIG));
    }

    #[test]
    fn verify_rejects_wrong_secret() {
        let other = Secret::generate();
        assert!(!verify(&other, REF_ID, REF_TS, REF_BODY, REF_SIG));
    }

    #[test]
    fn verify_accepts_right_signature_in_second_place() {
        let wrong = Secret::generate().sign(REF_ID, REF_TS, REF_BODY);
        let header = format!("{wrong} {REF_SIG}");
        assert!(verify(
            &reference_secret(),
            REF_ID,
            REF_TS,
            REF_BODY,
            &header
        ));
    }

    #[test]
    fn verify_ignores_garbage_and_other_versions() {
        let secret = reference_secret();
        let tag = REF_SIG.trim_start_matches("v1,");
        assert!(!verify(&secret, REF_ID, REF_TS, REF_BODY, ""));
        assert!(!verify(
            &secret,
            REF_ID,
            REF_TS,
            REF_BODY,
            "v1,!!!notbase64"
        ));
        assert!(!verify(
            &secret,
            REF_ID,
            REF_TS,
            REF_BODY,
            &format!("v2,{tag}")
        ));
        assert!(!verify(&secret, REF_ID, REF_TS, REF_BODY, tag));
        assert!(verify(
            &secret,
            REF_ID,
            REF_TS,
            REF_BODY,
            &format!("junk v2,{tag}  {REF_SIG}")
        ));
    }

    #[test]
    fn parse_round_trips_with_to_whsec() {
        assert_eq!(reference_secret().to_whsec(), REF_SECRET);
        let generated = Secret::generate();
        let whsec = generated.to_whsec();
        assert!(whsec.starts_with("whsec_"));
        assert_eq!(Secret::parse(&whsec).unwrap(), generated);
        // The bare base64 part is accepted too.
        assert_eq!(Secret::parse(&whsec["whsec_".len()..]).unwrap(), generated);
    }

    #[test]
    fn generate_gives_distinct_24_byte_secrets() {
        let (a, b) = (Secret::generate(), Secret::generate());
        assert_eq!(a.bytes.len(), 24);
        assert_ne!(a, b);
    }

    #[test]
    fn parse_rejects_garbage() {
        assert_eq!(Secret::parse(""), Err(InvalidSecret::Empty));
        assert_eq!(Secret::parse("whsec_"), Err(InvalidSecret::Empty));
        assert_eq!(
            Secret::parse("whsec_not base64!"),
            Err(InvalidSecret::NotBase64)
        );
        assert_eq!(
            Secret::parse("whsec_c2hvcnQ="), // "short"
            Err(InvalidSecret::TooShort { len: 5 })
        );
    }

    #[test]
    fn debug_hides_the_bytes() {
        assert_eq!(format!("{:?}", reference_secret()), "Secret(..)");
    }
}
