//! The `customers` table as a SeaORM entity: the `Model` a row becomes, the relations
//! `find_related` and the loaders follow, and what `DeriveEntityModel` derives from them
//! (`Entity`, `Column`, `PrimaryKey` and `ActiveModel`).

use sea_orm::entity::prelude::*;

// ANCHOR: customer_model
/// A row of `customers`. `DeriveEntityModel` writes the rest of the entity from this
/// struct: the `Entity` to query, a `Column` enum, the `PrimaryKey`, and the
/// `ActiveModel` that inserts and updates. The column types matter only for the DDL
/// that SeaORM can write from the entity; the queries need the names.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    /// The primary key (`SMALLINT AUTO_INCREMENT`, so `i16`).
    #[sea_orm(primary_key)]
    pub id: i16,
    /// The unique name (`UQ_name`).
    #[sea_orm(column_type = "String(StringLen::N(50))", unique)]
    pub name: String,
    /// The job; `None` is SQL `NULL`. The column's default is `''`.
    #[sea_orm(column_type = "String(StringLen::N(50))", default_value = "")]
    pub job: Option<String>,
}
// ANCHOR_END: customer_model

// ANCHOR: customer_relations
/// What a customer is related to: `has_many` orders. The foreign key is declared on the
/// other side, in `order::Relation`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// A customer's orders.
    #[sea_orm(has_many = "super::order::Entity")]
    Orders,
}

/// What `find_related`, `find_with_related` and `load_many` follow from a customer to
/// the orders.
impl Related<super::order::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Orders.def()
    }
}

/// The hooks an `ActiveModel` runs around a save (`before_save`, ...): none here.
impl ActiveModelBehavior for ActiveModel {}
// ANCHOR_END: customer_relations
