//! Deterministic zips of artifacts, modelled on sam's `make_zip_with_lambda_permissions`:
//! files only (no folder entries), symlinks followed, deflate, the 1980-01-01 timestamp, Unix
//! modes with read for everyone added. Unlike sam, entries are sorted by path, so the same
//! files and modes always give the same bytes, and the md5 of those bytes names the S3 object.

use std::fs;
use std::io::{self, Cursor, Write};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use walkdir::WalkDir;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, System, ZipArchive, ZipWriter};

use super::ArtifactError;

/// Zips every file under `dir` (following symlinks), named by its `/`-separated path relative
/// to `dir`, in path order. Empty folders are left out, as sam leaves them out.
pub fn zip_directory(dir: &Path) -> Result<Vec<u8>, ArtifactError> {
    let mut entries = Vec::new();
    for entry in WalkDir::new(dir).follow_links(true) {
        let entry = entry.map_err(|error| walk_error(dir, error))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        let name = relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        entries.push((name, entry.into_path()));
    }
    entries.sort();
    write_zip(dir, &entries)
}

/// Zips one file as a single entry named after the file, as sam does for a Lambda `CodeUri`
/// that names a file which is not already a zip.
pub fn zip_file(path: &Path) -> Result<Vec<u8>, ArtifactError> {
    let name = path.file_name().ok_or_else(|| ArtifactError::Read {
        path: path.to_path_buf(),
        source: io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path does not end in a file name",
        ),
    })?;
    write_zip(
        path,
        &[(name.to_string_lossy().into_owned(), path.to_path_buf())],
    )
}

/// The lowercase hex md5 of `bytes`, as sam names uploaded objects.
pub fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The base64 SHA-256 of a zip: what Lambda reports as a function's `CodeSha256`.
pub fn sha256_base64(bytes: &[u8]) -> String {
    use base64::prelude::{Engine as _, BASE64_STANDARD};
    BASE64_STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// Python's `zipfile.is_zipfile` (sam uploads such files as they are, even for Lambda).
pub(super) fn is_zip_file(path: &Path) -> bool {
    fs::File::open(path).is_ok_and(|file| ZipArchive::new(file).is_ok())
}

fn write_zip(origin: &Path, entries: &[(String, PathBuf)]) -> Result<Vec<u8>, ArtifactError> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, path) in entries {
        let read_error = |source| ArtifactError::Read {
            path: path.clone(),
            source,
        };
        let zip_error = |source| ArtifactError::Zip {
            path: path.clone(),
            source,
        };
        let bytes = fs::read(path).map_err(read_error)?;
        let mode = lambda_mode(&fs::metadata(path).map_err(read_error)?);
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(DateTime::default())
            .system(System::Unix)
            .unix_permissions(mode);
        writer
            .start_file(name.as_str(), options)
            .map_err(zip_error)?;
        writer
            .write_all(&bytes)
            .map_err(|source| zip_error(zip::result::ZipError::Io(source)))?;
    }
    let cursor = writer.finish().map_err(|source| ArtifactError::Zip {
        path: origin.to_path_buf(),
        source,
    })?;
    Ok(cursor.into_inner())
}

/// The file's own mode plus read for everyone, so Lambda can always read what it runs
/// (sam's `AdditiveFilePermissionPermissionMapper(0o444)`).
#[cfg(unix)]
fn lambda_mode(metadata: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() | 0o444
}

/// Windows has no Unix modes; sam writes 0o755 there.
#[cfg(not(unix))]
fn lambda_mode(_metadata: &fs::Metadata) -> u32 {
    0o755
}

