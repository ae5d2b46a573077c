//! Page-table readouts in the reference format: the manager's `Record Owner_ID
//! copy_set` table and each process's `Page isOwner Access` table.

use ivy_core::{Directory, Node, Process};
use std::io::{self, Write};

/// The narrowest column, as in the reference readout.
const MIN_COLUMN_WIDTH: usize = 10;

/// Writes a titled table with left-aligned columns at least ten characters wide.
pub fn write_table(
    out: &mut dyn Write,
    title: &str,
    headers: &[&str],
    rows: &[Vec<String>],
) -> io::Result<()> {
    writeln!(out, "{title}")?;
    let widths: Vec<usize> = (0..headers.len())
        .map(|column| {
            let longest = rows
                .iter()
                .map(|row| row[column].len())
                .chain([headers[column].len()])
                .max()
                .unwrap_or(0);
            MIN_COLUMN_WIDTH.max(longest + 1)
        })
        .collect();
    let headers: Vec<String> = headers.iter().map(|header| header.to_string()).collect();
    for row in std::iter::once(&headers).chain(rows) {
        let last = row.len() - 1;
        for (column, cell) in row.iter().enumerate() {
            if column == last {
                writeln!(out, "{cell}")?;
            } else {
                write!(out, "{cell:<width$}", width = widths[column])?;
            }
        }
    }
    Ok(())
}

/// Writes a manager's directory under `title` (e.g. `cm:`).
pub fn write_manager(out: &mut dyn Write, title: &str, directory: &Directory) -> io::Result<()> {
    let rows: Vec<Vec<String>> = directory
        .records()
        .iter()
        .enumerate()
        .map(|(page, record)| {
            vec![
                page.to_string(),
                record.owner.to_string(),
                record.copy_set.to_string(),
            ]
        })
        .collect();
    write_table(out, title, &["Record", "Owner_ID", "copy_set"], &rows)
}

/// Writes a process's page table under `process_<id>:`.
pub fn write_process(out: &mut dyn Write, process: &Process) -> io::Result<()> {
    let rows: Vec<Vec<String>> = process
        .pages()
        .iter()
        .enumerate()
        .map(|(page, entry)| {
            vec![
                page.to_string(),
                entry.is_owner().to_string(),
                entry.access().to_string(),
            ]
        })
        .collect();
    let title = format!("process_{}:", process.id());
    write_table(out, &title, &["Page", "isOwner", "Access"], &rows)
}

/// Writes every manager's table, then every process's.
pub fn write_readout(
    out: &mut dyn Write,
    managers: &[(String, &Directory)],
    processes: &[Process],
) -> io::Result<()> {
    for (title, directory) in managers {
        write_manager(out, title, directory)?;
    }
    for process in processes {
        write_process(out, process)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivy_core::{ProcessOptions, SystemConfig};

    #[test]
    fn initial_readout_matches_the_reference_layout() {
        let config = SystemConfig::new(3, 5, 64).unwrap();
        let process = Process::new(
            ivy_core::NodeId(1),
            &config,
            ProcessOptions::single_manager(&config),
        );
        let mut out = Vec::new();
        write_manager(&mut out, "cm:", &Directory::new(&config)).unwrap();
        write_process(&mut out, &process).unwrap();
        let expected = "\
cm:
Record    Owner_ID  copy_set
0         0         {}
1         1         {}
2         2         {}
3         0         {}
4         1         {}
process_1:
Page      isOwner   Access
0         false     Nil
1         true      ReadWrite
2         false     Nil
3         false     Nil
4         true      ReadWrite
";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}
