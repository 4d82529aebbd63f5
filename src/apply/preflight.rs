//! The preflight: before `gen apply` runs anything, it counts in the live
//! data what each pending step with a `fails-on-data` or `data-loss` hazard
//! would fail on or lose, with up to three example keys, inside one READ
//! ONLY transaction under the statement timeout. A role with only SELECT
//! can run it. Counts are exact: a CHECK is the expression itself
//! evaluated, an FK the anti-join MATCH SIMPLE means, a cast the cast
//! itself, tried value by value in a PL/pgSQL block (read-only: its
//! result comes back through a transaction-local setting).
//!
//! The data is measured as it is now, not as earlier pending migrations
//! would leave it; a probe whose table or columns do not exist yet is
//! reported as not measured (such a table is created empty).

use crate::diag::{Code, Diagnostic, Span};
use crate::diff::hazard::{HazardKind, Probe};
use crate::emit::migrations::{PreflightFile, PreflightStep};
use crate::emit::templates::{qualified, quote_literal, type_sql};
use crate::model::physical::quote_identifier;
use crate::model::{PgType, TableRef};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};
use std::time::Duration;

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub hazard: HazardKind,
    /// How many rows, values or groups.
    pub count: i64,
    /// Up to three, named by the table's key.
    pub examples: Vec<String>,
    /// What was counted, as a sentence without the number's context.
    pub message: String,
}

/// A pending step and what its probes found.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The up migration's file name.
    pub migration: String,
    pub step: PreflightStep,
    pub findings: Vec<Finding>,
    /// Probes that could not run, and why.
    pub not_measured: Vec<Unmeasured>,
}

/// A probe that could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmeasured {
    pub why: String,
    /// Whether the rows exist but cannot be seen (row level security), so
    /// that nothing can be said about them: that blocks like a finding.
    pub blocks: bool,
}

/// Whether a finding stops the apply: anything that would fail, and
/// anything that would be lost unless the loss was accepted.
pub fn blocks(finding: &Finding, accept_data_loss: bool) -> bool {
    finding.count > 0
        && match finding.hazard {
            HazardKind::FailsOnData => true,
            HazardKind::DataLoss => !accept_data_loss,
            HazardKind::TableRewrite | HazardKind::BlocksWrites => false,
        }
}

/// The findings as diagnostics at the documentation line behind each step
/// (or the migration file, under `directory`, when a step has none):
/// errors when they block, warnings when accepted, and what could not be
/// measured as info.
pub fn diagnostics(
    measured: &[Measured],
    accept_data_loss: bool,
    directory: &str,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for m in measured {
        let span = match &m.step.source {
            Some(source) => Span::new(&*source.file, source.line, 1),
            None => Span::new(format!("{directory}/{}", m.migration), 1, 1),
        };
        for finding in m.findings.iter().filter(|f| f.count > 0) {
            let blocks = blocks(finding, accept_data_loss);
            let (code, help) = match (finding.hazard, blocks) {
                (HazardKind::DataLoss, true) => (
                    Code::PreflightDataLoss,
                    "rerun with --accept-data-loss to lose them, or fix the documents (`gen migrations --withdraw`, edit, `gen migrations`)",
                ),
                (HazardKind::DataLoss, false) => (
                    Code::PreflightDataLoss,
                    "accepted with --accept-data-loss: they will be lost",
                ),
                _ => (
                    Code::PreflightFailsOnData,
                    "fix these rows first, or fix the documents (`gen migrations --withdraw`, edit, `gen migrations`)",
                ),
            };
            let examples = if finding.examples.is_empty() {
                String::new()
            } else {
                format!(" (for example {})", finding.examples.join("; "))
            };
            let message = format!(
                "{}: {} {}{examples}",
                m.step.description, finding.count, finding.message
            );
            let diagnostic = if blocks {
                Diagnostic::error(code, span.clone(), message)
            } else {
                Diagnostic::warning(code, span.clone(), message)
            };
            out.push(diagnostic.with_help(help));
        }
        for unmeasured in &m.not_measured {
            let message = format!("{}: not measured: {}", m.step.description, unmeasured.why);
            out.push(if unmeasured.blocks {
                Diagnostic::error(Code::PreflightNotMeasured, span.clone(), message)
                    .with_help("run the preflight as the tables' owner or a role with BYPASSRLS")
            } else {
                Diagnostic::info(Code::PreflightNotMeasured, span.clone(), message)
            });
        }
    }
    out
}

