//! Token wire formats. `native` is tokenring's own v1 format (docs/FORMAT.md), both ways:
//! splitting and checking a token, and assembling one. (The Rails formats live in
//! `crate::rails`, behind the `rails` feature.)

pub(crate) mod native;
