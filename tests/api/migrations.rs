//! Migrations: up, down, up again leaves the same schema, on the backend under test.

use coffer::db::{self, Backend};
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::helpers::test_database;

#[derive(QueryableByName, PartialEq, Eq, Debug)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

fn schema(conn: &mut db::DbConn) -> Vec<Line> {
    let query = match conn {
        db::DbConn::Sqlite(_) => {
            "SELECT COALESCE(sql, name) AS line FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name != '__diesel_schema_migrations' ORDER BY name"
        }
        db::DbConn::Postgres(_) => {
            "SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable AS line FROM information_schema.columns WHERE table_schema = 'public' AND table_name != '__diesel_schema_migrations' ORDER BY table_name, column_name"
        }
    };
    diesel::sql_query(query).load(conn).unwrap()
}

#[test]
fn migrations_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let pg = test_database();
    let backend = match &pg {
        Some(p) => Backend::Postgres(p.url.clone()),
        None => Backend::Sqlite(dir.path().join("m.sqlite3").to_string_lossy().into_owned()),
    };
    let mut conn = db::establish(&backend).unwrap();
    assert!(!db::migrate(&mut conn).unwrap().is_empty());
    let first = schema(&mut conn);
    assert!(first.len() > 10);
    db::revert_all(&mut conn).unwrap();
    assert!(schema(&mut conn).is_empty());
    db::migrate(&mut conn).unwrap();
    assert_eq!(schema(&mut conn), first);
    assert!(
        db::migrate(&mut conn).unwrap().is_empty(),
        "nothing left to apply"
    );
}