/// Runs every probe of `files` in one READ ONLY transaction.
pub async fn measure(
    connection: &mut PgConnection,
    files: &[PreflightFile],
    statement_timeout: Duration,
) -> Result<Vec<Measured>, sqlx::Error> {
    let mut transaction = connection.begin_with("BEGIN READ ONLY").await?;
    let set = format!(
        "SET LOCAL statement_timeout = {}",
        statement_timeout.as_millis()
    );
    sqlx::raw_sql(AssertSqlSafe(set))
        .execute(&mut *transaction)
        .await?;
    let mut out = Vec::new();
    for file in files {
        for step in &file.steps {
            let mut measured = Measured {
                migration: file.migration.clone(),
                step: step.clone(),
                findings: Vec::new(),
                not_measured: Vec::new(),
            };
            for probe in &step.probes {
                match run_probe(&mut transaction, probe, &step.key).await? {
                    Ok(findings) => measured.findings.extend(findings),
                    Err(why) => measured.not_measured.push(why),
                }
            }
            out.push(measured);
        }
    }
    transaction.rollback().await?;
    Ok(out)
}

/// One probe, inside a savepoint so that a probe PostgreSQL refuses (an
/// expression naming a column that comes later) does not end the others.
/// `Ok(Err(_))` is a probe that could not be measured.
async fn run_probe(
    connection: &mut PgConnection,
    probe: &Probe,
    key: &[String],
) -> Result<Result<Vec<Finding>, Unmeasured>, sqlx::Error> {
    if let Some(missing) = missing_objects(connection, probe).await? {
        return Ok(Err(Unmeasured {
            why: missing,
            blocks: false,
        }));
    }
    if let Some(hidden) = hidden_rows(connection, probe.table()).await? {
        return Ok(Err(Unmeasured {
            why: hidden,
            blocks: true,
        }));
    }
    sqlx::raw_sql("SAVEPOINT gen_probe")
        .execute(&mut *connection)
        .await?;
    let result = measure_probe(connection, probe, key).await;
    match result {
        Ok(findings) => {
            sqlx::raw_sql("RELEASE SAVEPOINT gen_probe")
                .execute(&mut *connection)
                .await?;
            Ok(Ok(findings))
        }
        Err(error) if error.as_database_error().is_some() => {
            sqlx::raw_sql("ROLLBACK TO SAVEPOINT gen_probe")
                .execute(&mut *connection)
                .await?;
            let message = error
                .as_database_error()
                .map(|e| e.message().to_owned())
                .unwrap_or_default();
            Ok(Err(Unmeasured {
                why: format!("PostgreSQL could not evaluate it: {message}"),
                blocks: false,
            }))
        }
        Err(error) => Err(error),
    }
}

/// Whether row level security hides rows of `table` from this role, so
/// that a count would say 0 where there are rows: RLS applies unless the
/// role is a superuser, has BYPASSRLS, or owns the table without FORCE.
async fn hidden_rows(
    connection: &mut PgConnection,
    table: &str,
) -> Result<Option<String>, sqlx::Error> {
    let hidden: Option<bool> = sqlx::query_scalar(
        "SELECT c.relrowsecurity
            AND NOT r.rolsuper AND NOT r.rolbypassrls
            AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))
         FROM pg_class c, pg_roles r
         WHERE c.oid = to_regclass($1) AND r.rolname = current_user",
    )
    .bind(format!("public.{}", quote_identifier(table)))
    .fetch_optional(&mut *connection)
    .await?;
    Ok(hidden.unwrap_or(false).then(|| {
        format!(
            "row level security hides rows of {table} from this role, so they cannot be counted"
        )
    }))
}

