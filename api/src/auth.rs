//! Who is calling: signed bearer tokens (HS256 JWTs) with a role, and what each role may do.
//!
//! - A **staff** token manages every restaurant, or only those listed in its `restaurants`
//!   claim. `MAITRED_ADMIN_TOKEN`, when set, is accepted as a bootstrap staff credential for
//!   every restaurant, so a fresh install can be scripted.
//! - A **guest** token names a guest by email and covers that guest's reservations. The token
//!   handed out when a reservation is booked anonymously covers that one reservation only.
//!
//! A missing or invalid token is `401`; a valid token of the wrong role or restaurant is `403`.

use std::time::Duration;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use booking::Reservation;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::{ApiError, AppState};

/// The `iss` of every token, checked on the way in.
const ISSUER: &str = "maitred";
/// Shorter secrets are refused: HS256 is only as strong as its key.
pub const MIN_SECRET_BYTES: usize = 32;
/// The subject that names the bootstrap admin token in the audit log.
const ADMIN_SUBJECT: &str = "admin";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Staff,
    Guest,
}

/// The claims of a maitred token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// Who: a staff member's name, or the guest's email.
    pub sub: String,
    pub role: Role,
    /// Staff: the restaurants this token may manage; absent means all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restaurants: Option<Vec<Uuid>>,
    /// Guest: the one reservation this token covers (a token handed out at booking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<Uuid>,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    #[error("the token secret must be at least {MIN_SECRET_BYTES} bytes")]
    WeakSecret,
    #[error("the admin token must not be empty")]
    EmptyAdminToken,
}

/// Mints and verifies tokens. Its `Debug` shows no secret.
#[derive(Clone)]
pub struct Authority {
    encoding: EncodingKey,
    decoding: DecodingKey,
    admin_token: Option<SecretString>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("admin_token", &self.admin_token.is_some())
            .finish_non_exhaustive()
    }
}

impl Authority {
    /// # Errors
    /// A secret shorter than [`MIN_SECRET_BYTES`], or an empty admin token (which would let
    /// anyone in).
    pub fn new(
        secret: &SecretString,
        admin_token: Option<SecretString>,
    ) -> Result<Self, AuthConfigError> {
        let bytes = secret.expose_secret().as_bytes();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(AuthConfigError::WeakSecret);
        }
        if admin_token
            .as_ref()
            .is_some_and(|token| token.expose_secret().trim().is_empty())
        {
            return Err(AuthConfigError::EmptyAdminToken);
        }
        Ok(Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            admin_token,
        })
    }

    /// A staff token for `subject`, limited to `restaurants` when given.
    pub fn staff_token(
        &self,
        subject: &str,
        restaurants: Option<Vec<Uuid>>,
        valid_for: Duration,
    ) -> String {
        self.mint(subject, Role::Staff, restaurants, None, valid_for)
    }

    /// A guest token covering every reservation booked with `email`.
    pub fn guest_token(&self, email: &str, valid_for: Duration) -> String {
        self.mint(&email.to_lowercase(), Role::Guest, None, None, valid_for)
    }

    /// The token handed to an anonymous diner with their booking: it covers that reservation
    /// only, until 30 days after its date.
    pub fn reservation_token(&self, reservation: &Reservation) -> String {
        let until = reservation.date.and_time(chrono::NaiveTime::MIN).and_utc()
            + chrono::Duration::days(30);
        let valid_for = (until - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        self.mint(
            &reservation.guest.email,
            Role::Guest,
            None,
            Some(reservation.id),
            valid_for,
        )
    }

    /// The token handed to a diner who joins the waitlist: it covers that entry only, until
    /// 30 days after its date (the entry's id stands where a reservation's would).
    pub fn waitlist_token(&self, entry: &booking::waitlist::WaitlistEntry) -> String {
        let until =
            entry.date.and_time(chrono::NaiveTime::MIN).and_utc() + chrono::Duration::days(30);
        let valid_for = (until - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        self.mint(
            &entry.guest.email,
            Role::Guest,
            None,
            Some(entry.id),
            valid_for,
        )
    }

    fn mint(
        &self,
        subject: &str,
        role: Role,
        restaurants: Option<Vec<Uuid>>,
        reservation: Option<Uuid>,
        valid_for: Duration,
    ) -> String {
        let now = Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            sub: subject.into(),
            role,
            restaurants,
            reservation,
            iat: now,
            exp: now.saturating_add(i64::try_from(valid_for.as_secs()).unwrap_or(i64::MAX)),
        };
        // HS256 over serde_json of plain data cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default()
    }

    /// Who presented `token`.
    ///
    /// # Errors
    /// `401` for anything that is not a valid, unexpired maitred token.
    pub fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        if let Some(admin) = &self.admin_token {
            // Constant time, so response timing says nothing about the token.
            if bool::from(admin.expose_secret().as_bytes().ct_eq(token.as_bytes())) {
                return Ok(Principal::Staff(StaffPrincipal {
                    subject: ADMIN_SUBJECT.into(),
                    restaurants: None,
                }));
            }
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|error| {
                ApiError::Unauthorized(format!("the bearer token is not valid: {error}"))
            })?
            .claims;
        Ok(match claims.role {
            Role::Staff => Principal::Staff(StaffPrincipal {
                subject: claims.sub,
                restaurants: claims.restaurants,
            }),
            Role::Guest => Principal::Guest(GuestPrincipal {
                email: claims.sub.to_lowercase(),
                reservation: claims.reservation,
            }),
        })
    }
}

