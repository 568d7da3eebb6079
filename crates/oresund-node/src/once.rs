//! A value computed once, on first use, by work that can fail (`OnceLock::get_or_try_init` is not
//! stable yet).

use std::sync::OnceLock;

/// The cell's value, computed with `init` if the cell is empty. Two first users may both compute;
/// one result is kept (cheaper than holding a lock over the I/O that `init` usually does).
pub(crate) fn get_or_try_init<T, E>(cell: &OnceLock<T>, init: impl FnOnce() -> Result<T, E>) -> Result<&T, E> {
    if let Some(value) = cell.get() {
        return Ok(value);
    }
    let value = init()?;
    Ok(cell.get_or_init(|| value))
}
