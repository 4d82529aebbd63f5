//! SQL blocks: ```sql fences in the documents. sqlparser's tokenizer splits a
//! block into statements, so each statement keeps its line and its verbatim
//! text (functions are carried as written). Each statement is parsed on its
//! own; one that cannot be read becomes an `unparsed-sql` diagnostic and the
//! rest of the block still counts.

use crate::diag::{Code, Diagnostic};
use crate::model::{
    CheckConstraint, Column, Documentation, Extension, FkOrigin, ForeignKey, Function, Index,
    IndexColumn, IndexMethod, PgType, Policy, PolicyCommand, PolicyOrigin, PrimaryKey,
    ReferentialAction, Source, Table, TableRef, UniqueConstraint, validate_identifier,
};
use crate::source::SourceFile;
use sqlparser::ast::{self, ColumnOption, Expr, Statement, TableConstraint};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

/// What one SQL block says.
#[derive(Debug, Default)]
pub struct SqlFacts {
    pub tables: Vec<Table>,
    /// Indexes and policies name their table; it may be defined elsewhere.
    pub indexes: Vec<(String, Index)>,
    pub policies: Vec<(String, Policy)>,
    pub functions: Vec<Function>,
    pub extensions: Vec<Extension>,
    pub diagnostics: Vec<Diagnostic>,
}

/// One statement's text and where it starts.
pub struct StatementText<'a> {
    pub text: &'a str,
    /// The line of its first token, 1-based within the split text.
    pub line: u32,
}

/// Reads a SQL block whose first line is `first_line` of `file`.
pub fn read_block(block: &str, first_line: u32, file: &SourceFile) -> SqlFacts {
    let mut facts = SqlFacts::default();
    let statements = match split_statements(block) {
        Ok(statements) => statements,
        Err((message, line)) => {
            facts.diagnostics.push(
                Diagnostic::warning(
                    Code::UnparsedSql,
                    file.span_line(first_line + line.saturating_sub(1)),
                    format!("cannot tokenize SQL block: {message}"),
                )
                .with_help("check quotes and dollar-quoted bodies in this block"),
            );
            return facts;
        }
    };
    for statement in statements {
        let line = first_line + statement.line - 1;
        let source = file.source(line);
        match Parser::parse_sql(&PostgreSqlDialect {}, statement.text) {
            Ok(parsed) => {
                for parsed_statement in parsed {
                    lower_statement(parsed_statement, statement.text, &source, &mut facts);
                }
            }
            Err(error) => facts.diagnostics.push(
                Diagnostic::warning(
                    Code::UnparsedSql,
                    file.span_line(line),
                    format!("cannot parse SQL statement: {error}"),
                )
                .with_help(
                    "the statement is ignored; fix its syntax or move it out of the ```sql block",
                ),
            ),
        }
    }
    facts
}

/// Splits a block into statements at top-level semicolons. Semicolons inside
/// strings, dollar-quoted bodies and comments are tokens of their own kind,
/// so the tokenizer does the hard part.
pub fn split_statements(block: &str) -> Result<Vec<StatementText<'_>>, (String, u32)> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, block)
        .tokenize_with_location()
        .map_err(|e| (e.message.clone(), e.location.line as u32))?;
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(block.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let offset_of = |location: sqlparser::tokenizer::Location| -> usize {
        let line_index = (location.line.max(1) - 1) as usize;
        let start = line_starts.get(line_index).copied().unwrap_or(block.len());
        let line_text = &block[start..];
        let column = (location.column.max(1) - 1) as usize;
        start
            + line_text
                .char_indices()
                .nth(column)
                .map_or(line_text.len(), |(i, _)| i)
    };
    let mut statements = Vec::new();
    let mut start: Option<(usize, u32)> = None;
    for token in &tokens {
        match &token.token {
            Token::Whitespace(_) | Token::EOF => {}
            Token::SemiColon => {
                if let Some((begin, line)) = start.take() {
                    let end = offset_of(token.span.start);
                    statements.push(StatementText {
                        text: &block[begin..end],
                        line,
                    });
                }
            }
            _ => {
                if start.is_none() {
                    start = Some((offset_of(token.span.start), token.span.start.line as u32));
                }
            }
        }
    }
    if let Some((begin, line)) = start {
        statements.push(StatementText {
            text: block[begin..].trim_end(),
            line,
        });
    }
    Ok(statements)
}

