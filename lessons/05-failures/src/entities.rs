//! The SeaORM entities of the tables the lesson writes through SeaORM (steps 1 and 4),
//! in SeaORM 2.0's format.

// SeaORM's derive writes paths the workspace's `unused_qualifications` lint (off by
// default in Rust) finds too long, at the fields' spans.
#![allow(unused_qualifications)]

// ANCHOR: customer_entity
/// The article's `customers` table, as a SeaORM entity.
pub mod customer {
    use sea_orm::entity::prelude::*;

    /// One customer.
    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "customers")]
    pub struct Model {
        /// `SMALLINT AUTO_INCREMENT`.
        #[sea_orm(primary_key)]
        pub id: i16,
        /// `VARCHAR(50) NOT NULL`, with the unique key `UQ_name`.
        #[sea_orm(unique)]
        pub name: String,
        /// `VARCHAR(50) DEFAULT ''`.
        pub job: Option<String>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
// ANCHOR_END: customer_entity

/// The lesson's `lesson5_events` table: one row a key, written by step 4's rounds.
pub mod event {
    use sea_orm::entity::prelude::*;

    /// One event.
    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "lesson5_events")]
    pub struct Model {
        /// `INT NOT NULL PRIMARY KEY`, chosen by the writer.
        #[sea_orm(primary_key, auto_increment = false)]
        pub k: i32,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
