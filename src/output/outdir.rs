//! The output directory a command owns while it runs.
//!
//! [`OutputDir::claim`] is called before any work: it refuses (exit 2) an `--out` that exists as
//! a file or cannot be written, so no solve is wasted on a directory it cannot fill; it takes an
//! exclusive lock on `.znfield.lock` there (released by the operating system when the process
//! ends, however it ends), so a second run into the same directory is refused with the holder's
//! process id instead of mixing its files with the first's; and it removes what would make the
//! directory look like a finished (or failed) earlier run - that run's completion markers and
//! any temporary `.partial` files a killed run left - so a failure never leaves a
//! complete-looking directory. A directory the claim created is removed again when the command
//! fails before writing anything into it.
//!
//! Outputs never replace another run's silently: a directory holding files (other than the lock
//! and abandoned temporaries) is refused with exit 2 unless the user passed `--overwrite`
//! ([`Reuse::Replace`]), and a command without `--out` writes into the first of
//! `znfield-out/<name>`, `<name>-2`, `<name>-3`, ... that holds nothing ([`OutputDir::claim_fresh`]).
//! Replacing an output removes the files its summary.json, sweep.json or comparison.json lists
//! (`files`), with the point and scene directories listed there, before the new one writes, so
//! no map of the old run is left beside the new one's.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The lock file in every output directory.
pub const LOCK_FILE: &str = ".znfield.lock";

/// What a claim does with a directory that already holds files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Refuse it (exit 2), naming `--overwrite`.
    Refuse,
    /// Replace the earlier output (`--overwrite`, a resumed run's own directory, the
    /// subdirectories of a directory already claimed).
    Replace,
}

impl Reuse {
    /// The policy of a command-line `--overwrite` flag.
    pub fn from_flag(overwrite: bool) -> Reuse {
        if overwrite {
            Reuse::Replace
        } else {
            Reuse::Refuse
        }
    }
}

/// Fresh default directories tried (`<name>`, `<name>-2`, ...) before giving up.
const FRESH_ATTEMPTS: usize = 1000;

/// The earlier summary.json read for its file list is at most this long (bytes).
const MAX_SUMMARY_BYTES: u64 = 64 << 20;

/// An output directory held by this process until the value is dropped.
#[derive(Debug)]
pub struct OutputDir {
    path: PathBuf,
    /// Holds the lock: the operating system releases it when the file is closed.
    _lock: std::fs::File,
    /// The claim created the directory (it is removed again if nothing was written into it).
    created: bool,
}

impl OutputDir {
    /// Claims `path` for a command whose finished output is marked by the files `markers`
    /// (`summary.json` for a run) and, in its subdirectories (a sweep's points), `sub_markers`;
    /// a directory holding files is refused or replaced as `reuse` says (replacing removes the
    /// markers and the files the earlier summary.json lists).
    pub fn claim(path: &Path, markers: &[&str], sub_markers: &[&str], reuse: Reuse) -> Result<OutputDir> {
        let refuse = |why: String| Error::input(format!("--out {}: {why}", path.display()));
        let created = match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => false,
            Ok(_) => return Err(refuse("exists and is not a directory".into())),
            Err(_) => {
                std::fs::create_dir_all(path).map_err(|e| refuse(format!("cannot create the output directory: {e}")))?;
                true
            }
        };
        let mut lock = match lock(path) {
            Ok(file) => file,
            Err(e) => {
                if created {
                    let _ = std::fs::remove_file(path.join(LOCK_FILE));
                    let _ = std::fs::remove_dir(path);
                }
                return Err(refuse(e));
            }
        };
        let note = format!("process {}, `{}`", std::process::id(), std::env::args().collect::<Vec<_>>().join(" "));
        let _ = lock.set_len(0).and_then(|()| lock.rewind()).and_then(|()| lock.write_all(note.as_bytes()));
        let dir = OutputDir { path: path.to_path_buf(), _lock: lock, created };
        let earlier = earlier_outputs(path)?;
        if reuse == Reuse::Refuse && !earlier.is_empty() {
            let shown = earlier.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
            let more = if earlier.len() > 3 { format!(" and {} more", earlier.len() - 3) } else { String::new() };
            return Err(refuse(format!(
                "holds the output of an earlier run ({shown}{more}); pass --overwrite to replace it, or choose another --out"
            )));
        }
        remove_listed_files(path)?;
        remove_stale_in(&dir.path, markers, sub_markers)?;
        Ok(dir)
    }

    /// Claims the first of `base`, `base-2`, `base-3`, ... that does not exist or holds no
    /// files (the default output directory of a command run without `--out`).
    pub fn claim_fresh(base: &Path, markers: &[&str], sub_markers: &[&str]) -> Result<OutputDir> {
        let name = base.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for k in 1..=FRESH_ATTEMPTS {
            let candidate = if k == 1 { base.to_path_buf() } else { base.with_file_name(format!("{name}-{k}")) };
            let taken = match std::fs::metadata(&candidate) {
                Ok(meta) => !meta.is_dir() || !earlier_outputs(&candidate)?.is_empty(),
                Err(_) => false,
            };
            if !taken {
                // Another command may claim it between the look and the lock: then try the next.
                if let Ok(dir) = OutputDir::claim(&candidate, markers, sub_markers, Reuse::Refuse) {
                    return Ok(dir);
                }
            }
        }
        Err(Error::input(format!("{}: {FRESH_ATTEMPTS} output directories of that name are taken; pass --out", base.display())))
    }

    /// The directory held.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Claims a subdirectory a command makes inside the one it holds (a sweep's point, a
    /// comparison's scene): as [`Self::claim`], but a symbolic link planted at its name is refused
    /// rather than followed.
    pub fn claim_subdir(path: &Path, markers: &[&str]) -> Result<OutputDir> {
        refuse_link(path)?;
        OutputDir::claim(path, markers, &[], Reuse::Replace)
    }
}

