//! `/v1/guest-sessions`: a diner asks for a link that signs them in to their history on the
//! website (`/me`), sent to their email ([`crate::guest_sign_in`]).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::Json;
use crate::guest_sign_in::{ask_for_link, LINK_MINUTES};
use crate::openapi::problems::{BadRequest, Invalid};
use crate::rate_limit::ClientAddress;
use crate::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SignInRequest {
    /// The email the diner booked with.
    #[schema(min_length = 3, max_length = 254)]
    email: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SignInAsked {
    /// Always `asked`: the answer never tells whether the email has booked with us.
    status: &'static str,
    detail: String,
}

/// Ask for a sign-in link. Always `202` with the same answer: if the email has booked with
/// us, a link that works once, for 15 minutes, is on its way to it. Limited per email and per
/// client address (`429`).
#[utoipa::path(post, path = "/v1/guest-sessions", tag = "guests",
    request_body = SignInRequest,
    responses(
        (status = 202, description = "Asked: a link is sent if the email has booked", body = SignInAsked),
        BadRequest, Invalid,
    ))]
async fn create(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Json(request): Json<SignInRequest>,
) -> Result<(StatusCode, axum::Json<SignInAsked>), ApiError> {
    ask_for_link(&state, &request.email, client).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(SignInAsked {
            status: "asked",
            detail: format!(
                "If this email has booked with us, a sign-in link is on its way to it. It works \
                 once, for {LINK_MINUTES} minutes."
            ),
        }),
    ))
}
