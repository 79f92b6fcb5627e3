//! What the API and the listings show of a file's images: its metadata and, per preset, the
//! thumbnail's URL once made or the URL that makes it.

use std::collections::BTreeMap;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::models::file::File;
use crate::db::models::image::ImageMeta;
use crate::db::models::thumbnail::{self, Thumbnail};
use crate::db::models::thumbnail_failure;
use crate::images::Format;
use crate::storage::StorageKey;

use super::{Result, Thumbnailer, spec_for};

/// A file's image metadata and thumbnails, as the API shows them.
#[derive(Clone, Debug, Default)]
pub struct Media {
    pub image: Option<ImageMeta>,
    /// Preset name → URL: the thumbnail's own URL once made, else the URL that makes it.
    pub thumbnails: BTreeMap<String, String>,
    /// Why the file has no thumbnails.
    pub failure: Option<String>,
}

/// The URL that makes (if needed) and redirects to a preset of a file.
pub fn deferred_url(file_id: i64, preset: &str) -> String {
    format!("/files/{file_id}/thumbnails/{preset}")
}

/// Where a recorded thumbnail is fetched.
pub fn thumbnail_url(thumbs: &Thumbnailer, f: &File, t: &Thumbnail) -> Option<String> {
    let key = StorageKey::parse(&t.storage_key).ok()?;
    Some(thumbs.storages.thumbnails(f.is_public).url(&key))
}

/// Image metadata and thumbnail URLs of many files (three queries).
pub fn media(
    thumbs: &Thumbnailer,
    conn: &mut DbConn,
    files: &[File],
) -> Result<std::collections::HashMap<i64, Media>> {
    use crate::db::schema::images as images_table;
    let ids: Vec<i64> = files.iter().map(|f| f.id).collect();
    let mut metas = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        for m in images_table::table
            .filter(images_table::file_id.eq_any(chunk))
            .select(ImageMeta::as_select())
            .load::<ImageMeta>(conn)?
        {
            metas.insert(m.file_id, m);
        }
    }
    let mut rows: std::collections::HashMap<(i64, String), Thumbnail> =
        thumbnail::for_files(conn, &ids)?
            .into_iter()
            .map(|t| ((t.file_id, t.spec.clone()), t))
            .collect();
    let failures: std::collections::HashMap<i64, String> =
        thumbnail_failure::for_files(conn, &ids)?
            .into_iter()
            .map(|f| (f.file_id, f.reason))
            .collect();
    let mut out = std::collections::HashMap::new();
    for f in files {
        let mut media = Media {
            image: metas.remove(&f.id),
            failure: failures.get(&f.id).cloned(),
            ..Media::default()
        };
        if let (Some(meta), None) = (&media.image, &media.failure)
            && Format::from_mime(&f.mime_type).is_some()
        {
            for preset in &thumbs.settings.presets {
                let key = spec_for(preset, meta).key();
                let url = rows
                    .remove(&(f.id, key))
                    .and_then(|t| thumbnail_url(thumbs, f, &t))
                    .unwrap_or_else(|| deferred_url(f.id, &preset.name));
                media.thumbnails.insert(preset.name.clone(), url);
            }
        }
        out.insert(f.id, media);
    }
    Ok(out)
}
