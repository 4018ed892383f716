//! The client the broker holds: one shared HTTP client, one breaker per
//! register, and the per-document routing to registers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use okaz_protocol::{Document, DocumentType, Pesel};

use crate::breaker::{Breaker, BreakerState};
use crate::config::RegistryConfig;
use crate::error::RegistryError;
use crate::http::{build_client, get_json, HttpsClient, ReadLimits};
use crate::registers::{self, plates, Register};

pub use crate::registers::plates::PlateAnswer;

/// A citizen's entry in the contact register.
#[derive(Clone, PartialEq, Eq)]
pub struct Contact {
    /// Mobile phone in E.164, e.g. `+48601234567`.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// The citizen reserved against contact by public bodies.
    pub reserved: bool,
}

impl std::fmt::Debug for Contact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Presence only: a Debug line may end up in a log.
        f.debug_struct("Contact")
            .field("phone", &self.phone.as_ref().map(|_| "<redacted>"))
            .field("email", &self.email.as_ref().map(|_| "<redacted>"))
            .field("reserved", &self.reserved)
            .finish()
    }
}

struct Inner {
    cfg: RegistryConfig,
    http: HttpsClient,
    breakers: Mutex<HashMap<Register, Breaker>>,
    observer: Option<crate::trace::Observer>,
}

/// Reads documents and contacts live from the registers. Cheap to clone.
#[derive(Clone)]
pub struct RegisterClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RegisterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterClient")
            .field("cfg", &self.inner.cfg)
            .finish_non_exhaustive()
    }
}

/// Records a failure if a call is dropped mid-flight (e.g. the caller's own
/// timeout), so a half-open breaker never waits forever for a lost probe.
struct Outcome<'a> {
    client: &'a RegisterClient,
    register: Register,
    settled: bool,
}

impl Outcome<'_> {
    fn settle(mut self, failed: bool) {
        self.settled = true;
        self.client.record(self.register, failed);
    }
}

impl Drop for Outcome<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.client.record(self.register, true);
        }
    }
}

impl RegisterClient {
    /// Builds the client; fails on an unreadable CA or a base URL that is not http(s).
    pub fn new(cfg: RegistryConfig) -> Result<Self, RegistryError> {
        if !matches!(cfg.base_url.scheme(), "https" | "http") {
            return Err(RegistryError::Config("base_url must be http(s)".into()));
        }
        let http = build_client(cfg.ca_pem.as_deref(), cfg.connect_timeout)
            .map_err(RegistryError::Config)?;
        let breakers = Register::ALL
            .into_iter()
            .map(|r| (r, Breaker::new(cfg.breaker_failures, cfg.breaker_cooldown)))
            .collect();
        Ok(RegisterClient {
            inner: Arc::new(Inner {
                cfg,
                http,
                breakers: Mutex::new(breakers),
                observer: None,
            }),
        })
    }

