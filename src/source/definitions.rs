//! Every definition of each table that more than one document defines,
//! taken from the documents as read, before lowering merges them and keeps
//! one. The consolidation report needs the losing definitions' columns,
//! which the merged model no longer has.

use crate::model::{Column, DefinitionKind, Schema, Source};
use crate::source::SourceFile;
use crate::source::document::read_document;
use serde::Serialize;
use std::collections::BTreeMap;

/// One document's definition of a table, with its columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Definition {
    pub source: Source,
    pub defined_by: Option<DefinitionKind>,
    pub columns: Vec<Column>,
}

impl Definition {
    pub(crate) fn describe(&self) -> String {
        let kind = match self.defined_by {
            Some(DefinitionKind::Sql) => "SQL",
            _ => "Markdown",
        };
        format!("{} ({kind}, {} columns)", self.source, self.columns.len())
    }
}

/// Every definition of each table that more than one document defines with
/// columns, in precedence order (the first is the one the model kept).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Definitions {
    tables: BTreeMap<String, Vec<Definition>>,
}

impl Definitions {
    /// Reads each document on its own, as the model's merge would before
    /// choosing a winner. Pure: the files are already in memory.
    pub fn read(files: &[SourceFile]) -> Definitions {
        let schemas: Vec<Schema> = files.iter().map(|f| read_document(f).schema).collect();
        Definitions::from_schemas(&schemas)
    }

    /// The same from per-document schemas, in precedence order.
    pub fn from_schemas(schemas: &[Schema]) -> Definitions {
        Definitions::from_documents(schemas)
    }

    /// The same from per-document schemas, in precedence order, by
    /// reference: the project passes the documents it read before merging
    /// them, so that they need not be read again. Only the tables that more
    /// than one document defines are copied.
    pub fn from_documents<'s>(
        schemas: impl IntoIterator<Item = &'s Schema> + Clone,
    ) -> Definitions {
        let defined =
            |schema: &'s Schema| schema.documented_tables().filter(|t| !t.columns.is_empty());
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for schema in schemas.clone() {
            for table in defined(schema) {
                *count.entry(table.name.as_str()).or_default() += 1;
            }
        }
        let mut tables: BTreeMap<String, Vec<Definition>> = BTreeMap::new();
        for schema in schemas {
            for table in defined(schema).filter(|t| count[t.name.as_str()] > 1) {
                tables
                    .entry(table.name.clone())
                    .or_default()
                    .push(Definition {
                        source: table
                            .definitions
                            .first()
                            .cloned()
                            .unwrap_or_else(|| table.source.clone()),
                        defined_by: table.defined_by,
                        columns: table.columns.clone(),
                    });
            }
        }
        Definitions { tables }
    }

    pub fn of(&self, table: &str) -> Option<&[Definition]> {
        self.tables.get(table).map(Vec::as_slice)
    }
}
