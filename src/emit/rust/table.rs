//! One table's plan: the row struct and the `New…` struct for inserts, with
//! each field's Rust type, serde attributes and documentation line.

use super::*;

/// `    pub name: Type,`, broken after the colon when too long.
pub(super) fn field_line(identifier: &str, ty: &str) -> String {
    layout::assignment(4, &format!("pub {identifier}:"), ty, ",")
}

pub(super) struct TableInput<'a> {
    pub(super) table: &'a Table,
    pub(super) name: &'a str,
    pub(super) columns: &'a [ColumnPlan<'a>],
    pub(super) documented: &'a Schema,
    pub(super) enums: Vec<EnumView>,
    pub(super) json_structs: Vec<JsonStructView>,
}

/// One table's plan: its row struct, its `New…` struct and their `impl`s.
pub(super) fn table_plan(
    input: TableInput<'_>,
    rust_type: &dyn Fn(&ColumnPlan) -> Option<String>,
) -> TablePlan {
    let TableInput {
        table,
        name,
        columns,
        documented,
        enums,
        json_structs,
    } = input;
    let new_name = format!("New{name}");
    let mapped: Vec<(&ColumnPlan, String)> = columns
        .iter()
        .filter_map(|c| rust_type(c).map(|ty| (c, ty)))
        .collect();
    let inserted: Vec<&(&ColumnPlan, String)> = mapped
        .iter()
        .filter(|(c, _)| c.column.default.is_none())
        .collect();
    let all_rows: Vec<&(&ColumnPlan, String)> = mapped.iter().collect();
    let from_fields: Vec<String> = inserted
        .iter()
        .map(|(c, _)| format!("{0}: row.{0}", c.field))
        .collect();
    TablePlan {
        table: table.name.clone(),
        name: name.to_owned(),
        new_doc: new_struct_doc(table, &mapped),
        new_name,
        doc: doc_block(0, &row_struct_paragraphs(table, columns, &mapped)),
        fields: field_block(table, documented, &all_rows, FieldBlockStruct::Row),
        new_fields: field_block(table, documented, &inserted, FieldBlockStruct::NewRow),
        constants: inherent_constants(table, &mapped),
        record_body: record_body(name),
        insert_sql: layout::assignment(
            4,
            "const INSERT_SQL: &'static str =",
            &literal(&insert_statement(table, &all_rows, &inserted)),
            ";",
        ),
        bind_body: layout::chain(8, "query", &bind_calls(&inserted)),
        from_parameter: if from_fields.is_empty() {
            "_row"
        } else {
            "row"
        },
        from_body: layout::struct_literal(8, "Self", &from_fields),
        enums,
        json_structs,
    }
}

/// The row struct's doc paragraphs: the table's purpose, note and privacy
/// from the documents, where it is documented, and which columns the struct
/// never serialises or leaves out, so that a reader of the crate learns
/// why a column is missing or hidden.
fn row_struct_paragraphs(
    table: &Table,
    columns: &[ColumnPlan],
    mapped: &[(&ColumnPlan, String)],
) -> Vec<String> {
    let unmapped: Vec<String> = columns
        .iter()
        .filter(|c| matches!(c.kind, ColumnKind::Unmapped))
        .map(|c| format!("`{}` ({})", c.column.name, c.column.ty))
        .collect();
    let sensitive: Vec<String> = mapped
        .iter()
        .filter(|(c, _)| table.is_sensitive(c.column))
        .map(|(c, _)| c.column.name.clone())
        .collect();
    let mut paragraphs = vec![
        table
            .meta
            .purpose
            .as_deref()
            .map(|p| sentence(&doc_text(p)))
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| format!("A row of `{}`.", table.name)),
    ];
    paragraphs.extend(table.meta.note.as_deref().map(|n| sentence(&doc_text(n))));
    paragraphs.extend(
        table
            .meta
            .privacy
            .as_deref()
            .map(|p| format!("Privacy: {}", sentence(&doc_text(p)))),
    );
    let places: Vec<String> = if table.definitions.is_empty() {
        vec![table.source.to_string()]
    } else {
        table.definitions.iter().map(ToString::to_string).collect()
    };
    paragraphs.push(format!(
        "Table `public.{}`, documented at {}.",
        table.name,
        code_list(&places)
    ));
    if !sensitive.is_empty() {
        paragraphs.push(format!(
            "Never serialised, because they hold secrets: {}.",
            code_list(&sensitive)
        ));
    }
    if !unmapped.is_empty() {
        paragraphs.push(format!(
            "Left out, because no Rust type here reads their PostgreSQL type: {}.",
            unmapped.join(", ")
        ));
    }
    paragraphs
}

/// The `New…` struct's doc: what it is for, and which columns it leaves
/// out because the database fills them.
fn new_struct_doc(table: &Table, mapped: &[(&ColumnPlan, String)]) -> String {
    let defaulted: Vec<String> = mapped
        .iter()
        .filter(|(c, _)| c.column.default.is_some())
        .map(|(c, _)| c.column.name.clone())
        .collect();
    let left_out = if defaulted.is_empty() {
        "Every column is set.".to_owned()
    } else {
        format!(
            "Columns with a default are left out, for the database to fill: {}.",
            code_list(&defaulted)
        )
    };
    doc_block(
        0,
        &[
            format!("A new row of `{}`, for [`NewRecord::insert`].", table.name),
            left_out,
        ],
    )
}

/// Which struct a field block is for. The row struct derives
/// `sqlx::FromRow`, so a renamed field needs `#[sqlx(rename)]` as well as
/// serde's; the `New…` struct derives no `FromRow` (its values are bound
/// one by one), so it takes serde's alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldBlockStruct {
    Row,
    NewRow,
}

