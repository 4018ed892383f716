//! The okaz terminal: the ratatui + crossterm client that clerks, police
//! officers and security officers use. Elm architecture: one [`Model`], one
//! [`Msg`] enum, a pure [`update`] returning [`Command`]s, a pure [`view`].

pub mod alert;
pub mod app;
pub mod break_glass;
pub mod client;
pub mod demo;
pub mod failure;
pub mod i18n;
pub mod i18n_admin;
pub mod i18n_alert;
pub mod i18n_disputes;
pub mod input;
pub mod model;
pub mod msg;
pub mod msg_admin;
pub mod photo;
pub mod profile;
pub mod screens;
pub mod tty;
pub mod update;
pub mod view;
pub mod widgets;

pub use model::{Model, Screen, Session};
pub use msg::{Command, Failure, Key, Msg};
pub use update::update;
pub use view::view;
