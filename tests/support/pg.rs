//! A PostgreSQL database created for one test and dropped with it, when `TEST_DATABASE_URL`
//! names a server (e.g. `postgres://postgres@127.0.0.1:5432/postgres`).

use coffer::db::{Backend, DbConn, establish};
use diesel::connection::SimpleConnection;

pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    fn create(admin_url: &str) -> Self {
        let name = format!("coffer_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = admin_connection(admin_url)
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is unreachable: {e}"));
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(admin_url);
        Self {
            admin_url: admin_url.to_owned(),
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgDatabase {
    /// Closes the database to new connections (a pool or a background job of the test's
    /// instance may still be reconnecting), ends the open ones, then drops it; retried,
    /// and loud when it still fails, so a leak never passes unnoticed.
    fn drop(&mut self) {
        let mut last_error = String::new();
        for attempt in 0..20 {
            if attempt > 0 {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            let result = admin_connection(&self.admin_url)
                .map_err(|e| e.to_string())
                .and_then(|mut conn| {
                    // Two statements: DROP DATABASE cannot run in the implicit
                    // transaction of a multi-statement query.
                    conn.batch_execute(&format!(
                        "ALTER DATABASE {} ALLOW_CONNECTIONS false",
                        self.name
                    ))
                    .and_then(|()| {
                        conn.batch_execute(&format!(
                            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                            self.name
                        ))
                    })
                    .map_err(|e| e.to_string())
                });
            match result {
                Ok(()) => return,
                Err(e) if e.contains("does not exist") => return,
                Err(e) => last_error = e,
            }
        }
        eprintln!(
            "could not drop the test database {}: {last_error}",
            self.name
        );
    }
}

/// A connection to the server's maintenance database, opened like Coffer opens its own
/// (the TLS library set up without an exit-time cleanup: the test binary exits while the
/// last test's pool may still be closing connections on other threads).
fn admin_connection(url: &str) -> diesel::ConnectionResult<DbConn> {
    establish(&Backend::Postgres(url.to_owned()))
}

/// A fresh PostgreSQL database for one test, or None to run on SQLite.
pub fn test_database() -> Option<PgDatabase> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| PgDatabase::create(&u))
}
