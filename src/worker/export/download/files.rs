//! The files a download writes: private folders, 0600 `.part` files, capped error bodies.

use std::path::Path;

use futures::StreamExt;

/// Creates `dir` and any missing parents readable by this user only (0700). Folders that exist
/// are left as they are (a `--download` folder may be the user's own).
pub async fn create_private_dirs(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Makes `dir` (a job's own download folder) private even if it existed before.
pub async fn make_private(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    create_private_dirs(dir).await?;
    tokio::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).await
}

pub(super) async fn part_len(part: &Path) -> u64 {
    tokio::fs::metadata(part)
        .await
        .map(|m| if m.is_file() { m.len() } else { 0 })
        .unwrap_or(0)
}

/// Up to `max` bytes of an error answer's body, as text (a hostile server may send gigabytes).
pub(super) async fn read_capped(resp: reqwest::Response, max: usize) -> String {
    let mut stream = resp.bytes_stream();
    let mut body = Vec::new();
    while body.len() < max {
        match stream.next().await {
            Some(Ok(chunk)) => {
                let room = max - body.len();
                body.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or(&[]));
            }
            _ => break,
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// Opens a `.part` file readable by this user only (0600), also one left by an older version.
pub(super) async fn open_private(part: &Path, append: bool) -> std::io::Result<tokio::fs::File> {
    use std::os::unix::fs::PermissionsExt;
    let file = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .mode(0o600)
        .open(part)
        .await?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .await?;
    Ok(file)
}
