//! Reading the files a user names (scenes, Gmsh meshes, checkpoints) with bounds: only regular
//! files are opened (a FIFO would block forever, a device such as /dev/zero never ends, a
//! directory is a mistake), and never more than a stated number of bytes is read, so no input
//! can hang a run or take the machine's memory before it is refused.
//!
//! Messages name the file and the limit; they never echo the file's contents.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Largest scene file read, bytes (the shipped scenes are a few kB).
pub const MAX_SCENE_BYTES: u64 = 16 << 20;

/// Reads all of `path` if it is a regular file of at most `max_bytes` bytes; `what` names the
/// file's role in messages ("scene", "mesh file", "checkpoint") and `why` where the limit comes
/// from (empty, or a parenthesis for the message).
pub fn read_bounded(path: &Path, what: &str, max_bytes: u64, why: &str) -> Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let refuse = |why: String| Error::input(format!("{}: cannot read {what}: {why}", path.display()));
    let too_big = |size: String| refuse(format!("it {size}, more than the {max_bytes} bytes a {what} may have{why}"));
    // metadata() follows symbolic links: a link to a regular file is fine, a link to a FIFO is not.
    let meta = std::fs::metadata(path).map_err(|e| refuse(e.to_string()))?;
    if !meta.is_file() {
        return Err(refuse(format!("it is {}, not a regular file", kind_of(&meta))));
    }
    if meta.len() > max_bytes {
        return Err(too_big(format!("is {} bytes", meta.len())));
    }
    // Opened without blocking (a FIFO swapped in after the check would otherwise block the open)
    // and checked again on the open handle.
    let file =
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(|e| refuse(e.to_string()))?;
    let opened = file.metadata().map_err(|e| refuse(e.to_string()))?;
    if !opened.is_file() {
        return Err(refuse(format!("it is {}, not a regular file", kind_of(&opened))));
    }
    // A file that grows while it is read (or a /proc file that reports length 0) is cut off at
    // one byte past the limit, which is then refused.
    let mut bytes = Vec::with_capacity(opened.len().min(max_bytes) as usize);
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| refuse(e.to_string()))?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_big("holds more".into()));
    }
    Ok(bytes)
}

/// Reads `path` as UTF-8 text (see [`read_bounded`]); a leading byte-order mark is dropped.
pub fn read_text(path: &Path, what: &str, max_bytes: u64, why: &str) -> Result<String> {
    let bytes = read_bounded(path, what, max_bytes, why)?;
    let mut text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        Error::input(format!("{}: cannot read {what}: not UTF-8 text (invalid byte at offset {at})", path.display()))
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// What a file that is not a regular file is, for the message.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_files_and_oversized_files_are_refused_without_reading_them() {
        let err = read_bounded(Path::new("/dev/zero"), "scene", 100, "").expect_err("a device").to_string();
        assert!(err.contains("/dev/zero") && err.contains("a device"), "{err}");
        let err = read_bounded(Path::new("/tmp"), "scene", 100, "").expect_err("a directory").to_string();
        assert!(err.contains("a directory"), "{err}");
        let file = std::env::temp_dir().join(format!("znfield-input-{}.json", std::process::id()));
        std::fs::write(&file, [b'x'; 200]).expect("write");
        let err = read_bounded(&file, "scene", 100, " (a test)").expect_err("too big").to_string();
        assert!(err.contains("is 200 bytes, more than the 100 bytes a scene may have (a test)"), "{err}");
        assert_eq!(read_bounded(&file, "scene", 200, "").expect("at the limit").len(), 200);
        assert_eq!(read_bounded(&file, "scene", u64::MAX, "").expect("no limit").len(), 200);
        std::fs::write(&file, "\u{feff}{}").expect("write");
        assert_eq!(read_text(&file, "scene", 100, "").expect("text"), "{}");
        let _ = std::fs::remove_file(&file);
    }
}
