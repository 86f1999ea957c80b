//! Services built on tokenring the way a user would build them: `server` (a token service
//! with a hot-reloaded keyring) and `password_reset` (signed reset links on SQLite). Run them
//! with `cargo run --example server -- …` from the repository root; `tests/` drives them end to
//! end through key rotations.
