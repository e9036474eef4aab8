//! Atomic file writes: write to a new hidden temporary file in the same directory, then rename,
//! so a file either exists complete or not at all.
//!
//! The temporary file is created exclusively (`create_new`, O_CREAT | O_EXCL): it must not exist
//! beforehand, so a name planted in a shared output directory (a symbolic link to another file,
//! say) is never opened or followed. Its name carries the process id and a counter, and a taken
//! name is skipped. When writing fails (a full disk) the temporary file is removed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Distinguishes the temporary files of one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Attempts at a fresh temporary name before giving up (each taken name is someone else's file).
const NAME_ATTEMPTS: u32 = 100;

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let (tmp, mut file) = create_temporary(path)?;
    let written = file.write_all(bytes).and_then(|()| file.flush());
    drop(file);
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// A new, exclusively created temporary file beside `path`.
fn create_temporary(path: &Path) -> Result<(PathBuf, std::fs::File)> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut last = None;
    for _ in 0..NAME_ATTEMPTS {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = path.with_file_name(format!(".{name}.{}.{n}.partial", std::process::id()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(tmp),
            Err(e) => return Err(Error::io(&tmp, e)),
        }
    }
    let taken = last.unwrap_or_else(|| path.to_path_buf());
    Err(Error::io(taken, std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no free temporary file name")))
}

/// Removes `path` if it exists (a missing file is not an error).
pub fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_link_at_a_temporary_name_is_never_followed() {
        let dir = std::env::temp_dir().join(format!("znfield-atomic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let victim = dir.join("victim.txt");
        std::fs::write(&victim, "keep").expect("victim");
        // Plant links at the next temporary names this process would use (generously: other
        // tests of this process may take some of them first).
        let next = COUNTER.load(Ordering::Relaxed);
        for n in next..next + 50 {
            let planted = dir.join(format!(".summary.json.{}.{n}.partial", std::process::id()));
            std::os::unix::fs::symlink(&victim, planted).expect("symlink");
        }
        write(&dir.join("summary.json"), b"{}").expect("write");
        assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "keep");
        assert_eq!(std::fs::read_to_string(dir.join("summary.json")).expect("summary"), "{}");
        let partial = std::fs::read_dir(&dir)
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".partial") && !e.path().is_symlink());
        assert_eq!(partial.count(), 0, "no temporary file is left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
