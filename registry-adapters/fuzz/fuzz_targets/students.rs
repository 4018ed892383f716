#![no_main]
//! Fuzzes the students register's response parser: any bytes, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = okaz_registry::parse_student_id(data);
});
