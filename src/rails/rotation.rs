//! Rails 7.1+'s rotation, shared by the verifier and the encryptor: the configurations in
//! turn, a later one tried only when the earlier ones do not recognise the message (a
//! signature that does not match, a ciphertext that does not decrypt). A message one of them
//! recognises but refuses — expired, for another purpose — is final.

use std::time::SystemTime;

use super::error::{RailsError, ShapeProblem};
use super::message_verifier::RailsVerified;

/// What opening a message with one configuration gave: `Err` if the configuration does not
/// recognise it; otherwise the final verdict on its contents.
pub(super) type Opened<T> = Result<Result<(T, Option<SystemTime>), RailsError>, RailsError>;

/// Checks `message`'s size and surroundings, then opens it with each configuration in turn.
/// The primary's error (`unrecognised` when there is none) if no configuration recognised it.
pub(super) fn open_with_each<C, T>(
    configs: &[C],
    message: &str,
    max_len: usize,
    unrecognised: RailsError,
    open: impl Fn(&C) -> Opened<T>,
) -> Result<RailsVerified<T>, RailsError> {
    if message.len() > max_len {
        return Err(RailsError::TooLarge {
            len: message.len(),
            max: max_len,
        });
    }
    // Named before any configuration is tried: each would refuse it for its shape.
    if crate::codec::has_surrounding_whitespace(message.as_bytes()) {
        return Err(RailsError::Malformed(ShapeProblem::Whitespace));
    }
    let mut first_error = None;
    for (index, config) in configs.iter().enumerate() {
        match open(config) {
            Ok(verdict) => {
                let (value, expires_at) = verdict?;
                return Ok(RailsVerified {
                    value,
                    config: index,
                    expires_at,
                });
            }
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or(unrecognised))
}
