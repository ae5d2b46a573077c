//! The `--history` file, replaced only by a complete history: the run writes a
//! temporary file beside it and renames it over the target at the end, so a run that
//! stalls, fails or is interrupted never leaves an existing file truncated.

use crate::output::write_history;
use ivy_core::HistoryEntry;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A history file being prepared: a temporary file beside the target.
pub struct HistoryFile {
    target: PathBuf,
    temporary: PathBuf,
    file: Option<File>,
}

impl HistoryFile {
    /// Creates the temporary file beside `target` (so a bad directory fails before
    /// the run starts); the target itself is untouched until [`HistoryFile::commit`].
    pub fn create(target: &Path) -> Result<HistoryFile, String> {
        let shown = target.display();
        let name = target
            .file_name()
            .ok_or_else(|| format!("cannot write history file {shown}: not a file name"))?;
        let mut temporary_name = std::ffi::OsString::from(".");
        temporary_name.push(name);
        temporary_name.push(format!(".{}.tmp", std::process::id()));
        let temporary = target.with_file_name(temporary_name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
            .map_err(|error| format!("cannot write history file {shown}: {error}"))?;
        Ok(HistoryFile {
            target: target.to_path_buf(),
            temporary,
            file: Some(file),
        })
    }

    /// Writes `history` and moves it over the target.
    pub fn commit(mut self, history: &[HistoryEntry]) -> Result<(), String> {
        let shown = self.target.display().to_string();
        let file = self.file.take().expect("a history file commits once");
        let mut writer = BufWriter::new(file);
        write_history(&mut writer, history)
            .and_then(|()| writer.flush())
            .and_then(|()| writer.get_ref().sync_data())
            .and_then(|()| fs::rename(&self.temporary, &self.target))
            .map_err(|error| format!("cannot write history file {shown}: {error}"))
    }
}

impl Drop for HistoryFile {
    /// Removes the temporary file unless it became the target.
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivy_core::{NodeId, OperationKind, PageId};

    fn directory(name: &str) -> PathBuf {
        let directory = std::env::temp_dir().join(format!("ivy-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&directory);
        fs::create_dir_all(&directory).unwrap();
        directory
    }

    fn entry() -> HistoryEntry {
        HistoryEntry {
            process: NodeId(0),
            op: OperationKind::Write,
            page: PageId(1),
            value: 7,
            invoked_at: 1,
            completed_at: 2,
        }
    }

    #[test]
    fn a_committed_history_replaces_the_target() {
        let directory = directory("commit");
        let target = directory.join("h.jsonl");
        fs::write(&target, "old\n").unwrap();
        let file = HistoryFile::create(&target).unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "old\n");
        file.commit(&[entry()]).unwrap();
        let text = fs::read_to_string(&target).unwrap();
        assert!(
            text.starts_with("{\"process\":0,\"op\":\"write\""),
            "{text}"
        );
        assert_eq!(fs::read_dir(&directory).unwrap().count(), 1);
    }

    #[test]
    fn an_abandoned_history_leaves_the_target_and_no_temporary_file() {
        let directory = directory("abandon");
        let target = directory.join("h.jsonl");
        fs::write(&target, "old\n").unwrap();
        drop(HistoryFile::create(&target).unwrap());
        assert_eq!(fs::read_to_string(&target).unwrap(), "old\n");
        assert_eq!(fs::read_dir(&directory).unwrap().count(), 1);
    }

    #[test]
    fn a_missing_directory_fails_before_the_run() {
        let error = HistoryFile::create(Path::new("/nonexistent/dir/h.jsonl")).err();
        assert!(error
            .unwrap()
            .starts_with("cannot write history file /nonexistent/dir/h.jsonl"));
    }
}
