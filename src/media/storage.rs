//! Content-addressed blob storage. A blob's key is the SHA-256 of its bytes plus the extension
//! of its format, so the same file stored twice takes one place and a key can never name
//! anything outside the store. [`FsStore`] keeps blobs under a directory
//! (`<data_dir>/media/ab/cd/<hash>.<ext>`); an S3-compatible store can implement the same
//! trait later.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use super::{Kind, hex};

/// A key that is not a lower-case hex SHA-256 with a known extension.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid blob key")]
pub struct InvalidKey;

/// The name of a blob: its content hash and the extension of its format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey {
    sha256_hex: String,
    ext: &'static str,
}

impl BlobKey {
    /// Checks both parts: 64 lower-case hex digits, and an extension of a [`Kind`].
    pub fn new(sha256_hex: &str, ext: &str) -> Result<BlobKey, InvalidKey> {
        let hex_ok = sha256_hex.len() == 64
            && sha256_hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let kind = Kind::from_ext(ext).ok_or(InvalidKey)?;
        if !hex_ok {
            return Err(InvalidKey);
        }
        Ok(BlobKey {
            sha256_hex: sha256_hex.to_string(),
            ext: kind.ext(),
        })
    }

    /// A key from a hash computed here. An invalid hash is a bug, so instead of an error it
    /// gives a key made of its SHA-256, which is valid and names nothing that exists.
    pub fn for_kind(sha256_hex: &str, kind: Kind) -> BlobKey {
        BlobKey::new(sha256_hex, kind.ext()).unwrap_or_else(|_| BlobKey {
            sha256_hex: super::sha256_hex(sha256_hex.as_bytes()),
            ext: kind.ext(),
        })
    }

    /// Parses a file name such as `<hash>.jpg` (as it appears in a media URL).
    pub fn parse_file_name(name: &str) -> Result<BlobKey, InvalidKey> {
        let (hash, ext) = name.split_once('.').ok_or(InvalidKey)?;
        BlobKey::new(hash, ext)
    }

    pub fn sha256_hex(&self) -> &str {
        &self.sha256_hex
    }

    pub fn ext(&self) -> &'static str {
        self.ext
    }

    pub fn kind(&self) -> Option<Kind> {
        Kind::from_ext(self.ext)
    }

    /// `<hash>.<ext>`
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.sha256_hex, self.ext)
    }

    /// `ab/cd/<hash>.<ext>`: two directory levels from the first two bytes of the hash, so no
    /// directory grows past 256 entries before the files themselves spread out.
    pub fn relative_path(&self) -> PathBuf {
        let h = &self.sha256_hex;
        [&h[0..2], &h[2..4], &self.file_name()].iter().collect()
    }
}

/// Where blobs live. Writes are atomic and idempotent: a reader sees a whole blob or none.
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `key` (nothing to do if it is already there).
    fn put(&self, key: &BlobKey, bytes: &[u8]) -> io::Result<()>;
    /// Moves an already written temporary file in as `key`; the temporary file is gone
    /// afterwards. For an [`FsStore`], write it under [`FsStore::tmp_dir`] so this is a
    /// rename on the same file system.
    fn put_file(&self, key: &BlobKey, tmp: &Path) -> io::Result<()>;
    /// A local path to serve the blob from (`None` for remote stores).
    fn path(&self, key: &BlobKey) -> Option<PathBuf>;
    fn exists(&self, key: &BlobKey) -> bool;
    /// Removes the blob; a missing blob is not an error.
    fn delete(&self, key: &BlobKey) -> io::Result<()>;
}

