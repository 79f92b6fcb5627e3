//! A directory of uploads in progress: a local storage's `.tmp`, an object storage's
//! staging directory. Each file is locked (`flock`, exclusive) by the process writing it for
//! as long as that process keeps it open, so another process (`coffer check`, a starting
//! instance) tells a live upload from one a crash left behind: whatever lock it can take
//! belongs to nobody, and only such a file is reported or removed.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::StorageError;

/// Temporary files are named `upload-…`.
const PREFIX: &str = "upload-";

/// The temporary files of one storage.
#[derive(Clone, Debug)]
pub struct TempFiles {
    dir: PathBuf,
    /// Permission bits of a new file (before the process's umask).
    mode: u32,
}

impl TempFiles {
    /// The files in `dir` (created on first use), made with permission bits `mode`.
    pub fn new(dir: PathBuf, mode: u32) -> Self {
        Self { dir, mode }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A new temporary file, locked by this process until it is dropped (or, once persisted,
    /// until its handle is), removed when dropped unpersisted.
    pub fn create(&self) -> Result<tempfile::NamedTempFile, StorageError> {
        use rustix::fs::{FlockOperation, flock};
        fs::create_dir_all(&self.dir)?;
        loop {
            let temp = tempfile::Builder::new()
                .prefix(PREFIX)
                .permissions(fs::Permissions::from_mode(self.mode))
                .tempfile_in(&self.dir)?;
            // Blocks only while a cleaner that saw the new file first holds it.
            flock(temp.as_file(), FlockOperation::LockExclusive).map_err(io::Error::from)?;
            let ours = temp.as_file().metadata()?;
            // A cleaner that locked it first has unlinked it: make another one.
            match fs::symlink_metadata(temp.path()) {
                Ok(m) if m.dev() == ours.dev() && m.ino() == ours.ino() => return Ok(temp),
                _ => continue,
            }
        }
    }

    /// Names of the files no live process holds (left by a crash mid-upload), sorted.
    pub fn abandoned(&self) -> Result<Vec<String>, StorageError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StorageError::Io(e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry?;
            if !entry.file_type()?.is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if lock_if_free(&entry.path())?.is_some() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// Removes the file `name` if no live process holds it; true if removed.
    pub fn remove_abandoned(&self, name: &str) -> Result<bool, StorageError> {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Ok(false);
        }
        let path = self.dir.join(name);
        let Some(locked) = lock_if_free(&path)? else {
            return Ok(false);
        };
        // Still the file we locked (a new one could take a recycled name, in theory).
        let (a, b) = (locked.metadata()?, fs::symlink_metadata(&path)?);
        if a.dev() != b.dev() || a.ino() != b.ino() {
            return Ok(false);
        }
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StorageError::Io(e)),
        }
    }

    /// Removes every abandoned file; returns how many.
    pub fn clean(&self) -> Result<usize, StorageError> {
        let mut removed = 0;
        for name in self.abandoned()? {
            if self.remove_abandoned(&name)? {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Opens `path` (never through a link) and takes its lock if nobody holds it.
pub(super) fn lock_if_free(path: &Path) -> Result<Option<fs::File>, StorageError> {
    let file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StorageError::from_io(e)),
    };
    try_lock(file)
}

/// Takes `file`'s lock if nobody holds it.
pub(super) fn try_lock(file: fs::File) -> Result<Option<fs::File>, StorageError> {
    use rustix::fs::{FlockOperation, flock};
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Some(file)),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
        Err(e) => Err(StorageError::Io(e.into())),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn only_files_nobody_holds_are_abandoned_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let temps = TempFiles::new(dir.path().join("staging"), 0o600);
        assert_eq!(
            temps.abandoned().unwrap(),
            Vec::<String>::new(),
            "no directory yet"
        );
        let mut live = temps.create().unwrap();
        live.write_all(b"streaming").unwrap();
        let live_name = live
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(live_name.starts_with(PREFIX));
        // What a crash leaves: a file nobody holds.
        fs::write(temps.dir().join("upload-crashed"), b"half").unwrap();
        assert_eq!(temps.abandoned().unwrap(), ["upload-crashed"]);
        assert!(!temps.remove_abandoned(&live_name).unwrap(), "held");
        for name in ["", "../x", ".hidden", "a/b"] {
            assert!(!temps.remove_abandoned(name).unwrap(), "{name:?}");
        }
        assert_eq!(temps.clean().unwrap(), 1);
        assert!(!temps.dir().join("upload-crashed").exists());
        assert!(live.path().exists());
        let path = live.path().to_owned();
        drop(live);
        assert!(!path.exists(), "removed when dropped");
    }

    #[test]
    fn new_files_get_the_mode_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let temps = TempFiles::new(dir.path().to_owned(), 0o600);
        let f = temps.create().unwrap();
        assert_eq!(f.as_file().metadata().unwrap().mode() & 0o077, 0);
    }
}
