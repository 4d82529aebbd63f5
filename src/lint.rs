//! Checks over the merged model: what the documents leave undone or say
//! inconsistently. Reading and lowering report what they meet on the way;
//! these checks need the whole schema (name-only tables, the documents' own
//! naming conventions, claimed totals). FKs to undocumented tables are
//! reported by realisation (`model::physical`), which knows whether each
//! becomes a stub or is left out.

use crate::diag::{Code, Diagnostic};
use crate::model::inflect::{is_plural, plural};
use crate::model::{Claim, PgType, Schema};
use serde::Serialize;

/// The summary line of `gen lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub tables_named: usize,
    pub tables_with_columns: usize,
    pub columns: usize,
    pub tables_claimed: Option<u32>,
}

impl Summary {
    pub fn of(schema: &Schema) -> Summary {
        Summary {
            tables_named: schema.tables.len(),
            tables_with_columns: schema.documented_tables().count(),
            columns: schema.column_count(),
            tables_claimed: schema.claims.iter().find_map(|c| match c {
                Claim::TotalTables { claimed, .. } => Some(*claimed),
                _ => None,
            }),
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} tables named, {} with columns, {} columns",
            self.tables_named, self.tables_with_columns, self.columns
        )?;
        match self.tables_claimed {
            Some(claimed) => write!(f, ", {claimed} tables claimed"),
            None => write!(f, ", no total claimed"),
        }
    }
}

pub fn lint(schema: &Schema) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    name_only_tables(schema, &mut out);
    missing_fks(schema, &mut out);
    naming_conventions(schema, &mut out);
    claimed_totals(schema, &mut out);
    out
}

fn name_only_tables(schema: &Schema, out: &mut Vec<Diagnostic>) {
    for table in schema.name_only_tables() {
        let first = table.mentions.first().map_or(&table.source, |m| &m.source);
        out.push(
            Diagnostic::info(
                Code::NameOnlyTable,
                first.span(),
                format!(
                    "table `{}` is named ({} mention(s)) but its columns are not documented",
                    table.name,
                    table.mentions.len()
                ),
            )
            .with_help("document its columns in a `## N. NAME (K columns)` section"),
        );
    }
}

fn missing_fks(schema: &Schema, out: &mut Vec<Diagnostic>) {
    for table in schema.documented_tables() {
        for column in &table.columns {
            let Some(stem) = column.name.strip_suffix("_id") else {
                continue;
            };
            if stem.is_empty() || column.ty != PgType::Uuid {
                continue;
            }
            let has_fk = table
                .foreign_keys
                .iter()
                .any(|fk| fk.columns.contains(&column.name));
            let is_key = table
                .primary_key
                .as_ref()
                .is_some_and(|pk| pk.columns.contains(&column.name));
            if has_fk || is_key {
                continue;
            }
            let guess = plural(stem);
            let help = if schema.tables.contains_key(&guess) {
                format!("if it references `{guess}`, write \"FK to {guess}\" in its description")
            } else {
                "if it references a table, write \"FK to <table>\" in its description".to_owned()
            };
            out.push(
                Diagnostic::info(
                    Code::MissingFk,
                    column.source.span(),
                    format!(
                        "`{}.{}` looks like a foreign key but no FK is documented",
                        table.name, column.name
                    ),
                )
                .with_help(help),
            );
        }
    }
}

/// The documents' own conventions: plural snake_case table names, `_id` on
/// FK columns, `is_`/`has_`/`can_` on booleans.
fn naming_conventions(schema: &Schema, out: &mut Vec<Diagnostic>) {
    use heck::ToSnakeCase;
    for table in schema.tables.values() {
        if table.name.to_snake_case() != table.name || !is_plural(&table.name) {
            out.push(
                Diagnostic::info(
                    Code::NamingConvention,
                    table.source.span(),
                    format!("table `{}` is not a plural snake_case name", table.name),
                )
                .with_help("the naming conventions ask for plural snake_case table names"),
            );
        }
        for fk in &table.foreign_keys {
            for column in fk.columns.iter().filter(|c| !c.ends_with("_id")) {
                out.push(
                    Diagnostic::info(
                        Code::NamingConvention,
                        fk.source.span(),
                        format!("FK column `{}.{column}` does not end in `_id`", table.name),
                    )
                    .with_help("the naming conventions ask for an `_id` suffix on foreign keys"),
                );
            }
        }
        for column in &table.columns {
            let prefixed = ["is_", "has_", "can_"]
                .iter()
                .any(|p| column.name.starts_with(p));
            if column.ty == PgType::Boolean && !prefixed {
                out.push(
                    Diagnostic::info(
                        Code::NamingConvention,
                        column.source.span(),
                        format!(
                            "boolean `{}.{}` has no is_/has_/can_ prefix",
                            table.name, column.name
                        ),
                    )
                    .with_help(
                        "the naming conventions ask booleans to start with is_, has_ or can_",
                    ),
                );
            }
        }
    }
}