/// Why a probe cannot run yet: its table or a column does not exist.
async fn missing_objects(
    connection: &mut PgConnection,
    probe: &Probe,
) -> Result<Option<String>, sqlx::Error> {
    let table = probe.table();
    let columns: Option<Vec<String>> = sqlx::query_scalar(
        "SELECT array_agg(attname::text) FROM pg_attribute
         WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
    )
    .bind(format!("public.{}", quote_identifier(table)))
    .fetch_one(&mut *connection)
    .await?;
    let Some(columns) = columns else {
        return Ok(Some(format!(
            "table {table} does not exist yet; it starts empty"
        )));
    };
    Ok(probe
        .columns()
        .into_iter()
        .find(|c| !columns.iter().any(|have| have == c))
        .map(|c| format!("column {table}.{c} does not exist yet")))
}

async fn measure_probe(
    connection: &mut PgConnection,
    probe: &Probe,
    key: &[String],
) -> Result<Vec<Finding>, sqlx::Error> {
    let finding = |hazard, (count, examples): (i64, Vec<String>), message: String| Finding {
        hazard,
        count,
        examples,
        message,
    };
    let table = probe.table();
    let t = relation(table);
    let key_columns = key;
    let key = key_expression(key_columns, "r");
    let count = |condition: String| count_where(&t, &key, condition);
    Ok(match probe {
        Probe::RowsLost { .. } => vec![finding(
            HazardKind::DataLoss,
            fetch(connection, &count("TRUE".into())).await?,
            format!("row(s) of {table} would be lost"),
        )],
        Probe::ValuesLost { column, .. } => vec![finding(
            HazardKind::DataLoss,
            fetch(
                connection,
                &count(format!("r.{} IS NOT NULL", quote_identifier(column))),
            )
            .await?,
            format!("non-NULL value(s) of {table}.{column} would be lost"),
        )],
        Probe::RowsWithoutValue { column, .. } => vec![finding(
            HazardKind::FailsOnData,
            fetch(connection, &count("TRUE".into())).await?,
            format!(
                "row(s) of {table} would get no value for the new NOT NULL column {column}, which has no default"
            ),
        )],
        Probe::Nulls { column, .. } => vec![finding(
            HazardKind::FailsOnData,
            fetch(
                connection,
                &count(format!("r.{} IS NULL", quote_identifier(column))),
            )
            .await?,
            format!("row(s) of {table} have NULL in {column}, which becomes NOT NULL"),
        )],
        Probe::BackfillNulls {
            column, expression, ..
        } => vec![finding(
            HazardKind::FailsOnData,
            fetch(
                connection,
                &backfill_nulls(
                    &t,
                    &key_expression(key_columns, &quote_identifier(table)),
                    expression,
                ),
            )
            .await?,
            format!(
                "row(s) of {table} would be left NULL by the backfill `{expression}` of the new NOT NULL column {column}"
            ),
        )],
        Probe::Duplicates { columns, .. } => vec![finding(
            HazardKind::FailsOnData,
            fetch(connection, &duplicates(&t, columns)).await?,
            format!(
                "group(s) of rows of {table} share a value of ({}), which becomes unique",
                columns.join(", ")
            ),
        )],
        Probe::CheckFails {
            name, expression, ..
        } => vec![finding(
            HazardKind::FailsOnData,
            fetch(connection, &count(format!("({expression}) IS FALSE"))).await?,
            format!("row(s) of {table} violate the new CHECK {name} ({expression})"),
        )],
        Probe::Orphans {
            columns,
            references,
            referenced_columns,
            ..
        } => {
            let condition =
                orphan_condition(connection, columns, references, referenced_columns).await?;
            vec![finding(
                HazardKind::FailsOnData,
                fetch(connection, &count(condition)).await?,
                format!(
                    "row(s) of {table} have ({}) matching no row of {}",
                    columns.join(", "),
                    references
                ),
            )]
        }
        Probe::TooLong { column, length, .. } => vec![finding(
            HazardKind::FailsOnData,
            fetch(
                connection,
                &count(format!(
                    "char_length(r.{}::text) > {length}",
                    quote_identifier(column)
                )),
            )
            .await?,
            format!("value(s) of {table}.{column} are longer than {length} characters"),
        )],
        Probe::Reinterpreted {
            column, from, to, ..
        } => vec![finding(
            HazardKind::DataLoss,
            fetch(
                connection,
                &count(format!("r.{} IS NOT NULL", quote_identifier(column))),
            )
            .await?,
            format!(
                "value(s) of {table}.{column} would change meaning from {from} to {to} (read in the session's time zone)"
            ),
        )],
        Probe::Cast {
            column, from, to, ..
        } => {
            let cast = Cast {
                table,
                column,
                from,
                to,
            };
            cast_findings(connection, &cast, &key).await?
        }
    })
}

