//! Black-box tests over HTTP (and the CLI), one binary. Each test gets its own Coffer on a
//! random port, temporary storages and a fresh database (SQLite, or PostgreSQL when
//! `TEST_DATABASE_URL` is set).

#![allow(
    clippy::unwrap_used,
    reason = "test helpers unwrap: a failure is a test failure"
)]

mod admin;
mod admin_images;
mod admin_permissions;
mod admin_users;
mod api;
mod audit;
mod auth;
mod cli;
mod concurrent_writes;
mod download_memory;
mod downloads;
mod embed;
mod error_pages;
mod file_pages;
mod fuzz_findings;
mod helpers;
mod hidden_items;
mod memory;
mod migrations;
mod names;
mod openapi;
mod operations;
mod permissions;
mod pictures;
#[path = "../support/ports.rs"]
mod ports;
mod range_properties;
mod ranges;
mod reader_pages;
mod reader_uploads;
mod readers;
mod redirects;
mod relocation;
mod repair;
mod request_ids;
mod search_places;
mod shares;
mod slowloris;
mod stable_url;
mod throttle;
mod thumbnails;
mod trash;
mod traversal;
mod tree;
mod uploads_hardening;
mod versions;
mod zip_downloads;