/// Blobs as files under a root directory.
#[derive(Debug)]
pub struct FsStore {
    root: PathBuf,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl FsStore {
    /// A store rooted at `root` (normally `<data_dir>/media`). Directories are created on
    /// first write.
    pub fn new(root: PathBuf) -> Self {
        FsStore { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A directory on the store's file system for files on their way in (uploads streamed to
    /// disk). Anything left there is debris from a crash and safe to delete.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn full_path(&self, key: &BlobKey) -> PathBuf {
        self.root.join(key.relative_path())
    }

    /// Creates the blob's directory, syncing every directory it had to create into its parent.
    fn make_parent(&self, path: &Path) -> io::Result<PathBuf> {
        let dir = path
            .parent()
            .ok_or_else(|| io::Error::other("blob path has no parent"))?
            .to_path_buf();
        if !dir.is_dir() {
            let mut missing = Vec::new();
            let mut d = dir.as_path();
            while !d.is_dir() {
                missing.push(d.to_path_buf());
                match d.parent() {
                    Some(p) => d = p,
                    None => break,
                }
            }
            fs::create_dir_all(&dir)?;
            for created in missing.iter().rev() {
                if let Some(parent) = created.parent() {
                    sync_dir(parent)?;
                }
            }
        }
        Ok(dir)
    }
}

impl BlobStore for FsStore {
    fn put(&self, key: &BlobKey, bytes: &[u8]) -> io::Result<()> {
        let path = self.full_path(key);
        if path.is_file() {
            return Ok(());
        }
        let dir = self.make_parent(&path)?;
        let tmp = dir.join(tmp_name(key));
        let result = (|| {
            let mut f = File::create_new(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            drop(f);
            fs::rename(&tmp, &path)?;
            sync_dir(&dir)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    fn put_file(&self, key: &BlobKey, tmp: &Path) -> io::Result<()> {
        let path = self.full_path(key);
        if path.is_file() {
            return fs::remove_file(tmp);
        }
        // The writer may not have synced it; a rename must not publish unwritten data.
        File::open(tmp)?.sync_all()?;
        let dir = self.make_parent(&path)?;
        match fs::rename(tmp, &path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::CrossesDevices => {
                // Another file system: copy into the blob's directory, then rename there.
                let staged = dir.join(tmp_name(key));
                let copied = (|| {
                    fs::copy(tmp, &staged)?;
                    File::open(&staged)?.sync_all()?;
                    fs::rename(&staged, &path)
                })();
                if copied.is_err() {
                    let _ = fs::remove_file(&staged);
                }
                copied?;
                fs::remove_file(tmp)?;
            }
            Err(e) => return Err(e),
        }
        sync_dir(&dir)
    }

    fn path(&self, key: &BlobKey) -> Option<PathBuf> {
        Some(self.full_path(key))
    }

    fn exists(&self, key: &BlobKey) -> bool {
        self.full_path(key).is_file()
    }

    fn delete(&self, key: &BlobKey) -> io::Result<()> {
        let path = self.full_path(key);
        match fs::remove_file(&path) {
            Ok(()) => match path.parent() {
                Some(dir) => sync_dir(dir),
                None => Ok(()),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// A name no other writer uses: dot-prefixed so listings skip it, never a valid key.
fn tmp_name(key: &BlobKey) -> String {
    format!(
        ".{}.{}.{}.tmp",
        key.file_name(),
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Makes a rename or creation inside `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Lower-case hex SHA-256 of a file, read in 64 KiB pieces.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut f = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::sha256_hex;

    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn keys_are_hex_with_a_known_extension() {
        let k = BlobKey::new(HASH, "jpg").unwrap();
        assert_eq!(
            k.relative_path(),
            Path::new("9f/86").join(format!("{HASH}.jpg"))
        );
        assert_eq!(
            BlobKey::parse_file_name(&format!("{HASH}.png"))
                .unwrap()
                .ext(),
            "png"
        );
        for (hash, ext) in [
            (HASH, "exe"),
            (HASH, ""),
            (HASH, "jpg/../../x"),
            (&HASH[..63], "jpg"),
            (HASH.to_uppercase().as_str(), "jpg"),
            (
                "../../../../../../../../../../../../../../../../../etc/passwdxxxx",
                "jpg",
            ),
            (
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0/",
                "jpg",
            ),
            ("", "jpg"),
        ] {
            assert_eq!(BlobKey::new(hash, ext), Err(InvalidKey), "{hash}.{ext}");
        }
        assert!(BlobKey::parse_file_name("..").is_err());
        assert!(BlobKey::parse_file_name(&format!("{HASH}.jpg.php")).is_err());
    }

    #[test]
    fn fs_store_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::new(dir.path().join("media"));
        let bytes = b"test".to_vec();
        let key = BlobKey::new(&sha256_hex(&bytes), "png").unwrap();
        assert_eq!(key.sha256_hex(), HASH);
        assert!(!store.exists(&key));
        store.put(&key, &bytes).unwrap();
        store.put(&key, &bytes).unwrap();
        assert!(store.exists(&key));
        let path = store.path(&key).unwrap();
        assert_eq!(fs::read(&path).unwrap(), bytes);
        assert_eq!(sha256_file(&path).unwrap(), HASH);
        // No temporary files left behind.
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
        store.delete(&key).unwrap();
        assert!(!store.exists(&key));
        store.delete(&key).unwrap();

        // A streamed file moved in.
        fs::create_dir_all(store.tmp_dir()).unwrap();
        let tmp = store.tmp_dir().join("upload");
        fs::write(&tmp, &bytes).unwrap();
        let key = BlobKey::new(&sha256_file(&tmp).unwrap(), "mp4").unwrap();
        store.put_file(&key, &tmp).unwrap();
        assert!(!tmp.exists());
        assert!(store.exists(&key));
        // Again: already there, the temporary file is just removed.
        fs::write(&tmp, &bytes).unwrap();
        store.put_file(&key, &tmp).unwrap();
        assert!(!tmp.exists());
        assert_eq!(fs::read(store.path(&key).unwrap()).unwrap(), bytes);
    }

    #[test]
    fn sha256_of_a_larger_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(&path, &data).unwrap();
        assert_eq!(sha256_file(&path).unwrap(), sha256_hex(&data));
    }
}
