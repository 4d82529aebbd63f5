//! Issue #4 in a real database: behaviour, not string compares. Users A and
//! B act through the `authenticated` role with `request.jwt.claims`, `anon`
//! has no claims, and `service_role` bypasses RLS. Every cell of the access
//! matrix is checked by attempting the operation.

mod support;

use schemagen::emit::Target;
use schemagen::emit::Templates;
use schemagen::emit::rls::{Access, Operation, Perspective, cell, owner_column};
use schemagen::model::physical::{RealizeOptions, quote_identifier};
use schemagen::model::{Schema, Table};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use support::db::{TestDb, fresh_db};
use support::rows::{
    Parents, RowSpec, SEED_SLOTS, insert_first_that_works, key_column, seed_parents, uuid,
};

const A: u64 = 0xA;
const B: u64 = 0xB;

struct World {
    db: TestDb,
    realized: Schema,
    parents: Parents,
}

async fn world() -> World {
    let project = support::real_project(&support::settings(
        Target::Postgres,
        RealizeOptions::default(),
    ));
    let realized = project.realized().clone().into_inner();
    let db = fresh_db().await;
    db.run(&support::ddl(&project)).await;
    // A and B exist wherever an owner column can point.
    for n in [A, B] {
        db.run(&format!(
            "INSERT INTO auth.users (id, email) VALUES ('{}', 'u{n}@example.com')",
            uuid(n)
        ))
        .await;
        for table in ["users", "profiles"] {
            let spec = RowSpec {
                values: [("id".to_owned(), format!("'{}'", uuid(n)))].into(),
                parent_slot: None,
            };
            insert_first_that_works(&db, &realized.tables[table], &spec, &Parents::default(), n)
                .await
                .unwrap();
        }
    }
    let parents = seed_parents(&db, &realized, 0x10_0000).await;
    World {
        db,
        realized,
        parents,
    }
}

/// A connection acting as a role, inside a transaction that is rolled back.
struct Actor {
    connection: PgConnection,
}

impl Actor {
    async fn new(db: &TestDb, role: &str, user: Option<u64>) -> Actor {
        let mut connection = PgConnection::connect(&db.url).await.unwrap();
        let claims = match user {
            Some(n) => format!("{{\"sub\": \"{}\", \"role\": \"{role}\"}}", uuid(n)),
            None => format!("{{\"role\": \"{role}\"}}"),
        };
        let setup = format!(
            "BEGIN; SET LOCAL ROLE {role}; SELECT set_config('request.jwt.claims', '{claims}', true);"
        );
        sqlx::raw_sql(AssertSqlSafe(setup))
            .execute(&mut connection)
            .await
            .unwrap();
        Actor { connection }
    }

    /// Runs one statement in a savepoint; returns rows affected, or None when it failed.
    async fn attempt(&mut self, sql: &str) -> Option<u64> {
        sqlx::raw_sql("SAVEPOINT s")
            .execute(&mut self.connection)
            .await
            .unwrap();
        let result = sqlx::query(AssertSqlSafe(sql.to_owned()))
            .execute(&mut self.connection)
            .await;
        let affected = result.as_ref().ok().map(|r| r.rows_affected());
        let end = if result.is_ok() {
            "RELEASE SAVEPOINT s"
        } else {
            "ROLLBACK TO SAVEPOINT s"
        };
        sqlx::raw_sql(end)
            .execute(&mut self.connection)
            .await
            .unwrap();
        affected
    }

    /// Rolls the statement back even when it succeeded.
    async fn probe(&mut self, sql: &str) -> Option<u64> {
        sqlx::raw_sql("SAVEPOINT p")
            .execute(&mut self.connection)
            .await
            .unwrap();
        let affected = self.attempt(sql).await;
        sqlx::raw_sql("ROLLBACK TO SAVEPOINT p")
            .execute(&mut self.connection)
            .await
            .unwrap();
        affected
    }

    async fn ids(&mut self, table: &Table) -> Vec<String> {
        let sql = format!(
            "SELECT {}::text FROM public.{} ORDER BY 1",
            quote_identifier(&key_column(table)),
            quote_identifier(&table.name)
        );
        sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_all(&mut self.connection)
            .await
            .unwrap()
    }

    /// Visible ids among the test's own rows (seeded parents left out).
    async fn own_ids(&mut self, table: &Table) -> Vec<String> {
        self.ids(table)
            .await
            .into_iter()
            .filter(|id| !is_seeded(id))
            .collect()
    }
}

/// Seeded parent rows are numbered from 0x10_0000.
fn is_seeded(id: &str) -> bool {
    u64::from_str_radix(&id[24..], 16).is_ok_and(|n| n >= 0x10_0000)
}

