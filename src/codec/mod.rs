//! Token wire formats. `native` is tokenring's own v1 format (docs/FORMAT.md); the Rails
//! formats join it behind the `rails` feature.

pub(crate) mod native;
