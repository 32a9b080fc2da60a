//! Step 1, with SeaORM: the entities, and the SQL that SeaORM builds from them with
//! sea-query.

use sea_orm::sea_query::MysqlQueryBuilder;
use sea_orm::{ActiveValue::Set, ColumnTrait, DbBackend, EntityTrait, QueryFilter};
use sea_orm::{QueryTrait, Schema};

use super::customer;

// ANCHOR: generated_sql
/// The SQL that SeaORM builds for the load and the insert of diesel's step 1, and the
/// `CREATE TABLE` it would write from the entity. Each is a sea-query statement inside
/// (lesson 2): `into_query` takes it out, and `to_string` writes it with the values
/// inlined, to read, never to run. SeaORM itself sends `?` and the values apart.
pub fn generated_sql() -> Vec<String> {
    let load = customer::Entity::find().filter(customer::Column::Name.eq("Lynn"));
    let insert = customer::Entity::insert(customer::ActiveModel {
        name: Set("Ada".to_owned()),
        job: Set(Some("Engineer".to_owned())),
        ..Default::default()
    });
    let create = Schema::new(DbBackend::MySql).create_table_from_entity(customer::Entity);
    vec![
        load.into_query().to_string(MysqlQueryBuilder),
        insert.into_query().to_string(MysqlQueryBuilder),
        create.to_string(MysqlQueryBuilder),
    ]
}
// ANCHOR_END: generated_sql

/// Step 1's report, with SeaORM: the generated SQL. Nothing here touches the database.
pub async fn run(_ctx: &super::Ctx) -> anyhow::Result<crate::report::GeneratedSql> {
    Ok(crate::report::GeneratedSql(generated_sql()))
}