/// The names of the entries of `dir` an earlier command left (everything but the lock file and
/// abandoned temporary files), sorted.
fn earlier_outputs(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != LOCK_FILE && !(name.starts_with('.') && name.ends_with(".partial")))
        .collect();
    names.sort();
    Ok(names)
}

/// The files in which an earlier run, sweep or comparison listed what it wrote (`files`).
const MANIFESTS: [&str; 3] = ["summary.json", "sweep.json", "comparison.json"];

/// Removes the files an earlier run's manifest in `dir` ([`MANIFESTS`]) lists under `files`:
/// plain names in `dir`, `maps/<name>` (a comparison's maps), and each listed directory
/// `<name>/` (a sweep's point, a compared scene) by its own manifest, the directory itself
/// going when that leaves it empty. Other names (a path elsewhere, `..`) are not znfield's
/// and are left alone.
fn remove_listed_files(dir: &Path) -> Result<()> {
    remove_listed(dir, true)
}

/// [`remove_listed_files`], into listed directories only when `nested`.
fn remove_listed(dir: &Path, nested: bool) -> Result<()> {
    for manifest in MANIFESTS {
        let path = dir.join(manifest);
        // Only a regular file, never through a link (one planted there is the markers' to
        // remove); an unreadable or foreign manifest lists nothing.
        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let Ok(text) = crate::input::read_text(&path, "earlier summary", MAX_SUMMARY_BYTES, "") else { continue };
        let Ok(summary) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        let listed = summary["files"].as_array().cloned().unwrap_or_default();
        for name in listed.iter().filter_map(|v| v.as_str()) {
            let (folder, file) = match name.split_once('/') {
                Some(("maps", file)) => (dir.join("maps"), file),
                Some((sub, "")) if nested && is_plain(sub) => {
                    remove_listed_subdir(&dir.join(sub))?;
                    continue;
                }
                Some(_) => continue,
                None => (dir.to_path_buf(), name),
            };
            let target = folder.join(file);
            let in_real_folder = std::fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir());
            if is_plain(file) && in_real_folder && std::fs::symlink_metadata(&target).is_ok_and(|m| !m.is_dir()) {
                super::atomic::remove(&target)?;
            }
        }
    }
    Ok(())
}

/// A file or directory name of znfield's own inside an output directory: one component, not
/// `.`, `..` or the lock file.
fn is_plain(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\\']) && name != ".." && name != "." && name != LOCK_FILE
}

/// Empties the earlier output directory `sub` (a real directory, not a link) of the files its
/// manifest lists and its stale markers, and removes it when nothing else is left in it.
fn remove_listed_subdir(sub: &Path) -> Result<()> {
    if !std::fs::symlink_metadata(sub).is_ok_and(|m| m.is_dir()) {
        return Ok(());
    }
    remove_listed(sub, false)?;
    for manifest in MANIFESTS {
        super::atomic::remove(&sub.join(manifest))?;
    }
    let left = std::fs::read_dir(sub).map(|e| e.filter_map(|e| e.ok()).filter(|e| e.file_name() != LOCK_FILE).count());
    if left.is_ok_and(|n| n == 0) {
        let _ = std::fs::remove_file(sub.join(LOCK_FILE));
        let _ = std::fs::remove_dir(sub);
    }
    Ok(())
}