fn lower_statement(statement: Statement, text: &str, source: &Source, facts: &mut SqlFacts) {
    match statement {
        Statement::CreateTable(create) => {
            if let Some(table) = lower_create_table(&create, source, &mut facts.diagnostics) {
                facts.tables.push(table);
            }
        }
        Statement::CreateIndex(create) => {
            let Some(table) = checked_name(&object_name(&create.table_name), source, facts) else {
                return;
            };
            let columns: Vec<IndexColumn> = create
                .columns
                .iter()
                .map(|c| IndexColumn {
                    expression: c.column.expr.to_string(),
                    descending: matches!(c.column.options.sort, Some(ast::OrderBySort::Desc)),
                    operator_class: c.operator_class.as_ref().map(|o| o.to_string()),
                })
                .collect();
            let method = create
                .using
                .as_ref()
                .and_then(|u| IndexMethod::parse(&u.to_string()))
                .unwrap_or(IndexMethod::Btree);
            let name = create
                .name
                .as_ref()
                .map(object_name)
                .unwrap_or_else(|| conventional_index_name(&table, &columns));
            facts.indexes.push((
                table,
                Index {
                    name,
                    columns,
                    method,
                    unique: create.unique,
                    concurrently: create.concurrently,
                    source: source.clone(),
                },
            ));
        }
        Statement::CreatePolicy(create) => {
            let Some(table) = checked_name(&object_name(&create.table_name), source, facts) else {
                return;
            };
            let command = match create.command {
                None | Some(ast::CreatePolicyCommand::All) => PolicyCommand::All,
                Some(ast::CreatePolicyCommand::Select) => PolicyCommand::Select,
                Some(ast::CreatePolicyCommand::Insert) => PolicyCommand::Insert,
                Some(ast::CreatePolicyCommand::Update) => PolicyCommand::Update,
                Some(ast::CreatePolicyCommand::Delete) => PolicyCommand::Delete,
            };
            let roles = create
                .to
                .unwrap_or_default()
                .iter()
                .map(|owner| owner.to_string().to_ascii_lowercase())
                .filter(|role| role != "public")
                .collect();
            facts.policies.push((
                table,
                Policy {
                    name: create.name.value.clone(),
                    command,
                    roles,
                    permissive: !matches!(
                        create.policy_type,
                        Some(ast::CreatePolicyType::Restrictive)
                    ),
                    using: create.using.as_ref().map(Expr::to_string),
                    with_check: create.with_check.as_ref().map(Expr::to_string),
                    origin: PolicyOrigin::Sql,
                    source: source.clone(),
                },
            ));
        }
        Statement::CreateFunction(create) => {
            let name = object_name(&create.name);
            let arguments: Vec<PgType> = create
                .args
                .unwrap_or_default()
                .iter()
                .map(|a| PgType::parse(&a.data_type.to_string()))
                .collect();
            let argument_types: Vec<String> = arguments.iter().map(|t| t.to_sql(None)).collect();
            facts.functions.push(Function {
                signature: format!("{name}({})", argument_types.join(", ")),
                arguments,
                name,
                definition: format!("{};", text.trim_end()),
                source: source.clone(),
            });
        }
        Statement::CreateExtension(create) => facts.extensions.push(Extension {
            name: create.name.value.clone(),
            schema: create.schema.as_ref().map(|s| s.value.clone()),
            source: source.clone(),
        }),
        other => facts.diagnostics.push(
            Diagnostic::info(
                Code::UnparsedSql,
                source.span(),
                format!(
                    "SQL statement is not part of the schema model and is ignored: {}",
                    first_words(&other.to_string())
                ),
            )
            .with_help("the model reads CREATE TABLE/INDEX/POLICY/FUNCTION/EXTENSION"),
        ),
    }
}

fn first_words(sql: &str) -> String {
    sql.split_whitespace().take(4).collect::<Vec<_>>().join(" ")
}

/// Validates an identifier, reporting `invalid-identifier` when it is not one.
fn checked_name(name: &str, source: &Source, facts: &mut SqlFacts) -> Option<String> {
    match validate_identifier(name) {
        Ok(()) => Some(name.to_owned()),
        Err(reason) => {
            facts.diagnostics.push(
                Diagnostic::error(Code::InvalidIdentifier, source.span(), reason)
                    .with_help("the object is left out of the model"),
            );
            None
        }
    }
}

/// The last part of a possibly qualified name (`public.users` → `users`).
fn object_name(name: &ast::ObjectName) -> String {
    name.0
        .last()
        .and_then(|part| part.as_ident().map(|i| i.value.clone()))
        .unwrap_or_else(|| name.to_string())
}

