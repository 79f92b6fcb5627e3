//! A storage in a local directory. Every key is joined under the root after validation, and
//! every component between the root and the object is checked not to be a symbolic link.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::temp_files::{TempFiles, try_lock};
use super::{StorageError, StorageKey, StorageRole};

/// Directory (inside the root) for uploads in progress; hidden, so never a key.
const TMP_DIR: &str = ".tmp";

/// A storage rooted at a local directory.
#[derive(Clone, Debug)]
pub struct LocalStorage {
    root: PathBuf,
    /// The root, held open: objects are opened relative to it with `openat2`.
    root_dir: Arc<fs::File>,
    base_url: String,
    role: StorageRole,
    /// Uploads in progress, in `.tmp` under the root.
    temps: TempFiles,
}

/// How an object reached another storage (the source stays in both cases).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfer {
    /// Same filesystem: hard-linked into place (no bytes copied).
    Linked,
    /// Different filesystems: streamed, fsynced and hash-checked.
    Copied,
}

/// What a walk over a storage found.
#[derive(Debug, Default)]
pub struct WalkReport {
    /// Keys of regular files.
    pub keys: Vec<String>,
    /// Paths (relative to the root) that are symbolic links or carry names no key can have.
    pub foreign: Vec<String>,
}

impl LocalStorage {
    /// Opens a storage at `root` (which must exist) and creates its temporary directory.
    pub fn open(root: PathBuf, base_url: String, role: StorageRole) -> Result<Self, StorageError> {
        let root = root.canonicalize()?;
        let tmp = root.join(TMP_DIR);
        fs::create_dir_all(&tmp)?;
        if fs::symlink_metadata(&tmp)?.file_type().is_symlink() {
            return Err(StorageError::Symlink);
        }
        let root_dir = Arc::new(fs::File::open(&root)?);
        // Readable by the web server's group (see `temp_file`), through the umask.
        let temps = TempFiles::new(tmp, 0o666);
        Ok(Self {
            root,
            root_dir,
            base_url,
            role,
            temps,
        })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The base URL objects are reached at.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Which storage this is.
    pub fn role(&self) -> StorageRole {
        self.role
    }

    /// The path of `key` after checking that no existing component below the root is a
    /// symbolic link. The object itself need not exist.
    pub fn path(&self, key: &StorageKey) -> Result<PathBuf, StorageError> {
        let mut path = self.root.clone();
        for segment in key.as_str().split('/') {
            path.push(segment);
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => return Err(StorageError::Symlink),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // Nothing below a missing component can exist either.
                    return Ok(self.root.join(key.as_str()));
                }
                Err(e) => return Err(StorageError::Io(e)),
            }
        }
        Ok(path)
    }

    /// Whether the root is a directory this process may write into.
    pub fn check_reachable(&self) -> Result<(), StorageError> {
        let meta = fs::metadata(&self.root)?;
        if !meta.is_dir() {
            return Err(StorageError::Io(io::Error::other(format!(
                "{} is not a directory",
                self.root.display()
            ))));
        }
        rustix::fs::access(
            &self.root,
            rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
        )
        .map_err(|e| StorageError::Io(e.into()))
    }

    /// Opens an object for reading, never through a symbolic link and never outside the
    /// root. One `openat2` call (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) enforces both in the
    /// kernel; where that call is missing (Linux before 5.6) each component is checked.
    pub fn open_read(&self, key: &StorageKey) -> Result<fs::File, StorageError> {
        self.open_read_with_metadata(key).map(|(file, _)| file)
    }

    /// [`open_read`](Self::open_read), with the metadata read from the open descriptor by
    /// the same check that it is a regular file (one `statx` per download, not two).
    pub fn open_read_with_metadata(
        &self,
        key: &StorageKey,
    ) -> Result<(fs::File, fs::Metadata), StorageError> {
        use rustix::fs::{Mode, OFlags, ResolveFlags, openat2};
        match openat2(
            &*self.root_dir,
            key.as_str(),
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
        ) {
            Ok(fd) => {
                let file = fs::File::from(fd);
                let meta = file.metadata()?;
                if !meta.is_file() {
                    return Err(StorageError::NotFound);
                }
                return Ok((file, meta));
            }
            Err(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR) => {
                return Err(StorageError::NotFound);
            }
            Err(rustix::io::Errno::LOOP | rustix::io::Errno::XDEV) => {
                return Err(StorageError::Symlink);
            }
            Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => {} // no openat2: walk below
            Err(e) => return Err(StorageError::Io(e.into())),
        }
        let path = self.path(key)?;
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| {
                if e.raw_os_error() == Some(libc::ELOOP) {
                    StorageError::Symlink
                } else {
                    StorageError::from_io(e)
                }
            })?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(StorageError::NotFound);
        }
        Ok((file, meta))
    }

    /// Whether an object exists under `key`.
    pub fn exists(&self, key: &StorageKey) -> bool {
        self.path(key)
            .and_then(|p| Ok(fs::symlink_metadata(p)?))
            .is_ok_and(|m| m.is_file())
    }

    /// A new temporary file inside this storage (same filesystem as its objects). It is
    /// created with mode `0666` less the process umask, like any file Coffer writes, so a web
    /// server sharing Coffer's group can send it (public files, and private ones through an
    /// offload backend) when Coffer runs with e.g. `UMask=0027`.
    ///
    /// The file is locked (`flock`, exclusive) for as long as it is open, also after
    /// [`persist`](Self::persist) gave it its key: a temporary file whose lock can be taken
    /// belongs to no live process and is abandoned ([`TempFiles::clean`]), and an
    /// object still locked is an upload whose row is not committed yet.
    pub fn temp_file(&self) -> Result<tempfile::NamedTempFile, StorageError> {
        self.temps.create()
    }

    /// Moves a finished temporary file into place under `key`, never replacing an object.
    /// Returns the file, still open and locked: callers that record the object in the
    /// database keep it until the row is committed.
    pub fn persist(
        &self,
        temp: tempfile::NamedTempFile,
        key: &StorageKey,
    ) -> Result<fs::File, StorageError> {
        let path = self.path(key)?;
        let parent = self.create_parents(&path)?;
        let file = temp.persist_noclobber(&path).map_err(|e| {
            if e.error.kind() == io::ErrorKind::AlreadyExists {
                StorageError::AlreadyExists
            } else {
                StorageError::Io(e.error)
            }
        })?;
        sync_dir(&parent)?;
        Ok(file)
    }

    /// Writes `bytes` under `key` (fsynced, never replacing an object).
    pub fn put_bytes(&self, key: &StorageKey, bytes: &[u8]) -> Result<(), StorageError> {
        self.put_bytes_held(key, bytes).map(drop)
    }

    /// [`put_bytes`](Self::put_bytes), returning the object still open and locked: keep it
    /// until the row that names the object is committed, so that no repair in any process
    /// takes it for an orphan meanwhile.
    pub fn put_bytes_held(&self, key: &StorageKey, bytes: &[u8]) -> Result<fs::File, StorageError> {
        let mut temp = self.temp_file()?;
        temp.write_all(bytes)?;
        temp.as_file().sync_all()?;
        self.persist(temp, key)
    }

    /// Deletes an object and the directories left empty above it. A missing object is fine.
    pub fn delete(&self, key: &StorageKey) -> Result<(), StorageError> {
        let path = self.path(key)?;
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StorageError::Io(e)),
        }
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == self.root || !d.starts_with(&self.root) || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
        Ok(())
    }

    /// Puts a copy of the object `from` of this storage under `to` in `target`, never
    /// replacing an object. On one filesystem it is hard-linked (instant, nothing copied);
    /// across filesystems it is streamed, fsynced and hash-checked. Either way the source
    /// stays until the caller deletes it, so the object is never absent or half-written.
    pub fn transfer_to(
        &self,
        from: &StorageKey,
        target: &LocalStorage,
        to: &StorageKey,
    ) -> Result<Transfer, StorageError> {
        let src = self.path(from)?;
        let meta = fs::symlink_metadata(&src).map_err(StorageError::from_io)?;
        if meta.file_type().is_symlink() {
            return Err(StorageError::Symlink);
        }
        let dst = target.path(to)?;
        let parent = target.create_parents(&dst)?;
        match fs::hard_link(&src, &dst) {
            Ok(()) => {
                sync_dir(&parent)?;
                Ok(Transfer::Linked)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(StorageError::AlreadyExists),
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                self.copy_to(from, target, to)?;
                Ok(Transfer::Copied)
            }
            Err(e) => Err(StorageError::Io(e)),
        }
    }

    /// Streams a copy of `from` into `target` under `to` and checks it byte for byte.
    pub fn copy_to(
        &self,
        from: &StorageKey,
        target: &LocalStorage,
        to: &StorageKey,
    ) -> Result<(), StorageError> {
        let mut src = self.open_read(from)?;
        let mut temp = target.temp_file()?;
        let source_hash = copy_hashing(&mut src, temp.as_file_mut())?;
        temp.as_file().sync_all()?;
        let mut check = fs::File::open(temp.path())?;
        let copy_hash = copy_hashing(&mut check, &mut io::sink())?;
        if copy_hash != source_hash {
            return Err(StorageError::HashMismatch);
        }
        target.persist(temp, to).map(drop)
    }

    /// Every object below the root, plus anything that is not a plain file with a valid key.
    pub fn walk(&self) -> Result<WalkReport, StorageError> {
        let mut report = WalkReport::default();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir)? {
                let entry = entry?;
                let path = entry.path();
                let rel = path
                    .strip_prefix(&self.root)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if dir == self.root && rel == TMP_DIR {
                    continue;
                }
                let ft = entry.file_type()?;
                if ft.is_symlink() {
                    report.foreign.push(rel);
                } else if ft.is_dir() {
                    stack.push(path);
                } else if ft.is_file() && StorageKey::parse(&rel).is_ok() {
                    report.keys.push(rel);
                } else {
                    report.foreign.push(rel);
                }
            }
        }
        report.keys.sort();
        report.foreign.sort();
        Ok(report)
    }

    /// The temporary files of uploads in progress.
    pub fn temp_files(&self) -> &TempFiles {
        &self.temps
    }

    /// The object under `key`, opened and locked, unless a live process holds it (an
    /// upload whose row is not committed yet): `None` then, or when it is gone.
    pub fn lock_if_unheld(&self, key: &StorageKey) -> Result<Option<fs::File>, StorageError> {
        let file = match self.open_read(key) {
            Ok(f) => f,
            Err(StorageError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        try_lock(file)
    }

    /// Removes a path that is not an object (a planted link or stray file), for repairs.
    pub fn remove_foreign(&self, rel: &str) -> Result<(), StorageError> {
        let path = self.root.join(rel);
        if !path.starts_with(&self.root) || rel.split('/').any(|s| s == "..") {
            return Err(StorageError::Symlink);
        }
        let meta = fs::symlink_metadata(&path)?;
        if meta.is_dir() {
            fs::remove_dir_all(&path)?;
        } else {
            fs::remove_file(&path)?;
        }
        Ok(())
    }

    fn create_parents(&self, path: &Path) -> Result<PathBuf, StorageError> {
        let parent = path.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&parent)?;
        // Re-check: a link planted as a parent directory must not be written through.
        let mut cur = parent.as_path();
        while cur != self.root {
            if fs::symlink_metadata(cur)?.file_type().is_symlink() {
                return Err(StorageError::Symlink);
            }
            cur = match cur.parent() {
                Some(p) if p.starts_with(&self.root) => p,
                _ => return Err(StorageError::Symlink),
            };
        }
        Ok(parent)
    }
}

