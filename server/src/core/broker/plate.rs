//! Vehicle lookups by registration number, for roles the policy allows
//! (police). There is no citizen to ask for a code, so only roles whose
//! checks need no consent may use them; the vehicle's owner, named by the
//! register, is the citizen the audit records, so they see the check in
//! their history like any other.

use okaz_policy::ConsentMode;
use okaz_protocol::{plate, DocumentType, ErrorCode, Verification, VerificationRequest};

use super::auth::Authenticated;
use super::verify::denial_code;
use super::Broker;
use crate::core::audit::{AuditEntry, AuditEvent};
use crate::core::error::{BrokerError, Refusal};
use crate::core::ports::RegisterFailure;
use crate::core::pseudonym::Pseudonym;

/// Documents a plate can name.
const VEHICLE_DOCUMENTS: [DocumentType; 3] = [
    DocumentType::VehicleRegistration,
    DocumentType::TechnicalInspection,
    DocumentType::OcInsurance,
];

impl Broker {
    /// `POST /v1/verifications` with `subject.plate`.
    pub(super) async fn start_plate_lookup(
        &self,
        auth: &Authenticated,
        typed_plate: &str,
        req: VerificationRequest,
    ) -> Result<Verification, BrokerError> {
        let officer = &auth.officer;
        let role = self.role_of(officer)?;
        // Malformed input and requests the role may not make cost nothing.
        let plate = plate::normalise(typed_plate).ok_or_else(|| {
            Refusal::new(ErrorCode::InvalidRequest)
                .detail("a registration number has 1 to 8 letters and digits")
        })?;
        if !VEHICLE_DOCUMENTS.contains(&req.document) {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail(
                    "a plate names a vehicle: ask for its registration, inspection or insurance",
                )
                .into());
        }
        let case_reference = req
            .case_reference
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let mut base = AuditEntry::new(
            self.clock.now(),
            AuditEvent::VerificationRefused,
            &officer.id,
            &officer.unit,
        );
        base.document = Some(req.document.as_str().to_string());
        base.purpose = Some(req.purpose.clone());
        base.case_reference = case_reference.map(str::to_string);
        let check =
            match self
                .policy
                .authorize(&officer.role, req.document, &req.purpose, case_reference)
            {
                Ok(c) if role.plate_lookup && c.consent == ConsentMode::None => c,
                Ok(_) => {
                    self.store
                        .append_audit(base.outcome(ErrorCode::NotPermitted.as_str()))
                        .await?;
                    return Err(Refusal::new(ErrorCode::NotPermitted)
                        .detail("this role may not look vehicles up by plate")
                        .into());
                }
                Err(denial) => {
                    let code = denial_code(denial.code());
                    self.store.append_audit(base.outcome(code.as_str())).await?;
                    return Err(Refusal::new(code).detail(denial.to_string()).into());
                }
            };
        self.count_attempt(auth, check.daily_limit, &base).await?;

        let id = uuid::Uuid::new_v4().to_string();
        let base = base.verification(&id);
        let (mut document, owner) =
            match self.registers.document_by_plate(&plate, req.document).await {
                Ok(found) => found,
                Err(failure) => {
                    let code = match &failure {
                        RegisterFailure::NotFound(_) => ErrorCode::DocumentNotFound,
                        RegisterFailure::Unavailable { register, reason } => {
                            tracing::warn!(%register, %reason, "register unavailable");
                            ErrorCode::RegistryUnavailable
                        }
                    };
                    let mut audit = base.outcome(code.as_str());
                    audit.event = AuditEvent::ReleaseFailed.as_str().to_string();
                    self.store.append_audit(audit).await?;
                    return Err(BrokerError::refused(code));
                }
            };
        let fields = document.restrict(check.fields.iter().map(String::as_str));
        let mut audit = base;
        audit.event = AuditEvent::DocumentReleased.as_str().to_string();
        audit.outcome = "ok".into();
        audit.fields = fields;
        audit.citizen = owner.map(|p| Pseudonym::of(&self.keys.pepper, &p).as_str().to_string());
        self.store.append_audit(audit).await?;
        self.completed(auth, id, document).await
    }
}
