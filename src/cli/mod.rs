//! The command line: `coffer serve | migrate | createsuperuser | changepassword | token |
//! import | check | print-config | nginx-config | apache-config | lighttpd-config |
//! caddy-config | doctor | thumbnails | openapi | storage migrate`. Every command takes `--data-dir` and
//! `--config`.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::config::{Overrides, Settings};
use crate::db::models::user;
use crate::deploy;
use crate::library::recover;
use crate::library::{check, import};
use crate::startup::{Application, bootstrap, ensure_first_admin, start_repairs};

mod args;

pub use args::{
    Cli, Command, GlobalArgs, SiteArgs, StorageCommand, ThumbnailsCommand, TokenCommand,
    TrashCommand,
};

fn settings(global: &GlobalArgs, bind: Option<String>) -> anyhow::Result<Settings> {
    Ok(Settings::load(&Overrides {
        config_file: global.config.clone(),
        data_dir: global.data_dir.clone(),
        bind,
    })?)
}

/// `coffer storage migrate`.
fn storage_migrate(
    global: &GlobalArgs,
    from: &std::path::Path,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    use crate::storage::{Storages, migrate};
    let current = settings(global, None)?;
    current.prepare_directories()?;
    let old = Settings::load_file(from).with_context(|| format!("reading {}", from.display()))?;
    let source = Storages::open(&old)
        .with_context(|| format!("opening the storages of {}", from.display()))?;
    let target = Storages::open(&current).context("opening the current storages")?;
    let total: usize = migrate::inventory(&source)?
        .iter()
        .map(|(_, keys)| keys.len())
        .sum();
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {pos}/{len} objects [{bar:40}] {bytes_per_sec} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let summary = migrate::migrate(&source, &target, dry_run, |step| {
        bar.inc(1);
        bar.set_message(format!("{}: {}", step.role.as_str(), step.key));
        if let migrate::Outcome::Failed(why) = &step.outcome {
            bar.println(format!("FAILED {} {}: {why}", step.role.as_str(), step.key));
        }
    })?;
    bar.finish_and_clear();
    let size = |b: u64| bytesize::ByteSize::b(b).to_string();
    if dry_run {
        println!(
            "would copy {} object(s) ({}); {} already there with the same bytes; {} cannot be copied",
            summary.would_copy,
            size(summary.would_copy_bytes),
            summary.present,
            summary.failed.len()
        );
    } else {
        println!(
            "copied {} object(s) ({}), each checked against its source's SHA-256; {} already there with the same bytes; {} failed",
            summary.copied,
            size(summary.copied_bytes),
            summary.present,
            summary.failed.len()
        );
    }
    for (role, key, why) in &summary.failed {
        println!("  {}: {key}: {why}", role.as_str());
    }
    Ok(if summary.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password("Password: ")?;
    let again = rpassword::prompt_password("Password (again): ")?;
    if first != again {
        bail!("the passwords do not match");
    }
    Ok(first)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { bind } => {
            let state = bootstrap(settings(&cli.global, bind)?)?;
            let _repairs = start_repairs(&state, crate::db::models::journal::LEASE)?;
            if let Some(password) = ensure_first_admin(&state)? {
                println!("Created the superuser \"admin\" with password: {password}");
                println!("(shown only this once; change it with `coffer changepassword admin`)");
            }
            let addr = state.settings.bind;
            let stopping = state.clone();
            actix_web::rt::System::new().block_on(async move {
                let app = Application::build(state, None)?;
                tracing::info!("Coffer listening on http://{addr}/");
                app.run_until_stopped().await?;
                Ok::<_, anyhow::Error>(())
            })?;
            crate::startup::stopped(&stopping);
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let s = settings(&cli.global, None)?;
            s.prepare_directories()?;
            let pool = crate::db::pool(&s.database, 1)?;
            let mut conn = pool.get()?;
            let applied = crate::db::migrate(&mut conn)?;
            println!("{} migration(s) applied", applied.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Createsuperuser {
            username,
            email,
            password_stdin,
        } => {
            let state = bootstrap(settings(&cli.global, None)?)?;
            let account = crate::accounts::NewAccount {
                email: crate::domain::account::Email::parse_optional(&email)?,
                ..crate::accounts::NewAccount::superuser(crate::domain::account::Username::parse(
                    &username,
                )?)
            };
            let password = read_password(password_stdin)?;
            let mut conn = state.pool.get()?;
            let id =
                crate::accounts::create_account(&mut conn, &state.passwords, &account, &password)?;
            println!("superuser created (id {id})");
            Ok(ExitCode::SUCCESS)
        }
        Command::Changepassword {
            username,
            password_stdin,
        } => {
            let state = bootstrap(settings(&cli.global, None)?)?;
            let mut conn = state.pool.get()?;
            let password = read_password(password_stdin)?;
            crate::accounts::reset_password(&mut conn, &state.passwords, &username, &password)?;
            println!("password changed; the user's sessions were ended");
            Ok(ExitCode::SUCCESS)
        }
        Command::Unlock { username, address } => {
            let state = bootstrap(settings(&cli.global, None)?)?;
            let mut conn = state.pool.get()?;
            let cleared =
                crate::auth::throttle::unlock(&mut conn, username.as_deref(), address.as_deref())?;
            let mut whom = String::new();
            if let Some(u) = &username {
                whom.push_str(&format!(" for username {u:?}"));
            }
            if let Some(a) = &address {
                whom.push_str(&format!(" from address {a:?}"));
            }
            println!("cleared {cleared} failed log-in(s){whom}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            command: TokenCommand::Create { username, name },
        } => {
            let state = bootstrap(settings(&cli.global, None)?)?;
            let mut conn = state.pool.get()?;
            let secret = crate::accounts::issue_token_for(&mut conn, &username, &name)?;
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            dir,
            folder,
            owner,
            public,
        } => {
            let state = bootstrap(settings(&cli.global, None)?)?;
            let mut conn = state.pool.get()?;
            let u = match owner {
                Some(name) => user::find_by_username(&mut conn, &name)?
                    .with_context(|| format!("no user {name:?}"))?,
                None => user::list(&mut conn)?
                    .into_iter()
                    .find(|u| u.is_superuser && u.is_active)
                    .context("no active superuser to own the import; pass --owner")?,
            };
            drop(conn);
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let report = actix_web::rt::System::new().block_on(async {
                import::import(
                    &state.library,
                    &u,
                    &dir,
                    folder,
                    public.then_some(true),
                    |event| match event {
                        import::Event::Total(n) => bar.set_length(n),
                        import::Event::File(path, outcome) => {
                            if let import::Outcome::Failed(why) = outcome {
                                bar.println(format!("failed: {}: {why}", path.display()));
                            }
                            bar.inc(1);
                        }
                    },
                )
                .await
            })?;
            bar.finish_and_clear();
            if state.library.thumbnails.backlog() > 0 {
                eprintln!("making thumbnails of the imported images…");
                state.library.thumbnails.wait_idle();
            }
            println!(
                "{} file(s) imported, {} skipped (already there), {} failed; {} folder(s) created",
                report.imported, report.skipped, report.failed, report.folders_created
            );
            Ok(if report.failed > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Check { repair } => {
            let state = bootstrap(settings(&cli.global, None)?)?;
            let mut conn = state.pool.get()?;
            if repair {
                let done = recover::recover(&state.library.storages, &mut conn)?;
                if done != recover::Recovered::default() {
                    println!(
                        "repaired interrupted work: {} move(s) finished, {} rolled back, {} scheduled deletion(s), {} abandoned upload(s), {} abandoned multipart upload(s)",
                        done.moves_completed,
                        done.moves_rolled_back,
                        done.objects_deleted,
                        done.temp_files_removed,
                        done.multipart_aborted
                    );
                }
            }
            let findings = check::check(&state.library.storages, &mut conn)?;
            for f in &findings {
                println!("{f}");
            }
            if findings.is_empty() {
                println!("ok: every row has its bytes and every object has its row");
                return Ok(ExitCode::SUCCESS);
            }
            if repair {
                let moved = crate::library::tree::repair(&mut conn)?;
                if !moved.is_empty() {
                    println!("moved {} folder(s) to the top level", moved.len());
                }
                let removed = check::repair(&state.library.storages, &mut conn, &findings)?;
                println!("removed {removed} orphan(s) and stray entries");
                let left = check::check(&state.library.storages, &mut conn)?;
                return Ok(if left.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                });
            }
            Ok(ExitCode::FAILURE)
        }
        Command::Thumbnails { command } => thumbnails_command(&cli.global, command),
        Command::Trash {
            command: TrashCommand::Purge { older_than_days },
        } => {
            let state = bootstrap(settings(&cli.global, None)?)?;
            let days = older_than_days.unwrap_or(state.library.settings.trash_retention_days);
            let mut conn = state.pool.get()?;
            let n = crate::library::trash::purge_expired(&state.library, &mut conn, days)?;
            println!("purged {n} item(s) from the trash");
            Ok(ExitCode::SUCCESS)
        }
        Command::Openapi => {
            print!("{}", crate::web::api::openapi::document_json());
            Ok(ExitCode::SUCCESS)
        }
        Command::Storage {
            command: StorageCommand::Migrate { from, dry_run },
        } => storage_migrate(&cli.global, &from, dry_run),
        Command::PrintConfig => {
            print!("{}", settings(&cli.global, None)?.redacted_toml());
            Ok(ExitCode::SUCCESS)
        }
        Command::NginxConfig { site, upstreams } => {
            server_config(&cli.global, &site, &upstreams, deploy::Server::Nginx)
        }
        Command::ApacheConfig(site) => {
            server_config(&cli.global, &site, &[], deploy::Server::Apache)
        }
        Command::LighttpdConfig(site) => {
            server_config(&cli.global, &site, &[], deploy::Server::Lighttpd)
        }
        Command::CaddyConfig(site) => server_config(&cli.global, &site, &[], deploy::Server::Caddy),
        Command::Doctor { url, username } => {
            let s = settings(&cli.global, None)?;
            let lines = actix_web::rt::System::new().block_on(deploy::doctor::run(
                s,
                &deploy::doctor::Options { url, username },
            ))?;
            let failed = lines.iter().filter(|l| !l.ok).count();
            if failed == 0 {
                println!("all {} checks passed", lines.len());
                Ok(ExitCode::SUCCESS)
            } else {
                println!("{failed} of {} checks failed", lines.len());
                Ok(ExitCode::FAILURE)
            }
        }
    }
}

/// Prints a generated web-server configuration; warnings go to standard error.
fn server_config(
    global: &GlobalArgs,
    site: &SiteArgs,
    upstreams: &[String],
    server: deploy::Server,
) -> anyhow::Result<ExitCode> {
    let s = settings(global, None)?;
    let site =
        deploy::Site::parse(&site.listen, site.server_name.clone())?.with_upstreams(upstreams)?;
    let (text, warnings) = deploy::render(server, &s, &site)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn thumbnails_command(global: &GlobalArgs, command: ThumbnailsCommand) -> anyhow::Result<ExitCode> {
    use crate::library::thumbnails;
    let state = bootstrap(settings(global, None)?)?;
    match command {
        ThumbnailsCommand::Generate { folder, preset } => {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} images {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let report = crate::library::image_files::generate_thumbnails(
                &state.library,
                folder,
                preset.as_deref(),
                |event| match event {
                    thumbnails::Progress::Total(n) => bar.set_length(n),
                    thumbnails::Progress::File(id, name, failure) => {
                        if let Some(why) = failure {
                            let line = format!("failed: file {id} ({name}): {why}");
                            // A hidden bar (not a terminal) prints nothing: say it plainly.
                            if bar.is_hidden() {
                                eprintln!("{line}");
                            } else {
                                bar.println(line);
                            }
                        }
                        bar.inc(1);
                    }
                },
            )?;
            bar.finish_and_clear();
            println!(
                "{} image(s) checked, {} thumbnail(s) made, {} image(s) failed",
                report.files,
                report.made,
                report.failed.len()
            );
            Ok(if report.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        ThumbnailsCommand::Clear => {
            let mut conn = state.pool.get()?;
            let n = thumbnails::clear_all(&state.library.thumbnails, &mut conn)?;
            println!("{n} thumbnail(s) deleted");
            Ok(ExitCode::SUCCESS)
        }
    }
}
