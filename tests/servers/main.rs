//! Coffer behind real web servers on loopback: nginx, Apache (mod_xsendfile), lighttpd and
//! Caddy, each started by the test with the configuration `coffer <server>-config` prints.
//! A missing server binary fails the test (`.ci/run` installs them); nothing is skipped. Built
//! with `--features web-server-tests`.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers unwrap: a failure is a test failure"
)]

mod doctor;
mod generators;
mod helpers;
#[path = "../support/ports.rs"]
mod ports;
mod scenarios;
mod web;