    /// The same client, telling `observer` of every register call. Call it
    /// before the client is cloned; on a shared client it does nothing.
    pub fn with_observer(mut self, observer: crate::trace::Observer) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.observer = Some(observer);
        }
        self
    }

    /// The configuration in use.
    pub fn config(&self) -> &RegistryConfig {
        &self.inner.cfg
    }

    /// The breaker state of one register (for readiness and metrics).
    pub fn breaker_state(&self, register: Register) -> BreakerState {
        self.with_breaker(register, |b| b.state())
    }

    fn with_breaker<T>(&self, register: Register, f: impl FnOnce(&mut Breaker) -> T) -> T {
        let mut map = match self.inner.breakers.lock() {
            Ok(g) => g,
            // A panic elsewhere while holding the lock leaves valid state: the
            // breaker has no multi-step invariants.
            Err(poisoned) => poisoned.into_inner(),
        };
        let cfg = &self.inner.cfg;
        let b = map
            .entry(register)
            .or_insert_with(|| Breaker::new(cfg.breaker_failures, cfg.breaker_cooldown));
        f(b)
    }

    fn record(&self, register: Register, failed: bool) {
        let now = Instant::now();
        self.with_breaker(register, |b| {
            if failed {
                b.on_failure(now);
            } else {
                b.on_success();
            }
        });
        if failed {
            tracing::warn!(register = register.name(), "register call failed");
        }
    }

    /// One guarded read: breaker, HTTP with retries, then the parser.
    async fn call<T>(
        &self,
        register: Register,
        url: url::Url,
        parse: impl FnOnce(&[u8]) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        let name = register.name();
        let started = Instant::now();
        let result = self.guarded(register, url, parse).await;
        if let Some(o) = &self.inner.observer {
            let outcome = match &result {
                Ok(_) => "ok",
                Err(e) => e.kind(),
            };
            o.observe(name, started.elapsed(), outcome);
        }
        result
    }

    async fn guarded<T>(
        &self,
        register: Register,
        url: url::Url,
        parse: impl FnOnce(&[u8]) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        let name = register.name();
        if !self.with_breaker(register, |b| b.allow(Instant::now())) {
            return Err(RegistryError::CircuitOpen { register: name });
        }
        let outcome = Outcome {
            client: self,
            register,
            settled: false,
        };
        let cfg = &self.inner.cfg;
        let limits = ReadLimits {
            total_timeout: cfg.total_timeout,
            retries: cfg.retries,
            max_bytes: cfg.max_response_bytes,
        };
        let result = get_json(&self.inner.http, &url, limits, name)
            .await
            .and_then(|body| parse(&body));
        outcome.settle(
            result
                .as_ref()
                .is_err_and(RegistryError::is_register_failure),
        );
        result
    }

    fn url(
        &self,
        register: Register,
        path_tail: &str,
        query: Option<(&str, &str)>,
    ) -> Result<url::Url, RegistryError> {
        let mut u = self
            .inner
            .cfg
            .base_url
            .join(&format!("{}{}", register.prefix(), path_tail))
            .map_err(|e| RegistryError::Config(format!("register URL: {e}")))?;
        if let Some((k, v)) = query {
            u.query_pairs_mut().append_pair(k, v);
        }
        Ok(u)
    }

    /// Fetches one document live from the register that owns it. Vehicle
    /// documents are those of the citizen's first vehicle.
    pub async fn fetch_document(
        &self,
        pesel: &Pesel,
        kind: DocumentType,
    ) -> Result<Document, RegistryError> {
        let p = pesel.expose();
        let register = Register::of(kind);
        match kind {
            DocumentType::IdCard => {
                self.call(
                    register,
                    self.url(register, &p, None)?,
                    registers::parse_id_card,
                )
                .await
            }
            DocumentType::DrivingLicence => {
                self.call(
                    register,
                    self.url(register, &p, None)?,
                    registers::parse_driving_licence,
                )
                .await
            }
            DocumentType::VehicleRegistration => {
                let u = self.url(register, &format!("{p}/pojazdy"), None)?;
                self.call(register, u, registers::parse_vehicle_registration)
                    .await
            }
            DocumentType::TechnicalInspection => {
                let u = self.url(register, &format!("{p}/pojazdy"), None)?;
                self.call(register, u, registers::parse_technical_inspection)
                    .await
            }
            DocumentType::OcInsurance => {
                // UFG is asked by vehicle, so the vehicle comes from CEPIK first.
                let u = self.url(Register::Vehicles, &format!("{p}/pojazdy"), None)?;
                let vehicle = self
                    .call(Register::Vehicles, u, registers::vehicles::first_vehicle)
                    .await?;
                let u = self.url(register, "", Some(("vin", &vehicle.vin)))?;
                self.call(register, u, registers::parse_oc_insurance).await
            }
            DocumentType::StudentId => {
                let u = self.url(register, "", Some(("pesel", &p)))?;
                self.call(register, u, registers::parse_student_id).await
            }
            DocumentType::PensionerId => {
                self.call(
                    register,
                    self.url(register, &p, None)?,
                    registers::parse_pensioner_id,
                )
                .await
            }
            DocumentType::LargeFamilyCard => {
                let u = self.url(register, "", Some(("pesel", &p)))?;
                self.call(register, u, registers::parse_large_family_card)
                    .await
            }
            DocumentType::SchoolId => {
                self.call(
                    register,
                    self.url(register, &p, None)?,
                    registers::parse_school_id,
                )
                .await
            }
        }
    }

    /// Fetches a vehicle document by registration number (the police lookup),
    /// with the natural person the vehicles register names for the vehicle.
    ///
    /// `plate` may be typed loosely (`wa 1234x`): spaces are removed and
    /// letters upper-cased, then it must be 1 to 8 of `A-Z0-9`, else
    /// [`RegistryError::InvalidPlate`]. `kind` must be
    /// [`DocumentType::VehicleRegistration`], [`DocumentType::TechnicalInspection`]
    /// or [`DocumentType::OcInsurance`], else [`RegistryError::Unsupported`].
    /// Both are checked before any request. An unknown plate is
    /// [`RegistryError::NotFound`] from `vehicles`; an answer about another
    /// plate is [`RegistryError::Malformed`]. OC insurance asks UFG by the
    /// VIN that CEPIK gives for the plate, as [`Self::fetch_document`] does.
    pub async fn fetch_by_plate(
        &self,
        plate: &str,
        kind: DocumentType,
    ) -> Result<PlateAnswer, RegistryError> {
        if !matches!(
            kind,
            DocumentType::VehicleRegistration
                | DocumentType::TechnicalInspection
                | DocumentType::OcInsurance
        ) {
            return Err(RegistryError::Unsupported { kind });
        }
        let plate = crate::ids::normalise_plate(plate).ok_or(RegistryError::InvalidPlate)?;
        let vehicles = Register::Vehicles;
        let mut u = self
            .inner
            .cfg
            .base_url
            .join(plates::PLATE_PATH)
            .map_err(|e| RegistryError::Config(format!("register URL: {e}")))?;
        u.query_pairs_mut().append_pair("nr_rej", &plate);
        match kind {
            DocumentType::TechnicalInspection => {
                self.call(vehicles, u, |b| {
                    plates::inspection(plates::found_for(b, &plate)?)
                })
                .await
            }
            DocumentType::OcInsurance => {
                let found = self
                    .call(vehicles, u, |b| plates::found_for(b, &plate))
                    .await?;
                let r = Register::Insurance;
                let u = self.url(r, "", Some(("vin", &found.vehicle.vin)))?;
                let document = self.call(r, u, registers::parse_oc_insurance).await?;
                Ok(PlateAnswer {
                    document,
                    owner: found.owner,
                })
            }
            DocumentType::VehicleRegistration => {
                self.call(vehicles, u, |b| {
                    plates::registration(plates::found_for(b, &plate)?)
                })
                .await
            }
            // Refused above already; kept so a new kind cannot slip through.
            other => Err(RegistryError::Unsupported { kind: other }),
        }
    }

    /// Fetches an identity card by its series and number (typed loosely:
    /// spaces removed, letters upper-cased), with its holder. A malformed
    /// number (shape or check digit) is [`RegistryError::InvalidDocumentNumber`]
    /// before any request; an unknown one is [`RegistryError::NotFound`]; an
    /// answer about another card is [`RegistryError::Malformed`].
    pub async fn fetch_id_card_by_number(
        &self,
        number: &str,
    ) -> Result<registers::numbers::NumberAnswer, RegistryError> {
        self.fetch_by_number(
            Register::Persons,
            okaz_protocol::docnumber::id_card(number),
            (registers::numbers::ID_CARD_PATH, "seriaNumer"),
            registers::numbers::parse_id_card_by_number,
        )
        .await
    }

    /// Fetches a driving licence by its number, with its holder; errors as
    /// [`Self::fetch_id_card_by_number`].
    pub async fn fetch_licence_by_number(
        &self,
        number: &str,
    ) -> Result<registers::numbers::NumberAnswer, RegistryError> {
        self.fetch_by_number(
            Register::Drivers,
            okaz_protocol::docnumber::licence(number),
            (registers::numbers::LICENCE_PATH, "licenceNumber"),
            registers::numbers::parse_licence_by_number,
        )
        .await
    }

    /// One lookup by document number: the number as normalised (refused
    /// before any request when malformed), asked at `path?key=number`, the
    /// answer read by `parse`, which checks it is about that number.
    async fn fetch_by_number(
        &self,
        register: Register,
        number: Result<String, okaz_protocol::docnumber::DocumentNumberError>,
        (path, key): (&str, &str),
        parse: fn(&[u8], &str) -> Result<registers::numbers::NumberAnswer, RegistryError>,
    ) -> Result<registers::numbers::NumberAnswer, RegistryError> {
        let number = number.map_err(RegistryError::InvalidDocumentNumber)?;
        let u = self.number_url(path, key, &number)?;
        self.call(register, u, |b| parse(b, &number)).await
    }

    fn number_url(&self, path: &str, key: &str, value: &str) -> Result<url::Url, RegistryError> {
        let mut u = self
            .inner
            .cfg
            .base_url
            .join(path)
            .map_err(|e| RegistryError::Config(format!("register URL: {e}")))?;
        u.query_pairs_mut().append_pair(key, value);
        Ok(u)
    }

    /// Fetches the citizen's contact entry live from the contact register.
    pub async fn contact(&self, pesel: &Pesel) -> Result<Contact, RegistryError> {
        let r = Register::Contacts;
        let u = self.url(r, &pesel.expose(), None)?;
        self.call(r, u, registers::parse_contact).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_debug_redacts() {
        let c = Contact {
            phone: Some("+48601234567".into()),
            email: Some("a@b.pl".into()),
            reserved: false,
        };
        let s = format!("{c:?}");
        assert!(!s.contains("601") && !s.contains("a@b"), "{s}");
    }

    #[test]
    fn non_http_base_is_a_config_error() {
        let cfg = RegistryConfig {
            base_url: url::Url::parse("ftp://x/").unwrap(),
            ..RegistryConfig::default()
        };
        assert!(matches!(
            RegisterClient::new(cfg),
            Err(RegistryError::Config(_))
        ));
    }
}
