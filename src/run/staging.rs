//! The atomic writer: every output of a command is first written to a
//! temporary file beside its destination, and only when all of them are
//! written are they renamed into place, so that a failed or killed run
//! never leaves a half-written `generated/`. Unchanged files are left
//! alone, so their modification times stay and build tools stay quiet.
//! This and `run` are the only code that writes to disk.

use crate::emit::{self, EmitError, OutputFile, OutputSink};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What `write_outputs` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteSummary {
    pub written: usize,
    pub unchanged: usize,
}

/// Writes files under `dir` in two phases: every changed file is first
/// written to a temporary file in its own directory (`.gen-*.tmp`), and only
/// when all of them are written are they renamed into place. A run that
/// fails before the renames leaves every previous file as it was and removes
/// its temporary files; one that is killed leaves them behind, and the next
/// run removes them. Files whose contents are unchanged are not touched, so
/// their modification times stay and build tools stay quiet.
///
/// Built with the `failpoints` feature (the test build only), two
/// environment variables make the crash tests possible:
/// `GEN_TEST_FAIL_AFTER_TEMP_FILES=N` fails after N temporary files, and
/// `GEN_TEST_SLOW_WRITE_MS=N` pauses after each.
pub fn write_outputs(dir: &Path, files: &[OutputFile]) -> anyhow::Result<WriteSummary> {
    let mut staging = Staging::new(dir);
    for file in files {
        staging.stage(file)?;
    }
    staging.commit()
}

/// The first phase of [`write_outputs`], one file at a time, so that a
/// command can stage each output as soon as it is rendered and drop it:
/// `gen all` on a large schema renders more than it could hold at once.
/// Dropping a `Staging` without committing removes its temporary files.
pub struct Staging {
    dir: PathBuf,
    staged: Vec<(tempfile::NamedTempFile, PathBuf)>,
    /// Files removed on commit, after the staged ones are in place.
    removed: Vec<PathBuf>,
    summary: WriteSummary,
    /// Temporary files kept by this staging and the workers split from it,
    /// so that the test failpoint counts them all.
    kept_everywhere: Arc<AtomicUsize>,
    failpoints: Failpoints,
}

/// Where the crash tests make a write fail or pause. Always empty unless
/// the `failpoints` feature is on, so a release build has none.
#[derive(Debug, Clone, Copy, Default)]
struct Failpoints {
    fail_after: Option<usize>,
    pause: Option<u64>,
}

impl Failpoints {
    #[cfg(feature = "failpoints")]
    fn from_environment() -> Failpoints {
        let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
        Failpoints {
            fail_after: number("GEN_TEST_FAIL_AFTER_TEMP_FILES").map(|n: u64| n as usize),
            pause: number("GEN_TEST_SLOW_WRITE_MS"),
        }
    }

    #[cfg(not(feature = "failpoints"))]
    fn from_environment() -> Failpoints {
        Failpoints::default()
    }
}

impl Staging {
    pub fn new(dir: &Path) -> Staging {
        remove_stale_temporaries(dir);
        Staging {
            dir: dir.to_path_buf(),
            staged: Vec::new(),
            removed: Vec::new(),
            summary: WriteSummary::default(),
            kept_everywhere: Arc::default(),
            failpoints: Failpoints::from_environment(),
        }
    }

    /// An empty staging for another thread, in the same directory, whose
    /// files join this one's through [`Staging::absorb`]. Dropped without
    /// being absorbed, it removes its temporary files like any staging.
    pub fn worker(&self) -> Staging {
        Staging {
            dir: self.dir.clone(),
            staged: Vec::new(),
            removed: Vec::new(),
            summary: WriteSummary::default(),
            kept_everywhere: self.kept_everywhere.clone(),
            failpoints: self.failpoints,
        }
    }

    /// Takes over a worker's staged files and counts.
    pub fn absorb(&mut self, worker: Staging) {
        self.staged.extend(worker.staged);
        self.removed.extend(worker.removed);
        self.summary.written += worker.summary.written;
        self.summary.unchanged += worker.summary.unchanged;
    }

    /// Writes the file to a temporary file beside its destination, unless
    /// the destination already holds exactly these contents.
    pub fn stage(&mut self, file: &OutputFile) -> anyhow::Result<()> {
        let path = self.dir.join(&file.path);
        if same_contents(&path, file.contents.as_bytes()) {
            self.summary.unchanged += 1;
            return Ok(());
        }
        let mut temporary = self.temporary(&path)?;
        temporary.write_all(file.contents.as_bytes())?;
        self.keep(temporary, path)
    }

