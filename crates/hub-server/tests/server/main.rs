//! The server over real HTTP, by topic: what the Python suites cannot show (restarts,
//! interrupted uploads, serialised commits, fault injection, payload validation, auth and URL
//! handling, the card checks, branch and tag names, the Hub's edges, the Xet CAS).

mod fixture;
mod xet_fixture;

mod access;
mod cards;
mod commits;
mod downloads;
mod edges;
mod faults;
mod lifecycle;
mod refs;
mod uploads;
mod xet_cas;
mod xet_reads;
mod xet_store;
