//! Whole-system tests of okaz and the test kit they share
