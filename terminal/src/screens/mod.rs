//! One module per screen: its state, its keys and its drawing.

pub mod audit;
pub mod awaiting;
pub mod break_glass;
pub mod lockouts;
pub mod login;
pub mod notice;
pub mod parts;
pub mod query;
pub mod result;
pub mod unlock;
pub mod watch;

// Security officer: the accounts of the unit.
pub mod account_reason;
pub mod certificate;
pub mod export;
pub mod officer_new;
pub mod officers;
pub mod path_form;
pub mod secret;

// Security officer: citizens' disputes of checks.
pub mod disputes;

/// Moves a focus enum forward or back through `order`, wrapping around.
pub(crate) fn cycle<F: Copy + PartialEq>(order: &[F], current: F, forward: bool) -> F {
    let n = order.len();
    let i = order.iter().position(|f| *f == current).unwrap_or(0);
    let j = if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    };
    order.get(j).copied().unwrap_or(current)
}
