#![no_main]
//! Fuzzes the vehicles register's by-plate (police) answer parser: both
//! documents it yields, any bytes, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = okaz_registry::parse_plate_registration(data);
    let _ = okaz_registry::parse_plate_inspection(data);
});
