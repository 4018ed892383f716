#![no_main]
//! Fuzzes the large_family register's response parser: any bytes, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = okaz_registry::parse_large_family_card(data);
});