/// `public."table"`, quoted as the migrations quote it.
fn relation(table: &str) -> String {
    qualified(table, "public")
}

/// How examples are named: `id=…` by the key columns, or the row's
/// physical address when the table has no key.
fn key_expression(key: &[String], alias: &str) -> String {
    if key.is_empty() {
        return format!("'ctid=' || {alias}.ctid::text");
    }
    let parts: Vec<String> = key
        .iter()
        .map(|c| {
            format!(
                "{} || coalesce({alias}.{}::text, 'NULL')",
                quote_literal(&format!("{c}=")),
                quote_identifier(c)
            )
        })
        .collect();
    format!("concat_ws(', ', {})", parts.join(", "))
}

/// How many rows meet `condition`, and the first three keys.
fn count_where(table: &str, key: &str, condition: String) -> String {
    format!(
        "SELECT (SELECT count(*) FROM {table} r WHERE {condition})::bigint, \
         ARRAY(SELECT {key} FROM {table} r WHERE {condition} ORDER BY 1 LIMIT 3)"
    )
}

/// How many rows a backfill expression gives NULL for, and the first
/// three keys. The table has no alias, so that the expression reads as it
/// does in the migration's `UPDATE table SET column = (expression)`
/// (`table.other_column` resolves in both).
fn backfill_nulls(table: &str, key: &str, expression: &str) -> String {
    let condition = format!("({expression}) IS NULL");
    format!(
        "SELECT (SELECT count(*) FROM {table} WHERE {condition})::bigint, \
         ARRAY(SELECT {key} FROM {table} WHERE {condition} ORDER BY 1 LIMIT 3)"
    )
}

fn duplicates(table: &str, columns: &[String]) -> String {
    let quoted: Vec<String> = columns.iter().map(|c| quote_identifier(c)).collect();
    let list = quoted.join(", ");
    let not_null: Vec<String> = quoted.iter().map(|c| format!("{c} IS NOT NULL")).collect();
    let values: Vec<String> = quoted.iter().map(|c| format!("g.{c}::text")).collect();
    format!(
        "WITH g AS (SELECT {list}, count(*) AS n FROM {table} WHERE {} GROUP BY {list} HAVING count(*) > 1) \
         SELECT (SELECT count(*) FROM g)::bigint, \
         ARRAY(SELECT {} || '=(' || concat_ws(', ', {}) || ') x' || g.n FROM g ORDER BY g.n DESC, 1 LIMIT 3)",
        not_null.join(" AND "),
        quote_literal(&format!("({})", columns.join(", "))),
        values.join(", ")
    )
}

/// MATCH SIMPLE: a row with a NULL in the key passes. When the referenced
/// table does not exist yet, it will start empty: every other row fails.
async fn orphan_condition(
    connection: &mut PgConnection,
    columns: &[String],
    references: &TableRef,
    referenced_columns: &[String],
) -> Result<String, sqlx::Error> {
    let not_null: Vec<String> = columns
        .iter()
        .map(|c| format!("r.{} IS NOT NULL", quote_identifier(c)))
        .collect();
    let parent = qualified(&references.to_string(), "public");
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(&parent)
        .fetch_one(&mut *connection)
        .await?;
    if !exists {
        return Ok(not_null.join(" AND "));
    }
    let matches: Vec<String> = columns
        .iter()
        .zip(referenced_columns)
        .map(|(c, p)| format!("p.{} = r.{}", quote_identifier(p), quote_identifier(c)))
        .collect();
    Ok(format!(
        "{} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {})",
        not_null.join(" AND "),
        matches.join(" AND ")
    ))
}

