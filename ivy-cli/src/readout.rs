//! Page-table readouts: the manager's `Record Owner_ID copy_set` table and each
//! process's `Page isOwner Access` table, in the reference format, as JSON objects
//! (beside a JSON Lines trace) or as Mermaid comments (beside a Mermaid diagram).

use crate::args::TraceFormat;
use ivy_core::{Directory, NodeId, PageId, ProcessView};
use serde_json::{json, Value};
use std::io::{self, Write};

/// The narrowest column, as in the reference readout.
const MIN_COLUMN_WIDTH: usize = 10;

/// One cell: its text for the table and its value for JSON.
pub struct Cell {
    text: String,
    value: Value,
}

impl Cell {
    fn new(text: impl ToString, value: Value) -> Cell {
        Cell {
            text: text.to_string(),
            value,
        }
    }
}

/// A titled table of a readout. A table without rows says only its title (a
/// manager that is down or blank has no directory to show).
pub struct Table {
    /// `cm`, `cm_Primary`, `process_1`; the text form adds the colon.
    pub title: String,
    /// Why the table has no rows, when it has none (`down, cm 5`).
    pub note: Option<String>,
    headers: &'static [&'static str],
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A manager's directory under `title`.
    pub fn manager(title: &str, directory: &Directory) -> Table {
        Table::manager_of(title, directory, |_| true)
    }

    /// The records of the pages `manages` picks from a manager's directory, under
    /// `title` (the manager of one share of the pages).
    pub fn manager_of(
        title: &str,
        directory: &Directory,
        manages: impl Fn(PageId) -> bool,
    ) -> Table {
        let rows = directory
            .records()
            .iter()
            .enumerate()
            .filter(|&(page, _)| manages(PageId(page as u32)))
            .map(|(page, record)| {
                let copy_set: Vec<u32> = record.copy_set.iter().map(|node| node.0).collect();
                vec![
                    Cell::new(page, json!(page)),
                    Cell::new(record.owner, json!(record.owner.0)),
                    Cell::new(&record.copy_set, json!(copy_set)),
                ]
            });
        Table {
            title: title.to_string(),
            note: None,
            headers: &["Record", "Owner_ID", "copy_set"],
            rows: rows.collect(),
        }
    }

    /// A manager with nothing to show, and why.
    pub fn empty(title: &str, note: String) -> Table {
        Table {
            title: title.to_string(),
            note: Some(note),
            headers: &[],
            rows: Vec::new(),
        }
    }

    /// A process's page table under `process_<id>`.
    /// With the owner-side algorithms, also the copy set the process keeps as owner
    /// (`copy_set`), and with the dynamic one its probable owner (`probOwner`).
    pub fn process<P: ProcessView>(process: &P) -> Table {
        let keeps_copy_sets = process.kept_copy_set(PageId(0)).is_some();
        let keeps_hints = process.probable_owner(PageId(0)).is_some();
        let pages = (0..process.page_count() as u32).map(PageId);
        let entries = pages.filter_map(|page| Some((page, process.page_entry(page)?)));
        let rows = entries.map(|(page, entry)| {
            let mut row = vec![
                Cell::new(page.0, json!(page.0)),
                Cell::new(entry.is_owner(), json!(entry.is_owner())),
                Cell::new(entry.access(), json!(entry.access())),
            ];
            if let Some(copy_set) = process.kept_copy_set(page).filter(|_| keeps_copy_sets) {
                let members: Vec<u32> = copy_set.iter().map(|node| node.0).collect();
                row.push(Cell::new(&copy_set, json!(members)));
            }
            if let Some(hint) = process.probable_owner(page).filter(|_| keeps_hints) {
                row.push(Cell::new(hint, json!(hint.0)));
            }
            row
        });
        let headers: &'static [&'static str] = match (keeps_copy_sets, keeps_hints) {
            (false, _) => &["Page", "isOwner", "Access"],
            (true, false) => &["Page", "isOwner", "Access", "copy_set"],
            (true, true) => &["Page", "isOwner", "Access", "copy_set", "probOwner"],
        };
        Table {
            title: format!("process_{}", process.node_id()),
            note: None,
            headers,
            rows: rows.collect(),
        }
    }

    /// The improved central manager's table: only the owner of each page.
    pub fn owners(title: &str, owners: impl Iterator<Item = (PageId, NodeId)>) -> Table {
        let rows = owners.map(|(page, owner)| {
            vec![
                Cell::new(page.0, json!(page.0)),
                Cell::new(owner, json!(owner.0)),
            ]
        });
        Table {
            title: title.to_string(),
            note: None,
            headers: &["Record", "Owner_ID"],
            rows: rows.collect(),
        }
    }

    /// The table in the reference layout: left-aligned columns at least ten
    /// characters wide, each line prefixed with `prefix`.
    fn write_text(&self, out: &mut dyn Write, prefix: &str) -> io::Result<()> {
        match &self.note {
            Some(note) => writeln!(out, "{prefix}{} ({note}):", self.title)?,
            None => writeln!(out, "{prefix}{}:", self.title)?,
        }
        if self.headers.is_empty() {
            return Ok(());
        }
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|column| {
                let longest = self.rows.iter().map(|row| row[column].text.len());
                let longest = longest.chain([self.headers[column].len()]).max();
                MIN_COLUMN_WIDTH.max(longest.unwrap_or(0) + 1)
            })
            .collect();
        let headers = self.headers.iter().map(|header| header.to_string());
        let rows = self
            .rows
            .iter()
            .map(|row| row.iter().map(|cell| cell.text.clone()));
        for row in std::iter::once(headers.collect::<Vec<_>>()).chain(rows.map(Vec::from_iter)) {
            write!(out, "{prefix}")?;
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

    /// The table as one JSON object: `{"readout": stage, "table": title, "rows": [..]}`,
    /// each row an object keyed by snake-case header.
    fn to_json(&self, stage: &str) -> Value {
        let keys: Vec<String> = self.headers.iter().map(|h| snake_case(h)).collect();
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let fields = keys
                    .iter()
                    .cloned()
                    .zip(row.iter().map(|c| c.value.clone()));
                Value::Object(fields.collect())
            })
            .collect();
        let mut object = json!({ "readout": stage, "table": self.title, "rows": rows });
        if let Some(note) = &self.note {
            object["note"] = json!(note);
        }
        object
    }
}

