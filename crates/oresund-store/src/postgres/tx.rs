//! A write transaction on the PostgreSQL catalog: the shared rules ([`crate::rules`]) run in it
//! through the row traits its SQL implements (rows locked `FOR UPDATE` where the embedded store
//! relies on its database-wide write lock).

use std::ops::{Deref, DerefMut};

use postgres::Transaction;

use super::pool::Conn;
use crate::error::Result;

pub(super) struct WriteTx<'c>(Transaction<'c>);

impl<'c> Deref for WriteTx<'c> {
    type Target = Transaction<'c>;
    fn deref(&self) -> &Transaction<'c> {
        &self.0
    }
}

impl<'c> DerefMut for WriteTx<'c> {
    fn deref_mut(&mut self) -> &mut Transaction<'c> {
        &mut self.0
    }
}

impl Conn {
    /// Runs `work` in one transaction, committed if it succeeds (dropped, so rolled back, if not).
    pub fn write<T>(&mut self, work: impl FnOnce(&mut WriteTx<'_>) -> Result<T>) -> Result<T> {
        let mut tx = WriteTx(self.client.transaction()?);
        let out = work(&mut tx)?;
        tx.0.commit()?;
        Ok(out)
    }
}
