//! Why a request's token was refused, as an HTTP answer: a status and a small JSON body with a
//! stable reason code, never the token, a secret or a key's internals.

use axum_core::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use tokenring::VerifyError;

/// A refused token: `{"error": "<what happened>", "reason": "<code>"}`.
///
/// | reason | status |
/// |---|---|
/// | `missing_token` | 401 |
/// | `malformed`, `too_large`, `invalid_value` | 400 |
/// | `bad_signature`, `key_revoked`, `key_expired`, `not_yet_valid`, `wrong_issuer` | 401 |
/// | `purpose_mismatch`, `wrong_audience` | 403 |
/// | `expired` | 410 |
///
/// A token naming a key the keyring does not hold answers `bad_signature`, as a forged one
/// does: a client cannot tell a key id that exists (a pending one, say) from one that does not.
/// So does a JWS whose `alg` is not its key's (`alg_mismatch`): the answer does not tell which
/// algorithm a key has. The precise reasons stay in the verifier's log event and its metrics.
///
/// 401 answers carry `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750) when the
/// token came from the `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRejection {
    reason: &'static str,
    bearer: bool,
}

impl TokenRejection {
    /// No token where the route takes it from.
    pub const MISSING: &'static str = "missing_token";

    pub(crate) fn missing(bearer: bool) -> Self {
        Self {
            reason: Self::MISSING,
            bearer,
        }
    }

    pub(crate) fn invalid_value() -> Self {
        Self {
            reason: "invalid_value",
            bearer: false,
        }
    }

    pub(crate) fn from_error(error: &VerifyError, bearer: bool) -> Self {
        let reason = match error {
            // Public answers do not enumerate key ids (see the type's docs).
            VerifyError::UnknownKey { .. } | VerifyError::AlgorithmMismatch { .. } => {
                "bad_signature"
            }
            other => other.reason(),
        };
        Self { reason, bearer }
    }

    /// The reason code: [`VerifyError::reason`] (`unknown_key` and `alg_mismatch` answered as
    /// `bad_signature`), or
    /// `missing_token`.
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// The HTTP status it answers with.
    pub fn status(&self) -> StatusCode {
        match self.reason {
            "malformed" | "too_large" | "invalid_value" => StatusCode::BAD_REQUEST,
            "purpose_mismatch" | "wrong_audience" => StatusCode::FORBIDDEN,
            "expired" => StatusCode::GONE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// What happened, in words fixed per reason (never the token or anything from it).
    pub fn message(&self) -> &'static str {
        match self.reason {
            "missing_token" => "no token was given",
            "malformed" => "the token is malformed",
            "too_large" => "the token is too large",
            "invalid_value" => "the token's value is not what this endpoint takes",
            "bad_signature" => "the token's signature is not valid",
            "key_revoked" => "the token was signed with a revoked key",
            "key_expired" => "the token was signed with a key that has expired",
            "purpose_mismatch" => "the token was issued for another purpose",
            "expired" => "the token has expired",
            "wrong_audience" => "the token was issued for another service",
            "not_yet_valid" => "the token is not valid yet",
            "wrong_issuer" => "the token was issued by an issuer this service does not trust",
            _ => "the token was refused",
        }
    }
}

/// The answer for a token a handler verified itself (from a body, say): the same status,
/// reason and words as the extractor's, so one reason has one status across a service.
impl From<&VerifyError> for TokenRejection {
    fn from(error: &VerifyError) -> Self {
        Self::from_error(error, false)
    }
}

impl std::fmt::Display for TokenRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message(), self.reason)
    }
}

impl std::error::Error for TokenRejection {}

impl IntoResponse for TokenRejection {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.message(), "reason": self.reason});
        let mut response = (
            self.status(),
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body.to_string(),
        )
            .into_response();
        if self.bearer && self.status() == StatusCode::UNAUTHORIZED {
            let challenge = if self.reason == Self::MISSING {
                HeaderValue::from_static("Bearer")
            } else {
                HeaderValue::from_static("Bearer error=\"invalid_token\"")
            };
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reason a verifier gives has its own words in the answer, except the two the
    /// answer hides behind `bad_signature`.
    #[test]
    fn every_reason_has_its_words() {
        for reason in VerifyError::REASONS {
            let rejection = TokenRejection {
                reason,
                bearer: false,
            };
            let hidden = matches!(reason, "unknown_key" | "alg_mismatch");
            assert_eq!(
                rejection.message() == "the token was refused",
                hidden,
                "{reason}"
            );
        }
    }
}
