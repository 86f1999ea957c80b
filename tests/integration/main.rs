//! tokenring's integration tests through the public API: one binary, a module per concern.
//! (`reload_drop.rs` is a binary of its own: it counts the process's threads, which tests
//! running beside it would change. The CLI's tests are in `cli/`, the example services'
//! end-to-end tests in `examples/`.)

#[path = "../common/mod.rs"]
mod common;

#[cfg(feature = "etcd")]
mod etcd;
#[cfg(feature = "hot")]
mod http_source;
#[cfg(feature = "jose")]
mod jose;
#[cfg(feature = "jwks")]
mod jwks_source;
#[cfg(feature = "jose")]
mod jwt;
#[cfg(feature = "jwks")]
mod oidc;
mod keyring;
#[cfg(feature = "jose")]
mod public_keyring;
#[cfg(feature = "rails")]
mod rails_corners;
#[cfg(feature = "rails")]
mod rails_encrypted;
#[cfg(feature = "rails")]
mod rails_errors;
#[cfg(feature = "rails")]
mod rails_live;
#[cfg(feature = "rails")]
mod rails_ruby;
#[cfg(feature = "rails")]
mod rails_vectors;
mod record;
#[cfg(feature = "hot")]
mod reload;
mod roundtrip;
mod tamper;
#[cfg(all(feature = "metrics", feature = "hot"))]
mod telemetry;
mod vectors;
mod verifier;
