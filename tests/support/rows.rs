//! Rows for any realised table: values by type, FKs pointing at seeded
//! parent rows, owner and "active" columns set as a test asks. Used by the
//! database tests that need real data in every table.

use schemagen::model::physical::quote_identifier;
use schemagen::model::{PgType, Schema, Table};
use std::collections::BTreeMap;

/// A deterministic UUID from a number, readable in failures.
pub fn uuid(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A value of the column's type, unique per `n` where that matters.
pub fn value_for(table: &Table, column: &str, ty: &PgType, n: u64) -> String {
    if let Some(check) = table
        .check_constraints
        .iter()
        .find(|c| c.column.as_deref() == Some(column) && !c.allowed_values.is_empty())
    {
        return literal(&check.allowed_values[0]);
    }
    match ty {
        PgType::Uuid => literal(&uuid(n)),
        PgType::Text | PgType::Varchar(_) => literal(&format!("v{n}")),
        PgType::Numeric(_) | PgType::Real | PgType::DoublePrecision => "1.5".to_owned(),
        PgType::SmallInt | PgType::Integer | PgType::BigInt => "1".to_owned(),
        PgType::Boolean => "true".to_owned(),
        PgType::Timestamptz | PgType::Timestamp => "'2025-01-02 03:04:05.123456+00'".to_owned(),
        PgType::Date => "'2025-01-02'".to_owned(),
        PgType::Time => "'03:04:05'".to_owned(),
        PgType::Interval => "'1 day'".to_owned(),
        PgType::Jsonb | PgType::Json => "'{\"k\": 1}'".to_owned(),
        PgType::Vector(Some(d)) => literal(&format!("[{}]", vec!["0.5"; *d as usize].join(","))),
        PgType::Vector(None) => "'[0.5,0.5,0.5]'".to_owned(),
        PgType::Array(inner) => {
            let element = value_for(table, column, inner, n);
            format!("ARRAY[{element}]::{}", ty.to_sql(Some("extensions")))
        }
        _ => "NULL".to_owned(),
    }
}

/// How many parent rows are seeded per table, so that rows with a UNIQUE
/// foreign key can each point at a different parent.
pub const PARENTS_PER_TABLE: u64 = 32;

/// Parent slots used by seeded rows; slots from here on are free.
pub const SEED_SLOTS: u64 = 8;

/// Parent rows that FKs point at: seeded rows per table.
#[derive(Debug, Default, Clone)]
pub struct Parents {
    pub ids: BTreeMap<String, Vec<String>>,
}

impl Parents {
    /// The parent row a row numbered `n` points at.
    pub fn pick(&self, table: &str, n: u64) -> Option<String> {
        let ids = self.ids.get(table)?;
        (!ids.is_empty()).then(|| ids[(n % ids.len() as u64) as usize].clone())
    }
}

/// One row to insert: explicit values for some columns, and which seeded
/// parent its foreign keys point at (default: chosen by the row number).
#[derive(Debug, Clone, Default)]
pub struct RowSpec {
    pub values: BTreeMap<String, String>,
    pub parent_slot: Option<u64>,
}

/// The table's key column: the first primary key column.
pub fn key_column(table: &Table) -> String {
    table
        .primary_key
        .as_ref()
        .and_then(|pk| pk.columns.first().cloned())
        .unwrap_or_else(|| "id".to_owned())
}

/// INSERT statements for a row, most likely first: NOT NULL columns and the
/// given values filled in; later candidates also fill nullable FK columns
/// one at a time, for CHECKs that need one of them set.
pub fn insert_candidates(table: &Table, spec: &RowSpec, parents: &Parents, n: u64) -> Vec<String> {
    let slot = spec.parent_slot.unwrap_or(n);
    let fk_target = |column: &str| -> Option<String> {
        table
            .foreign_keys
            .iter()
            .find(|fk| fk.columns.len() == 1 && fk.columns[0] == column)
            .map(|fk| {
                if fk.references.is_external() {
                    uuid(1)
                } else {
                    parents
                        .pick(&fk.references.table, slot)
                        .unwrap_or_else(|| uuid(1))
                }
            })
    };
    let base: BTreeMap<String, String> = table
        .columns
        .iter()
        .filter_map(|c| {
            if let Some(v) = spec.values.get(&c.name) {
                return Some((c.name.clone(), v.clone()));
            }
            let is_key = c.name == key_column(table);
            if is_key && c.ty == PgType::Uuid && fk_target(&c.name).is_none() {
                return Some((c.name.clone(), literal(&uuid(n))));
            }
            if c.nullable || c.default.is_some() {
                return None;
            }
            let value = match fk_target(&c.name) {
                Some(id) => literal(&id),
                None => value_for(table, &c.name, &c.ty, n),
            };
            Some((c.name.clone(), value))
        })
        .collect();
    let render = |values: &BTreeMap<String, String>| {
        let names: Vec<String> = values.keys().map(|k| quote_identifier(k)).collect();
        let vals: Vec<&str> = values.values().map(String::as_str).collect();
        format!(
            "INSERT INTO public.{} ({}) VALUES ({})",
            quote_identifier(&table.name),
            names.join(", "),
            vals.join(", ")
        )
    };
    let mut out = vec![render(&base)];
    for c in table
        .columns
        .iter()
        .filter(|c| c.nullable && !base.contains_key(&c.name))
    {
        if let Some(id) = fk_target(&c.name) {
            let mut more = base.clone();
            more.insert(c.name.clone(), literal(&id));
            out.push(render(&more));
        }
    }
    out
}

/// Seeds parent rows for every table, in FK order, as the database owner.
/// Row `i` of a table points at parent `i` of each table it references.
/// `first_id` numbers the rows.
pub async fn seed_parents(db: &super::db::TestDb, realized: &Schema, first_id: u64) -> Parents {
    let tables: Vec<&Table> = realized.tables.values().collect();
    let (order, _) = schemagen::diff::order::creation_order(&tables);
    let mut parents = Parents::default();
    for (k, table) in order.into_iter().enumerate() {
        let mut ids = Vec::new();
        for i in 0..PARENTS_PER_TABLE {
            // n ≡ i (mod PARENTS_PER_TABLE), so `pick` lands on parent i;
            // seeded rows point only at the first SEED_SLOTS parents, leaving
            // the others free for tests' rows with UNIQUE foreign keys.
            let n = first_id + (k as u64 + 1) * PARENTS_PER_TABLE * 16 + i;
            let spec = RowSpec {
                values: BTreeMap::new(),
                parent_slot: Some(i % SEED_SLOTS),
            };
            if insert_first_that_works(db, table, &spec, &parents, n)
                .await
                .is_ok()
            {
                let key = key_column(table);
                let id = match table
                    .foreign_keys
                    .iter()
                    .find(|fk| fk.columns == [key.clone()])
                {
                    Some(fk) => parents
                        .pick(&fk.references.table, i % SEED_SLOTS)
                        .unwrap_or_default(),
                    None => uuid(n),
                };
                ids.push(id);
            }
        }
        parents.ids.insert(table.name.clone(), ids);
    }
    parents
}

/// Tries each candidate INSERT until one succeeds.
pub async fn insert_first_that_works(
    db: &super::db::TestDb,
    table: &Table,
    spec: &RowSpec,
    parents: &Parents,
    n: u64,
) -> Result<(), String> {
    let mut last = String::new();
    for statement in insert_candidates(table, spec, parents, n) {
        match db.execute(&statement).await {
            Ok(()) => return Ok(()),
            Err(e) => last = format!("{statement}: {}", super::db::describe_error(&e)),
        }
    }
    Err(last)
}
