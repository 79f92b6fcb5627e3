//! Quoting paths for the configuration languages. nginx's double-quoted strings take `\"`
//! and `\\` escapes; the other servers keep backslashes, so there quotes and backslashes
//! are refused. Characters a server would interpret inside quotes (nginx and Apache
//! variables, Caddy placeholders, Apache wildcards) have no escape and are refused too.

use super::GenerateError;

fn check(
    server: &'static str,
    what: &str,
    value: &str,
    forbidden: &[char],
    why: &'static str,
) -> Result<(), GenerateError> {
    if value.chars().any(|c| c.is_control()) {
        return Err(GenerateError::Unrepresentable {
            server,
            what: what.to_owned(),
            value: value.to_owned(),
            why: "it contains control characters",
        });
    }
    if value.contains(forbidden) {
        return Err(GenerateError::Unrepresentable {
            server,
            what: what.to_owned(),
            value: value.to_owned(),
            why,
        });
    }
    Ok(())
}

fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// An nginx string (`$` would start a variable and cannot be escaped).
pub fn nginx(what: &str, value: &str) -> Result<String, GenerateError> {
    check(
        "nginx",
        what,
        value,
        &['$'],
        "nginx would read `$` as a variable",
    )?;
    Ok(escaped(value))
}

/// Apache, lighttpd and Caddy keep backslashes inside quotes (only `\"` is an escape
/// there), so values with quotes or backslashes are refused rather than half-escaped.
fn plain(value: &str) -> String {
    format!("\"{value}\"")
}

/// An Apache string (`${` would start a variable).
pub fn apache(what: &str, value: &str) -> Result<String, GenerateError> {
    check(
        "Apache",
        what,
        value,
        &['"', '\\'],
        "quotes and backslashes cannot be written safely",
    )?;
    if value.contains("${") {
        return Err(GenerateError::Unrepresentable {
            server: "Apache",
            what: what.to_owned(),
            value: value.to_owned(),
            why: "Apache would read `${` as a variable",
        });
    }
    Ok(plain(value))
}

/// An Apache directory (`*`, `?` and `[` are wildcards in `<Directory>`).
pub fn apache_dir(what: &str, value: &str) -> Result<String, GenerateError> {
    check(
        "Apache",
        what,
        value,
        &['*', '?', '[', ']'],
        "Apache would read `*`, `?` or `[` in a <Directory> as a wildcard",
    )?;
    apache(what, value)
}

/// A lighttpd string.
pub fn lighttpd(what: &str, value: &str) -> Result<String, GenerateError> {
    check(
        "lighttpd",
        what,
        value,
        &['"', '\\'],
        "quotes and backslashes cannot be written safely",
    )?;
    Ok(plain(value))
}

/// A Caddyfile token (`{` and `}` would start a placeholder).
pub fn caddy(what: &str, value: &str) -> Result<String, GenerateError> {
    check(
        "Caddy",
        what,
        value,
        &['{', '}', '"', '\\'],
        "Caddy would read `{` and `}` as a placeholder, and quotes and backslashes cannot be written safely",
    )?;
    Ok(plain(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_escape_and_refuse() {
        assert_eq!(
            nginx("dir", "/srv/a \"b\"\\c é/").unwrap(),
            "\"/srv/a \\\"b\\\"\\\\c é/\""
        );
        assert!(nginx("dir", "/srv/$x/").is_err());
        assert!(apache_dir("dir", "/srv/a*/").is_err());
        assert!(apache("dir", "/srv/${HOME}/").is_err());
        assert_eq!(
            apache("dir", "/srv/a b 100% é/").unwrap(),
            "\"/srv/a b 100% é/\""
        );
        assert!(caddy("dir", "/srv/{x}/").is_err());
        assert!(lighttpd("dir", "/srv/a\nb/").is_err());
        assert!(
            nginx("dir", "/srv/$x/")
                .unwrap_err()
                .to_string()
                .contains("dir \"/srv/$x/\"")
        );
    }
}