/// The fields of one struct, each with its doc line and attributes.
fn field_block(
    table: &Table,
    documented: &Schema,
    rows: &[&(&ColumnPlan, String)],
    block_struct: FieldBlockStruct,
) -> String {
    let with_sqlx = block_struct == FieldBlockStruct::Row;
    rows.iter()
        .map(|(plan, ty)| {
            let column = plan.column;
            let mut lines = vec![doc_block(4, &[column_doc(table, column, documented)])];
            let renamed = unraw(&plan.field) != column.name;
            let mut serde_attrs = Vec::new();
            if renamed {
                serde_attrs.push(format!("rename = {}", literal(&column.name)));
            }
            if table.is_sensitive(column) {
                serde_attrs.push("skip_serializing".to_owned());
            }
            if !serde_attrs.is_empty() {
                lines.push(format!("    #[serde({})]", serde_attrs.join(", ")));
            }
            if renamed && with_sqlx {
                lines.push(format!("    #[sqlx(rename = {})]", literal(&column.name)));
            }
            lines.push(field_line(&plan.field, ty));
            lines.join("\n")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The inherent `impl` body: the table's name, its mapped columns and its
/// primary key, for queries written by hand.
fn inherent_constants(table: &Table, mapped: &[(&ColumnPlan, String)]) -> String {
    let quoted = |names: &[String]| -> Vec<String> { names.iter().map(|n| literal(n)).collect() };
    let column_names: Vec<String> = mapped.iter().map(|(c, _)| c.column.name.clone()).collect();
    let key: Vec<String> = table
        .primary_key
        .as_ref()
        .map(|pk| pk.columns.clone())
        .unwrap_or_default();
    [
        "    /// The table, in schema `public`.".to_owned(),
        format!("    pub const TABLE: &str = {};", literal(&table.name)),
        "    /// Every column, in the table's order.".to_owned(),
        layout::array(
            4,
            "pub const COLUMNS: &[&str] = &",
            &quoted(&column_names),
            ";",
        ),
        "    /// The primary key's columns.".to_owned(),
        layout::array(4, "pub const PRIMARY_KEY: &[&str] = &", &quoted(&key), ";"),
    ]
    .join("\n")
}

/// The `impl Record` body, which points at the inherent constants so that
/// each is written once.
fn record_body(name: &str) -> String {
    [
        layout::assignment(
            4,
            "const TABLE: &'static str =",
            &format!("{name}::TABLE"),
            ";",
        ),
        layout::assignment(
            4,
            "const COLUMNS: &'static [&'static str] =",
            &format!("{name}::COLUMNS"),
            ";",
        ),
        layout::assignment(
            4,
            "const PRIMARY_KEY: &'static [&'static str] =",
            &format!("{name}::PRIMARY_KEY"),
            ";",
        ),
        format!("    type New = New{name};"),
    ]
    .join("\n")
}

/// The `INSERT … RETURNING` statement: the columns without a default are
/// set, every mapped column comes back, so that the database fills the
/// defaults and the caller gets the whole row.
fn insert_statement(
    table: &Table,
    all_rows: &[&(&ColumnPlan, String)],
    inserted: &[&(&ColumnPlan, String)],
) -> String {
    let sql_names = |rows: &[&(&ColumnPlan, String)]| -> String {
        rows.iter()
            .map(|(c, _)| quote_identifier(&c.column.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let target = format!("public.{}", quote_identifier(&table.name));
    let returning = sql_names(all_rows);
    if inserted.is_empty() {
        format!("INSERT INTO {target} DEFAULT VALUES RETURNING {returning}")
    } else {
        let parameters: Vec<String> = (1..=inserted.len()).map(|n| format!("${n}")).collect();
        format!(
            "INSERT INTO {target} ({}) VALUES ({}) RETURNING {returning}",
            sql_names(inserted),
            parameters.join(", ")
        )
    }
}

/// One `.bind(…)` per inserted column, in the statement's parameter order.
fn bind_calls(inserted: &[&(&ColumnPlan, String)]) -> Vec<String> {
    // Copy values are bound as they are; clippy rightly calls borrowing
    // them needless.
    inserted
        .iter()
        .map(|(c, _)| {
            let copy = match c.kind {
                ColumnKind::Enum(_) => true,
                ColumnKind::Json(_) => false,
                _ => types::is_copy(&c.column.ty),
            };
            let borrow = if copy { "" } else { "&" };
            format!(".bind({borrow}self.{})", c.field)
        })
        .collect()
}

/// One line: the column's description (or the glossary's), its documented
/// values, default and reference, and where it is documented.
pub(super) fn column_doc(table: &Table, column: &Column, documented: &Schema) -> String {
    let description = column
        .description
        .clone()
        .filter(|d| !d.trim().is_empty())
        .or_else(|| {
            documented
                .glossary
                .get(&column.name)
                .and_then(|g| g.description.clone())
        })
        .map(|d| doc_text(&d))
        .filter(|d| !d.is_empty());
    let mut parts = vec![match description {
        Some(d) => sentence(&d),
        None => format!("Column `{}`.", column.name),
    }];
    if table.allowed_values(&column.name).is_none() && !column.documented_values.is_empty() {
        parts.push(format!(
            "Documented values (not enforced): {}.",
            code_list(&column.documented_values)
        ));
    }
    if let Some(default) = &column.default {
        parts.push(format!("Default `{}`.", doc_text(default)));
    }
    if let Some(fk) = table.single_column_foreign_key(&column.name) {
        parts.push(format!(
            "References `{}({})`.",
            fk.references,
            fk.referenced_columns.join(", ")
        ));
    }
    parts.push(format!("`{}`", column.source));
    parts.join(" ")
}
