//! What tokenring's test suites share (the library's, the CLI's, the example services'):
//! a real etcd on loopback ([`etcd`]), running a command and judging its exit and output
//! ([`process`]), what a test does when a program it needs is missing ([`missing`]), the
//! JOSE libraries nobody here wrote ([`jose_libraries`]) and a programmable HTTP server
//! ([`http_server`]).
//!
//! Not published. It does not depend on tokenring, so each suite builds its sources and
//! verifiers itself, with the features it is compiled with.

pub mod etcd;
pub mod http_server;
pub mod missing;
pub mod process;
pub mod jose_libraries;