fn property(n: u64, agent: u64, active: bool) -> RowSpec {
    RowSpec {
        values: [
            ("id".to_owned(), format!("'{}'", uuid(n))),
            ("agent_id".to_owned(), format!("'{}'", uuid(agent))),
            ("is_active".to_owned(), active.to_string()),
        ]
        .into(),
        parent_slot: None,
    }
}

async fn insert(world: &World, table: &str, spec: &RowSpec, n: u64) {
    insert_first_that_works(
        &world.db,
        &world.realized.tables[table],
        spec,
        &world.parents,
        n,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn agents_crud_their_own_properties_and_see_others_only_when_active() {
    let world = world().await;
    insert(&world, "properties", &property(0xB1, B, true), 0xB1).await;
    insert(&world, "properties", &property(0xB2, B, false), 0xB2).await;
    let mut a = Actor::new(&world.db, "authenticated", Some(A)).await;
    let own = property(0xA1, A, false);
    let statement = support::rows::insert_candidates(
        &world.realized.tables["properties"],
        &own,
        &world.parents,
        0xA1,
    );
    assert_eq!(
        a.attempt(&statement[0]).await,
        Some(1),
        "A inserts an own property"
    );
    assert_eq!(
        a.own_ids(&world.realized.tables["properties"]).await,
        [uuid(0xA1), uuid(0xB1)],
        "own rows, and B's active one only"
    );
    assert_eq!(
        a.attempt(&format!(
            "UPDATE properties SET city = 'x' WHERE id = '{}'",
            uuid(0xA1)
        ))
        .await,
        Some(1)
    );
    assert_eq!(
        a.attempt(&format!(
            "UPDATE properties SET city = 'x' WHERE id = '{}'",
            uuid(0xB1)
        ))
        .await,
        Some(0)
    );
    assert_eq!(
        a.attempt(&format!(
            "DELETE FROM properties WHERE id = '{}'",
            uuid(0xB1)
        ))
        .await,
        Some(0)
    );
    assert_eq!(
        a.attempt(&format!(
            "DELETE FROM properties WHERE id = '{}'",
            uuid(0xA1)
        ))
        .await,
        Some(1)
    );
    let as_b = support::rows::insert_candidates(
        &world.realized.tables["properties"],
        &property(0xA2, B, true),
        &world.parents,
        0xA2,
    );
    assert_eq!(
        a.attempt(&as_b[0]).await,
        None,
        "inserting a property with agent_id = B is rejected"
    );
}

#[tokio::test]
async fn anon_reads_only_active_properties_and_no_private_tables() {
    let world = world().await;
    insert(&world, "properties", &property(0xB1, B, true), 0xB1).await;
    insert(&world, "properties", &property(0xB2, B, false), 0xB2).await;
    for table in ["vendor_commissions", "customers"] {
        insert(&world, table, &RowSpec::default(), 0xC1).await;
    }
    let mut anon = Actor::new(&world.db, "anon", None).await;
    assert_eq!(
        anon.own_ids(&world.realized.tables["properties"]).await,
        [uuid(0xB1)]
    );
    assert!(
        anon.own_ids(&world.realized.tables["vendor_commissions"])
            .await
            .is_empty()
    );
    assert!(
        anon.own_ids(&world.realized.tables["customers"])
            .await
            .is_empty()
    );
    let mut service = Actor::new(&world.db, "service_role", None).await;
    for table in world.realized.tables.values() {
        let sql = format!(
            "SELECT {}::text FROM public.{} ORDER BY 1",
            quote_identifier(&key_column(table)),
            quote_identifier(&table.name)
        );
        let as_owner: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_all(world.db.pool())
            .await
            .unwrap();
        assert_eq!(
            service.ids(table).await,
            as_owner,
            "service_role reads everything in {}",
            table.name
        );
    }
}

#[tokio::test]
async fn conversations_and_credentials_are_visible_only_to_their_owner() {
    let world = world().await;
    for (table, key) in [("conversations", 0xD0), ("javari_credentials", 0xE0)] {
        for owner in [A, B] {
            let spec = RowSpec {
                values: [
                    ("id".to_owned(), format!("'{}'", uuid(key + owner))),
                    ("user_id".to_owned(), format!("'{}'", uuid(owner))),
                ]
                .into(),
                parent_slot: None,
            };
            insert(&world, table, &spec, key + owner).await;
        }
        for owner in [A, B] {
            let mut actor = Actor::new(&world.db, "authenticated", Some(owner)).await;
            assert_eq!(
                actor.own_ids(&world.realized.tables[table]).await,
                [uuid(key + owner)],
                "{table} as its owner"
            );
        }
        assert!(
            Actor::new(&world.db, "anon", None)
                .await
                .own_ids(&world.realized.tables[table])
                .await
                .is_empty(),
            "{table} as anon"
        );
    }
}

/// The rows a matrix check works on: owned by A or B (where the table has
/// an owner column), active or not (where it has an active flag).
fn test_rows(table: &Table, parents: &Parents) -> Vec<(u64, RowSpec, Option<u64>, String)> {
    let owner = table
        .policies
        .iter()
        .flat_map(|p| [&p.using, &p.with_check])
        .flatten()
        .find_map(|e| owner_column(e));
    let active = table.column("is_active").map(|_| "is_active");
    let mut rows = Vec::new();
    let owners: Vec<Option<u64>> = if owner.is_some() {
        vec![Some(A), Some(B)]
    } else {
        vec![None]
    };
    let flags: Vec<Option<bool>> = if active.is_some() {
        vec![Some(true), Some(false)]
    } else {
        vec![None]
    };
    let key = key_column(table);
    let key_parent = table
        .foreign_keys
        .iter()
        .find(|fk| fk.columns == [key.clone()])
        .map(|fk| fk.references.table.clone());
    let mut n = 0x5000;
    for who in &owners {
        for flag in &flags {
            let slot = SEED_SLOTS + (n - 0x5000);
            let mut spec = RowSpec {
                values: Default::default(),
                parent_slot: Some(slot),
            };
            // A key that is also a foreign key must name a distinct parent.
            let id = match &key_parent {
                Some(parent) => parents.pick(parent, slot).unwrap(),
                None => uuid(n),
            };
            spec.values.insert(key.clone(), format!("'{id}'"));
            if let (Some(column), Some(who)) = (&owner, who) {
                spec.values
                    .insert(column.clone(), format!("'{}'", uuid(*who)));
            }
            if let (Some(column), Some(flag)) = (active, flag) {
                spec.values.insert(column.to_owned(), flag.to_string());
            }
            rows.push((n, spec, *who, id));
            n += 1;
        }
    }
    rows
}

/// The first INSERT candidate that the database owner could run (tried and
/// rolled back), so a refusal later is the policy's doing, not a constraint's.
async fn workable_insert(
    db: &TestDb,
    table: &Table,
    spec: &RowSpec,
    parents: &Parents,
    n: u64,
) -> String {
    for statement in support::rows::insert_candidates(table, spec, parents, n) {
        let mut transaction = db.pool().begin().await.unwrap();
        let works = sqlx::raw_sql(AssertSqlSafe(statement.clone()))
            .execute(&mut *transaction)
            .await
            .is_ok();
        transaction.rollback().await.unwrap();
        if works {
            return statement;
        }
    }
    panic!("no row of {} can be inserted", table.name)
}

/// Rows of `candidates` where `filter` holds, evaluated as the database owner
/// with the same claims: the oracle for a filtered cell.
async fn rows_where(
    db: &TestDb,
    table: &Table,
    filter: &str,
    user: Option<u64>,
    candidates: &[String],
) -> Vec<String> {
    let mut connection = PgConnection::connect(&db.url).await.unwrap();
    let claims = user.map_or("{}".to_owned(), |n| format!("{{\"sub\": \"{}\"}}", uuid(n)));
    sqlx::raw_sql(AssertSqlSafe(format!(
        "BEGIN; SELECT set_config('request.jwt.claims', '{claims}', true);"
    )))
    .execute(&mut connection)
    .await
    .unwrap();
    let sql = format!(
        "SELECT {}::text FROM public.{} WHERE ({filter}) ORDER BY 1",
        quote_identifier(&key_column(table)),
        quote_identifier(&table.name)
    );
    let ids: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql))
        .fetch_all(&mut connection)
        .await
        .unwrap();
    ids.into_iter()
        .filter(|id| candidates.contains(id))
        .collect()
}

