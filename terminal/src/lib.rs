//! The okaz terminal (ratatui + crossterm)
