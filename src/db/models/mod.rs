//! Rows and the queries that read and write them. Model functions return `DbError`, never
//! HTTP types; callers run them through `db::run`.

pub mod file;
pub mod folder;
pub mod generation;
pub mod group;
pub mod image;
pub mod journal;
pub mod login_failure;
pub mod permission;
pub mod session;
pub mod thumbnail;
pub mod thumbnail_failure;
pub mod token;
pub mod user;

pub use file::{File, NewFile};
pub use folder::Folder;
pub use group::Group;
pub use image::ImageMeta;
pub use permission::PermissionRow;
pub use session::Session;
pub use thumbnail::Thumbnail;
pub use token::ApiToken;
pub use user::User;
