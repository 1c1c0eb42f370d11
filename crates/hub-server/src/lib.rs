//! A Hugging Face Hub-compatible HTTP server backed by an on-disk store, so publishing,
//! syncing and downloading can be tested for real without reaching huggingface.co.
//!
//! It speaks the endpoints the official `huggingface_hub` client uses (see
//! `docs/HUB-PROTOCOL-NOTES.md#local-server`): whoami, repos, model info, tree, paths-info,
//! preupload, the LFS batch API with basic and multipart transfers, the NDJSON commit, refs,
//! tags, branches, commit history and `resolve` downloads with ranges; and Xet, the official
//! client's default with `hf_xet` installed: the token routes and the CAS on the same port
//! (`docs/XET-NOTES.md#the-local-cas`). Large files are stored in deduplicated xorbs whichever
//! way they arrive. Tests can inject faults per instance, the CAS routes included.
//!
//! ```no_run
//! use hub_server::{Action, Fault, HubServer, Match, ServerConfig};
//!
//! let server = HubServer::spawn(ServerConfig::new("/tmp/hub")).unwrap();
//! // HF_ENDPOINT = server.url(), token "hf_test_write".
//! server.faults().add(Fault::new(
//!     Match::any().method("PUT").path_contains("/lfs-upload/"),
//!     2,
//!     Action::Status(503),
//! ));
//! server.stop();
//! ```
//!
//! # Behaviour where the Hub is not public
//! * Auth: `write_tokens` may write every namespace; `read_tokens` read everything, private repos
//!   included; `guest_tokens` belong to another user and see private repos as 404
//!   `RepoNotFound`. Anonymous callers get 401 `RepoNotFound` for private repos, 401 for writes;
//!   read-only tokens get 403 for writes; unknown tokens get 401 everywhere except presigned URLs.
//! * Preupload says `lfs` when a `.gitattributes` `filter=lfs` pattern of the revision matches,
//!   when the size is over 10 MiB, or when the sample is binary (NUL byte or invalid UTF-8).
//! * Inline `file` entries over 10 MiB, or binary over 1,000,000 bytes, are refused with 400.
//! * Upload URLs are `/lfs-upload/{48 random hex}` (basic PUT), `.../part/{n}` (multipart, each
//!   answering an `ETag`) and `.../complete`; they live in memory, so a restart invalidates the
//!   ones in flight (clients ask the batch endpoint again). Objects are shared by all repos and
//!   kept when a repo is deleted. An object sent through LFS is chunked into xorbs (stored
//!   uncompressed) before it becomes visible; chunks already stored are not written again.
//! * Xet: CAS tokens are signed with a key in the data directory, name one repository and
//!   expire (`xet_token_ttl`); a reconstruction needs a token of a repository that references
//!   the file. Xorb URLs are `/xet-xorb/{hash}?expires=&signature=` and need no token. The
//!   `v2` routes, xorb grants and telemetry answer 404 (clients fall back). `xet: false`
//!   turns the protocol off (the LFS path only, as before Xet).
//! * With `lfs_redirect`, LFS downloads answer 302 to `/lfs-cdn/{sha256}/{name}?expires=&signature=`
//!   on a second port: another origin, so clients must drop the token there.
//! * Deleting `main` is 403; commit ids are sha1 of a git-like commit text, tree ids real git
//!   tree hashes of the manifest.
//! * Branch and tag names follow git's `check-ref-format`, plus no whitespace, no `refs/` prefix
//!   and no 40-hex name (it would read as a commit id), in both modes (`store/refs.rs`).
//! * Revisions resolve as a branch, a tag, a `refs/...` name, a full commit id, then an
//!   unambiguous commit-id prefix of 4 to 39 hex digits (git's shortest; either case). A ref
//!   always wins: a branch or tag named like a hex prefix (`cafe1234`, allowed since only
//!   40-hex names are refused) resolves to its own target, as in git; the commit it
//!   abbreviates stays reachable by a longer prefix. A prefix several commits share is 404
//!   `RevisionNotFound`, saying so (assumed: the Hub cannot resolve it either).
//! * Repo ids are case-insensitive, as on the Hub: `me/myrepo` reaches `Me/MyRepo`, answers
//!   show the stored case, and creating `me/myrepo` then is 409. An id without a namespace
//!   (`/api/models/gpt2`, `/gpt2/resolve/...`; the Hub redirects its legacy ones) and every
//!   per-repo path of a repo the caller cannot see answer `RepoNotFound` before anything else.
//! * Every answer carries `X-Request-Id` (the client's `X-Amzn-Trace-Id` when it sent one, else
//!   a new `Root=1-...` id); every Hub error carries `X-Error-Message` when its message is
//!   printable ASCII (a `HEAD` answer has no body to carry it).
//! * Settings: `private`/`visibility` and `gated` (`"auto"`, `"manual"`, `false`). A gated repo's
//!   info, tree and refs stay public; its files (resolve, LFS download batch) answer
//!   `GatedRepo` (401 anonymous, 403 guest tokens), write and read tokens being the owner's.
//! * Preupload's `shouldIgnore` follows the root `.gitignore`: the `gitIgnore` of the request
//!   (huggingface_hub sends the one its commit adds), else the revision's (`store/gitignore.rs`).
//! * A commit's `deletedFile` naming a folder deletes the folder; `create_pr` needs a branch as
//!   its base (404 `RevisionNotFound` for a tag or commit id); a tag's revision is checked
//!   before its name. Every commit of a new repo, the initial one included, is the creator's.
//! * Cards: a `README.md` without metadata gets a warning ("empty or missing yaml metadata"),
//!   and `license` must be one of the Hub's licence ids (`hub/yaml.rs`). Repo info carries
//!   `cardData` (and `library_name`, `pipeline_tag`, the card's `tags`, a Space's `sdk`) and
//!   honours `expand[]`: only `_id`, `id` and the fields asked for, 400 for a field the client
//!   does not know. A new Space (which needs an `sdk`) starts with a `README.md` naming it.
//! * **Deliberate difference:** paths with a backslash are refused (422 `InvalidPath`), where
//!   the Hub stores them: a client on Windows would write `\` as a folder separator (escaping
//!   its folder with `a\..\x`, or colliding `a\b` with `a/b`), so no client of this project can
//!   use such a file safely. Use `/` between folders.
//! * A ModelScope-compatible mode is served alongside, under `/api/v1` and `/openapi/v1` (paths
//!   the Hub never uses): see the `modelscope` module. Its models live in
//!   `{data_dir}/modelscope/`, on branch `master`, and it is checked with the official
//!   `modelscope` SDK.
//!
//! # Layout
//! The modules are layers that depend one way (ARCHITECTURE.md, checked by `tests/layers.rs`):
//! `server` → `routing` → `hub`, `modelscope` → `transfer` → `context` → `error` → `store`,
//! with `config` and `fault` at the bottom.

mod config;
mod context;
mod error;
mod fault;
mod hub;
mod modelscope;
mod routing;
mod server;
mod store;
mod transfer;

pub use config::{ServerConfig, ServerError};
pub use context::Stats;
pub use fault::{Action, Fault, Faults, Match};
pub use server::HubServer;
pub use store::{DEFAULT_GITATTRIBUTES, RepoKind, git_blob_id, lfs_pointer, verify_stored_objects};
