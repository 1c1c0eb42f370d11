//! The RuvLTRA runtime's model hub: compile-time registry and downloads.
