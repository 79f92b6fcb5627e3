//! What the command line accepts: the commands, their arguments and options (clap). What
//! each command does is `cli::run`. The names here are a contract: scripts call them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Coffer: a self-hosted file manager with permission-checked private downloads.
#[derive(Parser, Debug)]
#[command(name = "coffer", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Data directory (database and storages unless configured elsewhere).
    #[arg(long, global = true, env = "COFFER_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// TOML configuration file.
    #[arg(long, global = true, env = "COFFER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (migrates and repairs work whose owner is gone, at start and
    /// periodically; creates `admin` on first start).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8000.
        #[arg(long, env = "COFFER_BIND", value_name = "ADDR:PORT")]
        bind: Option<String>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Create a superuser.
    Createsuperuser {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "")]
        email: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (ends their sessions).
    Changepassword {
        /// The user whose password changes.
        username: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Clear failed log-ins (log-in throttling) of a username, an address or the pair.
    #[command(group(clap::ArgGroup::new("whom").required(true).multiple(true)))]
    Unlock {
        /// The username whose failures go (from every address, unless --address).
        #[arg(long, group = "whom")]
        username: Option<String>,
        /// The client address whose failures go (for every username, unless --username).
        #[arg(long, group = "whom")]
        address: Option<String>,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Import a directory tree as folders and files.
    Import {
        /// The directory to import; it becomes a folder of the same name.
        dir: PathBuf,
        /// Parent folder id (default: top level).
        #[arg(long, value_name = "ID")]
        folder: Option<i64>,
        /// Owner of the imported folders and files (default: the first superuser).
        #[arg(long, value_name = "USERNAME")]
        owner: Option<String>,
        /// Store the files publicly (default: the configured `is_public_default`).
        #[arg(long)]
        public: bool,
    },
    /// Compare the database with the storages: missing files, orphans, stray entries,
    /// interrupted moves and uploads.
    Check {
        /// Finish interrupted work whose owner is gone; remove orphans, stray entries and
        /// abandoned uploads (never an object a live move or upload uses); move folders
        /// caught in a cycle or whose parent is missing to the top level.
        #[arg(long)]
        repair: bool,
    },
    /// Print the effective configuration (secrets redacted).
    PrintConfig,
    /// Make or drop image thumbnails.
    Thumbnails {
        #[command(subcommand)]
        command: ThumbnailsCommand,
    },
    /// Empty the trash of old items.
    Trash {
        #[command(subcommand)]
        command: TrashCommand,
    },
    /// Print an nginx configuration (upstream, map, server block) for the current settings.
    NginxConfig {
        #[command(flatten)]
        site: SiteArgs,
        /// A Coffer instance behind nginx, HOST:PORT; repeat it for several instances
        /// (one round-robin upstream; default: this instance's `bind`).
        #[arg(long = "upstream", value_name = "HOST:PORT")]
        upstreams: Vec<String>,
    },
    /// Print an Apache <VirtualHost> (mod_proxy, mod_xsendfile) for the current settings.
    ApacheConfig(SiteArgs),
    /// Print a lighttpd configuration block for the current settings.
    LighttpdConfig(SiteArgs),
    /// Print a Caddyfile site block for the current settings.
    CaddyConfig(SiteArgs),
    /// Check a running site from outside: private files reach only authorised users.
    Doctor {
        /// The public URL of the site, e.g. https://files.example.org
        #[arg(long, value_name = "URL")]
        url: String,
        /// Download as this user (default: the first active superuser).
        #[arg(long, value_name = "USERNAME")]
        username: Option<String>,
    },
    /// Print the OpenAPI 3 document of the JSON API (the content of docs/openapi.json).
    Openapi,
    /// Work on the storages themselves.
    Storage {
        #[command(subcommand)]
        command: StorageCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum StorageCommand {
    /// Copy every object of the four storages OLD.toml describes into the storages of the
    /// current configuration, under the same keys, each copy checked against its source's
    /// SHA-256. An object already there with the same bytes is skipped (run it again after
    /// an interruption); one with other bytes is reported and left alone. The database does
    /// not change. Exit 1 if any object failed.
    Migrate {
        /// The configuration file of the storages to copy from.
        #[arg(long, value_name = "OLD.toml")]
        from: PathBuf,
        /// Only tell what would be copied.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TrashCommand {
    /// Delete permanently what was trashed longer ago than `trash.retention_days` (as
    /// `coffer serve` does by itself); prints how many items went.
    Purge {
        /// Another age limit, in days (0: everything in the trash).
        #[arg(long, value_name = "DAYS")]
        older_than_days: Option<u32>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ThumbnailsCommand {
    /// Make the missing thumbnails (retrying earlier failures); exit 1 if any file fails.
    Generate {
        /// Only images in this folder and its subfolders.
        #[arg(long, value_name = "ID")]
        folder: Option<i64>,
        /// Only this preset (default: every preset).
        #[arg(long, value_name = "NAME")]
        preset: Option<String>,
    },
    /// Delete every thumbnail and recorded failure (they are made again on demand).
    Clear,
}

/// Where a generated web-server configuration listens.
#[derive(Args, Debug)]
pub struct SiteArgs {
    /// PORT or ADDRESS:PORT the web server listens on.
    #[arg(long, default_value = "80", value_name = "[ADDRESS:]PORT")]
    pub listen: String,
    /// The site's host name (default: any).
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token; prints it alone on standard output.
    Create {
        #[arg(long)]
        username: String,
        /// A label for the token.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
