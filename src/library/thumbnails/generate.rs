//! `coffer thumbnails generate`: the missing thumbnails of every image, made in bulk.

use diesel::prelude::*;

use crate::db::DbError;
use crate::db::models::file::{self, File};
use crate::db::models::thumbnail;
use crate::images::{Format, Preset};

use super::{Ensured, Error, Mode, Result, Thumbnailer, ensure};

/// What `coffer thumbnails generate` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GenerateReport {
    pub files: usize,
    pub made: usize,
    pub failed: Vec<(i64, String, String)>,
}

/// Progress of [`generate`].
#[derive(Debug)]
pub enum Progress<'a> {
    Total(u64),
    /// One file done: its id, name and the failure reason if any.
    File(i64, &'a str, Option<&'a str>),
}

/// Makes the missing thumbnails of every image (in the `folders` given, or everywhere), for
/// every preset or the one named, with `concurrency` jobs at once. Failures recorded
/// earlier are tried again.
pub fn generate(
    thumbs: &Thumbnailer,
    folders: Option<&[i64]>,
    preset: Option<&str>,
    mut progress: impl FnMut(Progress<'_>) + Send,
) -> Result<GenerateReport> {
    let presets: Vec<Preset> = match preset {
        Some(name) => vec![
            thumbs
                .settings
                .preset(name)
                .cloned()
                .ok_or_else(|| Error::Invalid(format!("there is no preset {name:?}")))?,
        ],
        None => thumbs.settings.presets.clone(),
    };
    let mut conn = thumbs.pool.get().map_err(|e| Error::Db(DbError::Pool(e)))?;
    let candidates: Vec<File> = match folders {
        Some(ids) => file::in_folders(&mut conn, ids)?,
        None => {
            use crate::db::schema::images as images_table;
            let ids: Vec<i64> = images_table::table
                .select(images_table::file_id)
                .order(images_table::file_id.asc())
                .load(&mut conn)?;
            file::find_many(&mut conn, &ids)?
        }
    };
    let with_meta: std::collections::HashSet<i64> = {
        use crate::db::schema::images as images_table;
        let ids: Vec<i64> = candidates.iter().map(|f| f.id).collect();
        let mut set = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            set.extend(
                images_table::table
                    .filter(images_table::file_id.eq_any(chunk))
                    .select(images_table::file_id)
                    .load::<i64>(&mut conn)?,
            );
        }
        set
    };
    drop(conn);
    let mut todo: Vec<File> = candidates
        .into_iter()
        .filter(|f| with_meta.contains(&f.id) && Format::from_mime(&f.mime_type).is_some())
        .collect();
    todo.sort_by_key(|f| f.id);
    progress(Progress::Total(todo.len() as u64));
    let queue = std::sync::Mutex::new(todo.into_iter());
    let report = std::sync::Mutex::new(GenerateReport::default());
    let progress = std::sync::Mutex::new(progress);
    let workers = thumbs.settings.concurrency.max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let next = queue
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .next();
                    let Some(f) = next else { break };
                    let before = count_for(thumbs, f.id);
                    let outcome = ensure(thumbs, f.id, &presets, Mode::Command);
                    let reason = match outcome {
                        Ok(Ensured::Ready(_)) | Ok(Ensured::NotAnImage) => None,
                        Ok(Ensured::Failed(r)) => Some(r),
                        Err(e) => Some(e.to_string()),
                    };
                    let made = count_for(thumbs, f.id).saturating_sub(before);
                    {
                        let mut r = report
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        r.files += 1;
                        r.made += made;
                        if let Some(reason) = &reason {
                            r.failed.push((f.id, f.label().to_owned(), reason.clone()));
                        }
                    }
                    (progress
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner))(
                        Progress::File(f.id, f.label(), reason.as_deref()),
                    );
                }
            });
        }
    });
    let mut report = report
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    report.failed.sort();
    Ok(report)
}

fn count_for(thumbs: &Thumbnailer, file_id: i64) -> usize {
    thumbs
        .pool
        .get()
        .ok()
        .and_then(|mut c| thumbnail::for_file(&mut c, file_id).ok())
        .map_or(0, |t| t.len())
}