fn walk_error(root: &Path, error: walkdir::Error) -> ArtifactError {
    let path = error.path().unwrap_or(root).to_path_buf();
    // Loops and broken links carry no io::Error of their own.
    let message = error.to_string();
    let source = error
        .into_io_error()
        .unwrap_or_else(|| io::Error::other(message));
    ArtifactError::Read { path, source }
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Read;
    use std::os::unix::fs::{symlink, PermissionsExt};
    use std::time::{Duration, SystemTime};

    use super::*;

    fn write(path: &Path, contents: &str, mode: u32) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A small function tree: nested folders, names that sort differently by component and by
    /// string, an executable, an owner-only file and an empty folder.
    fn function_tree(root: &Path) {
        write(
            &root.join("app.py"),
            "def handler(event, context):\n    return 1\n",
            0o644,
        );
        write(&root.join("lib/util.py"), "X = 1\n", 0o600);
        write(&root.join("lib.txt"), "notes\n", 0o644);
        write(&root.join("bin/run"), "#!/bin/sh\necho hi\n", 0o700);
        fs::create_dir_all(root.join("empty")).unwrap();
    }

    /// (name, mode, contents, date) of each entry, in archive order.
    fn entries(bytes: &[u8]) -> Vec<(String, u32, String, DateTime)> {
        let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..archive.len())
            .map(|index| {
                let mut file = archive.by_index(index).unwrap();
                let mut contents = String::new();
                file.read_to_string(&mut contents).unwrap();
                let date = file.last_modified().unwrap();
                (
                    file.name().unwrap().into_owned(),
                    file.unix_mode().unwrap(),
                    contents,
                    date,
                )
            })
            .collect()
    }

    fn touch_all(root: &Path, when: SystemTime) {
        for entry in WalkDir::new(root)
            .into_iter()
            .map(Result::unwrap)
            .filter(|entry| entry.file_type().is_file())
        {
            fs::File::options()
                .write(true)
                .open(entry.path())
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
    }

    #[test]
    fn same_tree_gives_same_bytes_whatever_the_mtimes() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        function_tree(first.path());
        function_tree(second.path());
        touch_all(
            second.path(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        );

        let zipped = zip_directory(first.path()).unwrap();
        assert_eq!(zipped, zip_directory(first.path()).unwrap());
        assert_eq!(zipped, zip_directory(second.path()).unwrap());
        assert_eq!(
            md5_hex(&zipped),
            md5_hex(&zip_directory(second.path()).unwrap())
        );
        assert_eq!(md5_hex(&zipped).len(), 32);
    }

    #[test]
    fn entries_are_sorted_files_with_readable_modes_and_the_1980_date() {
        let dir = tempfile::tempdir().unwrap();
        function_tree(dir.path());
        let listed = entries(&zip_directory(dir.path()).unwrap());
        let summary: Vec<(&str, u32, &str)> = listed
            .iter()
            .map(|(name, mode, contents, _)| (name.as_str(), *mode, contents.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "app.py",
                    0o100644,
                    "def handler(event, context):\n    return 1\n"
                ),
                ("bin/run", 0o100744, "#!/bin/sh\necho hi\n"),
                ("lib.txt", 0o100644, "notes\n"),
                ("lib/util.py", 0o100644, "X = 1\n"),
            ]
        );
        assert!(listed.iter().all(|(.., date)| *date == DateTime::default()));
        assert_eq!(
            (listed[0].3.year(), listed[0].3.month(), listed[0].3.day()),
            (1980, 1, 1)
        );
    }

    #[test]
    fn entries_are_deflated() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("big.txt"), &"samrs ".repeat(1000), 0o644);
        let bytes = zip_directory(dir.path()).unwrap();
        let mut archive = ZipArchive::new(Cursor::new(&bytes)).unwrap();
        assert_eq!(
            archive.by_index(0).unwrap().compression(),
            CompressionMethod::Deflated
        );
        assert!(bytes.len() < 1000);
    }

    #[test]
    fn symlinks_are_followed() {
        let outside = tempfile::tempdir().unwrap();
        write(
            &outside.path().join("shared/common.py"),
            "SHARED = True\n",
            0o644,
        );
        write(&outside.path().join("config.json"), "{}\n", 0o600);
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("app.py"), "import common\n", 0o644);
        symlink(outside.path().join("shared"), dir.path().join("shared")).unwrap();
        symlink(
            outside.path().join("config.json"),
            dir.path().join("config.json"),
        )
        .unwrap();

        let names: Vec<(String, u32, String)> = entries(&zip_directory(dir.path()).unwrap())
            .into_iter()
            .map(|(name, mode, contents, _)| (name, mode, contents))
            .collect();
        assert_eq!(
            names,
            [
                ("app.py".to_owned(), 0o100644, "import common\n".to_owned()),
                ("config.json".to_owned(), 0o100644, "{}\n".to_owned()),
                (
                    "shared/common.py".to_owned(),
                    0o100644,
                    "SHARED = True\n".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_broken_symlink_names_the_link() {
        let dir = tempfile::tempdir().unwrap();
        symlink(dir.path().join("gone"), dir.path().join("link")).unwrap();
        let error = zip_directory(dir.path()).unwrap_err();
        assert!(
            matches!(error, ArtifactError::Read { ref path, .. } if path.ends_with("link")),
            "{error}"
        );
    }

    #[test]
    fn a_single_file_is_zipped_under_its_own_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("src/handler.js");
        write(&file, "exports.handler = async () => 1;\n", 0o640);
        let bytes = zip_file(&file).unwrap();
        let listed = entries(&bytes);
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].0.as_str(), listed[0].1, listed[0].2.as_str()),
            ("handler.js", 0o100644, "exports.handler = async () => 1;\n")
        );
        assert_eq!(bytes, zip_file(&file).unwrap());
    }

    #[test]
    fn zip_files_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("a.txt"), "a", 0o644);
        let zipped = dir.path().join("code.zip");
        fs::write(&zipped, zip_directory(dir.path()).unwrap()).unwrap();
        assert!(is_zip_file(&zipped));
        assert!(!is_zip_file(&dir.path().join("a.txt")));
        assert!(!is_zip_file(&dir.path().join("missing.zip")));
    }

    #[test]
    fn md5_vectors() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        // sam's tests/unit/lib/utils/test_hash.py::test_str_checksum
        assert_eq!(
            md5_hex(b"Hello, World!"),
            "65a8e27d8879283831b664bd8b7f0ad4"
        );
        assert_eq!(
            md5_hex(b"Hello-World-Stack"),
            "925976eb06c20bc655a4b690c4db91c9"
        );
    }
}