/// `idx_{table}_{columns}`, the documents' own convention.
pub fn conventional_index_name(table: &str, columns: &[IndexColumn]) -> String {
    let parts: Vec<String> = columns
        .iter()
        .map(|c| {
            c.expression
                .chars()
                .map(|ch| {
                    if ch.is_ascii_alphanumeric() {
                        ch.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
                .trim_matches('_')
                .to_owned()
        })
        .collect();
    let name = format!("idx_{table}_{}", parts.join("_"));
    // PostgreSQL truncates identifiers at 63 bytes; do it ourselves so that
    // the name we compare against is the name the database keeps.
    name.chars().take(63).collect()
}

fn referential_action(action: Option<ast::ReferentialAction>) -> Option<ReferentialAction> {
    action.map(|a| match a {
        ast::ReferentialAction::Cascade => ReferentialAction::Cascade,
        ast::ReferentialAction::SetNull => ReferentialAction::SetNull,
        ast::ReferentialAction::SetDefault => ReferentialAction::SetDefault,
        ast::ReferentialAction::Restrict => ReferentialAction::Restrict,
        ast::ReferentialAction::NoAction => ReferentialAction::NoAction,
    })
}

fn foreign_key(
    fk: &ast::ForeignKeyConstraint,
    columns: Vec<String>,
    source: &Source,
) -> ForeignKey {
    let target = fk.foreign_table.to_string();
    let referenced_columns: Vec<String> = if fk.referred_columns.is_empty() {
        vec!["id".to_owned()]
    } else {
        fk.referred_columns
            .iter()
            .map(|c| c.value.clone())
            .collect()
    };
    ForeignKey {
        name: fk.name.as_ref().map(|n| n.value.clone()),
        columns,
        references: TableRef::parse(&target),
        referenced_columns,
        on_delete: referential_action(fk.on_delete),
        on_update: referential_action(fk.on_update),
        origin: FkOrigin::Sql,
        source: source.clone(),
    }
}

/// `col IN ('a', 'b')` → the column and its values.
pub fn in_list_values(expr: &Expr) -> Option<(String, Vec<String>)> {
    let Expr::InList {
        expr,
        list,
        negated: false,
    } = expr
    else {
        return None;
    };
    let Expr::Identifier(column) = expr.as_ref() else {
        return None;
    };
    let values = list
        .iter()
        .map(|item| match item {
            Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((column.value.clone(), values))
}

fn check_constraint(
    name: Option<String>,
    column: Option<String>,
    expr: &Expr,
    source: &Source,
) -> CheckConstraint {
    let allowed_values = in_list_values(expr)
        .map(|(_, values)| values)
        .unwrap_or_default();
    CheckConstraint {
        name,
        column,
        expression: expr.to_string(),
        allowed_values,
        source: source.clone(),
    }
}

fn index_column_names(columns: &[ast::IndexColumn]) -> Vec<String> {
    columns.iter().map(|c| c.column.expr.to_string()).collect()
}

fn lower_create_table(
    create: &ast::CreateTable,
    source: &Source,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Table> {
    let name = object_name(&create.name);
    if let Err(reason) = validate_identifier(&name) {
        diagnostics.push(
            Diagnostic::error(Code::InvalidIdentifier, source.span(), reason)
                .with_help("the table is left out of the model"),
        );
        return None;
    }
    let mut table = Table::new(&name, Documentation::Full, source.clone());
    table.definitions.push(source.clone());
    table.defined_by = Some(crate::model::DefinitionKind::Sql);
    for def in &create.columns {
        // Identifier spans are relative to the statement's own text.
        let column_line = source.line + (def.name.span.start.line.max(1) as u32) - 1;
        let column_source = source.at_line(column_line);
        let column_name = def.name.value.clone();
        if let Err(reason) = validate_identifier(&column_name) {
            diagnostics.push(
                Diagnostic::error(Code::InvalidIdentifier, column_source.span(), reason)
                    .with_help("the column is left out of the model"),
            );
            continue;
        }
        let ty = PgType::parse(&def.data_type.to_string());
        if ty.is_unknown() {
            diagnostics.push(
                Diagnostic::warning(
                    Code::UnknownType,
                    column_source.span(),
                    format!(
                        "unknown type `{}` for column {name}.{column_name}",
                        def.data_type
                    ),
                )
                .with_help("use a PostgreSQL type name; the type is carried as written"),
            );
        }
        let mut column = Column::new(&column_name, ty, column_source.clone());
        for option in &def.options {
            match &option.option {
                ColumnOption::NotNull => column.nullable = false,
                ColumnOption::Null => column.nullable = true,
                ColumnOption::Default(expr) => column.default = Some(expr.to_string()),
                ColumnOption::PrimaryKey(_) => {
                    column.nullable = false;
                    table.primary_key = Some(PrimaryKey {
                        name: option.name.as_ref().map(|n| n.value.clone()),
                        columns: vec![column_name.clone()],
                        source: column_source.clone(),
                    });
                }
                ColumnOption::Unique(_) => table.unique_constraints.push(UniqueConstraint {
                    name: option.name.as_ref().map(|n| n.value.clone()),
                    columns: vec![column_name.clone()],
                    source: column_source.clone(),
                }),
                ColumnOption::ForeignKey(fk) => table.foreign_keys.push(foreign_key(
                    fk,
                    vec![column_name.clone()],
                    &column_source,
                )),
                ColumnOption::Check(check) => table.check_constraints.push(check_constraint(
                    option.name.as_ref().map(|n| n.value.clone()),
                    Some(column_name.clone()),
                    &check.expr,
                    &column_source,
                )),
                _ => {}
            }
        }
        table.columns.push(column);
    }
    for constraint in &create.constraints {
        match constraint {
            TableConstraint::PrimaryKey(pk) => {
                let columns = index_column_names(&pk.columns);
                for c in &columns {
                    if let Some(column) = table.column_mut(c) {
                        column.nullable = false;
                    }
                }
                table.primary_key = Some(PrimaryKey {
                    name: pk.name.as_ref().map(|n| n.value.clone()),
                    columns,
                    source: source.clone(),
                });
            }
            TableConstraint::Unique(unique) => table.unique_constraints.push(UniqueConstraint {
                name: unique.name.as_ref().map(|n| n.value.clone()),
                columns: index_column_names(&unique.columns),
                source: source.clone(),
            }),
            TableConstraint::ForeignKey(fk) => {
                let columns = fk.columns.iter().map(|c| c.value.clone()).collect();
                table.foreign_keys.push(foreign_key(fk, columns, source));
            }
            TableConstraint::Check(check) => table.check_constraints.push(check_constraint(
                check.name.as_ref().map(|n| n.value.clone()),
                None,
                &check.expr,
                source,
            )),
            _ => {}
        }
    }
    Some(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sql: &str) -> SqlFacts {
        let (file, _) = SourceFile::decode("t.md", sql.as_bytes());
        read_block(sql, 1, &file)
    }

    #[test]
    fn reads_tables_indexes_policies_and_functions() {
        let facts = read(
            "CREATE TABLE t (\n  id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),\n  plan TEXT DEFAULT 'free' CHECK (plan IN ('free', 'pro')),\n  e vector(3)\n);\n\
             CREATE INDEX idx_t_e ON t USING ivfflat (e vector_cosine_ops);\n\
             CREATE POLICY \"p\" ON t FOR SELECT USING (auth.uid() = id);\n\
             CREATE FUNCTION f(a UUID) RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;",
        );
        assert!(facts.diagnostics.is_empty(), "{:?}", facts.diagnostics);
        let table = &facts.tables[0];
        assert_eq!(table.columns.len(), 3);
        assert_eq!(table.columns[2].ty, PgType::Vector(Some(3)));
        assert_eq!(table.check_constraints[0].allowed_values, ["free", "pro"]);
        let (_, index) = &facts.indexes[0];
        assert_eq!(index.method, IndexMethod::Ivfflat);
        assert_eq!(
            index.columns[0].operator_class.as_deref(),
            Some("vector_cosine_ops")
        );
        assert_eq!(facts.policies[0].1.command, PolicyCommand::Select);
        assert_eq!(facts.functions[0].signature, "f(uuid)");
        assert!(facts.functions[0].definition.contains("RETURN 1; END;"));
        assert_eq!(facts.functions[0].source.line, 8);
    }

    #[test]
    fn bad_statement_is_a_diagnostic_and_the_rest_still_counts() {
        let facts =
            read("CREATE TABLE ok (id int);\nCREATE TABLE (broken;\nCREATE TABLE ok2 (id int);");
        assert_eq!(facts.tables.len(), 2);
        assert_eq!(facts.diagnostics.len(), 1);
        assert_eq!(facts.diagnostics[0].code, Code::UnparsedSql);
        assert_eq!(facts.diagnostics[0].span.as_ref().map(|s| s.line), Some(2));
    }

    #[test]
    fn quoted_injection_is_rejected() {
        let facts = read("CREATE TABLE \"x\"\"; DROP TABLE users; --\" (id int);");
        assert!(facts.tables.is_empty());
        assert_eq!(facts.diagnostics[0].code, Code::InvalidIdentifier);
    }
}
