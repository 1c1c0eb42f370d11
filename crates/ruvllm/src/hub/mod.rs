//! The model hub: the compile-time catalog of RuvLTRA models.

pub mod cache;
pub mod download;
pub mod registry;