async fn fetch(
    connection: &mut PgConnection,
    sql: &str,
) -> Result<(i64, Vec<String>), sqlx::Error> {
    sqlx::query_as::<_, (i64, Vec<String>)>(AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut *connection)
        .await
}

/// Tries the cast on every non-NULL value, as `USING column::type` would:
/// the values it fails on, and those that come back different when cast
/// back (`'02134'` becomes 2134).
/// A column's type change, as the cast probe needs it.
struct Cast<'a> {
    table: &'a str,
    column: &'a str,
    from: &'a PgType,
    to: &'a PgType,
}

async fn cast_findings(
    connection: &mut PgConnection,
    cast: &Cast<'_>,
    key: &str,
) -> Result<Vec<Finding>, sqlx::Error> {
    let Cast {
        table,
        column,
        from,
        to,
    } = *cast;
    let from_sql = type_sql(from);
    let to_sql = type_sql(to);
    let source = relation(table);
    let c = quote_identifier(column);
    let block = format!(
        "DO $gen_preflight$
DECLARE
  failed bigint := 0; changed bigint := 0;
  failed_examples text[] := '{{}}'; changed_examples text[] := '{{}}';
  item record;
BEGIN
  FOR item IN SELECT {key} AS k, r.{c} AS v FROM {source} r WHERE r.{c} IS NOT NULL ORDER BY 1 LOOP
    BEGIN
      IF ((item.v)::{to_sql})::{from_sql} IS DISTINCT FROM item.v THEN
        changed := changed + 1;
        IF cardinality(changed_examples) < 3 THEN
          changed_examples := changed_examples || (item.k || ': ' || item.v::text || ' becomes ' || ((item.v)::{to_sql})::text);
        END IF;
      END IF;
    EXCEPTION WHEN others THEN
      failed := failed + 1;
      IF cardinality(failed_examples) < 3 THEN
        failed_examples := failed_examples || (item.k || ': ' || item.v::text || ' (' || SQLERRM || ')');
      END IF;
    END;
  END LOOP;
  PERFORM set_config('gen.preflight', json_build_object(
    'failed', failed, 'changed', changed,
    'failed_examples', failed_examples, 'changed_examples', changed_examples)::text, true);
END
$gen_preflight$"
    );
    sqlx::raw_sql(AssertSqlSafe(block))
        .execute(&mut *connection)
        .await?;
    let result: String = sqlx::query_scalar("SELECT current_setting('gen.preflight')")
        .fetch_one(&mut *connection)
        .await?;
    #[derive(serde::Deserialize)]
    struct CastCounts {
        failed: i64,
        changed: i64,
        failed_examples: Vec<String>,
        changed_examples: Vec<String>,
    }
    let counts: CastCounts = serde_json::from_str(&result)
        .map_err(|e| sqlx::Error::Protocol(format!("preflight result {result:?}: {e}")))?;
    Ok(vec![
        Finding {
            hazard: HazardKind::FailsOnData,
            count: counts.failed,
            examples: counts.failed_examples,
            message: format!("value(s) of {table}.{column} cannot be cast to {to}"),
        },
        Finding {
            hazard: HazardKind::DataLoss,
            count: counts.changed,
            examples: counts.changed_examples,
            message: format!("value(s) of {table}.{column} would change when cast to {to}"),
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_in_probes_are_quoted() {
        let sql = count_where(
            &relation("we\"ird"),
            &key_expression(&["id".into()], "r"),
            "TRUE".into(),
        );
        assert!(sql.contains("public.\"we\"\"ird\""), "{sql}");
        assert!(duplicates("public.t", &["a b".into()]).contains("\"a b\""));
    }

    #[test]
    fn losses_block_unless_accepted_and_failures_always() {
        let finding = |hazard, count| Finding {
            hazard,
            count,
            examples: Vec::new(),
            message: String::new(),
        };
        assert!(blocks(&finding(HazardKind::FailsOnData, 1), true));
        assert!(blocks(&finding(HazardKind::DataLoss, 1), false));
        assert!(!blocks(&finding(HazardKind::DataLoss, 1), true));
        assert!(!blocks(&finding(HazardKind::FailsOnData, 0), false));
    }
}
