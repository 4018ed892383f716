//! Fault injection per register (and for the SMS gateway), set at start-up by
//! flags or at run time through `POST /_faults`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What goes wrong with one register's answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fault {
    /// Added delay before answering.
    pub latency_ms: u64,
    /// Share of requests answered with 500 (0.0..=1.0).
    pub error_rate: f64,
    /// Never answer (until the sandbox shuts down).
    pub hang: bool,
    /// Answer 200 with a body that breaks the register's shape.
    pub malformed: bool,
    /// Answer 200 with a body larger than any client limit (3 MiB).
    pub oversized: bool,
}

impl Fault {
    /// Whether this fault changes anything.
    pub fn is_active(&self) -> bool {
        *self != Fault::default()
    }
}

/// `POST /_faults` body: a register name (or `sms`, or `all`) and its fault.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    /// Register name, `sms`, or `all`.
    pub register: String,
    /// The fault fields.
    #[serde(flatten)]
    pub fault: Fault,
}

/// Faults by register name (`persons`, `drivers`, ..., `sms`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    /// Active faults.
    pub by_register: BTreeMap<String, Fault>,
}

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Faults::default()
    }

    /// Sets (or, with an inactive fault, clears) the fault of one target.
    pub fn set(&mut self, register: &str, fault: Fault) {
        if fault.is_active() {
            self.by_register.insert(register.to_string(), fault);
        } else {
            self.by_register.remove(register);
        }
    }

    /// The fault in force for a target (`all` applies to registers, not SMS).
    pub fn get(&self, register: &str) -> Fault {
        self.by_register
            .get(register)
            .or_else(|| {
                (register != "sms")
                    .then(|| self.by_register.get("all"))
                    .flatten()
            })
            .cloned()
            .unwrap_or_default()
    }

    /// Whether a target name is known.
    pub fn known_target(name: &str) -> bool {
        name == "sms"
            || name == "mail"
            || name == "all"
            || okaz_registry::registers::Register::parse(name).is_some()
    }
}
