//! Files the CLI writes. Everything it writes may hold personal data about children at risk —
//! opened payloads, the family's letters, the safety plan, subject access reports, cursors — so
//! every file is readable by its owner only (0600) and every folder it creates is the owner's
//! only (0700), whatever the umask.
use super::error::CliError;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same folder, so a crash leaves the
/// old file or the new; the file is the owner's only (0600), also when a file was there before.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&tmp)
        .and_then(|mut f| {
            // A leftover temporary file keeps its mode on open: set it.
            #[cfg(unix)]
            f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
            f.write_all(bytes).and_then(|()| f.sync_all())
        })
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))
}

/// Creates `dir` (and its missing parents) accessible by the owner only (0700). A folder that
/// already exists keeps its mode: it is the user's.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    }

    #[test]
    fn files_and_folders_are_the_owners_only() {
        let Ok(tmp) = tempfile::tempdir() else { return };
        let dir = tmp.path().join("a").join("b");
        assert!(create_private_dir(&dir).is_ok());
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&tmp.path().join("a")), 0o700);
        let file = dir.join("letter.txt");
        // A world-readable file already there, and a world-readable leftover temporary file.
        assert!(std::fs::write(&file, "old").is_ok());
        assert!(std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).is_ok());
        assert!(std::fs::write(file.with_extension("tmp"), "x").is_ok());
        assert!(
            std::fs::set_permissions(
                file.with_extension("tmp"),
                std::fs::Permissions::from_mode(0o666)
            )
            .is_ok()
        );
        assert!(write_private(&file, b"new").is_ok());
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read_to_string(&file).ok().as_deref(), Some("new"));
    }
}