/// `Owner_ID` -> `owner_id`, `isOwner` -> `is_owner`.
fn snake_case(header: &str) -> String {
    let mut name = String::new();
    let mut after_lowercase = false;
    for character in header.chars() {
        if character.is_ascii_uppercase() && after_lowercase {
            name.push('_');
        }
        after_lowercase = character.is_ascii_lowercase();
        name.push(character.to_ascii_lowercase());
    }
    name
}

/// Writes a readout (`stage` is `initial` or `final`) in the form that fits beside a
/// trace of `format`: tables for a table trace, one JSON object per table beside a
/// JSON Lines trace, `%%` comments beside a Mermaid diagram, so each output stays
/// one valid document.
pub fn write_readout(
    out: &mut dyn Write,
    format: TraceFormat,
    stage: &str,
    tables: impl IntoIterator<Item = Table>,
) -> io::Result<()> {
    for table in tables {
        match format {
            TraceFormat::Json => {
                serde_json::to_writer(&mut *out, &table.to_json(stage))?;
                writeln!(out)?;
            }
            TraceFormat::Mermaid => table.write_text(out, "%% ")?,
            TraceFormat::Table | TraceFormat::None => table.write_text(out, "")?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivy_core::{ProcessOptions, SystemConfig};

    fn readout(format: TraceFormat) -> String {
        let config = SystemConfig::new(3, 5, 64).unwrap();
        let options = ProcessOptions::single_manager(&config);
        let process = ivy_core::Process::new(ivy_core::NodeId(1), &config, options);
        let tables = [
            Table::manager("cm", &Directory::new(&config)),
            Table::process(&process),
        ];
        let mut out = Vec::new();
        write_readout(&mut out, format, "initial", tables).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn initial_readout_matches_the_reference_layout() {
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
        assert_eq!(readout(TraceFormat::Table), expected);
    }

    #[test]
    fn a_json_readout_is_one_object_per_table() {
        let text = readout(TraceFormat::Json);
        let lines: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["readout"], "initial");
        assert_eq!(lines[0]["table"], "cm");
        assert_eq!(
            lines[0]["rows"][4],
            json!({"record": 4, "owner_id": 1, "copy_set": []})
        );
        assert_eq!(
            lines[1]["rows"][1],
            json!({"page": 1, "is_owner": true, "access": "ReadWrite"})
        );
    }

    #[test]
    fn a_mermaid_readout_is_comments_only() {
        let text = readout(TraceFormat::Mermaid);
        assert!(text.lines().all(|line| line.starts_with("%% ")), "{text}");
        assert!(text.starts_with("%% cm:\n%% Record    Owner_ID  copy_set\n"));
    }

    #[test]
    fn a_table_without_rows_says_why() {
        let mut out = Vec::new();
        let table = Table::empty("cm_Backup", "down, cm 5".to_string());
        write_readout(&mut out, TraceFormat::Table, "final", [table]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "cm_Backup (down, cm 5):\n");
    }
}
