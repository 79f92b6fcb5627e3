//! Coffer: a self-hosted file manager whose private files reach only people who may read
//! them. See `docs/ARCHITECTURE.md` for a tour.

pub mod access;
pub mod accounts;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod deploy;
pub mod domain;
pub mod images;
pub mod library;
pub mod memory;
pub mod permissions;
pub mod serve;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod web;
