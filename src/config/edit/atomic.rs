//! Replacing samconfig safely: a crash or a full disk mid-save must leave either the old file
//! or the new one, never half of each, and must not leave the user's file with other
//! permissions than it had.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::config::ConfigError;

/// Replaces `path` with `contents` so that a reader sees the old file or the new one, never a
/// mix: a private temporary file beside it is written, flushed to disk, given the original's
/// permissions (0o644 for a new file) and renamed over it. A symlinked samconfig is followed.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), ConfigError> {
    let target = if path.is_symlink() {
        fs::canonicalize(path).map_err(|e| ConfigError::io("resolve", path, e))?
    } else {
        path.to_path_buf()
    };
    let permissions = match fs::metadata(&target) {
        Ok(meta) => Some(meta.permissions()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => default_permissions(),
        Err(e) => return Err(ConfigError::io("read", &target, e)),
    };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (temp, mut file) = create_temp(&dir, &target)?;
    let written = file
        .write_all(contents)
        .and_then(|()| permissions.map_or(Ok(()), |p| file.set_permissions(p)))
        .and_then(|()| file.sync_all())
        .map_err(|e| ConfigError::io("write", &temp, e))
        .and_then(|()| {
            fs::rename(&temp, &target).map_err(|e| ConfigError::io("replace", &target, e))
        });
    if written.is_err() {
        // The error being returned matters more than a failure to tidy up.
        let _ = fs::remove_file(&temp);
    }
    written?;
    sync_dir(&dir);
    Ok(())
}

/// Creates `.<name>.<pid>.<n>.tmp` in `dir`, readable only by the owner until it is complete.
fn create_temp(dir: &Path, target: &Path) -> Result<(PathBuf, File), ConfigError> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match private_file_options().open(&temp) {
            Ok(file) => return Ok((temp, file)),
            // Left over from an earlier process with the same id: try the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(ConfigError::io("create", &temp, e)),
        }
    }
}

#[cfg(unix)]
fn private_file_options() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true).mode(0o600);
    options
}

#[cfg(not(unix))]
fn private_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    options
}

/// A new samconfig is rw-r--r--, what Python writes under the usual umask.
#[cfg(unix)]
fn default_permissions() -> Option<fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<fs::Permissions> {
    None
}

/// Makes the rename itself durable. Best effort: some file systems cannot sync a directory,
/// and the file's contents are already safe.
fn sync_dir(dir: &Path) {
    if cfg!(unix) {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn new_files_are_0644_and_existing_ones_keep_their_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.toml");
        write_atomically(&path, b"version = 0.1\n").unwrap();
        assert_eq!(mode(&path), 0o644);

        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, b"version = 0.2\n").unwrap();
        assert_eq!(mode(&path), 0o640);
        assert_eq!(fs::read_to_string(&path).unwrap(), "version = 0.2\n");
        assert_eq!(names(dir.path()), ["samconfig.toml"]);
    }

    #[test]
    fn temp_files_are_private_and_never_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("samconfig.toml");
        let (temp, _file) = create_temp(dir.path(), &target).unwrap();
        assert_eq!(mode(&temp), 0o600);
        assert!(temp
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".samconfig.toml."));
        fs::remove_file(&temp).unwrap();

        // Renaming onto a directory fails: the temporary file is removed, nothing else changes.
        fs::create_dir(&target).unwrap();
        let err = write_atomically(&target, b"x").unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Io {
                    action: "replace",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(names(dir.path()), ["samconfig.toml"]);
    }

    #[test]
    fn a_symlinked_samconfig_stays_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("shared.toml");
        let link = dir.path().join("samconfig.toml");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomically(&link, b"new").unwrap();
        assert!(link.is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
    }
}
