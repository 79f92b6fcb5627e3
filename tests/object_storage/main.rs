//! Coffer with its four storages in an S3-compatible bucket: a real SeaweedFS on loopback
//! (`tests/support/seaweedfs.rs`), SQLite or PostgreSQL (`TEST_DATABASE_URL`). Uploads,
//! checked downloads streamed from the bucket (Range, conditions), the "Permissions
//! disabled" toggle moving objects and thumbnails between prefixes, the `s3-redirect`
//! backend, `nginx-s3` behind a real nginx with the configuration `coffer nginx-config`
//! prints, public objects streamed at their base URL, and what the engine refuses. Built with `--features s3-tests`; a missing engine or nginx fails the suite.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers unwrap: a failure is a test failure"
)]

mod cases;
#[allow(dead_code, reason = "shared with the api suite, which uses all of it")]
#[path = "../api/helpers.rs"]
mod helpers;
#[path = "../support/ports.rs"]
mod ports;
use helpers::storage_mode::seaweedfs;
#[allow(
    dead_code,
    reason = "shared with the servers suite, which uses all of it"
)]
#[path = "../servers/web.rs"]
mod web;
