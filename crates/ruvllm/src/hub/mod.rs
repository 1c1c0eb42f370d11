//! The model hub: the compile-time catalog of RuvLTRA models.

pub mod registry;
