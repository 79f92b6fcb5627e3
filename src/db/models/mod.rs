//! Rows and the queries that read and write them. Model functions return `DbError`, never
//! HTTP types; callers run them through `db::run`.

pub mod audit;
pub mod file;
pub mod folder;
pub mod generation;
pub mod group;
pub mod image;
pub mod journal;
pub mod login_failure;
pub mod permission;
pub mod session;
pub mod share;
pub mod thumbnail;
pub mod thumbnail_failure;
pub mod token;
pub mod trash;
pub mod usage;
pub mod user;
pub mod version;

pub use file::{File, NewFile};
pub use folder::Folder;
pub use group::Group;
pub use image::ImageMeta;
pub use permission::PermissionRow;
pub use session::Session;
pub use thumbnail::Thumbnail;
pub use token::ApiToken;
pub use user::User;

/// `SUM(column)` of a byte count as a `BIGINT`, 0 over no rows, on both backends
/// (PostgreSQL's `SUM(bigint)` is a `NUMERIC`). `column` is a constant of the caller's.
pub(crate) fn sum_bytes(
    column: &'static str,
) -> diesel::expression::SqlLiteral<diesel::sql_types::BigInt> {
    diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
        "CAST(COALESCE(SUM({column}), 0) AS BIGINT)"
    ))
}
