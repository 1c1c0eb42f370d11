//! The RuvLTRA runtime's model hub: compile-time registry and downloads.

#![deny(missing_docs)]

pub mod hub;
