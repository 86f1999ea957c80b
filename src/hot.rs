//! The parts of a hot-reloaded keyring besides [`HotKeyring`](crate::HotKeyring) itself: how
//! it is configured, how it watches, what it reports.

pub use crate::keyring::watch::{
    HotKeyringBuilder, KeyStatus, Loaded, ReloadEvent, Snapshot, Status, WatchMode,
};
