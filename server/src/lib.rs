//! The okaz broker
