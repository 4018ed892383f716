#![no_main]
//! Fuzzes the insurance register's response parser: any bytes, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = okaz_registry::parse_oc_insurance(data);
});
