//! Accounts made straight in the database, all with the same password.

use coffer::db;
use coffer::state::AppState;

/// The password of every account the tests create.
pub const PASSWORD: &str = "correct horse battery";

/// Creates an active user (a superuser, staff too, or a plain user); returns its id.
pub async fn create_user_in_db(state: &AppState, name: &str, superuser: bool) -> i64 {
    let hash = state.passwords.hash(PASSWORD).unwrap();
    let name = name.to_owned();
    db::run(&state.pool, move |conn| {
        coffer::db::models::user::create(
            conn,
            &coffer::db::models::user::NewUser {
                username: name,
                email: String::new(),
                password_hash: hash,
                is_active: true,
                is_staff: superuser,
                is_superuser: superuser,
            },
        )
    })
    .await
    .unwrap()
}