#[tokio::test]
async fn every_matrix_cell_of_the_documented_tables_holds_in_the_database() {
    let world = world().await;
    let mut checked = 0;
    for table in world.realized.tables.values().filter(|t| t.is_documented()) {
        let key = quote_identifier(&key_column(table));
        let name = quote_identifier(&table.name);
        let rows = test_rows(table, &world.parents);
        for (n, spec, _, _) in &rows {
            insert_first_that_works(&world.db, table, spec, &world.parents, *n)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", table.name));
        }
        for perspective in Perspective::ALL {
            let (role, user) = match perspective {
                Perspective::Anon => ("anon", None),
                Perspective::Owner | Perspective::Other => ("authenticated", Some(A)),
                Perspective::ServiceRole => ("service_role", None),
            };
            // The rows this perspective is about: A's own rows for the
            // owner, B's for another user; all rows where no owner applies.
            let in_scope: Vec<&(u64, RowSpec, Option<u64>, String)> = rows
                .iter()
                .filter(|(_, _, owner, _)| match (perspective, owner) {
                    (Perspective::Owner, Some(o)) => *o == A,
                    (Perspective::Other, Some(o)) => *o == B,
                    _ => true,
                })
                .collect();
            let scope_ids: Vec<String> = in_scope.iter().map(|row| row.3.clone()).collect();
            for operation in Operation::ALL {
                let access = cell(table, perspective, operation);
                let context = format!(
                    "{}: {operation:?} as {perspective:?} disagrees with the matrix ({access:?})",
                    table.name
                );
                let mut actor = Actor::new(&world.db, role, user).await;
                let (expected, actual): (Vec<String>, Vec<String>) = if operation
                    == Operation::Insert
                {
                    // A fresh row shaped like each row in scope, in the next free parent slot.
                    let (mut expected, mut actual) = (Vec::new(), Vec::new());
                    for (k, (n, spec, _, _)) in in_scope.iter().enumerate() {
                        let mut fresh = spec.clone();
                        fresh.parent_slot = Some(SEED_SLOTS + 8 + k as u64);
                        let key_parent = table
                            .foreign_keys
                            .iter()
                            .find(|fk| fk.columns == [key_column(table)]);
                        let new_id = match key_parent {
                            Some(fk) => world
                                .parents
                                .pick(&fk.references.table, SEED_SLOTS + 8 + k as u64)
                                .unwrap(),
                            None => uuid(n + 0x10),
                        };
                        fresh
                            .values
                            .insert(key_column(table), format!("'{new_id}'"));
                        let statement =
                            &workable_insert(&world.db, table, &fresh, &world.parents, n + 0x10)
                                .await;
                        let allowed = match &access {
                            Access::Allow => true,
                            Access::Deny => false,
                            Access::Filtered(filter) => {
                                world.db.run(statement).await;
                                let holds = !rows_where(
                                    &world.db,
                                    table,
                                    filter,
                                    user,
                                    std::slice::from_ref(&new_id),
                                )
                                .await
                                .is_empty();
                                world
                                    .db
                                    .run(&format!(
                                        "DELETE FROM public.{name} WHERE {key} = '{new_id}'"
                                    ))
                                    .await;
                                holds
                            }
                        };
                        if allowed {
                            expected.push(new_id.clone());
                        }
                        if actor.probe(statement).await == Some(1) {
                            actual.push(new_id);
                        }
                    }
                    (expected, actual)
                } else {
                    let expected = match &access {
                        Access::Allow => scope_ids.clone(),
                        Access::Deny => Vec::new(),
                        Access::Filtered(filter) => {
                            rows_where(&world.db, table, filter, user, &scope_ids).await
                        }
                    };
                    let actual = match operation {
                        Operation::Select => actor
                            .ids(table)
                            .await
                            .into_iter()
                            .filter(|id| scope_ids.contains(id))
                            .collect(),
                        _ => {
                            let mut affected = Vec::new();
                            for id in &scope_ids {
                                let sql = if operation == Operation::Update {
                                    format!(
                                        "UPDATE public.{name} SET {key} = {key} WHERE {key} = '{id}'"
                                    )
                                } else {
                                    format!("DELETE FROM public.{name} WHERE {key} = '{id}'")
                                };
                                if actor.probe(&sql).await == Some(1) {
                                    affected.push(id.clone());
                                }
                            }
                            affected
                        }
                    };
                    (expected, actual)
                };
                assert_eq!(actual, expected, "{context}");
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked,
        40 * 4 * 4,
        "every cell of the 40 documented tables"
    );
}

#[tokio::test]
async fn policies_sql_is_idempotent_and_matches_the_migration() {
    let world = world().await;
    let templates = Templates::load(None).unwrap();
    let project = support::real_project(&support::settings(
        Target::Postgres,
        RealizeOptions::default(),
    ));
    let context = schemagen::emit::EmitContext::new(&project, &templates);
    let files = schemagen::emit::Emitter::Rls.render(&context).unwrap();
    let policies = &files
        .iter()
        .find(|f| f.path.ends_with("policies.sql"))
        .unwrap()
        .contents;
    let before = world.db.catalog().await;
    world.db.run(policies).await;
    world.db.run(policies).await;
    assert_eq!(
        before.diff(&world.db.catalog().await),
        "",
        "the migration already carries every policy"
    );
    assert!(
        before
            .facts
            .iter()
            .any(|f| f.starts_with("policy | properties | properties_agents_crud_own | ALL"))
    );
    assert!(
        before
            .facts
            .iter()
            .any(|f| f.starts_with("table | customers | rls=true"))
    );
}