    /// A new temporary file in the destination's directory.
    fn temporary(&mut self, path: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
        let kept = self.kept_everywhere.load(Ordering::SeqCst);
        if self.failpoints.fail_after.is_some_and(|n| kept >= n) {
            anyhow::bail!("test failpoint: failing after {kept} temporary files");
        }
        let parent = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".gen-").suffix(".tmp");
        // tempfile creates files readable by their owner alone, which the
        // rename would carry over to the outputs; they get the mode any new
        // file gets instead (0666 less the umask), as a web server or a
        // container build that serves or copies them expects.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        builder.tempfile_in(parent).map_err(|e| {
            anyhow::anyhow!(
                "cannot create a temporary file in {}: {e}",
                parent.display()
            )
        })
    }

    /// A written temporary file, to be renamed to `path` on commit.
    fn keep(&mut self, temporary: tempfile::NamedTempFile, path: PathBuf) -> anyhow::Result<()> {
        temporary.as_file().sync_all()?;
        self.staged.push((temporary, path));
        self.kept_everywhere.fetch_add(1, Ordering::SeqCst);
        if let Some(ms) = self.failpoints.pause {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        Ok(())
    }

    /// Removes `relative` on commit, once the staged files are in place:
    /// a run that fails before then leaves it where it was.
    pub fn remove(&mut self, relative: &str) {
        self.removed.push(self.dir.join(relative));
    }

    /// The second phase: every staged file is renamed into place, then
    /// the files to remove are removed.
    pub fn commit(self) -> anyhow::Result<WriteSummary> {
        let mut summary = self.summary;
        for (temporary, path) in self.staged {
            temporary
                .persist(&path)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            summary.written += 1;
        }
        for path in self.removed {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => anyhow::bail!("cannot remove {}: {e}", path.display()),
            }
        }
        Ok(summary)
    }
}

fn staging_error(path: &str, error: impl std::fmt::Display) -> EmitError {
    EmitError::Write {
        path: path.to_owned(),
        source: std::io::Error::other(error.to_string()),
    }
}

impl OutputSink for Staging {
    fn file(&mut self, file: OutputFile) -> Result<(), EmitError> {
        self.stage(&file)
            .map_err(|e| staging_error(&file.path.display().to_string(), e))
    }

    /// Streams each file into a temporary file while comparing it with
    /// the destination, which is left alone when they turn out equal.
    fn stream(
        &mut self,
        paths: &[&str],
        write: &mut emit::StreamWriter<'_>,
    ) -> Result<(), EmitError> {
        let mut writers = Vec::new();
        for relative in paths {
            let path = self.dir.join(relative);
            let temporary = self
                .temporary(&path)
                .map_err(|e| staging_error(relative, e))?;
            let file = temporary
                .as_file()
                .try_clone()
                .map_err(|e| staging_error(relative, e))?;
            // Renderers write in small pieces: they are gathered before
            // being compared and written.
            writers.push((
                BufWriter::with_capacity(1 << 17, ComparingWriter::new(file, &path)),
                temporary,
                path,
            ));
        }
        {
            let mut dyn_writers: Vec<&mut dyn Write> = writers
                .iter_mut()
                .map(|(writer, _, _)| writer as &mut dyn Write)
                .collect();
            write(&mut dyn_writers)?;
        }
        for ((writer, temporary, path), relative) in writers.into_iter().zip(paths) {
            let same = writer
                .into_inner()
                .map_err(|e| e.into_error())
                .and_then(ComparingWriter::finish)
                .map_err(|e| staging_error(relative, e))?;
            if same {
                self.summary.unchanged += 1;
            } else {
                self.keep(temporary, path)
                    .map_err(|e| staging_error(relative, e))?;
            }
        }
        Ok(())
    }
}

/// Whether the file at `path` holds exactly `contents`, read in pieces.
fn same_contents(path: &Path, contents: &[u8]) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    if file.metadata().map(|m| m.len()).ok() != Some(contents.len() as u64) {
        return false;
    }
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut buffer = vec![0; 1 << 16];
    let mut offset = 0;
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => return offset == contents.len(),
            Ok(n) => {
                if contents.get(offset..offset + n) != Some(&buffer[..n]) {
                    return false;
                }
                offset += n;
            }
            Err(_) => return false,
        }
    }
}

/// Writes into a temporary file and compares what it writes with the
/// destination's present contents as it goes.
struct ComparingWriter {
    out: std::fs::File,
    /// The destination, while everything written so far matches it.
    existing: Option<std::io::BufReader<std::fs::File>>,
    scratch: Vec<u8>,
}

impl ComparingWriter {
    fn new(out: std::fs::File, destination: &Path) -> Self {
        ComparingWriter {
            out,
            existing: std::fs::File::open(destination)
                .ok()
                .map(|f| std::io::BufReader::with_capacity(1 << 16, f)),
            scratch: Vec::new(),
        }
    }

    /// Flushes, and says whether the destination holds exactly what was
    /// written.
    fn finish(mut self) -> std::io::Result<bool> {
        self.out.flush()?;
        Ok(match &mut self.existing {
            Some(existing) => {
                let mut rest = [0u8; 1];
                matches!(existing.read(&mut rest), Ok(0))
            }
            None => false,
        })
    }
}

impl Write for ComparingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        if let Some(existing) = &mut self.existing {
            self.scratch.resize(n, 0);
            let same = existing.read_exact(&mut self.scratch).is_ok() && self.scratch == buf[..n];
            if !same {
                self.existing = None;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Temporary files a killed run left behind.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            remove_stale_temporaries(&path);
        } else if name.starts_with(".gen-") && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(&path);
        }
    }
}
