//! The `orders` table as a SeaORM entity, with the foreign key to `customers`.

use sea_orm::entity::prelude::*;

// ANCHOR: order_entity
/// A row of `orders`. `indexed` and `fk_name` shape only the DDL that SeaORM writes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    /// The primary key (`INT AUTO_INCREMENT`).
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The customer who placed the order (the foreign key).
    #[sea_orm(indexed)]
    pub customer_id: i16,
    /// What was ordered.
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub item: String,
    /// The price in whole cents.
    pub amount_cents: i32,
}

/// An order `belongs_to` its customer, through `customer_id`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The customer who placed the order.
    #[sea_orm(
        belongs_to = "super::customer::Entity",
        from = "Column::CustomerId",
        to = "super::customer::Column::Id",
        fk_name = "fk_orders_customer"
    )]
    Customer,
}
// ANCHOR_END: order_entity

impl Related<super::customer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Customer.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