/// Refuses a symbolic link at `path` (a directory a command creates inside its output).
pub fn refuse_link(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(Error::input(format!(
            "{}: is a symbolic link; znfield writes its own directories there and follows no link: remove it",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Removes `markers` and left-over temporary files of killed runs in `dir` (no other run holds
/// it, so every `.partial` file there is abandoned), and `sub_markers` and `.partial` files in
/// its immediate subdirectories (links are not followed).
fn remove_stale_in(dir: &Path, markers: &[&str], sub_markers: &[&str]) -> Result<()> {
    for marker in markers {
        super::atomic::remove(&dir.join(marker))?;
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if name.starts_with('.') && name.ends_with(".partial") && !is_dir {
            super::atomic::remove(&entry.path())?;
        } else if is_dir && !sub_markers.is_empty() {
            remove_stale_in(&entry.path(), sub_markers, &[])?;
        }
    }
    Ok(())
}

impl Drop for OutputDir {
    /// A directory this claim created and nothing was written into goes again (a refused run
    /// leaves no trace).
    fn drop(&mut self) {
        if !self.created {
            return;
        }
        let only_lock = std::fs::read_dir(&self.path)
            .map(|entries| entries.filter_map(|e| e.ok()).all(|e| e.file_name() == LOCK_FILE))
            .unwrap_or(false);
        if only_lock {
            let _ = std::fs::remove_file(self.path.join(LOCK_FILE));
            let _ = std::fs::remove_dir(&self.path);
        }
    }
}

/// Takes the lock of directory `dir`: opens (or creates) its lock file, locks it, checks that the
/// file locked is still the one at the lock file's name (a run ending at that moment removes it),
/// and that the directory takes new files. Errors are messages for the user.
fn lock(dir: &Path) -> std::result::Result<std::fs::File, String> {
    use std::os::unix::fs::MetadataExt;
    let lock_path = dir.join(LOCK_FILE);
    for _ in 0..10 {
        let lock = open_lock(&lock_path)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = (&lock).take(200).read_to_string(&mut holder);
                return Err(format!(
                    "another znfield command is writing there ({}); wait for it to finish or choose another --out",
                    holder.trim()
                ));
            }
            // A file system without locks (some network mounts): the run goes on unguarded.
            Err(std::fs::TryLockError::Error(e)) => {
                crate::progress::warn(&format!("{}: cannot lock ({e}); another run into it would not be refused", dir.display()));
            }
        }
        let held = lock.metadata().map_err(|e| e.to_string())?;
        let named = std::fs::symlink_metadata(&lock_path).ok();
        if named.is_some_and(|m| m.dev() == held.dev() && m.ino() == held.ino()) {
            probe_writable(dir)?;
            return Ok(lock);
        }
    }
    Err(format!("{LOCK_FILE} there keeps being replaced; is another program removing it?"))
}

/// Creates and removes a file in `dir`: a directory that cannot take new files (read-only, a
/// full disk, /proc) is refused before the run, not after its solve.
fn probe_writable(dir: &Path) -> std::result::Result<(), String> {
    let probe = dir.join(format!(".znfield-write-test.{}", std::process::id()));
    let _ = std::fs::remove_file(&probe);
    let made = std::fs::OpenOptions::new().write(true).create_new(true).open(&probe).and_then(|mut f| f.write_all(b"x"));
    let _ = std::fs::remove_file(&probe);
    made.map_err(|e| format!("cannot write there: {e}"))
}

/// Opens (creating it if needed) the lock file, never through a symbolic link.
fn open_lock(path: &Path) -> std::result::Result<std::fs::File, String> {
    let not_writable = |e: std::io::Error| format!("cannot write there: {e}");
    match std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(path) {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let meta = std::fs::symlink_metadata(path).map_err(not_writable)?;
            if !meta.file_type().is_file() {
                return Err(format!("{LOCK_FILE} there is not a regular file (a link?); remove it"));
            }
            std::fs::OpenOptions::new().read(true).write(true).open(path).map_err(not_writable)
        }
        Err(e) => Err(not_writable(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("znfield-outdir-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_claimed_directory_refuses_a_second_claim_until_released() {
        let dir = scratch("twice");
        let first = OutputDir::claim(&dir, &["summary.json"], &[], Reuse::Refuse).expect("first claim");
        std::fs::write(dir.join("fields.vtu"), "x").expect("write");
        let err = OutputDir::claim(&dir, &["summary.json"], &[], Reuse::Replace).expect_err("held").to_string();
        assert!(err.contains("another znfield command") && err.contains(&format!("process {}", std::process::id())), "{err}");
        drop(first);
        let again = OutputDir::claim(&dir, &["summary.json"], &[], Reuse::Replace).expect("released");
        drop(again);
        assert!(dir.join("fields.vtu").exists(), "a claim keeps the files that are not markers");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_claim_removes_the_markers_of_an_earlier_run_and_abandoned_temporaries() {
        let dir = scratch("stale");
        std::fs::create_dir_all(&dir).expect("dir");
        for f in ["summary.json", ".fields.vtu.123.0.partial", "fields.vtu"] {
            std::fs::write(dir.join(f), "old").expect("write");
        }
        let claim = OutputDir::claim(&dir, &["summary.json"], &[], Reuse::Replace).expect("claim");
        assert!(!dir.join("summary.json").exists() && !dir.join(".fields.vtu.123.0.partial").exists());
        assert!(dir.join("fields.vtu").exists());
        drop(claim);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_or_an_unwritable_place_is_refused_and_an_unused_new_directory_removed() {
        let dir = scratch("file");
        std::fs::write(&dir, "not a directory").expect("file");
        let err = OutputDir::claim(&dir, &[], &[], Reuse::Replace).expect_err("a file").to_string();
        assert!(err.contains("exists and is not a directory"), "{err}");
        let _ = std::fs::remove_file(&dir);
        let err = OutputDir::claim(Path::new("/proc/znfield-out"), &[], &[], Reuse::Refuse).expect_err("/proc").to_string();
        assert!(err.starts_with("--out /proc/znfield-out: cannot"), "{err}");
        drop(OutputDir::claim(&dir, &[], &[], Reuse::Refuse).expect("claim"));
        assert!(!dir.exists(), "a claimed directory nothing was written into is removed");
    }

    #[test]
    fn an_earlier_run_is_refused_without_overwrite_and_replaced_with_it() {
        let dir = scratch("earlier");
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join(LOCK_FILE), "").expect("lock");
        std::fs::write(dir.join(".fields.vtu.1.0.partial"), "x").expect("partial");
        drop(OutputDir::claim(&dir, &["summary.json"], &[], Reuse::Refuse).expect("a lock and temporaries are no output"));
        let summary = r#"{"files": ["map_old.png", "fields.vtu", "../outside.txt", "sub", "summary.json"]}"#;
        for (name, text) in [("summary.json", summary), ("map_old.png", "x"), ("fields.vtu", "x"), ("notes.txt", "mine")] {
            std::fs::write(dir.join(name), text).expect("write");
        }
        std::fs::create_dir_all(dir.join("sub")).expect("sub");
        let err = OutputDir::claim(&dir, &["summary.json"], &[], Reuse::Refuse).expect_err("earlier run").to_string();
        assert!(
            err.contains("holds the output of an earlier run (fields.vtu, map_old.png, notes.txt and 2 more)")
                && err.contains("--overwrite"),
            "{err}"
        );
        assert!(dir.join("summary.json").exists(), "a refused claim changes nothing");
        drop(OutputDir::claim(&dir, &["summary.json"], &[], Reuse::Replace).expect("replace"));
        for gone in ["summary.json", "map_old.png", "fields.vtu"] {
            assert!(!dir.join(gone).exists(), "{gone} was listed by the earlier run and should be removed");
        }
        assert!(dir.join("notes.txt").exists() && dir.join("sub").is_dir(), "files the run did not list stay");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_default_directory_holding_a_run_gives_way_to_the_next_fresh_name() {
        let base = scratch("fresh");
        let second = base.with_file_name(format!("{}-2", base.file_name().unwrap().to_string_lossy()));
        let _ = std::fs::remove_dir_all(&second);
        let first = OutputDir::claim_fresh(&base, &["summary.json"], &[]).expect("fresh");
        assert_eq!(first.path(), base);
        std::fs::write(base.join("summary.json"), "{}").expect("write");
        let next = OutputDir::claim_fresh(&base, &["summary.json"], &[]).expect("next");
        assert_eq!(next.path(), second, "the directory holding a run is skipped");
        assert!(base.join("summary.json").exists(), "the earlier run is untouched");
        drop((first, next));
        let _ = std::fs::remove_dir_all(&base);
        let _ = std::fs::remove_dir_all(&second);
    }
}
