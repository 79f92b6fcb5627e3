//! What a download link reaches: its file, or a folder's tree as its visitor sees it.

use super::{Kind, Opened};
use crate::db::DbConn;
use crate::db::models::{File, Folder, file, folder};
use crate::library::access::Target;
use crate::library::{Error, Library, Result, audit, image_files};
use crate::permissions::Right;

/// The file a download link gives: the shared file, or (`file_id`) a file in the shared
/// folder's tree that the creator may read.
pub fn file_of(
    lib: &Library,
    conn: &mut DbConn,
    opened: &Opened,
    file_id: Option<i64>,
) -> Result<File> {
    if opened.kind != Kind::Download {
        return Err(Error::NotFound);
    }
    match (&opened.file, &opened.folder, file_id) {
        (Some(f), _, None) => Ok(f.clone()),
        (None, Some(root), Some(id)) => {
            let f = file::find(conn, id)?.ok_or(Error::NotFound)?;
            let access = lib.access(conn, Some(&opened.creator))?;
            let inside = f.folder_id.is_some_and(|fid| {
                fid == root.id || access.tree().descendants(root.id).contains(&fid)
            });
            if inside && access.can(Right::Read, &f) {
                Ok(f)
            } else {
                Err(Error::NotFound)
            }
        }
        _ => Err(Error::NotFound),
    }
}

/// The file `id` through a download link: a file link's own file (any other id is not
/// there), or a file of a folder link's tree that the creator may read now.
pub fn file_by_id(lib: &Library, conn: &mut DbConn, opened: &Opened, id: i64) -> Result<File> {
    match &opened.file {
        Some(f) if f.id != id => Err(Error::NotFound),
        Some(_) => file_of(lib, conn, opened, None),
        None => file_of(lib, conn, opened, Some(id)),
    }
}

/// A download file link's file, as opened with the link (no query).
pub fn link_file(opened: &Opened) -> Option<&File> {
    match opened.kind {
        Kind::Download => opened.file.as_ref(),
        Kind::Upload => None,
    }
}

/// [`file_of`], or the private file asked for that the link does not reach (now), for the
/// download audit to record the refusal (`None`: nothing to name).
pub fn file_or_refusal(
    lib: &Library,
    conn: &mut DbConn,
    opened: &Opened,
    file_id: Option<i64>,
) -> Result<std::result::Result<File, Option<audit::Subject>>> {
    match file_of(lib, conn, opened, file_id) {
        Ok(f) => Ok(Ok(f)),
        Err(Error::NotFound) => Ok(Err(match file_id {
            Some(id) => audit::subject_of(conn, id)?,
            None => None,
        })),
        Err(e) => Err(e),
    }
}

/// A folder of a download link's tree, as its visitor sees it.
#[derive(Clone, Debug)]
pub struct Listing {
    pub folder: Folder,
    /// Between the shared folder and this one (both excluded): (id, name).
    pub crumbs: Vec<(i64, String)>,
    pub folders: Vec<Folder>,
    pub files: Vec<File>,
    /// How each file shows: thumbnail or type icon (by file id).
    pub looks: std::collections::HashMap<i64, image_files::Look>,
}

/// The shared folder (`None`) or one of its subfolders, with what the creator may read in
/// it.
pub fn listing(
    lib: &Library,
    conn: &mut DbConn,
    opened: &Opened,
    folder_id: Option<i64>,
) -> Result<Listing> {
    let (Kind::Download, Some(root)) = (opened.kind, &opened.folder) else {
        return Err(Error::NotFound);
    };
    let access = lib.access(conn, Some(&opened.creator))?;
    let id = folder_id.unwrap_or(root.id);
    if id != root.id && !access.tree().descendants(root.id).contains(&id) {
        return Err(Error::NotFound);
    }
    let here = folder::find(conn, id)?.ok_or(Error::NotFound)?;
    if !access.can(Right::Read, Target::Folder(id)) {
        return Err(Error::NotFound);
    }
    let mut crumbs = Vec::new();
    if id != root.id {
        let mut path = access.tree().ancestors(id);
        // Below the shared folder only (it is the first step of every path).
        let start = path.iter().position(|a| *a == root.id).map_or(0, |i| i + 1);
        path.drain(..start);
        for f in folder::find_many(conn, &path)? {
            crumbs.push((f.id, f.name));
        }
        crumbs.sort_by_key(|(fid, _)| path.iter().position(|p| p == fid));
    }
    let folders = folder::children(conn, Some(id))?
        .into_iter()
        .filter(|f| access.can(Right::Read, Target::Folder(f.id)))
        .collect();
    let files: Vec<File> = file::in_folder(conn, Some(id), None)?
        .into_iter()
        .filter(|f| access.can(Right::Read, f))
        .collect();
    let looks = image_files::looks(conn, &files)?;
    Ok(Listing {
        folder: here,
        crumbs,
        folders,
        files,
        looks,
    })
}

/// How a file link's file shows on its page: a preview, or its type icon.
pub fn look_of(conn: &mut DbConn, opened: &Opened) -> Result<Option<image_files::Look>> {
    let Some(f) = &opened.file else {
        return Ok(None);
    };
    let mut looks = image_files::looks(conn, std::slice::from_ref(f))?;
    Ok(looks.remove(&f.id))
}