/// A verified caller.
#[derive(Debug, Clone)]
pub enum Principal {
    Staff(StaffPrincipal),
    Guest(GuestPrincipal),
}

impl Principal {
    /// May this caller read and act on `reservation` (as its guest, or as its restaurant's
    /// staff)?
    ///
    /// # Errors
    /// `403` when the reservation is someone else's.
    pub fn require_reservation(&self, reservation: &Reservation) -> Result<(), ApiError> {
        match self {
            Principal::Staff(staff) => staff.require(reservation.restaurant_id),
            Principal::Guest(guest) if guest.may_see(reservation) => Ok(()),
            Principal::Guest(_) => Err(ApiError::Forbidden(
                "this reservation belongs to another guest".into(),
            )),
        }
    }

    /// The audit log's name for this caller.
    pub fn actor(&self) -> String {
        match self {
            Principal::Staff(staff) => staff.actor(),
            Principal::Guest(_) => "guest".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct StaffPrincipal {
    pub subject: String,
    /// `None`: every restaurant.
    pub restaurants: Option<Vec<Uuid>>,
}

impl StaffPrincipal {
    /// The rights of a staff account of the admin panel: its restaurants, or every one.
    pub fn of(account: &booking::staff::StaffAccount) -> Self {
        Self {
            subject: account.email.clone(),
            restaurants: account.restaurants().map(<[Uuid]>::to_vec),
        }
    }

    /// # Errors
    /// `403` unless this staff member manages `restaurant_id`.
    pub fn require(&self, restaurant_id: Uuid) -> Result<(), ApiError> {
        match &self.restaurants {
            Some(ids) if !ids.contains(&restaurant_id) => Err(ApiError::Forbidden(format!(
                "this staff token does not manage restaurant {restaurant_id}"
            ))),
            _ => Ok(()),
        }
    }

    /// # Errors
    /// `403` for a token limited to some restaurants: creating a restaurant, for one, needs a
    /// token for the whole chain.
    pub fn require_chain(&self) -> Result<(), ApiError> {
        match self.restaurants {
            Some(_) => Err(ApiError::Forbidden(
                "this action needs a staff token for every restaurant".into(),
            )),
            None => Ok(()),
        }
    }

    pub fn actor(&self) -> String {
        format!("staff:{}", self.subject)
    }
}

#[derive(Debug, Clone)]
pub struct GuestPrincipal {
    /// Lower-case.
    pub email: String,
    /// `Some` for a token that covers one reservation only.
    pub reservation: Option<Uuid>,
}

impl GuestPrincipal {
    pub fn may_see(&self, reservation: &Reservation) -> bool {
        reservation.guest.email == self.email
            && self.reservation.is_none_or(|id| id == reservation.id)
    }

    /// Their own waitlist entry, with its token or a guest token of its email.
    pub fn may_see_entry(&self, entry: &booking::waitlist::WaitlistEntry) -> bool {
        entry.guest.email == self.email && self.reservation.is_none_or(|id| id == entry.id)
    }
}

fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        // The scheme is case-insensitive (RFC 9110).
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .map(Some)
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be \"Bearer <token>\"".into())
        })
}

