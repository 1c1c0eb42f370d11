//! The server over real HTTP, by topic: what the Python suites cannot show (restarts,
//! interrupted uploads, serialised commits, fault injection, payload validation, auth and URL
//! handling, the card checks, branch and tag names, the Hub's edges).

mod fixture;

mod access;
mod cards;
mod commits;
mod downloads;
mod edges;
mod faults;
mod lifecycle;
mod refs;
mod uploads;