fn copy_hashing(src: &mut impl Read, dst: &mut impl Write) -> io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n])?;
    }
    Ok(hasher.finalize().into())
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(dir: &Path, name: &str) -> LocalStorage {
        let root = dir.join(name);
        fs::create_dir_all(&root).unwrap();
        LocalStorage::open(root, "/x/".into(), StorageRole::Private).unwrap()
    }

    fn key(s: &str) -> StorageKey {
        StorageKey::parse(s).unwrap()
    }

    #[test]
    fn objects_round_trip_and_leave_no_empty_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let s = storage(dir.path(), "a");
        s.put_bytes(&key("ab/cd/x/f.txt"), b"hello").unwrap();
        let mut body = String::new();
        s.open_read(&key("ab/cd/x/f.txt"))
            .unwrap()
            .read_to_string(&mut body)
            .unwrap();
        assert_eq!(body, "hello");
        assert!(matches!(
            s.put_bytes(&key("ab/cd/x/f.txt"), b"again"),
            Err(StorageError::AlreadyExists)
        ));
        s.delete(&key("ab/cd/x/f.txt")).unwrap();
        assert!(!s.root().join("ab").exists());
        assert!(matches!(
            s.open_read(&key("ab/cd/x/f.txt")),
            Err(StorageError::NotFound)
        ));
    }

    #[test]
    fn symlinks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = storage(dir.path(), "a");
        fs::write(dir.path().join("secret"), b"secret").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), s.root().join("link.txt")).unwrap();
        assert!(matches!(
            s.open_read(&key("link.txt")),
            Err(StorageError::Symlink)
        ));
        std::os::unix::fs::symlink(dir.path(), s.root().join("d")).unwrap();
        assert!(matches!(
            s.open_read(&key("d/secret")),
            Err(StorageError::Symlink)
        ));
        assert!(matches!(
            s.put_bytes(&key("d/new.txt"), b"x"),
            Err(StorageError::Symlink)
        ));
        assert!(!dir.path().join("new.txt").exists());
        let report = s.walk().unwrap();
        assert_eq!(
            report.foreign,
            vec!["d".to_string(), "link.txt".to_string()]
        );
    }

    #[test]
    fn transfer_moves_between_storages() {
        let dir = tempfile::tempdir().unwrap();
        let a = storage(dir.path(), "a");
        let b = storage(dir.path(), "b");
        a.put_bytes(&key("k/f.bin"), b"data").unwrap();
        assert_eq!(
            a.transfer_to(&key("k/f.bin"), &b, &key("m/f.bin")).unwrap(),
            Transfer::Linked
        );
        assert!(a.exists(&key("k/f.bin")) && b.exists(&key("m/f.bin")));
        assert!(matches!(
            a.transfer_to(&key("k/f.bin"), &b, &key("m/f.bin")),
            Err(StorageError::AlreadyExists)
        ));
        b.copy_to(&key("m/f.bin"), &a, &key("k/g.bin")).unwrap();
        assert!(a.exists(&key("k/g.bin")) && b.exists(&key("m/f.bin")));
    }
}