/// Any authenticated caller: `401` without a valid token. As `Option<Principal>`, a request
/// without an Authorization header is anonymous, but a bad token is still `401`.
impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match bearer(parts)? {
            Some(token) => state.auth.verify(token),
            None => match signed_in_staff(parts, state).await? {
                Some(staff) => Ok(staff),
                None => Err(ApiError::Unauthorized(
                    "this route needs a bearer token (Authorization: Bearer ...)".into(),
                )),
            },
        }
    }
}

/// The staff member signed in to the admin panel, for a request without a bearer token: the
/// panel's scripts may call the API with the session cookie. The cookie is SameSite=Strict, so
/// no other site's page can make a browser send it.
async fn signed_in_staff(parts: &Parts, state: &AppState) -> Result<Option<Principal>, ApiError> {
    let found = crate::admin::session::session_account(state, &parts.headers).await?;
    Ok(found.map(|(account, _)| Principal::Staff(StaffPrincipal::of(&account))))
}

impl OptionalFromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        match bearer(parts)? {
            Some(token) => state.auth.verify(token).map(Some),
            None => signed_in_staff(parts, state).await,
        }
    }
}

/// A staff caller: `401` without a valid token, `403` for a guest, `429` for a token over its
/// request rate.
#[derive(Debug, Clone)]
pub struct Staff(pub StaffPrincipal);

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match <Principal as FromRequestParts<AppState>>::from_request_parts(parts, state).await? {
            Principal::Staff(staff) => {
                // Counted only once the token is valid: made-up tokens take no limiter key.
                if let Some(token) = bearer(parts)? {
                    state.rate_limits.check_staff(token)?;
                }
                Ok(Staff(staff))
            }
            Principal::Guest(_) => Err(ApiError::Forbidden("this route is for staff".into())),
        }
    }
}

/// A guest caller: `401` without a valid token, `403` for staff.
#[derive(Debug, Clone)]
pub struct Guest(pub GuestPrincipal);

impl FromRequestParts<AppState> for Guest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match <Principal as FromRequestParts<AppState>>::from_request_parts(parts, state).await? {
            Principal::Guest(guest) => Ok(Guest(guest)),
            Principal::Staff(_) => Err(ApiError::Forbidden(
                "this route is for guests: it lists the reservations of the guest token's email"
                    .into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authority() -> Authority {
        Authority::new(
            &SecretString::from("0123456789abcdef0123456789abcdef"),
            Some(SecretString::from("bootstrap")),
        )
        .unwrap()
    }

    #[test]
    fn a_minted_staff_token_verifies_with_its_restaurants() {
        let auth = authority();
        let only = Uuid::new_v4();
        let token = auth.staff_token("ana", Some(vec![only]), Duration::from_secs(60));
        let Principal::Staff(staff) = auth.verify(&token).unwrap() else {
            panic!("not staff");
        };
        assert!(staff.require(only).is_ok());
        assert!(staff.require(Uuid::new_v4()).is_err());
        assert!(staff.require_chain().is_err());
        assert_eq!(staff.actor(), "staff:ana");
    }

    #[test]
    fn the_admin_token_is_chain_wide_staff() {
        let Principal::Staff(staff) = authority().verify("bootstrap").unwrap() else {
            panic!("not staff");
        };
        assert!(staff.require_chain().is_ok());
    }

    #[test]
    fn tampered_expired_and_foreign_tokens_are_refused() {
        let auth = authority();
        let token = auth.guest_token("ada@example.com", Duration::from_secs(60));
        let mut tampered = token.clone();
        tampered.pop();
        assert!(auth.verify(&tampered).is_err());
        let now = Utc::now().timestamp();
        let expired = Claims {
            iss: ISSUER.into(),
            sub: "ada@example.com".into(),
            role: Role::Guest,
            restaurants: None,
            reservation: None,
            iat: now - 7200,
            // Past jsonwebtoken's 60 s of leeway.
            exp: now - 3600,
        };
        let expired =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &expired, &auth.encoding).unwrap();
        assert!(auth.verify(&expired).is_err());
        let other = Authority::new(
            &SecretString::from("another-secret-another-secret-xx"),
            None,
        )
        .unwrap()
        .guest_token("ada@example.com", Duration::from_secs(60));
        assert!(auth.verify(&other).is_err());
        assert!(auth.verify("").is_err());
    }

    #[test]
    fn weak_secrets_and_empty_admin_tokens_are_refused() {
        assert!(Authority::new(&SecretString::from("short"), None).is_err());
        assert!(Authority::new(
            &SecretString::from("0123456789abcdef0123456789abcdef"),
            Some(SecretString::from("  "))
        )
        .is_err());
    }
}
