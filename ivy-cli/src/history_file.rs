//! The `--history` file, replaced only by a complete history: at the end of the run
//! the history goes to a temporary file beside it, renamed over the target, so a run
//! that stalls, fails or is interrupted never leaves an existing file truncated, and
//! leaves no temporary file behind (none exists while the run is under way).

use crate::output::write_history;
use ivy_core::HistoryEntry;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A history file to write at the end of a run, through a temporary file beside it.
pub struct HistoryFile {
    target: PathBuf,
    temporary: PathBuf,
}

impl HistoryFile {
    /// Checks that a file can be created beside `target` (so a bad directory fails
    /// before the run starts), and leaves nothing there: an interrupted run leaves no
    /// trace. The target itself is untouched until [`HistoryFile::commit`].
    pub fn create(target: &Path) -> Result<HistoryFile, String> {
        let shown = target.display();
        let name = target
            .file_name()
            .ok_or_else(|| format!("cannot write history file {shown}: not a file name"))?;
        let mut temporary_name = std::ffi::OsString::from(".");
        temporary_name.push(name);
        temporary_name.push(format!(".{}.tmp", std::process::id()));
        let history = HistoryFile {
            target: target.to_path_buf(),
            temporary: target.with_file_name(temporary_name),
        };
        history
            .open_temporary()
            .map_err(|error| format!("cannot write history file {shown}: {error}"))?;
        fs::remove_file(&history.temporary)
            .map_err(|error| format!("cannot write history file {shown}: {error}"))?;
        Ok(history)
    }

    /// Writes `history` to the temporary file and moves it over the target; on
    /// failure the temporary file is removed and the target left as it was.
    pub fn commit(self, history: &[HistoryEntry]) -> Result<(), String> {
        let shown = self.target.display().to_string();
        let written = self.open_temporary().and_then(|file| {
            let mut writer = BufWriter::new(file);
            write_history(&mut writer, history)?;
            writer.flush()?;
            writer.get_ref().sync_data()?;
            fs::rename(&self.temporary, &self.target)
        });
        written.map_err(|error| {
            let _ = fs::remove_file(&self.temporary);
            format!("cannot write history file {shown}: {error}")
        })
    }

    fn open_temporary(&self) -> std::io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&self.temporary)
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
    fn nothing_is_left_beside_the_target_while_the_run_is_under_way() {
        let directory = directory("under-way");
        let target = directory.join("h.jsonl");
        let file = HistoryFile::create(&target).unwrap();
        assert_eq!(fs::read_dir(&directory).unwrap().count(), 0);
        file.commit(&[entry()]).unwrap();
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