fn claimed_totals(schema: &Schema, out: &mut Vec<Diagnostic>) {
    let named = schema.tables.len();
    let documented = schema.documented_tables().count();
    for claim in &schema.claims {
        let (message, source) = match claim {
            Claim::TotalTables { claimed, source } if *claimed as usize != documented => (
                format!(
                    "the documents claim {claimed} tables; {named} are named and {documented} are documented with columns"
                ),
                source,
            ),
            Claim::AppTables {
                app,
                claimed,
                source,
            } => {
                let listed = schema.apps.get(app).map_or(0, |a| a.tables.len());
                if listed == *claimed as usize {
                    continue;
                }
                (
                    format!("`{app}` claims {claimed} tables but lists {listed}"),
                    source,
                )
            }
            Claim::SectionTables {
                section,
                claimed,
                found,
                source,
            } if claimed != found => (
                format!("`{section}` claims {claimed} tables but defines {found}"),
                source,
            ),
            _ => continue,
        };
        out.push(
            Diagnostic::warning(Code::ClaimedTotalMismatch, source.span(), message)
                .with_help("correct the claimed number, or document the missing tables"),
        );
    }
}

/// Checks that need the realised schema: what migrations will create,
/// with RLS enabled and prose rules turned into policies.
pub fn lint_realized(realized: &Schema) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for table in realized.tables.values() {
        if table.rls_enabled && table.policies.is_empty() {
            out.push(
                Diagnostic::info(
                    Code::RlsNoPolicy,
                    table.source.span(),
                    format!("`{}` has Row Level Security and no policy, so it is deny-all (except for service_role)", table.name),
                )
                .with_help("document who may read or write it under **RLS Policies:**"),
            );
        }
        if !table.rls_enabled && !table.policies.is_empty() {
            out.push(
                Diagnostic::warning(
                    Code::PolicyWithoutRls,
                    table.source.span(),
                    format!("`{}` has {} policies but Row Level Security is disabled, so they do nothing", table.name, table.policies.len()),
                )
                .with_help("enable RLS (`rls.enable: true` in schema/gen.yaml)"),
            );
        }
        for policy in &table.policies {
            for expression in [&policy.using, &policy.with_check].into_iter().flatten() {
                for column in expression_columns(expression) {
                    if table.column(&column).is_none() {
                        out.push(
                            Diagnostic::error(
                                Code::PolicyUnknownColumn,
                                policy.source.span(),
                                format!(
                                    "policy `{}` on `{}` references column `{column}`, which the table does not have",
                                    policy.name, table.name
                                ),
                            )
                            .with_help("fix the policy, or document the column"),
                        );
                    }
                }
            }
        }
    }
    out
}

/// Column names an SQL expression refers to (plain or table-qualified
/// identifiers; function names are not columns).
pub fn expression_columns(expression: &str) -> std::collections::BTreeSet<String> {
    use sqlparser::ast::{Expr, visit_expressions};
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;
    use std::ops::ControlFlow;
    let mut found = std::collections::BTreeSet::new();
    let Ok(mut parser) = Parser::new(&PostgreSqlDialect {}).try_with_sql(expression) else {
        return found;
    };
    let Ok(parsed) = parser.parse_expr() else {
        return found;
    };
    let _ = visit_expressions(&parsed, |e| {
        match e {
            Expr::Identifier(ident) => {
                found.insert(ident.value.clone());
            }
            Expr::CompoundIdentifier(parts) => {
                if let Some(last) = parts.last() {
                    found.insert(last.value.clone());
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realised_rls_checks() {
        use crate::model::{
            Column, Documentation, PgType, Policy, PolicyCommand, PolicyOrigin, Source, Table,
        };
        let mut table = Table::new("notes", Documentation::Full, Source::new("t.md", 3));
        table
            .columns
            .push(Column::new("id", PgType::Uuid, Source::new("t.md", 4)));
        table.policies.push(Policy {
            name: "p".into(),
            command: PolicyCommand::Select,
            roles: vec![],
            permissive: true,
            using: Some("owner_id = auth.uid()".into()),
            with_check: None,
            origin: PolicyOrigin::Sql,
            source: Source::new("t.md", 9),
        });
        let mut schema = Schema::default();
        schema.tables.insert("notes".into(), table.clone());
        let codes: Vec<Code> = lint_realized(&schema).iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::PolicyWithoutRls, Code::PolicyUnknownColumn]);
        table.rls_enabled = true;
        table.policies.clear();
        schema.tables.insert("notes".into(), table);
        let codes: Vec<Code> = lint_realized(&schema).iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::RlsNoPolicy]);
    }

    #[test]
    fn finds_columns_not_functions() {
        let columns = expression_columns("auth.uid() = user_id AND t.is_active AND status = 'x'");
        assert_eq!(
            columns.into_iter().collect::<Vec<_>>(),
            ["is_active", "status", "user_id"]
        );
    }
}
