//! `coffer storage migrate`: every object of four storages copied into four others under
//! the same keys (local directories to a bucket, a bucket to directories, one bucket to
//! another), each copy checked against the SHA-256 of its source. Nothing is overwritten:
//! an object already at the target with the same bytes counts as done (so an interrupted
//! run is simply run again), one with other bytes is reported and left alone. The database
//! is not touched: keys stay what they are.

use sha2::Digest;

use super::{Storage, StorageError, StorageKey, StorageRole, Storages};

/// What happened to one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Copied and checked.
    Copied,
    /// Would be copied (`--dry-run`).
    WouldCopy,
    /// Already at the target with the same bytes.
    Present,
    /// Not copied: the reason.
    Failed(String),
}

/// One object of the source, with what came of it.
#[derive(Clone, Debug)]
pub struct Step {
    pub role: StorageRole,
    pub key: String,
    pub size: u64,
    pub outcome: Outcome,
}

/// Totals of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub copied: u64,
    pub copied_bytes: u64,
    pub would_copy: u64,
    pub would_copy_bytes: u64,
    pub present: u64,
    pub failed: Vec<(StorageRole, String, String)>,
}

impl Summary {
    fn add(&mut self, step: &Step) {
        match &step.outcome {
            Outcome::Copied => {
                self.copied += 1;
                self.copied_bytes += step.size;
            }
            Outcome::WouldCopy => {
                self.would_copy += 1;
                self.would_copy_bytes += step.size;
            }
            Outcome::Present => self.present += 1,
            Outcome::Failed(why) => {
                self.failed.push((step.role, step.key.clone(), why.clone()));
            }
        }
    }
}

/// The keys of each source storage (what a run goes through, for a progress bar).
pub fn inventory(from: &Storages) -> Result<Vec<(StorageRole, Vec<String>)>, StorageError> {
    StorageRole::ALL
        .into_iter()
        .map(|role| Ok((role, from.get(role).walk()?.keys)))
        .collect()
}

/// Copies every object of `from` into the storage of the same role in `to` (or only looks,
/// with `dry_run`), calling `each` after every object. Failures of single objects are
/// reported in the summary; only a storage that cannot be listed stops the run.
pub fn migrate(
    from: &Storages,
    to: &Storages,
    dry_run: bool,
    mut each: impl FnMut(&Step),
) -> Result<Summary, StorageError> {
    let mut summary = Summary::default();
    for (role, keys) in inventory(from)? {
        let (source, target) = (from.get(role), to.get(role));
        for key in keys {
            let step = match StorageKey::parse(&key) {
                Ok(k) => one(source, target, &k, dry_run),
                Err(_) => Step {
                    role,
                    key: key.clone(),
                    size: 0,
                    outcome: Outcome::Failed("not a valid key".into()),
                },
            };
            let step = Step { role, key, ..step };
            summary.add(&step);
            each(&step);
        }
    }
    Ok(summary)
}

fn one(source: &Storage, target: &Storage, key: &StorageKey, dry_run: bool) -> Step {
    let step = |size, outcome| Step {
        role: StorageRole::Public,
        key: String::new(),
        size,
        outcome,
    };
    let (hash, size) = match digest(source, key) {
        Ok(d) => d,
        Err(e) => return step(0, Outcome::Failed(format!("cannot read the source: {e}"))),
    };
    match target.exists(key) {
        Ok(true) => {
            return match digest(target, key) {
                Ok((h, _)) if h == hash => step(size, Outcome::Present),
                Ok(_) => step(
                    size,
                    Outcome::Failed("the target holds other bytes under this key".into()),
                ),
                Err(e) => step(
                    size,
                    Outcome::Failed(format!("cannot read the target: {e}")),
                ),
            };
        }
        Ok(false) => {}
        Err(e) => {
            return step(
                size,
                Outcome::Failed(format!("cannot reach the target: {e}")),
            );
        }
    }
    if dry_run {
        return step(size, Outcome::WouldCopy);
    }
    if let Err(e) = source.copy_to(key, target, key) {
        return step(size, Outcome::Failed(format!("copy failed: {e}")));
    }
    match digest(target, key) {
        Ok((h, _)) if h == hash => step(size, Outcome::Copied),
        Ok(_) => {
            // Never leave a wrong copy behind.
            let _ = target.delete(key);
            step(
                size,
                Outcome::Failed("the copy's SHA-256 differs from the source's".into()),
            )
        }
        Err(e) => step(size, Outcome::Failed(format!("cannot read the copy: {e}"))),
    }
}

/// The SHA-256 (hex) and size of an object, read in full.
fn digest(storage: &Storage, key: &StorageKey) -> Result<(String, u64), StorageError> {
    let mut reader = storage.reader(key)?;
    let mut hasher = sha2::Sha256::new();
    let size = std::io::copy(&mut reader, &mut hasher)?;
    Ok((hex::encode(hasher.finalize()), size))
}
