//! Values an attacker can send, parsed once into types that hold their rules: ids
//! ([`ids::FileId`], [`ids::FolderId`], [`ids::UserId`], [`ids::GroupId`]), item names
//! ([`name::ItemName`]), usernames and e-mail addresses ([`account::Username`],
//! [`account::Email`]), free text beside an item ([`text::TextRule`]), an image's focal
//! point ([`focal::FocalPoint`]) and the local path a log-in may return to
//! ([`next::local_path`]).
//! Pure functions, no database and no HTTP.

pub mod account;
pub mod focal;
pub mod ids;
pub mod name;
pub mod next;
pub mod text;
